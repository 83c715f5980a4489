"""The review's API allow-list (layer 3): drift against the sandbox image, the deny list's form, the
corpus manifest, and the speed function the benchmark calls."""

from __future__ import annotations

import io
import json
import os
import tarfile
import tomllib
from pathlib import Path

import pytest

from level5.safety.review import apigen as review_apigen
from level5.safety.review.api import api_lists, parse_denylist
from level5.tools.safety_eval import DEFAULT_CORPORA, review_families


def test_allowlist_has_not_drifted_from_the_sandbox_image() -> None:
    committed = review_apigen.ALLOWLIST_PATH.read_text(encoding="utf-8")
    if review_apigen.SANDBOX_IMAGE.is_file() and os.geteuid() == 0:
        # The generator's real input is here (after `make images`): regenerate and compare.
        assert committed == review_apigen.render(review_apigen.generate()), "run: make review-allowlist"
    else:
        # Elsewhere compare what the list was generated from with what the image would have now
        # (apt's candidates on a Debian host), and that nobody edited it by hand.
        problems = review_apigen.check_drift(json.loads(committed))
        assert not problems, f"{problems}; run: make review-allowlist"


def _layer(*members: tuple[str, int]) -> tarfile.TarFile:
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as archive:
        for name, mode in members:
            info = tarfile.TarInfo(name)
            info.mode, info.size = mode, 1
            archive.addfile(info, io.BytesIO(b"x"))
    data.seek(0)
    return tarfile.open(fileobj=data)


def test_layers_are_unpacked_inside_their_root_without_set_id_bits(tmp_path: Path) -> None:
    with _layer(("/usr/bin/tool", 0o4777), ("etc/conf", 0o644), ("tmp", 0o1777)) as layer:
        layer.extractall(tmp_path, members=review_apigen._contained(layer, tmp_path))
    assert (tmp_path / "usr/bin/tool").stat().st_mode & 0o7777 == 0o755  # setuid, g+w and o+w cleared
    assert (tmp_path / "tmp").stat().st_mode & 0o7777 == 0o755  # and the sticky bit
    assert (tmp_path / "etc/conf").read_bytes() == b"x"
    with _layer(("usr/../../escaped", 0o644)) as layer, pytest.raises(ValueError, match="outside"):
        layer.extractall(tmp_path, members=review_apigen._contained(layer, tmp_path))
    assert not (tmp_path.parent / "escaped").exists()


def test_drift_check_notices_hand_edits() -> None:
    document = json.loads(review_apigen.ALLOWLIST_PATH.read_text(encoding="utf-8"))
    document["modules"]["numpy"]["system"] = "callable"
    assert any("by hand" in p for p in review_apigen.check_drift(document))


def test_every_deny_entry_has_a_reason() -> None:
    names, attributes = parse_denylist(
        (review_apigen.DATA_DIR / "api_denylist.txt").read_text(encoding="utf-8")
    )
    assert "pandas.read_pickle" in names and "to_pickle" in attributes
    with pytest.raises(ValueError, match="reason"):
        parse_denylist("numpy.load_library  block\n")


def test_allowlist_describes_the_sandbox_versions() -> None:
    lists = api_lists()
    assert "read_csv" in lists.modules["pandas"] and "linalg" in lists.modules["numpy"]
    assert "core" not in lists.modules["numpy"]  # unlisted submodules are unreachable
    assert {"groupby", "agg", "to_numpy", "str"} <= lists.attributes
    assert not any(name.startswith("_") for name in lists.attributes)


def test_manifest_lists_every_corpus_file_once() -> None:
    manifest = tomllib.loads((DEFAULT_CORPORA / "families.toml").read_text(encoding="utf-8"))
    for corpus in ("escapes", "benign"):
        listed: list[str] = []
        for families in manifest[corpus].values():
            for files in families.values():
                listed += [files] if isinstance(files, str) else files
        on_disk = sorted(p.name for p in (DEFAULT_CORPORA / corpus).glob("*.py.txt"))
        assert sorted(listed) == on_disk
    halves = {(f.corpus, f.half) for f in review_families()}
    assert halves == {(c, h) for c in ("escapes", "benign") for h in ("tuning", "heldout")}
