"""Older transfer encodings and compressed containers, for ``decoding``'s hidden layers.

Round 12 (``tuning12``) hid attacks in encodings that e-mail, wallets and archives still use and that
``decoding``'s base64/hex family does not read: UTF-7 (``+AEEAZwBl...-``: base64 of UTF-16 between a plus
and a minus), uuencode (a ``begin 644 name`` block, one length letter per line), base58 (Bitcoin's
alphabet: no 0, O, I or l) and xz or bzip2 inside a blob. Each is a technique, not a phrase: whatever the
payload says, it is decoded here and checked like the text around it.

Bounded as the rest of ``decoding``: a container inflates to ``MAX_INFLATED`` bytes at most, and a base58
run is read only up to ``_MAX_BASE58`` characters (its decoding is a big-number conversion).
"""

from __future__ import annotations

import binascii
import bz2
import lzma
import re
import zlib

MAX_INFLATED = 65_536

# UTF-7's shifted runs: "+", base64 of UTF-16 (at least four characters' worth), an optional "-".
UTF7 = re.compile(r"\+[A-Za-z0-9+/]{8,}-?")
# A uuencoded block: "begin", a file mode and name, lines of the 64 characters from space to backquote,
# "end". The lines are what is decoded.
UUENCODED = re.compile(r"(?m)^begin [0-7]{3,4} [^\n]*\n((?:[ -`]{1,62}\n)+?)`?\n?end\b")
# base58 runs: long (ordinary words are shorter), and standing alone (not inside a base64 run).
BASE58 = re.compile(r"(?<![\w+/=])[1-9A-HJ-NP-Za-km-z]{24,}(?![\w+/=])")
_BASE58_DIGITS = {c: i for i, c in enumerate("123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz")}
_MAX_BASE58 = 2_048


def utf7(run: str) -> bytes:
    """A UTF-7 shifted run as UTF-8 bytes (a bad run raises UnicodeDecodeError, a ValueError)."""
    return run.encode("ascii").decode("utf-7").encode("utf-8")


def uudecode(block: str) -> bytes:
    """A uuencoded block (``UUENCODED``'s match) as bytes; a bad line raises binascii.Error."""
    lines = block.splitlines()[1:]  # after the "begin" line
    return b"".join(binascii.a2b_uu(line) for line in lines if line != "end")


def base58(run: str) -> bytes:
    """A base58 run as bytes: one big number in base 58, leading "1"s standing for zero bytes."""
    run = run[:_MAX_BASE58]
    number = 0
    for digit in run:  # bounded by _MAX_BASE58; Python's int() reads no base above 36
        number = number * 58 + _BASE58_DIGITS[digit]
    zeros = len(run) - len(run.lstrip("1"))
    return b"\0" * zeros + number.to_bytes((number.bit_length() + 7) // 8, "big")


def unpacked(data: bytes) -> bytes | None:
    """`data` inflated when it is a gzip, zlib, xz or bzip2 container (None when it does not inflate),
    else `data` itself."""
    try:
        if data[:2] == b"\x1f\x8b" or data[:1] == b"\x78":
            return zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(data, MAX_INFLATED)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.LZMADecompressor().decompress(data, MAX_INFLATED)
        if data[:3] == b"BZh":
            return bz2.BZ2Decompressor().decompress(data, MAX_INFLATED)
    except (zlib.error, lzma.LZMAError, OSError, EOFError):
        return None
    return data
