"""Parse VALUE tokens as the kernel prints entries: hexadecimal, with or without 0x."""

from __future__ import annotations

import re

from ptetool.errors import UsageError
from ptetool.layout import ENTRY_MASK

_BASES = {"0x": 16, "0b": 2, "0o": 8}
_DIGITS = {16: "0-9a-f", 2: "01", 8: "0-7"}
_SEPARATORS = "_'"
TOKEN_SPLIT = re.compile(r"[\s,]+")
# The kernel prints entries as "pte:8000000123456067 pmd:1f3b4067": the name says the level.
LEVEL_TOKEN = re.compile(r"(pte|pmd|pud|p4d|pgd):(\S+)$", re.IGNORECASE)
# A bare token of a-f letters this short is a word ("Bad", "add", "face"), not a value; the kernel
# prints entries with at least 8 digits (%08lx), and 0x makes any hex number a value.
WORD_MAX = 7


def split_level(token: str) -> tuple[str | None, str]:
    """'pte:400000000000000' -> ('pte', '400000000000000'); other tokens -> (None, token)."""
    match = LEVEL_TOKEN.match(token.strip())
    return (match[1].lower(), match[2]) if match else (None, token)


def parse_value(token: str) -> int:
    """'0x4', '4', '0000000000000004', '0b100', '0o4', '0xffff_ffff' -> int; UsageError otherwise."""
    text = token.strip().lower()
    base = 16
    if text[:2] in _BASES:
        base, text = _BASES[text[:2]], text[2:]
    digits = text.translate({ord(c): None for c in _SEPARATORS})
    if not digits or not re.fullmatch(f"[{_DIGITS[base]}]+", digits) or text[0] in _SEPARATORS:
        kind = {16: "hexadecimal", 2: "binary", 8: "octal"}[base]
        raise UsageError(f"bad value {token!r}: not a {kind} number")
    if base == 16 and not text.startswith(("0x", "0X")) and token.strip()[:2].lower() != "0x" \
            and not re.search(r"[0-9]", digits) and len(digits) <= WORD_MAX:
        raise UsageError(f"bad value {token!r}: a word, not a number (write 0x{digits} to decode it as hex)")
    value = int(digits, base)
    if value > ENTRY_MASK:
        raise UsageError(f"bad value {token!r}: {value.bit_length()} bits, more than 64")
    return value


def format_value(value: int) -> str:
    return f"0x{value:016x}"


def split_tokens(line: str) -> list[str]:
    return [t for t in TOKEN_SPLIT.split(line) if t]
