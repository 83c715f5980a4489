"""Regenerates the review's API allow-list from the sandbox image's own libraries (``make review-allowlist``).

The allow-list (``data/api_allowlist.json``) is the public API of the modules in
``policy.ALLOWLIST_MODULES`` as the sandbox image's ``python3`` sees it: Debian bookworm's
python3, python3-numpy and python3-pandas, the packages ``cluster/images.sh`` installs. It must not
come from the operator's virtualenv, whose versions differ. The sandbox Python is found in this order:

1. the cached sandbox base image (``~/.cache/level5/images``, built by ``make base-images``): its
   layers are unpacked to a temporary directory and ``introspect`` runs there under ``chroot``
   (as root, like the image build);
2. otherwise the same Debian packages fetched with ``apt-get download`` and unpacked to a temporary
   directory, run by the host's ``/usr/bin/python3``, which must be the same Python minor version.

The file records its inputs (the Debian package versions, the module list) and a hash of its content.
``tests/unit/test_review_api.py`` compares them with what the generator would use now, so drift is
caught on a machine that cannot regenerate (see ``check_drift``). ``--check`` regenerates and
compares instead.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from level5.safety.review.policy import ALLOWLIST_MODULES

DATA_DIR = Path(__file__).resolve().parent / "data"
ALLOWLIST_PATH = DATA_DIR / "api_allowlist.json"
INTROSPECT = Path(__file__).resolve().parent / "introspect.py"
_SANDBOX_TAG = os.environ.get("LEVEL5_SANDBOX_BASE_TAG", "level5.local/sandbox-base:bookworm-1")
# Where cluster/images.sh caches the sandbox base image (its tarball_for function).
SANDBOX_IMAGE = (
    Path(os.environ.get("LEVEL5_CACHE_DIR", Path.home() / ".cache" / "level5"))
    / "images"
    / f"{_SANDBOX_TAG.replace('/', '_').replace(':', '_')}.oci.tar"
)
# The packages that decide the sandbox's API (cluster/images.sh installs python3, python3-numpy and
# python3-pandas); recorded in the list and compared on drift.
VERSIONED_PACKAGES = ("python3.11", "python3-numpy", "python3-pandas")
# Debian's security revisions of the interpreter (3.11.2-6+deb12u8) do not change its API, and the
# fallback runs the host's python3.11, so the interpreter is recorded by its upstream version only.
_UPSTREAM_ONLY = "python3.11"


def _recorded(package: str, version: str) -> str:
    return version.split("-", 1)[0] if package == _UPSTREAM_ONLY else version


# apt-get download does not resolve dependencies: these are what numpy and pandas need to import.
DOWNLOADED_PACKAGES = (
    "python3-numpy", "python3-pandas", "python3-pandas-lib", "python3-dateutil", "python3-tz", "python3-six",
    "libblas3", "liblapack3", "libgfortran5", "libquadmath0",
)  # fmt: skip


@dataclass(frozen=True)
class SandboxPython:
    """How to run the sandbox image's python3, and the Debian package versions it comes from."""

    command: list[str]
    env: dict[str, str]
    packages: dict[str, str]


def _dpkg_versions(status_file: Path) -> dict[str, str]:
    """Versions of VERSIONED_PACKAGES in a dpkg status file."""
    versions: dict[str, str] = {}
    for stanza in status_file.read_text(encoding="utf-8").split("\n\n"):
        fields = dict(line.split(": ", 1) for line in stanza.splitlines() if ": " in line and line[0] != " ")
        if fields.get("Package") in VERSIONED_PACKAGES and "installed" in fields.get("Status", ""):
            versions[fields["Package"]] = _recorded(fields["Package"], fields["Version"])
    return versions


def _member(archive: tarfile.TarFile, name: str) -> bytes:
    """A file of an archive; images.sh packs with `tar -C dir .`, so names may start with './'."""
    names = set(archive.getnames())
    found = name if name in names else f"./{name}"
    member = archive.extractfile(found) if found in names else None
    if member is None:
        raise KeyError(name)
    return member.read()


def _layers(oci: tarfile.TarFile) -> Iterator[tarfile.TarFile]:
    """The OCI image's layer archives, base layer first."""
    index = json.loads(_member(oci, "index.json"))
    manifest = json.loads(_member(oci, f"blobs/sha256/{index['manifests'][0]['digest'][7:]}"))
    for layer in manifest["layers"]:
        data = _member(oci, f"blobs/sha256/{layer['digest'][7:]}")
        with tarfile.open(fileobj=io.BytesIO(data)) as layer_archive:
            yield layer_archive


_MODE_MASK = 0o755
"""What the "tar" filter keeps of a member's mode: no set-id or sticky bit, no group or other write."""


def _contained(layer: tarfile.TarFile, root: Path) -> Iterator[tarfile.TarInfo]:
    """The layer's members, each checked to land inside `root`, as tarfile's "tar" extraction filter checks
    them: a leading "/" dropped, a path that resolves outside `root` refused, the mode cut to `_MODE_MASK`.
    That filter came in Python 3.11.4; the venv's Python is Debian bookworm's 3.11.2, the operator image's
    own (the Makefile's VENV_PYTHON), which does not have it."""
    base = os.path.realpath(root)
    for member in layer.getmembers():
        member.name = member.name.lstrip("/")
        if os.path.commonpath([base, os.path.realpath(os.path.join(base, member.name))]) != base:
            raise ValueError(f"layer member {member.name!r} would be written outside {root}")
        member.mode &= _MODE_MASK
        yield member


@contextlib.contextmanager
def sandbox_python() -> Iterator[SandboxPython]:
    """The sandbox image's python3: from the cached image under chroot, else from downloaded .debs."""
    with tempfile.TemporaryDirectory(prefix="level5-apigen-") as temp:
        root = Path(temp) / "root"
        root.mkdir()
        if SANDBOX_IMAGE.is_file() and os.geteuid() == 0:  # chroot needs root, as make images does
            with tarfile.open(SANDBOX_IMAGE) as oci:
                for layer in _layers(oci):
                    layer.extractall(root, members=_contained(layer, root))  # noqa: S202 - checked members
            shutil.copy(INTROSPECT, root / "root" / INTROSPECT.name)
            yield SandboxPython(
                [
                    shutil.which("chroot") or "/usr/sbin/chroot",
                    str(root),
                    "/usr/bin/python3",
                    f"/root/{INTROSPECT.name}",
                ],
                {"PATH": "/usr/bin:/bin"},
                _dpkg_versions(root / "var/lib/dpkg/status"),
            )
            return
        if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
            raise SystemExit(
                "apigen: no cached sandbox image and no apt-get/dpkg-deb to fetch its packages. "
                "Fix: run make base-images (as root) first, or run this on a Debian bookworm host"
            )
        debs = Path(temp) / "debs"
        debs.mkdir()
        subprocess.run(["apt-get", "download", *DOWNLOADED_PACKAGES], cwd=debs, check=True)
        packages: dict[str, str] = {}
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
            fields = subprocess.run(
                ["dpkg-deb", "-f", str(deb), "Package", "Version"], check=True, capture_output=True, text=True
            ).stdout
            parsed = dict(line.split(": ", 1) for line in fields.splitlines())
            if parsed["Package"] in VERSIONED_PACKAGES:
                packages[parsed["Package"]] = parsed["Version"]
        host = subprocess.run(
            ["dpkg-query", "-W", "-f", "${Version}", "python3.11"], check=True, capture_output=True, text=True
        )
        packages[_UPSTREAM_ONLY] = _recorded(_UPSTREAM_ONLY, host.stdout.strip())
        lib = root / "usr/lib/x86_64-linux-gnu"
        yield SandboxPython(
            ["/usr/bin/python3", str(INTROSPECT)],
            {
                "PYTHONPATH": str(root / "usr/lib/python3/dist-packages"),
                "LD_LIBRARY_PATH": f"{lib / 'blas'}:{lib / 'lapack'}:{lib}",
                "PYTHONNOUSERSITE": "1",
            },
            packages,
        )


def content_hash(document: dict[str, Any]) -> str:
    """Hash of everything but the hash itself, so a hand edit of the list is detected."""
    body = {key: value for key, value in document.items() if key != "sha256"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def generate() -> dict[str, Any]:
    """The allow-list document, from the sandbox image's libraries."""
    modules = sorted(ALLOWLIST_MODULES)
    with sandbox_python() as python:
        output = subprocess.run(
            [*python.command, *modules], env=python.env, check=True, capture_output=True, text=True
        ).stdout
        packages = python.packages
    api = json.loads(output)
    document: dict[str, Any] = {
        "generated_by": "make review-allowlist (python -m level5.safety.review.apigen); do not edit by hand",
        "inputs": {"packages": packages, "modules": modules, "versions": api["versions"]},
        "modules": api["modules"],
        "attributes": api["attributes"],
        "path_parameters": api["path_parameters"],
        "path_methods": api["path_methods"],
    }
    document["sha256"] = content_hash(document)
    return document


def render(document: dict[str, Any]) -> str:
    """One entry per line, so a regeneration shows up as a readable diff."""
    return json.dumps(document, indent=1, sort_keys=True) + "\n"


def expected_packages() -> dict[str, str] | None:
    """The package versions the sandbox image has now, when this machine can tell (else None).

    The cached image's dpkg status is the truth; without it, on a Debian host, apt's candidate
    versions are what ``make base-images`` would install (debootstrap uses the same mirror)."""
    if SANDBOX_IMAGE.is_file():
        with tempfile.TemporaryDirectory() as temp, tarfile.open(SANDBOX_IMAGE) as oci:
            status = Path(temp) / "status"
            for layer in _layers(oci):
                with contextlib.suppress(KeyError):
                    status.write_bytes(_member(layer, "var/lib/dpkg/status"))
            return _dpkg_versions(status) if status.exists() else None
    if shutil.which("apt-cache") is None:
        return None
    policy = subprocess.run(
        ["apt-cache", "policy", *VERSIONED_PACKAGES], capture_output=True, text=True, check=False
    ).stdout
    versions: dict[str, str] = {}
    package = ""
    for line in policy.splitlines():
        if not line.startswith(" "):
            package = line.rstrip(":")
        elif line.strip().startswith("Candidate:") and "(none)" not in line:
            versions[package] = _recorded(package, line.split(":", 1)[1].strip())
    return versions if set(versions) == set(VERSIONED_PACKAGES) else None


def check_drift(document: dict[str, Any]) -> list[str]:
    """Reasons the checked-in list is stale, using only what this machine can check without building."""
    problems = []
    if document.get("sha256") != content_hash(document):
        problems.append("the list was edited by hand (its content hash does not match)")
    if document["inputs"]["modules"] != sorted(ALLOWLIST_MODULES):
        problems.append("policy.ALLOWLIST_MODULES changed since the list was generated")
    expected = expected_packages()
    if expected is not None and expected != document["inputs"]["packages"]:
        problems.append(
            f"the sandbox image's packages are {expected}, the list was generated from "
            f"{document['inputs']['packages']}"
        )
    return problems


def main(argv: list[str] | None = None) -> int:
    """Write (or with --check, compare) the allow-list; exit 1 on drift."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="regenerate and compare, do not write")
    args = parser.parse_args(argv)
    text = render(generate())
    if args.check:
        if ALLOWLIST_PATH.read_text(encoding="utf-8") != text:
            print(f"{ALLOWLIST_PATH} is stale: run make review-allowlist", file=sys.stderr)
            return 1
        return 0
    DATA_DIR.mkdir(exist_ok=True)
    ALLOWLIST_PATH.write_text(text, encoding="utf-8")
    print(f"wrote {ALLOWLIST_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
