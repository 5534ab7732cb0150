"""Small reads without numpy: a few thousand records decode one by one faster than numpy loads.

numpy costs about 50 ms to import; one record costs about 20 µs to decode and lay out (a repeated
value, less: its decode is kept). Below :data:`PLAIN_LIMIT` records a --pid read of one page or a
small process answers without it: tests/bench/crossover.py measured NDJSON of 256 pages in 86 ms
against numpy's 123, 2048 pages in 115 against 120, 4096 in 160 against 122 (2 cores, Python 3.11).
The records and their lines are the bulk path's: both come from :func:`decode_record` and the
writer's own per-record line (tests/integration/test_pagemap_live.py compares the two).
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

from ptetool.pagemap.classify import ZEROED_MASK, Entry, decode_record
from ptetool.pagemap.layout import Rules
from ptetool.pagemap.pipeline import Stats
from ptetool.pagemap.sources import PidSource, StreamSource

PLAIN_LIMIT = 2048  # records; above it numpy's import pays for itself


@dataclass(frozen=True, slots=True)
class Record:
    """One decoded record and where it is."""

    index: int
    vaddr: int
    value: int
    vma_id: int
    entry: Entry


def plain_records(source: StreamSource | PidSource, rules: Rules, zeroed_rule: bool,
                  stats: Stats | None = None) -> Iterator[Record]:
    """Every record of ``source``, decoded one at a time (no --filter, no kpageflags)."""
    stats = stats if stats is not None else Stats()
    seen: dict[int, Entry] = {}
    for piece in source.pieces():
        for k, (value,) in enumerate(struct.iter_unpack("<Q", piece.data)):
            entry = seen.get(value)
            if entry is None:
                entry = seen[value] = decode_record(value, rules, zeroed_rule)
            stats.kept += 1
            stats.zeroed += bool(entry.pmask & ZEROED_MASK)
            stats.invalid += entry.cls == "invalid"
            index = piece.index + k
            yield Record(index, source.vaddr_base + index * source.page_size, value, piece.vma_id, entry)
        stats.records = source.records
