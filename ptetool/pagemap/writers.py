"""CSV, NDJSON and JSON lines of pagemap records: one record at a time, and in bulk from templates."""

from __future__ import annotations

import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

from ptetool.pagemap.chunks import Batch
from ptetool.pagemap.classify import PROBLEMS, SLOW_MASK, Entry, decode_record
from ptetool.pagemap.digits import DEC_WIDTH, HEX_WIDTH, dec_lengths, dec_matrix, hex_matrix
from ptetool.pagemap.layout import (
    BIT_FILE,
    BIT_GUARD_REGION,
    BIT_MMAP_EXCLUSIVE,
    BIT_PRESENT,
    BIT_SOFT_DIRTY,
    BIT_SWAP,
    BIT_UFFD_WP,
    CLASS_BITS,
    FLAGS9_BITS,
    INVALID,
    PAGEMAP,
    PM_PFRAME_MASK,
    PTE_MARKER,
    SHAPE9,
    SWAP_SHAPED9,
    SWAP_TYPE_MASK,
    Rules,
)
from ptetool.pagemap.maps import Vma
from ptetool.pagemap.sources import KPF_MISSING, kpf_names
from ptetool.swaptypes import MAX_SWAPFILES_SHIFT
from ptetool.values import format_value

if TYPE_CHECKING:
    from ptetool.kernel import Model
    from ptetool.pagemap.arrays import U64
    from ptetool.record import PagemapRecord


CSV_COLUMNS = ("index", "vaddr", "value", "class", "pfn", "swap_type", "swap_offset", "type_name", "marker",
               "soft_dirty", "mmap_exclusive", "uffd_wp", "guard_region", "file", "swap", "present", "zeroed",
               "problems", "vma_start", "vma_end", "vma_perms", "vma_name")


def csv_cells(entry: Entry, index: int | str, vaddr: int | str, vma: Vma | None,
              kpf: int | None = None, with_kpf: bool = False, value: str | None = None,
              frame: str | None = None) -> list[str]:
    """One CSV row. ``value``/``frame``/str index and vaddr let the bulk writer put placeholders in."""
    v = entry.value
    pfn = entry.pfn
    swap = entry.swap

    def frame_text(number: int) -> str:
        return str(number) if frame is None else frame

    cells = [
        str(index), vaddr if isinstance(vaddr, str) else f"0x{vaddr:016x}",
        value if value is not None else f"0x{v:016x}", entry.cls,
        frame_text(pfn) if pfn is not None else "",
        str(swap.type) if swap else "", frame_text(swap.offset) if swap else "", swap.type_name if swap else "",
        "|".join(entry.marker) if entry.marker else "",
        *(str(v >> bit & 1) for bit in (BIT_SOFT_DIRTY, BIT_MMAP_EXCLUSIVE, BIT_UFFD_WP, BIT_GUARD_REGION,
                                        BIT_FILE, BIT_SWAP, BIT_PRESENT)),
        "1" if entry.zeroed else "0", "; ".join(entry.problems),
        *((f"0x{vma.start:016x}", f"0x{vma.end:016x}", vma.perms, vma.name) if vma else ("", "", "", "")),
    ]
    if with_kpf:
        cells.append("|".join(kpf_names(kpf)) if kpf is not None and kpf != KPF_MISSING else "")
    return cells


def csv_line(cells: Sequence[str]) -> str:
    import csv  # only the CSV format needs it

    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def csv_header(with_kpf: bool) -> str:
    return csv_line([*CSV_COLUMNS, *(("kpageflags",) if with_kpf else ())])


@lru_cache(maxsize=16)
def _short_json(model: Model, arch: str) -> dict[str, Any]:
    from ptetool.record import short_model

    return short_model(model, arch)


@lru_cache(maxsize=16)
def _model_json(model: Model, arch: str) -> dict[str, Any]:
    from ptetool.record import model_record

    return model_record(model, arch)


def to_pagemap_record(entry: Entry, index: int, vaddr: int, vma: Vma | None, labelled: bool,
                      kpageflags: list[str] | None = None, with_kpageflags: bool = False,
                      full_model: bool = True) -> PagemapRecord:
    """One record's JSON: the shape ptetool.record.PagemapRecord declares, built here alone."""
    from ptetool.record import VmaRecord, reading_record

    record: dict[str, Any] = {"index": index, "vaddr": format_value(vaddr),
                              **reading_record(entry, entry.rules.arch, "pte", PAGEMAP), "zeroed": entry.zeroed}
    if labelled:
        record["vma"] = VmaRecord(start=format_value(vma.start), end=format_value(vma.end), perms=vma.perms,
                                  name=vma.name) if vma is not None else None
    if with_kpageflags:
        record["kpageflags"] = kpageflags
    record["model"] = (_model_json(entry.rules.model, entry.rules.arch) if full_model
                       else _short_json(entry.rules.model, entry.rules.arch))
    return cast("PagemapRecord", record)


# --- bulk lines: pieces per record shape, numbers put in with numpy ------------------------------
#
# Every record of one shape (flag bits, swap type, marker bits, class, problems, mapping,
# kpageflags word) prints the same text except for four numbers: V the value and X the vaddr
# (hex, fixed width), A the pfn or swap offset and I the index (decimal). A template is the
# slow path's own line for a representative record with placeholders for those numbers, so the
# two paths cannot drift apart. The text from the first number to the last (the head) is built
# for a whole group of records at once as a numpy byte matrix; each line is then written as
# three pieces: prefix, head, suffix.

_TOKEN = re.compile(r'"@@([AI])@@"|@@([AIVX])@@')
_SENTINEL = {t: f"@@{t}@@" for t in "VAIX"}
_LEN_KEYS = DEC_WIDTH + 1
# A record's shape, packed least significant first: flags9, the swap type (swap-shaped records), the
# low marker bits (PTE markers), the class and the problems; above them the kpageflags word's id.
_MARKER_BITS = 3  # PTE_MARKER_* bits 0-2 (swaptypes.marker_bits); any other bit is slow (marker_unknown)
_SHAPE_TYPE = FLAGS9_BITS
_SHAPE_MARKER = _SHAPE_TYPE + MAX_SWAPFILES_SHIFT
_SHAPE_CLASS = _SHAPE_MARKER + _MARKER_BITS
_SHAPE_PROBLEMS = _SHAPE_CLASS + CLASS_BITS
_SHAPE_KPF = _SHAPE_PROBLEMS + len(PROBLEMS)


@dataclass
class _Template:
    prefix: bytes
    between: tuple[bytes, ...]  # the text between consecutive tokens
    tokens: tuple[str, ...]
    suffix: bytes
    rows: dict[tuple[int, int], tuple[Any, tuple[tuple[str, int, int], ...]]] = field(default_factory=dict)
    fulls: dict[tuple[int, int], tuple[Any, tuple[tuple[str, int, int], ...]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, line: str) -> _Template:
        parts = _TOKEN.split(line)  # text, group 1, group 2, text, ...
        texts = parts[0::3]
        tokens = tuple(a or b for a, b in zip(parts[1::3], parts[2::3], strict=True))
        if not tokens:
            return cls(line.encode(), (), (), b"")
        return cls(texts[0].encode(), tuple(t.encode() for t in texts[1:-1]), tokens, texts[-1].encode())

    def full(self, len_a: int, len_i: int) -> tuple[Any, tuple[tuple[str, int, int], ...]]:
        """The whole line's bytes (prefix, head, suffix) with the numbers left blank, and their places."""
        got = self.fulls.get((len_a, len_i))
        if got is None:
            import numpy as np

            row, places = self.row(len_a, len_i)
            line = np.concatenate((np.frombuffer(self.prefix, dtype=np.uint8), row,
                                   np.frombuffer(self.suffix, dtype=np.uint8)))
            got = self.fulls[(len_a, len_i)] = (line, tuple((t, c + len(self.prefix), w) for t, c, w in places))
        return got

    def row(self, len_a: int, len_i: int) -> tuple[Any, tuple[tuple[str, int, int], ...]]:
        """The head's bytes with the numbers left blank, and where each goes: (token, column, width)."""
        got = self.rows.get((len_a, len_i))
        if got is None:
            import numpy as np

            widths = {"V": HEX_WIDTH, "X": HEX_WIDTH, "A": len_a, "I": len_i}
            out = bytearray()
            places: list[tuple[str, int, int]] = []
            for i, tok in enumerate(self.tokens):
                places.append((tok, len(out), widths[tok]))
                out += b"#" * widths[tok]
                if i < len(self.between):
                    out += self.between[i]
            got = (np.frombuffer(bytes(out), dtype=np.uint8), tuple(places))
            self.rows[(len_a, len_i)] = got
        return got


class LineWriter:
    """NDJSON, JSON (one array) or CSV lines of batches, handed to ``sink`` as lists of pieces."""

    PER_WRITE = 1020  # pieces per sink total: 340 lines of three pieces
    SLICE = 1 << 13  # records laid out at once: a few MiB of NDJSON
    STRETCH = 16  # records per stretch of one line shape, on average, for the block path to pay
    PIECE_BYTES = 1 << 20  # blocks go out in pieces of about this size

    def __init__(self, fmt: str, rules: Rules, vmas: Sequence[Vma] | None, labelled: bool, zeroed_rule: bool,
                 sink: Callable[[list[bytes], list[int] | None], None], with_kpf: bool = False) -> None:
        if fmt not in ("ndjson", "json", "csv"):
            raise ValueError(fmt)
        self.fmt, self.rules, self.vmas, self.labelled = fmt, rules, vmas, labelled
        self.zeroed_rule, self.sink, self.with_kpf = zeroed_rule, sink, with_kpf
        self.template_ids: dict[tuple[int, int, int], int] = {}
        self.templates: list[_Template] = []
        self.first = True

    # -- the slow path: one Entry at a time; also the source of every template

    def vma_of(self, vma_id: int) -> Vma | None:
        return self.vmas[vma_id] if self.vmas is not None and vma_id >= 0 else None

    def line(self, entry: Entry, index: int, vaddr: int, vma_id: int, kpf: int | None,
             placeholders: bool = False, full_model: bool = False) -> str:
        """The record's line as the format prints it (CSV and NDJSON end in a newline, JSON does not)."""
        vma = self.vma_of(vma_id)
        if self.fmt == "csv":
            if placeholders:
                return csv_line(csv_cells(entry, _SENTINEL["I"], _SENTINEL["X"], vma, kpf, self.with_kpf,
                                          value=_SENTINEL["V"], frame=_SENTINEL["A"]))
            return csv_line(csv_cells(entry, index, vaddr, vma, kpf, self.with_kpf))
        names = None if kpf is None or kpf == KPF_MISSING else list(kpf_names(kpf))
        rec: dict[str, Any] = dict(to_pagemap_record(entry, index, vaddr, vma, labelled=self.labelled,
                                                     kpageflags=names, with_kpageflags=self.with_kpf,
                                                     full_model=full_model))
        if placeholders:
            rec.update(index=_SENTINEL["I"], vaddr=_SENTINEL["X"], value=_SENTINEL["V"])
            rec["fields"] = {k: _SENTINEL["A"] if k in ("pfn", "swap_offset") else v
                             for k, v in rec["fields"].items()}
            if rec["swap"] is not None:
                rec["swap"] = {**rec["swap"], "offset": _SENTINEL["A"]}
        text = json.dumps(rec)
        return text if self.fmt == "json" else text + "\n"

    def start(self) -> None:
        if self.fmt == "csv":
            self.sink([csv_header(self.with_kpf).encode()], None)
        elif self.fmt == "json":
            self.sink([b"["], None)

    def finish(self) -> None:
        if self.fmt == "json":
            self.sink([b"]\n" if self.first else b"\n]\n"], None)

    def _sep(self) -> str:
        return ",\n" if self.fmt == "json" else ""

    def _template(self, batch: Batch, row: int, word: int | None) -> int:
        entry = decode_record(int(batch.raw[row]), self.rules, self.zeroed_rule)
        self.templates.append(_Template.parse(self._sep() + self.line(entry, 0, 0, batch.vma_at(row), word, True)))
        return len(self.templates) - 1

    # -- the bulk path

    def feed(self, batch: Batch) -> None:
        import numpy as np

        n = len(batch)
        if not n:
            return
        if n > self.SLICE:  # lines are laid out a slice at a time: the pieces of a whole chunk are many MiB
            for start in range(0, n, self.SLICE):
                self.feed(batch.take(np.arange(start, min(n, start + self.SLICE))))
            return
        if self.first and self.fmt != "csv":
            # the stream's first record states the model in full; the rest name it by its key
            first = int(batch.index[0])
            entry = decode_record(int(batch.raw[0]), self.rules, self.zeroed_rule)
            word = int(batch.kpf[0]) if batch.kpf is not None else None
            text = self.line(entry, first, batch.vaddr_base + first * batch.page_size, batch.vma_at(0), word,
                             full_model=True)
            self.sink([text.encode()], None)
            self.first = False
            if n == 1:
                return
            batch, n = batch.take(np.arange(1, n)), n - 1
        u = np.uint64
        raw = batch.raw
        flags9, cls, pm = batch.flags9, batch.cls, batch.pm
        frame = raw & u(PM_PFRAME_MASK)
        swap_shaped = (flags9 & SHAPE9) == SWAP_SHAPED9
        number = np.where(swap_shaped, frame >> u(MAX_SWAPFILES_SHIFT), frame)
        shape = (flags9.astype(np.uint64)
                 | np.where(swap_shaped, frame & u(SWAP_TYPE_MASK), u(0)) << u(_SHAPE_TYPE)
                 | np.where(cls == PTE_MARKER, number & u((1 << _MARKER_BITS) - 1), u(0)) << u(_SHAPE_MARKER)
                 | cls.astype(np.uint64) << u(_SHAPE_CLASS) | pm.astype(np.uint64) << u(_SHAPE_PROBLEMS))
        if batch.kpf is not None:
            words, word_ids = np.unique(batch.kpf, return_inverse=True)
            shape |= word_ids.astype(np.uint64) << u(_SHAPE_KPF)
        # one template lookup per run of equal shapes (and one mapping)
        change = shape[1:] != shape[:-1]
        vma = batch.vma if batch.vma is not None else np.full(n, -1, dtype=np.int32)
        if batch.vma is not None:
            change |= vma[1:] != vma[:-1]
        starts = np.flatnonzero(np.concatenate(([True], change)))
        run_ids = np.empty(len(starts), dtype=np.int64)
        for r, (s, k, v) in enumerate(zip(starts.tolist(), shape[starts].tolist(), vma[starts].tolist(), strict=True)):
            word = int(words[k >> _SHAPE_KPF]) if batch.kpf is not None else None
            tkey = (k & ((1 << _SHAPE_KPF) - 1), -1 if word is None else word, v)
            tid = self.template_ids.get(tkey)
            if tid is None:
                tid = self.template_ids[tkey] = self._template(batch, s, word)
            run_ids[r] = tid
        tids = np.repeat(run_ids, np.diff(starts, append=n))
        # group the records by template and number lengths; work on each group as one slice
        index = batch.index
        len_a = dec_lengths(number)
        len_i = dec_lengths(index.astype(np.uint64))
        group = (tids * _LEN_KEYS + len_a) * _LEN_KEYS + len_i
        slow = (cls == INVALID) | ((pm & np.uint32(SLOW_MASK)) != 0)
        if slow.any():
            group[slow] = -1
        stretch_starts = np.flatnonzero(group[1:] != group[:-1]) + 1
        if n >= self.STRETCH * (len(stretch_starts) + 1):
            self._feed_stretches(batch, group, number, len_a, len_i, stretch_starts)
            return
        if int(group.max()) <= np.iinfo(np.int16).max:
            group = group.astype(np.int16)  # a radix sort
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        bounds = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        number_o = number[order]
        index_o = index[order]
        mats = {
            "V": hex_matrix(raw[order]),
            "X": hex_matrix(index_o.astype(np.uint64) * u(batch.page_size) + u(batch.vaddr_base)),
            "A": dec_matrix(number_o, int(len_a.max())),
            "I": dec_matrix(index_o.astype(np.uint64), int(len_i.max())),
        }
        pieces = np.empty((n, 3), dtype=object)
        sizes = np.empty(n, dtype=np.int64)
        for a, b in zip(np.concatenate(([0], bounds)).tolist(), np.append(bounds, n).tolist(), strict=True):
            g = int(ordered[a])
            if g < 0:
                for r in range(a, b):
                    line = self._slow_line(batch, int(order[r]))
                    pieces[r] = (line, b"", b"")
                    sizes[r] = len(line)
                continue
            tmpl = self.templates[g // (_LEN_KEYS * _LEN_KEYS)]
            pieces[a:b, 0] = tmpl.prefix
            pieces[a:b, 2] = tmpl.suffix
            if not tmpl.tokens:
                pieces[a:b, 1] = b""
                sizes[a:b] = len(tmpl.prefix) + len(tmpl.suffix)
                continue
            row, places = tmpl.row(g // _LEN_KEYS % _LEN_KEYS, g % _LEN_KEYS)
            head = np.empty((b - a, len(row)), dtype=np.uint8)
            head[:] = row
            for tok, col, width in places:
                head[:, col: col + width] = mats[tok][a:b, -width:]
            pieces[a:b, 1] = head.view(f"S{len(row)}").ravel().tolist()
            sizes[a:b] = len(tmpl.prefix) + len(row) + len(tmpl.suffix)
        out = np.empty((n, 3), dtype=object)
        out[order] = pieces
        out_sizes = np.empty(n, dtype=np.int64)
        out_sizes[order] = sizes
        if self.first and self.fmt == "json":
            out[0, 0] = out[0, 0][len(self._sep()):]
            out_sizes[0] -= len(self._sep())
        self.first = False
        lines = self.PER_WRITE // 3
        self.sink(out.ravel().tolist(), np.add.reduceat(out_sizes, np.arange(0, n, lines)).tolist())

    def _feed_stretches(self, batch: Batch, group: Any, number: U64, len_a: Any, len_i: Any, starts: Any) -> None:
        """Long stretches of records share one line shape: each is laid out as one block of bytes,
        the template's line repeated with the numbers written into their columns."""
        import numpy as np

        u = np.uint64
        index = batch.index.astype(np.uint64)
        mats = {
            "V": hex_matrix(batch.raw),
            "X": hex_matrix(index * u(batch.page_size) + u(batch.vaddr_base)),
            "A": dec_matrix(number, int(len_a.max())),
            "I": dec_matrix(index, int(len_i.max())),
        }
        pieces: list[Any] = []
        bounds = np.concatenate(([0], starts, [len(group)])).tolist()
        for a, b in itertools.pairwise(bounds):
            g = int(group[a])
            if g < 0:
                pieces.extend(self._slow_line(batch, r) for r in range(a, b))
                continue
            tmpl = self.templates[g // (_LEN_KEYS * _LEN_KEYS)]
            line, places = tmpl.full(g // _LEN_KEYS % _LEN_KEYS, g % _LEN_KEYS)
            block = np.empty((b - a, len(line)), dtype=np.uint8)
            block[:] = line
            for tok, col, width in places:
                block[:, col: col + width] = mats[tok][a:b, -width:]
            rows = max(1, self.PIECE_BYTES // len(line))
            pieces.extend(block[r: r + rows].reshape(-1) for r in range(0, b - a, rows))
        if self.first and self.fmt == "json":
            pieces[0] = pieces[0][len(self._sep()):]
        self.first = False
        self.sink(pieces, None)

    def write_records(self, records: Iterable[Any]) -> None:
        """Lines of records decoded one by one (:mod:`.plain`), exactly as :meth:`feed` lays them out."""
        pieces: list[bytes] = []
        for r in records:
            text = self.line(r.entry, r.index, r.vaddr, r.vma_id, None, full_model=self.first and self.fmt != "csv")
            pieces.append((("" if self.first else self._sep()) + text).encode())
            self.first = False
            if len(pieces) >= self.PER_WRITE:
                self.sink(pieces, None)
                pieces = []
        if pieces:
            self.sink(pieces, None)

    def _slow_line(self, batch: Batch, r: int) -> bytes:
        index = int(batch.index[r])
        vaddr = batch.vaddr_base + index * batch.page_size
        entry = decode_record(int(batch.raw[r]), self.rules, self.zeroed_rule)
        kpf = int(batch.kpf[r]) if batch.kpf is not None else None
        return (self._sep() + self.line(entry, index, vaddr, batch.vma_at(r), kpf)).encode()
