"""The pipeline: a source's records read ahead on a second thread, keyed, filtered, in batches."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from ptetool.errors import UsageError
from ptetool.pagemap.chunks import Batch, Keyed, key_chunk, key_tables, run_starts
from ptetool.pagemap.classify import OTHER_MASK, ZEROED_MASK
from ptetool.pagemap.layout import CLASSES, CODE, FLAG_POS, PM_PFRAME_MASK, PRESENT, RECORD_BYTES, Rules
from ptetool.pagemap.sources import CHUNK_RECORDS, KPF_MISSING, Kpageflags, PidSource, Piece, StreamSource

if TYPE_CHECKING:
    from ptetool.pagemap.arrays import I64, IP, U8, U32, U64


# --- --filter ---------------------------------------------------------------------------------------

# A record's pagemap bits by the kernel's own names (PM_SOFT_DIRTY, ..., PM_PRESENT, lower-cased): the
# pm_ prefix keeps "pm_swap" (the PM_SWAP bit) apart from the class "swap" (a real swap entry), and
# "pm_present" apart from the class "present". Positions count from FLAG_LSB, as flags9 holds them.
FLAG_FILTERS: dict[str, int] = {f"pm_{name}": pos for name, pos in FLAG_POS.items()}
EXTRA_FILTERS = ("zeroed", "problems")
# Earlier spellings of the bits whose bare name is no class: still accepted, not listed.
FLAG_ALIASES = {name.removeprefix("pm_"): name for name in FLAG_FILTERS if name.removeprefix("pm_") not in CLASSES}


def filter_names() -> tuple[str, ...]:
    return CLASSES + tuple(FLAG_FILTERS) + EXTRA_FILTERS


def parse_filters(options: Sequence[str]) -> tuple[frozenset[str], ...]:
    """Each --filter is a comma list (any of its names); several --filter options must all hold."""
    groups: list[frozenset[str]] = []
    known = filter_names()
    for option in options:
        names = frozenset(FLAG_ALIASES.get(n.strip(), n.strip()) for n in option.split(",") if n.strip())
        bad = sorted(names - set(known))
        if bad or not names:
            hint = ""
            if bad and f"pm_{bad[0]}" in FLAG_FILTERS:
                hint = f" (the {bad[0]} class is spelt {bad[0]}; the PM_{bad[0].upper()} bit is pm_{bad[0]})"
            raise UsageError(f"--filter {option!r}: {'unknown name ' + repr(bad[0]) if bad else 'no name'}{hint}; "
                             f"choose from {', '.join(known)}")
        groups.append(names)
    return tuple(groups)


def filter_mask(flags9: IP, cls: U8, pm: U32, groups: Sequence[frozenset[str]]) -> Any:
    import numpy as np

    keep = np.ones(len(cls), dtype=bool)
    for names in groups:
        anyof = np.zeros(len(cls), dtype=bool)
        for name in names:
            if name in CODE:
                anyof |= cls == CODE[name]
            elif name in FLAG_FILTERS:
                anyof |= (flags9 >> FLAG_FILTERS[name] & 1).astype(bool)
            elif name == "zeroed":
                anyof |= (pm & np.uint32(ZEROED_MASK)) != 0
            else:
                anyof |= (pm & np.uint32(OTHER_MASK)) != 0
        keep &= anyof
    return keep


# --- the pipeline: source -> decoded, filtered batches -------------------------------------------

@dataclass
class Stats:
    records: int = 0  # read
    kept: int = 0  # after --filter
    zeroed: int = 0
    invalid: int = 0


_T = TypeVar("_T")


def read_ahead(items: Iterator[_T], depth: int = 1) -> Iterator[_T]:
    """``items``, produced on a second thread up to ``depth`` ahead: reading the input and the
    key pass (numpy lets go of the GIL) overlap with the formatting on the main thread. One chunk
    ahead is as fast as two on 2 cores (tests/bench/issue10.py) and holds 2 MiB less at peak."""
    out: queue.Queue[tuple[bool, Any]] = queue.Queue(depth)
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                out.put((True, item))
        except BaseException as exc:  # handed to the consumer, which raises it
            out.put((False, exc))
            return
        out.put((False, None))

    thread = threading.Thread(target=work, name="pagemap-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            ok, item = out.get()
            if not ok:
                if item is not None:
                    raise item
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():
            with contextlib.suppress(queue.Empty):
                out.get(timeout=0.05)
        thread.join()


@lru_cache(maxsize=1)
def tune_allocator() -> bool:
    """Keep numpy's chunk-sized temporaries on the heap (glibc): without this every 512 KiB array
    is a fresh mmap, and its page faults cost more than the arithmetic (3x in the key pass).

    It sets process-wide malloc options, so the program calls it (the pagemap command), never
    a library function."""
    import ctypes

    m_trim_threshold, m_mmap_threshold = -1, -3  # <malloc.h>
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 128 << 20))


def batches(source: StreamSource | PidSource, rules: Rules, zeroed_rule: bool,
            groups: Sequence[frozenset[str]] = (), kpageflags: Kpageflags | None = None,
            stats: Stats | None = None, progress: Callable[[int], None] | None = None,
            chunk_records: int = CHUNK_RECORDS) -> Iterator[Batch]:
    """Decoded batches of up to ``chunk_records`` records; small pieces (little mappings) are joined."""
    import numpy as np

    stats = stats if stats is not None else Stats()
    tables = key_tables(rules, zeroed_rule)

    def chunks() -> Iterator[tuple[U64, I64, Any]]:
        held: list[Piece] = []
        count = 0
        for piece in source.pieces(chunk_records):
            held.append(piece)
            count += len(piece.data) // RECORD_BYTES
            if count >= chunk_records:
                yield _join(held, source, count)
                held, count = [], 0
        if held:
            yield _join(held, source, count)

    def decoded() -> Iterator[tuple[U64, I64, Any, Keyed, IP]]:
        for raw, index, vma in chunks():
            keyed = key_chunk(raw, rules, zeroed_rule)
            yield raw, index, vma, keyed, run_starts(keyed.key, index, vma, keyed.heads)

    read = 0
    for raw, index, vma, keyed, starts in read_ahead(decoded()):
        read = source.records
        stats.records = read
        if progress is not None:
            progress(read)
        n = len(raw)
        if not n:
            continue
        batch = Batch(raw, index, vma, keyed.key, keyed.swap_idx, keyed.swap_pm, source.page_size,
                      source.vaddr_base, tables, _starts=starts)
        if groups:
            sel = np.flatnonzero(filter_mask(batch.flags9, batch.cls, batch.pm, groups))
            if len(sel) < n:
                batch = batch.take(sel)
        if not len(batch):
            continue
        stats.kept += len(batch)
        stats.zeroed += batch.count_zeroed()
        stats.invalid += batch.count_invalid()
        if kpageflags is not None:
            batch.kpf = _kpf_of(batch, kpageflags)
        yield batch
    stats.records = source.records


def _join(pieces: list[Piece], source: StreamSource | PidSource, count: int) -> tuple[U64, I64, Any]:
    """One chunk from pieces: raw records, their indexes, their mappings (None if unknown)."""
    import numpy as np

    if len(pieces) == 1:
        p = pieces[0]
        raw = np.frombuffer(p.data, dtype="<u8").astype(np.uint64, copy=False)
        index = np.arange(p.index, p.index + len(raw), dtype=np.int64)
        vma = np.full(len(raw), p.vma_id, dtype=np.int32) if p.vma_id >= 0 else source.label(index)
        return raw, index, vma
    raw = np.frombuffer(b"".join(p.data for p in pieces), dtype="<u8").astype(np.uint64, copy=False)
    lengths = np.array([len(p.data) // RECORD_BYTES for p in pieces], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    index = np.arange(count, dtype=np.int64) + np.repeat(np.array([p.index for p in pieces]) - offsets, lengths)
    if all(p.vma_id >= 0 for p in pieces):
        vma = np.repeat(np.array([p.vma_id for p in pieces], dtype=np.int32), lengths)
    else:
        vma = source.label(index)
    return raw, index, vma


def _kpf_of(batch: Batch, kpageflags: Kpageflags) -> U64:
    import numpy as np

    words = np.full(len(batch), KPF_MISSING, dtype=np.uint64)
    has_pfn = (batch.cls == PRESENT) & ((batch.pm & np.uint32(ZEROED_MASK)) == 0)
    sel = np.flatnonzero(has_pfn)
    if len(sel):
        words[sel] = kpageflags.lookup(batch.raw[sel] & np.uint64(PM_PFRAME_MASK))
    return words
