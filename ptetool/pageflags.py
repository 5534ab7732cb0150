"""Decode a dump_page ``flags:`` word against the kernel's page-flag numbering, and check it
against the names the kernel printed beside it."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

from ptetool.kernel import Version
from ptetool.pageflags_data import NUMBERINGS


@dataclass(frozen=True)
class PageFlags:
    numbering: Version
    source: str
    set_names: tuple[str, ...]
    printed: tuple[str, ...] | None
    disabled: tuple[str, ...]  # config options assumed off to match the printed names
    agrees: bool | None  # None: the kernel printed no names to check against


def numbering_for(version: Version) -> Version:
    older = [v for v in NUMBERINGS if v <= version]
    return max(older) if older else min(NUMBERINGS)


def _names(version: Version, value: int, off: frozenset[str]) -> tuple[str, ...]:
    _source, flags = NUMBERINGS[version]
    bits = [name for name, config in flags if config not in off]
    return tuple(name for bit, name in enumerate(bits) if value >> bit & 1)


def decode_flags(value: int, version: Version, printed: str | None) -> PageFlags:
    """The flags ``value`` sets under ``version``'s numbering; where the kernel printed names, the config
    (all x86_64 options on, or one or two off) under which they agree."""
    numbering = numbering_for(version)
    source, flags = NUMBERINGS[numbering]
    names = tuple(sorted(n for n in (printed or "").split("|") if n and "=" not in n)) if printed is not None else None
    options = sorted({c for _, c in flags if c})
    candidates: list[frozenset[str]] = [frozenset(), *(frozenset(c) for n in (1, 2) for c in combinations(options, n))]
    if names is not None:
        for off in candidates:
            got = _names(numbering, value, off)
            if tuple(sorted(got)) == names:
                return PageFlags(numbering, source, got, names, tuple(sorted(off)), True)
    return PageFlags(numbering, source, _names(numbering, value, frozenset()), names, (),
                     None if names is None else False)
