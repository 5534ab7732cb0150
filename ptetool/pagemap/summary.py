"""The summary: counts per mapping and in total, and runs of alike pages, counted from batches with numpy."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from ptetool.pagemap.chunks import PFN_KEYS, Batch
from ptetool.pagemap.classify import ASSUMED_MASK, OTHER_MASK, ZEROED_MASK
from ptetool.pagemap.layout import CLASS_SHIFT, CLASSES, FLAGS9_BITS, FLAGS9_MASK, FLAGS9_VALUES
from ptetool.pagemap.sources import KPF_MISSING, kpf_names

if TYPE_CHECKING:
    from ptetool.pagemap.arrays import I64, IP, U64


@dataclass
class Counts:
    """Pages of one mapping (or in total) by class and by flag bit (55-63)."""

    pages: int = 0
    classes: list[int] = field(default_factory=lambda: [0] * len(CLASSES))
    flags: list[int] = field(default_factory=lambda: [0] * FLAGS9_BITS)
    zeroed: int = 0
    problems: int = 0
    # of classes[i], how many are hidden swap-format records whose class was assumed
    assumed: list[int] = field(default_factory=lambda: [0] * len(CLASSES))

    def add(self, other: Counts) -> None:
        self.pages += other.pages
        self.classes = [a + b for a, b in zip(self.classes, other.classes, strict=True)]
        self.flags = [a + b for a, b in zip(self.flags, other.flags, strict=True)]
        self.zeroed += other.zeroed
        self.problems += other.problems
        self.assumed = [a + b for a, b in zip(self.assumed, other.assumed, strict=True)]


class Run(NamedTuple):
    """Contiguous pages of one mapping with the same class and flag bits."""

    start: int  # vaddr of the first page
    pages: int
    code: int  # class code << CLASS_SHIFT | flags9
    first: int  # the first page's raw record
    vma_id: int

    @property
    def cls(self) -> str:
        return CLASSES[self.code >> CLASS_SHIFT]

    @property
    def flags9(self) -> int:
        return self.code & FLAGS9_MASK


@dataclass(frozen=True)
class Runs:
    """Finished runs, as arrays."""

    start: U64
    pages: I64
    code: IP
    first: U64
    vma: Any  # int array: each run's mapping, -1 for none

    def __len__(self) -> int:
        return len(self.pages)

    def __iter__(self) -> Iterator[Run]:
        for start, pages, code, first, vma in zip(self.start.tolist(), self.pages.tolist(), self.code.tolist(),
                                                  self.first.tolist(), self.vma.tolist(), strict=True):
            yield Run(start, pages, code, first, vma)


@dataclass
class Summary:
    per_vma: list[tuple[int, Counts]]  # (vma index or -1, counts), in address order
    total: Counts
    kpageflags: dict[str, int] | None
    runs: int


@lru_cache(maxsize=1)
def _bit_matrix() -> Any:
    import numpy as np

    return (np.arange(FLAGS9_VALUES)[:, None] >> np.arange(FLAGS9_BITS)[None, :]) & 1


class SummaryBuilder:
    """Counts batches as they stream by; hands finished runs to ``on_runs`` as soon as they end."""

    def __init__(self, page_size: int, on_runs: Callable[[Runs], None] | None = None) -> None:
        self.page_size = page_size
        self.on_runs = on_runs
        self.per_vma: dict[int, Counts] = {}
        self.kpf: dict[int, int] | None = None
        self.runs = 0
        self._open: list[int] | None = None  # [first index, last index, code, first raw, vma, vaddr]
        self._done: list[Runs] = []  # finished runs not yet handed on
        self._done_count = 0

    FLUSH_RUNS = 8192  # hand runs on in blocks: formatting them costs per block as well as per run

    def _flush(self) -> None:
        self._emit(None, force=True)

    def _emit(self, runs: Runs | None, force: bool = False) -> None:
        if runs is not None and len(runs):
            self._done.append(runs)
            self._done_count += len(runs)
            self.runs += len(runs)
        if self._done and (force or self._done_count >= self.FLUSH_RUNS):
            import numpy as np

            done = self._done
            block = done[0] if len(done) == 1 else Runs(*(np.concatenate([getattr(r, f) for r in done])
                                                         for f in ("start", "pages", "code", "first", "vma")))
            self._done, self._done_count = [], 0
            assert self.on_runs is not None
            self.on_runs(block)

    def feed(self, batch: Batch) -> None:
        import numpy as np

        n = len(batch)
        if not n:
            return
        tables = batch.tables
        starts = batch.starts
        run_keys = batch.key[starts]
        run_vma = batch.vma[starts] if batch.vma is not None else np.full(len(starts), -1, dtype=np.int32)
        lengths = np.diff(starts, append=n)
        # counts per mapping, all mappings of the batch at once, from its runs
        vmas, local = np.unique(run_vma, return_inverse=True)
        nv = len(vmas)
        pfn_key = run_keys < PFN_KEYS
        safe = np.where(pfn_key, run_keys, 0)
        pages = np.bincount(local, weights=lengths, minlength=nv)
        by_class = np.bincount(local * len(CLASSES) + tables.cls[run_keys], weights=lengths,
                               minlength=nv * len(CLASSES)).reshape(nv, len(CLASSES))
        by_flags = np.bincount(local * FLAGS9_VALUES + tables.flags9[run_keys], weights=lengths,
                               minlength=nv * FLAGS9_VALUES).reshape(nv, FLAGS9_VALUES) @ _bit_matrix()
        zeroed = np.bincount(local, weights=lengths * (tables.zeroed[safe] * pfn_key), minlength=nv)
        other = np.bincount(local, weights=lengths * (tables.other[safe] * pfn_key), minlength=nv)
        assumed: Any = np.zeros((nv, len(CLASSES)))
        # only swap-shaped records with a problem count here (usually none: skip the per-record work)
        flagged = np.flatnonzero(batch.swap_pm & np.uint32(ZEROED_MASK | OTHER_MASK | ASSUMED_MASK))
        if len(flagged):
            swap_idx, swap_pm = batch.swap_idx[flagged], batch.swap_pm[flagged]
            swap_local = local[np.searchsorted(starts, swap_idx, side="right") - 1]
            zeroed += np.bincount(swap_local, weights=(swap_pm & np.uint32(ZEROED_MASK)) != 0, minlength=nv)
            other += np.bincount(swap_local, weights=(swap_pm & np.uint32(OTHER_MASK)) != 0, minlength=nv)
            assumed = np.bincount(swap_local * len(CLASSES) + batch.cls[swap_idx],
                                  weights=(swap_pm & np.uint32(ASSUMED_MASK)) != 0,
                                  minlength=nv * len(CLASSES)).reshape(nv, len(CLASSES))
        rows = zip(vmas.tolist(), pages.astype(np.int64).tolist(), by_class.astype(np.int64).tolist(),
                   by_flags.astype(np.int64).tolist(), zeroed.astype(np.int64).tolist(),
                   other.astype(np.int64).tolist(), assumed.astype(np.int64).tolist(), strict=True)
        for v, p, c, f, z, o, a in rows:
            counts = self.per_vma.get(v)
            if counts is None:
                counts = self.per_vma[v] = Counts()
            counts.pages += p
            counts.classes = [a + b for a, b in zip(counts.classes, c, strict=True)]
            counts.flags = [a + b for a, b in zip(counts.flags, f, strict=True)]
            counts.zeroed += z
            counts.problems += o
            counts.assumed = [x + y for x, y in zip(counts.assumed, a, strict=True)]
        if batch.kpf is not None:
            words, times = np.unique(batch.kpf, return_counts=True)
            self.kpf = self.kpf if self.kpf is not None else {}
            for w, t in zip(words.tolist(), times.tolist(), strict=True):
                self.kpf[w] = self.kpf.get(w, 0) + t
        if self.on_runs is not None:
            self._runs(batch, run_vma)

    def _runs(self, batch: Batch, run_vma: Any) -> None:
        import numpy as np

        starts = batch.starts
        codes = batch.tables.code[batch.key[starts]]
        index = batch.index
        lasts = np.append(starts[1:] - 1, len(batch) - 1)
        # runs of different keys but the same class and flags, touching, in one mapping, are one run
        joined = np.concatenate(([False], (codes[1:] == codes[:-1]) & (run_vma[1:] == run_vma[:-1])
                                 & (index[starts[1:]] == index[lasts[:-1]] + 1)))
        if joined.any():
            keep = ~joined
            starts, codes, run_vma = starts[keep], codes[keep], run_vma[keep]
            lasts = np.append(starts[1:] - 1, len(batch) - 1)
        first_index = index[starts]
        pages = index[lasts] - first_index + 1
        vaddrs = first_index.astype(np.uint64) * np.uint64(self.page_size) + np.uint64(batch.vaddr_base)
        raws = batch.raw[starts]
        op = self._open
        skip = 0
        if op is not None:
            if op[2] == int(codes[0]) and op[1] + 1 == int(first_index[0]) and op[4] == int(run_vma[0]):
                op[1] += int(pages[0])
                if len(starts) == 1:
                    return
                skip = 1
            self._close()
        last = len(starts) - 1
        if last > skip:
            self._emit(Runs(vaddrs[skip:last], pages[skip:last], codes[skip:last], raws[skip:last], run_vma[skip:last]))
        self._open = [int(first_index[last]), int(first_index[last]) + int(pages[last]) - 1, int(codes[last]),
                      int(raws[last]), int(run_vma[last]), int(vaddrs[last])]

    def _close(self) -> None:
        import numpy as np

        op = self._open
        if op is None or self.on_runs is None:
            return
        self._open = None
        self._emit(Runs(np.array([op[5]], dtype=np.uint64), np.array([op[1] - op[0] + 1], dtype=np.int64),
                        np.array([op[2]], dtype=np.intp), np.array([op[3]], dtype=np.uint64),
                        np.array([op[4]], dtype=np.int32)))

    def finish(self) -> Summary:
        self._close()
        if self.on_runs is not None:
            self._flush()
        total = Counts()
        for counts in self.per_vma.values():
            total.add(counts)
        kpf: dict[str, int] | None = None
        if self.kpf is not None:
            kpf = {}
            for word, times in self.kpf.items():
                if word == KPF_MISSING:
                    continue
                for name in kpf_names(word):
                    kpf[name] = kpf.get(name, 0) + times
        return Summary(sorted(self.per_vma.items()), total, kpf, self.runs)
