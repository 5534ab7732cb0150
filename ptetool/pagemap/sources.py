"""Where records come from: a dump (file, pipe or stdin) or a live process, and /proc/kpageflags."""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, BinaryIO

from ptetool.errors import WorkError
from ptetool.layout import ENTRY_MASK
from ptetool.pagemap.layout import RECORD_BYTES
from ptetool.pagemap.maps import Vma, proc_error, select_vmas, why_no_memory

if TYPE_CHECKING:
    from ptetool.pagemap.arrays import I64, U64


CHUNK_RECORDS = 1 << 16  # 512 KiB of records per read: constant memory whatever the input size
# The summary keeps no per-record output, so it reads 2 MiB at a time: each chunk costs about a
# hundred numpy calls and two thread hand-offs, a third of the time at 512 KiB (tests/bench/issue10.py).
SUMMARY_CHUNK_RECORDS = 1 << 18


@dataclass
class Piece:
    """Raw records of consecutive pages, as read."""

    data: bytes | bytearray | memoryview
    index: int  # the first record's position in the file read (dump or /proc/PID/pagemap)
    vma_id: int = -1  # index in the source's vmas (a live process); -1 when not known here


class StreamSource:
    """Records from a dump: a regular file, a pipe or stdin. Trailing bytes are counted, not dropped.

    Record ``index`` describes the page at ``vaddr_base + index * page_size``. With --range or --vma
    only the spans of records inside them are read: a regular file seeks to each, a pipe reads past
    the rest.
    """

    exited: tuple[int, int] | None = None  # a dump never goes away midway (see PidSource)

    def __init__(self, stream: BinaryIO, name: str, vaddr: int, page_size: int, vmas: Sequence[Vma] | None,
                 lo_hi: tuple[int, int] | None, wanted: Sequence[str] = ()) -> None:
        self.stream, self.name, self.vaddr_base, self.page_size = stream, name, vaddr, page_size
        self.vmas = list(vmas) if vmas is not None else None
        self.range = lo_hi
        self.records = 0  # whole records read (or passed by a seek)
        self.trailing = 0  # bytes after the last whole record
        self.short: list[str] = []  # chosen spans the dump does not hold (said on stderr)
        # (first record, stop record, what it is): the parts of the dump to read; None reads it all
        self.spans: list[tuple[int, int, str]] | None = None
        if wanted and self.vmas is not None:
            self.spans = [span for v in select_vmas(self.vmas, wanted) for span in self._span(v.start, v.end,
                                                                                            f"--vma {v.label()}")]
        elif lo_hi is not None:
            self.spans = self._span(lo_hi[0], lo_hi[1], "--range")
        self.total: int | None = None
        with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
            st = os.fstat(stream.fileno())
            if stat.S_ISREG(st.st_mode) and st.st_size:  # /proc/PID/pagemap says 0: size unknown
                size = st.st_size // RECORD_BYTES
                self.total = size if self.spans is None else sum(
                    max(0, min(stop, size) - first) for first, stop, _ in self.spans)

    def _span(self, lo: int, hi: int, what: str) -> list[tuple[int, int, str]]:
        """The records of [lo, hi) clipped to --range, or a note that the dump starts after it."""
        if self.range is not None:
            lo, hi = max(lo, self.range[0]), min(hi, self.range[1])
        ps, base = self.page_size, self.vaddr_base
        first, stop = max(0, -(-(lo - base) // ps)), (hi - base) // ps if hi > base else 0
        if first >= stop:
            if lo < hi:
                self.short.append(f"{what}: lies below the dump's first record ({base:#x}, --vaddr)")
            return []
        return [(first, stop, what)]

    @property
    def labelled(self) -> bool:
        return self.vmas is not None

    def _skip_to(self, index: int) -> None:
        """Go on at record ``index`` (at or after the current one): seek a regular file, read past it otherwise."""
        if index <= self.records:
            return
        try:
            self.stream.seek(index * RECORD_BYTES)
            self.records = index
            return
        except (OSError, io.UnsupportedOperation, ValueError):
            pass
        left = (index - self.records) * RECORD_BYTES
        while left:
            data = self.stream.read(min(left, CHUNK_RECORDS * RECORD_BYTES))
            if not data:
                break
            left -= len(data)
            self.records += len(data) // RECORD_BYTES
            self.trailing = len(data) % RECORD_BYTES
            if self.trailing:
                return

    def pieces(self, chunk_records: int = CHUNK_RECORDS) -> Iterator[Piece]:
        if self.spans is None:
            yield from self._read(None, chunk_records)
            return
        for first, stop, what in self.spans:
            self._skip_to(first)
            if self.trailing:
                return
            read_from = self.records
            yield from self._read(stop, chunk_records)
            got = self.records - read_from if self.records > first else 0
            if got < stop - first:
                start = self.vaddr_base + first * self.page_size
                end = self.vaddr_base + self.records * self.page_size
                self.short.append(f"{what}: not in the dump, which ends before {start:#x}" if not got else
                                  f"{what}: the dump ends at {end:#x}, after {got} of its {stop - first} pages")
            if self.trailing:
                return

    def _read(self, stop: int | None, chunk_records: int) -> Iterator[Piece]:
        """Whole records from the current position up to record ``stop`` (or the end)."""
        while stop is None or self.records < stop:
            want = chunk_records if stop is None else min(chunk_records, stop - self.records)
            try:
                data = self.stream.read(want * RECORD_BYTES)
            except OSError as exc:
                raise WorkError(f"cannot read {self.name}: {exc.strerror or exc}") from None
            if not data:
                return
            whole = len(data) // RECORD_BYTES
            self.trailing = len(data) - whole * RECORD_BYTES
            if whole:
                index = self.records
                self.records += whole
                yield Piece(memoryview(data)[: whole * RECORD_BYTES], index)
            if self.trailing:
                return

    def label(self, index: I64) -> Any:
        """The mapping of each record (int32, -1 in a hole), from --maps; None without it."""
        if self.vmas is None:
            return None
        import numpy as np

        starts, ends = _vma_bounds(tuple(self.vmas))
        vaddr = index.astype(np.uint64) * np.uint64(self.page_size) + np.uint64(self.vaddr_base)
        out = np.full(len(index), -1, dtype=np.int32)
        if not len(index):
            return out
        # the few mappings that overlap this chunk, then where each begins and ends in it
        first = int(np.searchsorted(ends, vaddr[0], side="right"))
        last = int(np.searchsorted(starts, vaddr[-1], side="right"))
        lo = np.searchsorted(vaddr, starts[first:last]).tolist()
        hi = np.searchsorted(vaddr, ends[first:last]).tolist()
        for vma_id, a, b in zip(range(first, last), lo, hi, strict=True):
            out[a:b] = vma_id
        return out


@lru_cache(maxsize=4)
def _vma_bounds(vmas: tuple[Vma, ...]) -> tuple[Any, Any]:
    import numpy as np

    return (np.array([v.start for v in vmas], dtype=np.uint64), np.array([v.end for v in vmas], dtype=np.uint64))


class PidSource:
    """Records of a live process: /proc/PID/pagemap for the chosen parts of its VMAs."""

    vaddr_base = 0  # record index * page size is the address
    labelled = True

    def __init__(self, pid: int, vmas: Sequence[Vma], wanted: Sequence[str], lo_hi: tuple[int, int] | None,
                 page_size: int) -> None:
        self.pid, self.page_size = pid, page_size
        self.vmas = list(vmas)
        self.parts: list[tuple[int, int, int]] = []  # (vma index, start, end)
        chosen = {id(v) for v in select_vmas(self.vmas, wanted)}
        for i, v in enumerate(self.vmas):
            if id(v) not in chosen:
                continue
            lo, hi = (v.start, v.end) if lo_hi is None else (max(v.start, lo_hi[0]), min(v.end, lo_hi[1]))
            if lo < hi:
                self.parts.append((i, lo, hi))
        self.total: int | None = sum((hi - lo) // page_size for _, lo, hi in self.parts)
        self.records = 0
        self.trailing = 0
        self.short: list[str] = []  # mappings the kernel gave fewer records than pages
        self.exited: tuple[int, int] | None = None  # (address, records read) where the process went away
        try:
            self.fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise proc_error(pid, "pagemap", exc) from None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def label(self, index: I64) -> Any:
        return None  # every piece knows its mapping

    def pieces(self, chunk_records: int = CHUNK_RECORDS) -> Iterator[Piece]:
        ps = self.page_size
        try:
            for vma_id, lo, hi in self.parts:
                index, end = lo // ps, hi // ps
                while index < end:
                    want = min(chunk_records, end - index)
                    try:
                        data = os.pread(self.fd, want * RECORD_BYTES, index * RECORD_BYTES)
                    except OSError as exc:
                        raise proc_error(self.pid, "pagemap", exc) from None
                    whole = len(data) // RECORD_BYTES
                    if whole:
                        self.records += whole
                        yield Piece(memoryview(data)[: whole * RECORD_BYTES], index, vma_id)
                        index += whole
                    if whole < want and why_no_memory(self.pid):
                        self.exited = (index * ps, self.records)  # its mm is gone: nothing more to read
                        return
                    if whole < want:
                        v = self.vmas[vma_id]
                        if v.name != "[vsyscall]":  # above TASK_SIZE: pagemap has no records there
                            self.short.append(f"{v.label()}: pagemap ended at {index * ps:#x}")
                        break
        finally:
            self.close()


# --- /proc/kpageflags ----------------------------------------------------------------------------

KPAGEFLAGS = "/proc/kpageflags"
# include/uapi/linux/kernel-page-flags.h (6.12) and fs/proc/page.c: KPF_* bit -> name without KPF_.
KPF_NAMES: dict[int, str] = {
    0: "locked", 1: "error", 2: "referenced", 3: "uptodate", 4: "dirty", 5: "lru", 6: "active", 7: "slab",
    8: "writeback", 9: "reclaim", 10: "buddy", 11: "mmap", 12: "anon", 13: "swapcache", 14: "swapbacked",
    15: "compound_head", 16: "compound_tail", 17: "huge", 18: "unevictable", 19: "hwpoison", 20: "nopage",
    21: "ksm", 22: "thp", 23: "offline", 24: "zero_page", 25: "idle", 26: "pgtable",
    32: "reserved", 33: "mlocked", 34: "owner_2", 35: "private", 36: "private_2", 37: "owner_private",
    38: "arch", 39: "uncached", 40: "softdirty", 41: "arch_2", 42: "arch_3",
}
KPF_MISSING = ENTRY_MASK  # no word: not present, pfn hidden, or beyond /proc/kpageflags


def kpf_names(word: int) -> tuple[str, ...]:
    return tuple(name for bit, name in KPF_NAMES.items() if word >> bit & 1) + tuple(
        f"bit_{bit}" for bit in range(64) if word >> bit & 1 and bit not in KPF_NAMES)


class Kpageflags:
    """Reads /proc/kpageflags words for PFNs (root only)."""

    def __init__(self, path: str = KPAGEFLAGS) -> None:
        try:
            self.fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        except OSError as exc:
            raise WorkError(f"--kpageflags: cannot read {path}: {exc.strerror or exc} (it needs root)") from None
        self.path = path

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def lookup(self, pfns: U64) -> U64:
        """The word of each PFN, or KPF_MISSING; consecutive PFNs are read together."""
        import numpy as np

        out = np.full(len(pfns), KPF_MISSING, dtype=np.uint64)
        if not len(pfns):
            return out
        uniq, inverse = np.unique(pfns, return_inverse=True)
        words = np.full(len(uniq), KPF_MISSING, dtype=np.uint64)
        breaks = np.flatnonzero(np.diff(uniq) != 1) + 1
        starts = np.concatenate(([0], breaks))
        ends = np.concatenate((breaks, [len(uniq)]))
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            first = int(uniq[a])
            try:
                data = os.pread(self.fd, (b - a) * RECORD_BYTES, first * RECORD_BYTES)
            except OSError:
                continue
            got = len(data) // RECORD_BYTES
            if got:
                words[a: a + got] = np.frombuffer(data[: got * RECORD_BYTES], dtype="<u8")
        out[:] = words[inverse]
        return out
