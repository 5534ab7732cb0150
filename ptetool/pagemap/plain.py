"""Small reads without numpy: a few thousand records decode one by one faster than numpy loads.

numpy costs about 50 ms to import; one record costs about 20 µs to decode and lay out (a repeated
value, less: its decode is kept). Below :data:`PLAIN_LIMIT` records a --pid read of one page or a
small process answers without it: tests/bench/crossover.py measured NDJSON of 256 pages in 86 ms
against numpy's 123, 2048 pages in 115 against 120, 4096 in 160 against 122 (2 cores, Python 3.11).
The records and their lines are the bulk path's: both come from :func:`decode_record` and the
writer's own per-record line, and :func:`plain_summary` counts what SummaryBuilder counts
(tests/integration/test_pagemap_live.py compares the two on real memory, every format).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ptetool.pagemap.classify import ASSUMED_MASK, OTHER_MASK, ZEROED_MASK, Entry, decode_record
from ptetool.pagemap.layout import CLASS_SHIFT, CODE, FLAG_LSB, FLAGS9_BITS, Rules
from ptetool.pagemap.pipeline import Stats
from ptetool.pagemap.sources import PidSource, StreamSource
from ptetool.pagemap.summary import Counts, Run, Summary

PLAIN_LIMIT = 2048  # records; above it numpy's import pays for itself
# The summary lays out no line per record: counted one by one it stays ahead longer
# (tests/bench/crossover.py --format summary, every other page present, each a run of its own:
# 4,096 pages in 122 ms against numpy's 133, 8,192 in 171 against 137).
PLAIN_SUMMARY_LIMIT = 4096


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


def plain_summary(records: Iterable[Record], with_runs: bool) -> tuple[Summary, list[Run]]:
    """The summary SummaryBuilder counts with numpy, counted a record at a time; and, with
    ``with_runs``, its runs: contiguous pages of one mapping with the same class and flag bits."""
    per_vma: dict[int, Counts] = {}
    runs: list[Run] = []
    start = pages = code = first = vma = last = -1
    for r in records:
        e = r.entry
        cls = CODE[e.cls]
        counts = per_vma.get(r.vma_id)
        if counts is None:
            counts = per_vma[r.vma_id] = Counts()
        counts.pages += 1
        counts.classes[cls] += 1
        flags9 = r.value >> FLAG_LSB
        for bit in range(FLAGS9_BITS):
            counts.flags[bit] += flags9 >> bit & 1
        counts.zeroed += bool(e.pmask & ZEROED_MASK)
        counts.problems += bool(e.pmask & OTHER_MASK)
        counts.assumed[cls] += bool(e.pmask & ASSUMED_MASK)
        if not with_runs:
            continue
        this = cls << CLASS_SHIFT | flags9
        if this == code and r.vma_id == vma and r.index == last + 1:
            pages, last = pages + 1, r.index
            continue
        if pages > 0:
            runs.append(Run(start, pages, code, first, vma))
        start, pages, code, first, vma, last = r.vaddr, 1, this, r.value, r.vma_id, r.index
    if pages > 0:
        runs.append(Run(start, pages, code, first, vma))
    total = Counts()
    for counts in per_vma.values():
        total.add(counts)
    return Summary(sorted(per_vma.items()), total, None, len(runs)), runs
