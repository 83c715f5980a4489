"""The operator starts without a webhook certificate: kopf refuses to run admission handlers without a
server for them, so they are registered only when LEVEL5_WEBHOOK_CERT_DIR is set."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

COUNT = "import kopf, level5.handlers; print(len(kopf.get_default_registry()._webhooks.get_all_handlers()))"


@pytest.mark.parametrize(("cert_dir", "handlers"), [(None, 0), ("", 0), ("/etc/level5/webhook", 4)])
def test_admission_handlers_only_with_a_certificate(cert_dir: str | None, handlers: int) -> None:
    env = {k: v for k, v in os.environ.items() if k != "LEVEL5_WEBHOOK_CERT_DIR"}
    if cert_dir is not None:
        env["LEVEL5_WEBHOOK_CERT_DIR"] = cert_dir
    out = subprocess.run([sys.executable, "-c", COUNT], env=env, capture_output=True, text=True, check=True)
    assert int(out.stdout.strip()) == handlers
