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


# --- addresses (pagemap --vaddr, --range, --vma ADDR) ---------------------------------------------

ADDRESS_RULE = ("an address is hexadecimal, as /proc/PID/maps prints it (7f0000000000, 0x7f0000000000); "
                "0d marks a decimal one (0d140737488351232, what $((...)) gives)")


def parse_address(token: str, option: str, align: int = 1) -> tuple[int, str | None]:
    """An address option's value and, where the text could also be read as decimal, a note saying how
    it was read. Digits alone are hex (as maps prints them); 0d marks decimal. ``align``: refuse a value
    that is not a multiple, and where the decimal reading would be one, say that this is the cause."""
    text = token.strip().replace("_", "")
    low = text.lower()
    note = None
    if low.startswith("0d"):
        digits = low[2:]
        if not digits.isdigit():
            raise UsageError(f"{option} {token}: 0d takes decimal digits only")
        value = int(digits, 10)
    else:
        try:
            value = parse_value(text)
        except UsageError as exc:
            raise UsageError(f"{option}: {exc}") from None
        if text.isdigit() and len(text) > 1 and int(text, 10) != value:
            decimal = int(text, 10)
            if value % align and not decimal % align:
                raise UsageError(f"{option} {token}: read as hex ({ADDRESS_RULE}) it is {value:#x}, not aligned "
                                 f"to {align} bytes; as a decimal it would be {decimal:#x}: write "
                                 f"0d{text} or {decimal:#x}")
            note = (f"{option} {token} read as hex {value:#x} ({ADDRESS_RULE}); for the decimal {text} "
                    f"({decimal:#x}) write 0d{text}")
    if value % align:
        raise UsageError(f"{option} {token}: not aligned to the {align}-byte page size")
    if value > ENTRY_MASK:
        raise UsageError(f"{option} {token}: more than 64 bits")
    return value, note
