"""Check a GGUF model file before it is served: its sha256 is the pinned one, and its header is a GGUF
header (magic, version 2 or 3) whose metadata names the expected architecture and model.

Standard library only (it runs before the model's virtualenv exists). Exits non-zero with the reason.
Usage: python3 gguf_check.py FILE --sha256 HEX --architecture qwen2 --name-contains "Coder 0.5B"
"""

from __future__ import annotations

import argparse
import hashlib
import struct
import sys
from pathlib import Path
from typing import BinaryIO

_SCALARS = {0: "B", 1: "b", 2: "H", 3: "h", 4: "I", 5: "i", 6: "f", 7: "?", 10: "Q", 11: "q", 12: "d"}
_STRING, _ARRAY = 8, 9


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _read(f: BinaryIO, fmt: str) -> tuple[object, ...]:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ValueError("the header ends early")
    return struct.unpack(fmt, data)


def _string(f: BinaryIO) -> str:
    (length,) = _read(f, "<Q")
    assert isinstance(length, int)
    if length > 1 << 20:
        raise ValueError(f"a metadata string of {length} bytes")
    return f.read(length).decode("utf-8")


def _skip_or_read(f: BinaryIO, kind: int) -> object:
    if kind == _STRING:
        return _string(f)
    if kind == _ARRAY:
        item_kind, count = _read(f, "<IQ")
        assert isinstance(item_kind, int) and isinstance(count, int)
        for _ in range(count):
            _skip_or_read(f, item_kind)
        return None
    if kind not in _SCALARS:
        raise ValueError(f"unknown metadata type {kind}")
    return _read(f, "<" + _SCALARS[kind])[0]


def header(path: Path) -> dict[str, object]:
    """The GGUF version, tensor count and the string/scalar metadata (arrays as None)."""
    with path.open("rb") as f:
        magic, version, tensors, count = _read(f, "<4sIQQ")
        if magic != b"GGUF":
            raise ValueError(f"not a GGUF file (magic {magic!r})")
        if version not in (2, 3):
            raise ValueError(f"unsupported GGUF version {version}")
        assert isinstance(count, int)
        meta: dict[str, object] = {"gguf.version": version, "gguf.tensors": tensors}
        for _ in range(count):
            key = _string(f)
            (kind,) = _read(f, "<I")
            assert isinstance(kind, int)
            meta[key] = _skip_or_read(f, kind)
        return meta


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--sha256", required=True)
    parser.add_argument("--architecture", required=True)
    parser.add_argument("--name-contains", required=True)
    args = parser.parse_args()
    actual = sha256(args.file)
    if actual != args.sha256:
        print(f"{args.file}: sha256 {actual}, expected {args.sha256}", file=sys.stderr)
        return 1
    try:
        meta = header(args.file)
    except (ValueError, UnicodeDecodeError) as exc:
        print(f"{args.file}: bad GGUF header: {exc}", file=sys.stderr)
        return 1
    arch, name = meta.get("general.architecture"), str(meta.get("general.name"))
    if arch != args.architecture or args.name_contains not in name:
        print(f"{args.file}: a {arch} model named {name!r}, expected {args.architecture} "
              f"named like {args.name_contains!r}", file=sys.stderr)  # fmt: skip
        return 1
    print(f"{args.file.name}: sha256 ok, GGUF v{meta['gguf.version']}, {meta['gguf.tensors']} tensors, "
          f"{arch} {name!r}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
