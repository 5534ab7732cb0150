"""/proc/PID/pagemap: the record layout, decode and classify, and the bulk machinery.

One 64-bit little-endian record per virtual page, written by
``pte_to_pagemap_entry()`` (and its PMD and hugetlb siblings) in
fs/proc/task_mmu.c. A record is either PFN-shaped (bits 0-54 a page frame
number) or, with PM_SWAP, swap-shaped (bits 0-4 the swap type, 5-54 the
offset); the swap type is read with the kernel model's swap-type numbering
(:mod:`ptetool.swaptypes`), so a real swapped page, a PTE marker and a
migration entry are told apart.

Two decoders agree bit for bit: :func:`decode_record` (one value, immutable
:class:`Entry`) and :func:`decode_chunk` (numpy, a chunk at a time: class and
problem codes per record). Both read the same :class:`Rules` and problem table,
and the chunk decoder's tables are filled by the per-record classifier itself.
The bulk formats (NDJSON, JSON, CSV, summary) never call the per-record
decoder per record: lines are assembled from pieces precomputed per record
shape (the slow path's own line with placeholders), and the summary is counted
with numpy. Input is read and keyed a chunk ahead on a second thread.

This module is pure: no click, no rich, nothing printed (output goes to a
``sink`` the caller passes). numpy is imported inside the bulk functions only.
"""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
import os
import queue
import re
import stat
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property, lru_cache
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, TypeVar

from ptetool.arch.common import ALWAYS, FieldDef, When, offset_views, select, with_views
from ptetool.arch.x86_64 import has_uffd_wp
from ptetool.errors import UsageError, WorkError
from ptetool.kernel import Model, Version
from ptetool.layout import ENTRY_MASK, Family, Field, Layout, Source
from ptetool.swaptypes import (
    CLASS_OF_TYPE,
    MAX_SWAPFILES_SHIFT,
    PFN_TYPE_CLASSES,
    SwapInfo,
    marker_bits,
    swap_types,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    U64 = npt.NDArray[np.uint64]
    I64 = npt.NDArray[np.int64]
    U32 = npt.NDArray[np.uint32]
    U8 = npt.NDArray[np.uint8]
    IP = npt.NDArray[np.intp]

# --- the record layout (fs/proc/task_mmu.c) ------------------------------------------------------

TASK_MMU = "fs/proc/task_mmu.c"
TASK_MMU_612 = Source(TASK_MMU, "6.12")
PAGEMAP = "pagemap"  # the "layout" of every pagemap record
RECORD_BYTES = 8  # PM_ENTRY_BYTES: sizeof(pagemap_entry_t)

PM_PFRAME_BITS = 55  # bits 0-54: the frame, or swap type | offset << MAX_SWAPFILES_SHIFT
PM_PFRAME_MASK = (1 << PM_PFRAME_BITS) - 1
SWAP_OFFSET_BITS = PM_PFRAME_BITS - MAX_SWAPFILES_SHIFT  # 50
BIT_SOFT_DIRTY = 55  # PM_SOFT_DIRTY
BIT_MMAP_EXCLUSIVE = 56  # PM_MMAP_EXCLUSIVE
BIT_UFFD_WP = 57  # PM_UFFD_WP
BIT_GUARD_REGION = 58  # PM_GUARD_REGION
RESERVED_LSB, RESERVED_WIDTH = 59, 2  # "Bits 59-60 zero"
BIT_FILE = 61  # PM_FILE
BIT_SWAP = 62  # PM_SWAP
BIT_PRESENT = 63  # PM_PRESENT
FLAG_LSB = BIT_SOFT_DIRTY  # the 9 bits 55-63 are the record's flags ("F" below)

# When a bit got its meaning. Before that the kernel left it 0.
MMAP_EXCLUSIVE_SINCE: Version = (4, 2)  # "pagemap: add mmap-exclusive bit for marking pages mapped only here"
UFFD_WP_SINCE: Version = (5, 13)  # Documentation/admin-guide/mm/pagemap.rst
GUARD_REGION_SINCE: Version = (6, 15)  # "fs/proc/task_mmu: add guard region bit to pagemap"
# 6.1 set PM_MMAP_EXCLUSIVE for non-migration PFN swap entries whose page had mapcount 1 (and
# 5.10 for migration entries too); 6.12 sets it only with PM_PRESENT. The change lies between
# (read in 6.1 and 6.12; the exact release is UNVERIFIED), so ptetool accepts it before 6.12.
EXCLUSIVE_PRESENT_ONLY: Version = (6, 12)
# mm/swapfile.c read_swap_header(): last_page is 32 bits, and page 0 is the header itself.
SWAP_AREA_PAGES_LIMIT = 1 << 32


def _flag(name: str, bit: int, doc: str, version: str, family: Family = Family.SW_FLAG) -> Field:
    return Field(name=name, lsb=bit, width=1, doc=doc, source=Source(TASK_MMU, version), family=family)


def _zero(name: str, lsb: int, width: int, doc: str, version: str) -> Field:
    return Field(name=name, lsb=lsb, width=width, doc=doc, source=Source(TASK_MMU, version),
                 family=Family.RESERVED, zero_expected=True)


_FLAG_DEFS: tuple[FieldDef, ...] = (
    (_flag("soft_dirty", BIT_SOFT_DIRTY, "PM_SOFT_DIRTY: the pte is soft-dirty, or its VMA has VM_SOFTDIRTY "
           "(always 0 without CONFIG_MEM_SOFT_DIRTY)", "6.12"), ALWAYS),
    (_flag("mmap_exclusive", BIT_MMAP_EXCLUSIVE, "PM_MMAP_EXCLUSIVE: the page is mapped only here "
           "(6.12: present pages with precise mapcount 1)", "6.12"), When(since=MMAP_EXCLUSIVE_SINCE)),
    (_zero("reserved_56", BIT_MMAP_EXCLUSIVE, 1, "zero before PM_MMAP_EXCLUSIVE (4.2)", "4.0"),
     When(until=MMAP_EXCLUSIVE_SINCE)),
    (_flag("uffd_wp", BIT_UFFD_WP, "PM_UFFD_WP: write-protected by userfaultfd (the present pte's uffd-wp bit, "
           "the swap pte's, or a UFFD_WP PTE marker)", "6.12"), When(since=UFFD_WP_SINCE)),
    (_zero("reserved_57", BIT_UFFD_WP, 1, "zero before PM_UFFD_WP (5.13)", "5.10"), When(until=UFFD_WP_SINCE)),
    (_flag("guard_region", BIT_GUARD_REGION, "PM_GUARD_REGION: the pte is a guard-region PTE marker "
           "(MADV_GUARD_INSTALL)", "6.15"), When(since=GUARD_REGION_SINCE)),
    (_zero("reserved_58", BIT_GUARD_REGION, 1, "zero before PM_GUARD_REGION (6.15): 'Bits 58-60 zero'", "6.12"),
     When(until=GUARD_REGION_SINCE)),
    (_zero("reserved_59_60", RESERVED_LSB, RESERVED_WIDTH, "zero: 'Bits 59-60 zero' (58-60 before 6.15)",
           "6.12"), ALWAYS),
    (_flag("file", BIT_FILE, "PM_FILE: a file page or shared anonymous (shmem) page, or a migration or device "
           "entry of one", "6.12"), ALWAYS),
    (_flag("swap", BIT_SWAP, "PM_SWAP: a swap-format pte: swapped out, migration, device, hwpoison or a PTE "
           "marker", "6.12"), ALWAYS),
    (_flag("present", BIT_PRESENT, "PM_PRESENT: the page is present (PROT_NONE and NUMA-hinting ptes count as "
           "present)", "6.12"), ALWAYS),
)
_PFN = Field(name="pfn", lsb=0, width=PM_PFRAME_BITS, doc="PM_PFRAME: the page frame number; 0 when the reader "
             "lacks CAP_SYS_ADMIN (4.2 on)", source=TASK_MMU_612, family=Family.FRAME)
_SWAP_TYPE = Field(name="swap_type", lsb=0, width=MAX_SWAPFILES_SHIFT, doc="swp_type(entry): a swap file or a "
                   "special type; 0 without CAP_SYS_ADMIN", source=TASK_MMU_612, family=Family.SWAP_TYPE)
_SWAP_OFFSET = Field(name="swap_offset", lsb=MAX_SWAPFILES_SHIFT, width=SWAP_OFFSET_BITS,
                     doc="the swap offset; for migration, device and hwpoison entries the PFN alone "
                     "(swp_offset_pfn: no young/dirty bits); for a PTE marker its marker bits; 0 without "
                     "CAP_SYS_ADMIN", source=TASK_MMU_612, family=Family.SWAP_OFFSET)


@lru_cache(maxsize=64)
def pfn_layout(model: Model) -> Layout:
    """The layout of a record without PM_SWAP (present, or nothing)."""
    return select(PAGEMAP, "a /proc/PID/pagemap record: PFN-shaped", ((_PFN, ALWAYS), *_FLAG_DEFS), model)


@lru_cache(maxsize=256)
def swap_layout(model: Model, type_name: str) -> Layout:
    """The layout of a PM_SWAP record of swap type ``type_name``, with its offset views."""
    base = select(f"{PAGEMAP} swap", "a /proc/PID/pagemap record: swap-shaped (PM_SWAP)",
                  ((_SWAP_TYPE, ALWAYS), (_SWAP_OFFSET, ALWAYS), *_FLAG_DEFS), model)
    cls = CLASS_OF_TYPE[type_name]
    # pagemap strips the migration young/dirty bits (swp_offset_pfn), so only the pfn and marker views.
    views = tuple(v for v in offset_views(base["swap_offset"], cls, type_name, model) if not v.name.startswith("mig_"))
    return with_views(base, views, cls)


# --- classes and the rules of one model ----------------------------------------------------------

CLASSES: tuple[str, ...] = (
    "none", "present", "swap", "pte_marker", "migration", "device_private", "device_exclusive", "hwpoison",
    "swapin_error", "invalid",
)
CODE: dict[str, int] = {name: code for code, name in enumerate(CLASSES)}
NONE, PRESENT, SWAP, PTE_MARKER, MIGRATION = (CODE[c] for c in ("none", "present", "swap", "pte_marker", "migration"))
INVALID = CODE["invalid"]


@dataclass(frozen=True)
class Rules:
    """Everything a record's decoding depends on, for one model and arch: plain ints and tuples."""

    model: Model
    arch: str
    type_names: tuple[str, ...]
    type_codes: tuple[int, ...]
    pfn_types: tuple[bool, ...]
    marker_names: tuple[tuple[str, int], ...]  # (name, offset mask) in marker_bits order
    marker_known: int
    marker_uffd: int
    marker_guard: int
    reserved_mask: int  # value bits the model leaves 0
    excl_field: bool
    uffd_field: bool
    guard_field: bool
    uffd_possible: bool
    soft_dirty_possible: bool
    excl_swap_ok: bool
    pfn_limit_shift: int
    swp_pfn_bits: int

    @cached_property
    def flag_names(self) -> tuple[str, ...]:
        """The names of flag bits 55-63 for this model (reserved bits included)."""
        lay = pfn_layout(self.model)
        return tuple(lay.field_at(FLAG_LSB + i).name for i in range(9))


@lru_cache(maxsize=64)
def rules_for(model: Model, arch: str = "x86_64") -> Rules:
    types = swap_types(model)
    markers = tuple((m.name, 1 << m.bit) for m in marker_bits(model))
    known = 0
    for _, mask in markers:
        known |= mask
    marks = dict(markers)
    reserved = sum(f.mask for f in pfn_layout(model).owners if f.zero_expected)
    uffd_field = model.version >= UFFD_WP_SINCE
    return Rules(
        model=model, arch=arch, type_names=types.names,
        type_codes=tuple(CODE[CLASS_OF_TYPE[n]] for n in types.names),
        pfn_types=tuple(CLASS_OF_TYPE[n] in PFN_TYPE_CLASSES for n in types.names),
        marker_names=markers, marker_known=known, marker_uffd=marks.get("uffd_wp", 0),
        marker_guard=marks.get("guard", 0), reserved_mask=reserved,
        excl_field=model.version >= MMAP_EXCLUSIVE_SINCE, uffd_field=uffd_field,
        guard_field=model.version >= GUARD_REGION_SINCE,
        uffd_possible=uffd_field and arch == "x86_64" and has_uffd_wp(model),
        soft_dirty_possible=model.has("CONFIG_MEM_SOFT_DIRTY"),
        excl_swap_ok=model.version < EXCLUSIVE_PRESENT_ONLY,
        pfn_limit_shift=model.phys_bits - 12, swp_pfn_bits=model.swp_pfn_bits,
    )


# --- problems: one bit each; invalid ones make the class "invalid" --------------------------------

@dataclass(frozen=True)
class Problem:
    name: str
    invalid: bool
    slow: bool  # the message quotes the value, so bulk formats render the record one by one
    text: str


ZEROED_NOTE = "the reader lacked CAP_SYS_ADMIN"
_SWAP_ZEROED = f"swap type and offset zeroed: {ZEROED_NOTE}"
PROBLEMS: tuple[Problem, ...] = (
    Problem("present_and_swap", True, False, "present and swap are both set: pte_to_pagemap_entry() reports a "
            "pte as present or as a swap entry, never both"),
    Problem("reserved", True, True, "reserved bits"),
    Problem("frame_without_entry", True, True, "frame bits"),
    Problem("file_without_page", True, False, "file is set, but the record holds no page: PM_FILE comes only "
            "with a present page or a migration, device or hwpoison entry"),
    Problem("exclusive_without_page", True, False, "mmap_exclusive"),
    Problem("guard_not_marker", True, False, "guard_region is set, but the record is not a guard PTE marker: "
            "PM_GUARD_REGION comes only with a PTE marker whose guard bit is set"),
    Problem("guard_missing", True, False, "a guard PTE marker without guard_region: kernels from 6.15 set "
            "PM_GUARD_REGION for every guard marker"),
    Problem("marker_uffd_without_bit", True, False, "uffd_wp is set, but the PTE marker's uffd_wp bit is clear: "
            "for a marker PM_UFFD_WP is the marker bit (pte_marker_entry_uffd_wp)"),
    Problem("marker_bit_without_uffd", True, False, "the PTE marker's uffd_wp bit is set, but uffd_wp is clear: "
            "for a marker PM_UFFD_WP is the marker bit (pte_marker_entry_uffd_wp)"),
    Problem("pfn_zeroed", False, False, f"pfn zeroed: {ZEROED_NOTE}, so pagemap hid the page frame number"),
    Problem("swap_zeroed", False, False, f"{_SWAP_ZEROED}; class swap assumed (a migration, device or hwpoison "
            "entry of an anonymous page reads the same)"),
    Problem("swap_zeroed_guard", False, False, f"{_SWAP_ZEROED}; guard_region makes it a guard PTE marker"),
    Problem("swap_zeroed_file", False, False, f"{_SWAP_ZEROED}; file says the entry holds a page, so it is a "
            "migration (or device) entry, not a swapped-out page; class migration assumed"),
    Problem("swap_zeroed_uffd", False, False, f"{_SWAP_ZEROED}; a swapped-out page write-protected by userfaultfd "
            "and a uffd-wp PTE marker read the same; class swap assumed"),
    Problem("pfn_beyond", False, True, "pfn beyond the physical address width"),
    Problem("swap_header", False, False, "swap offset 0 is the swap header page; no swapped-out page is stored "
            "there"),
    Problem("swap_beyond", False, True, "swap offset beyond any swap area"),
    Problem("marker_empty", False, False, "empty PTE marker: no marker bit is set (the fault handler WARNs and "
            "returns SIGBUS)"),
    Problem("marker_unknown", False, True, "unknown marker bits"),
    Problem("pfn_entry_high", False, True, "offset above SWP_PFN_BITS"),
    Problem("hugetlb_uffd", False, False, "uffd_wp without present or swap: pagemap_hugetlb_range() reports a "
            "hugetlb page that is not present (a uffd-wp marker or a write-protected migration entry) this way, "
            "without PM_SWAP"),
    Problem("soft_dirty_off", False, False, "soft_dirty is set, but the model has no CONFIG_MEM_SOFT_DIRTY: check "
            "--kernel and --kconfig"),
    Problem("uffd_off", False, False, "uffd_wp is set, but the model has no uffd-wp "
            "(CONFIG_HAVE_ARCH_USERFAULTFD_WP): check --kernel and --kconfig"),
)
P: dict[str, int] = {p.name: 1 << i for i, p in enumerate(PROBLEMS)}
INVALID_MASK = sum(P[p.name] for p in PROBLEMS if p.invalid)
SLOW_MASK = sum(P[p.name] for p in PROBLEMS if p.slow)
ZEROED_MASK = sum(P[n] for n in ("pfn_zeroed", "swap_zeroed", "swap_zeroed_guard", "swap_zeroed_file",
                                  "swap_zeroed_uffd"))
# Hidden swap-format records whose class is a guess (a guard marker is certain: PM_GUARD_REGION says so).
ASSUMED_MASK = sum(P[n] for n in ("swap_zeroed", "swap_zeroed_file", "swap_zeroed_uffd"))


def _problem_texts(value: int, pmask: int, rules: Rules, cls_of_type: str) -> list[str]:
    out: list[str] = []
    frame = value & PM_PFRAME_MASK
    offset = frame >> MAX_SWAPFILES_SHIFT
    for i, p in enumerate(PROBLEMS):
        if not pmask >> i & 1:
            continue
        if p.name == "reserved":
            for f in pfn_layout(rules.model).owners:
                if f.zero_expected and f.extract(value):
                    what = f"bit {f.lsb}" if f.width == 1 else f"bits {f.bit_range()}"
                    out.append(f"{f.name} ({what}) is {f.extract(value):#x}, not 0: kernel {rules.model.label} "
                               f"leaves it zero ({f.doc})")
        elif p.name == "frame_without_entry":
            out.append(f"bits 0-54 hold {frame:#x} in a record that is neither present nor swapped: the kernel "
                       "writes 0 there")
        elif p.name == "exclusive_without_page":
            where = ("a present page" if not rules.excl_swap_ok else
                     "a present page or, before 6.12, a migration, device or hwpoison entry")
            out.append(f"mmap_exclusive is set, but kernel {rules.model.label} sets PM_MMAP_EXCLUSIVE only for "
                       f"{where}")
        elif p.name == "pfn_beyond":
            out.append(f"pfn {frame:#x} lies beyond the {rules.model.phys_bits}-bit physical address width")
        elif p.name == "swap_beyond":
            out.append(f"swap offset {offset:#x} is beyond any swap area: a swap header's last_page is 32 bits "
                       "(mm/swapfile.c read_swap_header)")
        elif p.name == "marker_unknown":
            out.append(f"marker offset {offset:#x} sets bits that kernel {rules.model.label} does not define "
                       f"(PTE_MARKER_MASK {rules.marker_known:#x}); pte_marker_get() drops them")
        elif p.name == "pfn_entry_high":
            out.append(f"swap offset {offset:#x} sets bits above SWP_PFN_BITS {rules.swp_pfn_bits}: pagemap "
                       f"reports a {cls_of_type} entry's PFN alone (swp_offset_pfn)")
        else:
            out.append(p.text)
    return out


# --- one record ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry:
    """One decoded pagemap record: immutable, everything the record formats need."""

    value: int
    cls: str
    layout: Layout
    fields: tuple[tuple[str, int], ...]
    swap: SwapInfo | None
    marker: tuple[str, ...] | None
    problems: tuple[str, ...]
    zeroed: bool
    pmask: int
    rules: Rules

    @property
    def field_values(self) -> dict[str, int]:
        return dict(self.fields)

    @property
    def flags(self) -> tuple[str, ...]:
        return self.layout.set_flags(self.fields)

    @property
    def pfn(self) -> int | None:
        """The page frame number the record gives, if any (None when zeroed or not a page)."""
        if self.zeroed:
            return None
        if self.cls == "present" or (self.swap is not None and "pfn" in self.layout):
            return self.field_values.get("pfn")
        return None


def decode_record(value: int, rules: Rules, zeroed_rule: bool = False) -> Entry:
    """Decode one record. Never raises for a 64-bit value.

    ``zeroed_rule``: a present or swap record whose bits 0-54 are all 0 was read
    without CAP_SYS_ADMIN (the frame is hidden, not 0).
    """
    if not 0 <= value <= ENTRY_MASK:
        raise UsageError(f"{value:#x} does not fit in 64 bits")
    pmask, code, stype = _classify(value, rules, zeroed_rule)
    frame = value & PM_PFRAME_MASK
    swap_shaped = bool(value >> BIT_SWAP & 1) and not value >> BIT_PRESENT & 1
    zeroed = bool(pmask & ZEROED_MASK)
    cls = CLASSES[code]
    type_name = rules.type_names[stype] if swap_shaped else ""
    lay = swap_layout(rules.model, type_name) if swap_shaped else pfn_layout(rules.model)
    fields = lay.decode(value)
    swap = None
    marker: tuple[str, ...] | None = None
    if swap_shaped and not zeroed:
        swap = SwapInfo(stype, frame >> MAX_SWAPFILES_SHIFT, type_name)
    if code == PTE_MARKER:
        if zeroed:  # inferred from the flags: PM_GUARD_REGION, and PM_UFFD_WP follows the marker bit
            marker = tuple(n for n, _ in rules.marker_names
                           if (n == "guard") or (n == "uffd_wp" and value >> BIT_UFFD_WP & 1))
        else:
            marker = tuple(n for n, mask in rules.marker_names if (frame >> MAX_SWAPFILES_SHIFT) & mask)
    problems = _problem_texts(value, pmask, rules, CLASS_OF_TYPE[type_name] if type_name else "")
    return Entry(value=value, cls=cls, layout=lay, fields=tuple(fields.items()), swap=swap, marker=marker,
                 problems=tuple(problems), zeroed=zeroed, pmask=pmask, rules=rules)


def _classify(value: int, rules: Rules, zeroed_rule: bool) -> tuple[int, int, int]:
    """(problem mask, class code, swap type) of one record: the rules decode_chunk vectorises."""
    present = value >> BIT_PRESENT & 1
    swapb = value >> BIT_SWAP & 1
    filep = value >> BIT_FILE & 1
    guard = rules.guard_field and value >> BIT_GUARD_REGION & 1
    uffd = rules.uffd_field and value >> BIT_UFFD_WP & 1
    excl = rules.excl_field and value >> BIT_MMAP_EXCLUSIVE & 1
    frame = value & PM_PFRAME_MASK
    swap_shaped = swapb and not present
    zeroed = zeroed_rule and frame == 0 and present != swapb
    stype = frame & ((1 << MAX_SWAPFILES_SHIFT) - 1) if swap_shaped else 0
    offset = frame >> MAX_SWAPFILES_SHIFT if swap_shaped else 0
    tcode = rules.type_codes[stype]
    pm = 0
    if present and swapb:
        pm |= P["present_and_swap"]
    if value & rules.reserved_mask:
        pm |= P["reserved"]
    if not present and not swapb and frame:
        pm |= P["frame_without_entry"]
    pfnlike = swap_shaped and (not guard if zeroed else rules.pfn_types[stype])
    if filep and not present and not pfnlike:
        pm |= P["file_without_page"]
    if excl and not present and not (pfnlike and rules.excl_swap_ok):
        pm |= P["exclusive_without_page"]
    is_marker = swap_shaped and not zeroed and tcode == PTE_MARKER
    marker_guard = is_marker and bool(offset & rules.marker_guard)
    if guard and not (swap_shaped and (zeroed or marker_guard)):
        pm |= P["guard_not_marker"]
    if rules.guard_field and marker_guard and not guard:
        pm |= P["guard_missing"]
    if is_marker and rules.marker_uffd and rules.uffd_field:
        marker_uffd = bool(offset & rules.marker_uffd)
        if uffd and not marker_uffd:
            pm |= P["marker_uffd_without_bit"]
        if marker_uffd and not uffd:
            pm |= P["marker_bit_without_uffd"]
    if present and not swapb:
        if zeroed:
            pm |= P["pfn_zeroed"]
        elif frame >> rules.pfn_limit_shift:
            pm |= P["pfn_beyond"]
    code = NONE
    if swap_shaped:
        if zeroed:
            if guard:
                pm |= P["swap_zeroed_guard"]
                code = PTE_MARKER
            elif filep:
                pm |= P["swap_zeroed_file"]
                code = MIGRATION
            elif uffd:
                pm |= P["swap_zeroed_uffd"]
                code = SWAP
            else:
                pm |= P["swap_zeroed"]
                code = SWAP
        else:
            code = tcode
            if tcode == SWAP:
                if offset == 0:
                    pm |= P["swap_header"]
                elif offset >= SWAP_AREA_PAGES_LIMIT:
                    pm |= P["swap_beyond"]
            elif tcode == PTE_MARKER:
                if offset == 0:
                    pm |= P["marker_empty"]
                if offset & ~rules.marker_known:
                    pm |= P["marker_unknown"]
            elif rules.pfn_types[stype] and offset >> rules.swp_pfn_bits:
                pm |= P["pfn_entry_high"]
    elif present:
        code = PRESENT
    if not present and not swapb and uffd:
        pm |= P["hugetlb_uffd"]
    if value >> BIT_SOFT_DIRTY & 1 and not rules.soft_dirty_possible:
        pm |= P["soft_dirty_off"]
    if uffd and not rules.uffd_possible:
        pm |= P["uffd_off"]
    if pm & INVALID_MASK:
        code = INVALID
    return pm, code, stype


def encode_fields(fields: Mapping[str, int], model: Model | None = None) -> int:
    """The raw record that ``fields`` (a record's "fields") describe: decode's inverse.

    A record with swap_type/swap_offset is swap-shaped, else PFN-shaped; aliases (pfn of a
    migration entry, marker_*) must agree with the offset. Raises UsageError naming the field.
    """
    model = model or Model()
    values = dict(fields)
    if "swap_type" in values or "swap_offset" in values:
        stype = values.get("swap_type", 0)
        if not 0 <= stype < len(swap_types(model).names):
            raise UsageError(f"swap_type={stype} does not fit in {MAX_SWAPFILES_SHIFT} bits")
        lay = swap_layout(model, swap_types(model).names[stype])
    else:
        lay = pfn_layout(model)
    try:
        return lay.encode(values)
    except KeyError as exc:
        names = ", ".join(f.name for f in lay.fields)
        raise UsageError(f"a {lay.name} record has no field {exc.args[0]!r}; its fields: {names}") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None


# --- mappings (/proc/PID/maps) -------------------------------------------------------------------

@dataclass(frozen=True)
class Vma:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    perms: str
    offset: int
    dev: str
    inode: int
    name: str  # the path, [heap]/[stack]/[vdso]/..., or [anon] for an unnamed mapping

    @property
    def pages(self) -> int:
        return (self.end - self.start) // 4096

    def label(self) -> str:
        return f"{self.start:016x}-{self.end:016x} {self.perms} {self.name}"

    def contains(self, vaddr: int) -> bool:
        return self.start <= vaddr < self.end


_MAPS_LINE = re.compile(r"([0-9a-fA-F]+)-([0-9a-fA-F]+)\s+(\S{4})\s+([0-9a-fA-F]+)\s+(\S+)\s+(\d+)\s?(.*)$")
ANON = "[anon]"


def parse_maps(text: str, source: str = "maps") -> list[Vma]:
    """The VMAs of a /proc/PID/maps text, sorted; WorkError naming the first malformed line."""
    vmas: list[Vma] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _MAPS_LINE.match(line)
        if not match:
            raise WorkError(f"{source} line {number}: not a /proc/PID/maps line: {line[:80]!r}")
        start, end = int(match[1], 16), int(match[2], 16)
        if end <= start:
            raise WorkError(f"{source} line {number}: the range {match[1]}-{match[2]} is empty")
        name = match[7].strip() or ANON
        vmas.append(Vma(start, end, match[3], int(match[4], 16), match[5], int(match[6]), name))
    vmas.sort(key=lambda v: v.start)
    for a, b in itertools.pairwise(vmas):
        if b.start < a.end:
            raise WorkError(f"{source}: mappings {a.label()} and {b.label()} overlap")
    return vmas


def select_vmas(vmas: Sequence[Vma], wanted: Sequence[str]) -> list[Vma]:
    """--vma: each NAME (exact, or the basename of a path) or ADDR (hex, inside the VMA) selects VMAs."""
    if not wanted:
        return list(vmas)
    chosen: set[int] = set()
    for token in wanted:
        hits = {i for i, v in enumerate(vmas) if v.name == token}
        if not hits:
            hits = {i for i, v in enumerate(vmas) if v.name.startswith("/") and os.path.basename(
                v.name.removesuffix(" (deleted)")) == token}
        if not hits:
            addr = _maybe_address(token)
            if addr is not None:
                hits = {i for i, v in enumerate(vmas) if v.contains(addr)}
        if not hits:
            names = sorted({v.name for v in vmas})
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise UsageError(f"--vma {token!r}: no mapping has that name or holds that address; "
                             + (f"names: {shown}" if names else "there are no mappings at all"))
        chosen |= hits
    return [vmas[i] for i in sorted(chosen)]


def _maybe_address(token: str) -> int | None:
    from ptetool.values import parse_address

    try:
        return parse_address(token, "--vma")[0]
    except UsageError:
        return None


def parse_range(text: str, page_size: int) -> tuple[tuple[int, int], list[str]]:
    """--range LO-HI (addresses by ptetool.values.ADDRESS_RULE, HI exclusive) widened to whole pages,
    and notes on how ambiguous numbers were read; UsageError otherwise."""
    from ptetool.values import parse_address

    lo_text, sep, hi_text = text.partition("-")
    if not sep or not lo_text or not hi_text:
        raise UsageError(f"--range {text!r}: expected LO-HI, two hex addresses such as 7f0000000000-7f0000200000")
    (lo, lo_note), (hi, hi_note) = parse_address(lo_text, "--range"), parse_address(hi_text, "--range")
    if hi <= lo:
        raise UsageError(f"--range {text!r}: HI must lie above LO (HI is exclusive)")
    notes = [n for n in (lo_note, hi_note) if n]
    return (lo - lo % page_size, -(-hi // page_size) * page_size), notes


# --- sources: a dump (file or stdin) or a live process ------------------------------------------

CHUNK_RECORDS = 1 << 16  # 512 KiB of records per read: constant memory whatever the input size


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

    def pieces(self) -> Iterator[Piece]:
        if self.spans is None:
            yield from self._read(None)
            return
        for first, stop, what in self.spans:
            self._skip_to(first)
            if self.trailing:
                return
            read_from = self.records
            yield from self._read(stop)
            got = self.records - read_from if self.records > first else 0
            if got < stop - first:
                start = self.vaddr_base + first * self.page_size
                end = self.vaddr_base + self.records * self.page_size
                self.short.append(f"{what}: not in the dump, which ends before {start:#x}" if not got else
                                  f"{what}: the dump ends at {end:#x}, after {got} of its {stop - first} pages")
            if self.trailing:
                return

    def _read(self, stop: int | None) -> Iterator[Piece]:
        """Whole records from the current position up to record ``stop`` (or the end)."""
        while stop is None or self.records < stop:
            want = CHUNK_RECORDS if stop is None else min(CHUNK_RECORDS, stop - self.records)
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


def has_cap_sys_admin() -> bool:
    """CAP_SYS_ADMIN (bit 21) in this process's effective set: pagemap shows PFNs only then."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> 21 & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


PF_KTHREAD = 0x00200000  # include/linux/sched.h (6.12): the task is a kernel thread


@dataclass(frozen=True)
class ProcState:
    """What /proc/PID/stat says of a process: its name, state letter, and whether it is a kernel thread."""

    comm: str
    state: str
    kthread: bool


def proc_state(pid: int) -> ProcState | None:
    """fs/proc/array.c do_task_stat: 'pid (comm) state ppid ... flags' (flags is field 9); None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            text = stat_file.read()
    except OSError:
        return None
    comm = text[text.find("(") + 1: text.rfind(")")]
    rest = text[text.rfind(")") + 2:].split()
    try:
        return ProcState(comm, rest[0], bool(int(rest[6]) & PF_KTHREAD))
    except (IndexError, ValueError):
        return None


def why_no_memory(pid: int) -> str | None:
    """Why a process has no user memory to read: gone, a zombie, or a kernel thread; None if it has."""
    state = proc_state(pid)
    if state is None:
        return f"--pid {pid}: no such process"
    if state.state in ("Z", "X"):
        return (f"--pid {pid} ({state.comm}) is a zombie: it has exited and its memory is gone; only its "
                "parent's wait() is pending")
    if state.kthread:
        return f"--pid {pid} ({state.comm}) is a kernel thread: it has no user address space, so no pagemap"
    return None


def _proc_error(pid: int, what: str, exc: OSError) -> WorkError:
    import errno

    if exc.errno in (errno.ENOENT, errno.ESRCH):
        return WorkError(why_no_memory(pid) or f"--pid {pid}: no such process")
    return WorkError(f"cannot read /proc/{pid}/{what}: {exc.strerror or exc}")


def read_proc_maps(pid: int) -> list[Vma]:
    """The mappings of a live process; a kernel thread or zombie (whose maps are empty) is an error saying so."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            text = maps.read()
    except OSError as exc:
        raise _proc_error(pid, "maps", exc) from None
    if not text.strip():
        why = why_no_memory(pid)
        if why:
            raise WorkError(why)
    return parse_maps(text, f"/proc/{pid}/maps")


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
            raise _proc_error(pid, "pagemap", exc) from None

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def label(self, index: I64) -> Any:
        return None  # every piece knows its mapping

    def pieces(self) -> Iterator[Piece]:
        ps = self.page_size
        try:
            for vma_id, lo, hi in self.parts:
                index, end = lo // ps, hi // ps
                while index < end:
                    want = min(CHUNK_RECORDS, end - index)
                    try:
                        data = os.pread(self.fd, want * RECORD_BYTES, index * RECORD_BYTES)
                    except OSError as exc:
                        raise _proc_error(self.pid, "pagemap", exc) from None
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
KPF_MISSING = (1 << 64) - 1  # no word: not present, pfn hidden, or beyond /proc/kpageflags


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


# --- vectorised decoding -------------------------------------------------------------------------
#
# A PFN-shaped record's class and problems depend only on its flag bits 55-63, whether bits 0-54
# are 0, and whether the frame reaches past the physical address width. Those 11 bits are the
# record's key, and tables over the key are filled by the per-record classifier itself. A
# swap-shaped record also depends on its type and offset: those few are decoded as a subset,
# and their key is 2048 + class << 9 | flags, so that equal keys mean equal class and flags.

PFN_KEYS = 1 << 11
KEYS = PFN_KEYS + len(CLASSES) * 512
_SWAP_SHAPED = 1  # flags9 >> 7: 0 nothing, 1 swap-shaped, 2 present, 3 both
# problems that follow from the flag bits alone, also for a swap-shaped record
_FLAG_ONLY = P["reserved"] | P["soft_dirty_off"] | P["uffd_off"]


@dataclass(frozen=True)
class KeyTables:
    """Per key: class, flag bits, problems (PFN-shaped keys), and class << 9 | flags."""

    cls: Any
    flags9: Any
    pm: Any
    code: Any
    pfn_limit: int
    zeroed: Any  # per PFN-shaped key: 1 if the record is zeroed
    other: Any  # per PFN-shaped key: 1 if it has any other problem
    invalid: Any  # per key: 1 if the class is invalid


@lru_cache(maxsize=16)
def key_tables(rules: Rules, zeroed_rule: bool) -> KeyTables:
    import numpy as np

    cls = np.zeros(KEYS, dtype=np.uint8)
    flags9 = np.zeros(KEYS, dtype=np.intp)
    pm = np.zeros(KEYS, dtype=np.uint32)
    beyond = 1 << rules.pfn_limit_shift
    for key in range(PFN_KEYS):
        f9, zero, high = key & 511, key >> 9 & 1, key >> 10 & 1
        frame = 0 if zero else beyond if high else 1
        value = f9 << FLAG_LSB | frame
        if f9 >> 7 == _SWAP_SHAPED:  # decoded by type; the table keeps the flags-only problems
            bits, code = _classify(value | 1 << MAX_SWAPFILES_SHIFT, rules, False)[:2]
            bits &= _FLAG_ONLY
            code = NONE
        else:
            bits, code, _ = _classify(value, rules, zeroed_rule)
        cls[key], flags9[key], pm[key] = code, f9, bits
    for key in range(PFN_KEYS, KEYS):
        cls[key], flags9[key] = (key - PFN_KEYS) >> 9, (key - PFN_KEYS) & 511
    code_table = cls.astype(np.intp) << 9 | flags9
    zeroed = ((pm[:PFN_KEYS] & np.uint32(ZEROED_MASK)) != 0).astype(np.int64)
    other = ((pm[:PFN_KEYS] & np.uint32(0xFFFFFFFF & ~ZEROED_MASK)) != 0).astype(np.int64)
    return KeyTables(cls, flags9, pm, code_table, beyond - 1, zeroed, other, (cls == INVALID).astype(np.int64))


@dataclass
class Keyed:
    """A chunk's keys, and the class and problems of its swap-shaped records."""

    key: IP
    swap_idx: IP
    swap_pm: U32


def key_chunk(raw: U64, rules: Rules, zeroed_rule: bool) -> Keyed:
    import numpy as np

    u = np.uint64
    tables = key_tables(rules, zeroed_rule)
    frame = raw & u(PM_PFRAME_MASK)
    keys = (raw >> u(FLAG_LSB)).view(np.int64)
    zero_high = (frame == 0).view(np.uint8)  # 8-bit temporaries: a quarter of the memory traffic
    zero_high |= (frame > u(tables.pfn_limit)).view(np.uint8) << 1
    keys |= zero_high.astype(np.int64) << 9
    top = raw.view(np.uint8)[7::8]  # bits 56-63 (little-endian)
    swap_idx = np.flatnonzero((top & 0xC0) == 0x40)  # PM_SWAP without PM_PRESENT
    swap_pm = np.zeros(0, dtype=np.uint32)
    if len(swap_idx):
        f9 = keys[swap_idx] & 511
        swap_cls, swap_pm = _decode_swap(frame[swap_idx], f9, tables.pm[f9], rules, zeroed_rule)
        keys[swap_idx] = PFN_KEYS + (swap_cls.astype(np.int64) << 9 | f9)
    return Keyed(keys.view(np.intp), swap_idx, swap_pm)


def decode_chunk(raw: U64, rules: Rules, zeroed_rule: bool) -> tuple[IP, U8, U32]:
    """(bits 55-63, class code, problem mask) of every record: equal to decode_record's, bit for bit."""
    keyed = key_chunk(raw, rules, zeroed_rule)
    tables = key_tables(rules, zeroed_rule)
    pm = tables.pm[keyed.key]
    pm[keyed.swap_idx] = keyed.swap_pm
    return tables.flags9[keyed.key], tables.cls[keyed.key], pm


def _decode_swap(frame: U64, flags9: IP, pm: U32, rules: Rules, zeroed_rule: bool) -> tuple[U8, U32]:
    """Class and problems of swap-shaped records (``pm`` holds their flag-only problems)."""
    import numpy as np

    u = np.uint64
    type_codes, pfn_types = _type_luts(rules)
    stype = (frame & u((1 << MAX_SWAPFILES_SHIFT) - 1)).astype(np.intp)
    offset = frame >> u(MAX_SWAPFILES_SHIFT)
    n = len(frame)
    no = np.zeros(n, dtype=bool)
    filep = (flags9 >> 6 & 1).astype(bool)
    guard = (flags9 >> 3 & 1).astype(bool) if rules.guard_field else no
    uffd = (flags9 >> 2 & 1).astype(bool) if rules.uffd_field else no
    excl = (flags9 >> 1 & 1).astype(bool) if rules.excl_field else no
    zeroed = (frame == 0) if zeroed_rule else no
    tcode = type_codes[stype]
    pfnt = pfn_types[stype]
    pfnlike = np.where(zeroed, ~guard, pfnt)
    pm = pm.copy()

    def add(mask: Any, name: str) -> None:
        pm[mask] |= np.uint32(P[name])

    add(filep & ~pfnlike, "file_without_page")
    add(excl & ~(pfnlike & rules.excl_swap_ok), "exclusive_without_page")
    is_marker = ~zeroed & (tcode == PTE_MARKER)
    marker_guard = is_marker & ((offset & u(rules.marker_guard)) != 0)
    add(guard & ~(zeroed | marker_guard), "guard_not_marker")
    if rules.guard_field:
        add(marker_guard & ~guard, "guard_missing")
    if rules.marker_uffd and rules.uffd_field:
        marker_uffd = is_marker & ((offset & u(rules.marker_uffd)) != 0)
        add(is_marker & uffd & ~marker_uffd, "marker_uffd_without_bit")
        add(marker_uffd & ~uffd, "marker_bit_without_uffd")
    add(zeroed & guard, "swap_zeroed_guard")
    add(zeroed & ~guard & filep, "swap_zeroed_file")
    add(zeroed & ~guard & ~filep & uffd, "swap_zeroed_uffd")
    add(zeroed & ~(guard | filep | uffd), "swap_zeroed")
    live = ~zeroed
    real = live & (tcode == SWAP)
    add(real & (offset == 0), "swap_header")
    add(real & (offset >= u(SWAP_AREA_PAGES_LIMIT)), "swap_beyond")
    add(is_marker & (offset == 0), "marker_empty")
    add(is_marker & ((offset & u(~rules.marker_known & ((1 << SWAP_OFFSET_BITS) - 1))) != 0), "marker_unknown")
    add(live & pfnt & ((offset >> u(rules.swp_pfn_bits)) != 0), "pfn_entry_high")
    cls = np.where(zeroed, np.where(guard, PTE_MARKER, np.where(filep, MIGRATION, SWAP)), tcode).astype(np.uint8)
    cls[(pm & np.uint32(INVALID_MASK)) != 0] = INVALID
    return cls, pm


@lru_cache(maxsize=16)
def _type_luts(rules: Rules) -> tuple[Any, Any]:
    import numpy as np

    return np.array(rules.type_codes, dtype=np.uint8), np.array(rules.pfn_types, dtype=bool)


@dataclass
class Batch:
    """Decoded records of up to a chunk (after --filter): raw values, positions, mappings and keys.

    The page of record ``index`` is at ``vaddr_base + index * page_size``; ``vma`` is each
    record's mapping (-1: none), or None when the mappings are not known.
    """

    raw: U64
    index: I64
    vma: Any  # int32 array or None
    key: IP
    swap_idx: IP  # positions of the swap-shaped records in this batch
    swap_pm: U32
    page_size: int
    vaddr_base: int
    tables: KeyTables
    kpf: U64 | None = None
    _hist: Any = None
    _starts: Any = None

    def __len__(self) -> int:
        return len(self.raw)

    def vma_at(self, row: int) -> int:
        return -1 if self.vma is None else int(self.vma[row])

    @property
    def flags9(self) -> IP:
        return self.tables.flags9[self.key]  # type: ignore[no-any-return]

    @property
    def cls(self) -> U8:
        return self.tables.cls[self.key]  # type: ignore[no-any-return]

    @property
    def pm(self) -> U32:
        pm = self.tables.pm[self.key]
        pm[self.swap_idx] = self.swap_pm
        return pm  # type: ignore[no-any-return]

    @property
    def starts(self) -> IP:
        """Where each run begins: equal keys, consecutive indexes, one mapping."""
        if self._starts is None:
            self._starts = run_starts(self.key, self.index, self.vma)
        return self._starts  # type: ignore[no-any-return]

    @property
    def hist(self) -> IP:
        """How many records have each key (counted by runs: realistic records come in long runs)."""
        if self._hist is None:
            import numpy as np

            starts = self.starts
            lengths = np.diff(starts, append=len(self.key))
            self._hist = np.bincount(self.key[starts], weights=lengths, minlength=KEYS).astype(np.int64)
        return self._hist  # type: ignore[no-any-return]

    def count_zeroed(self) -> int:
        import numpy as np

        return int(self.hist[:PFN_KEYS] @ self.tables.zeroed) + int(
            np.count_nonzero(self.swap_pm & np.uint32(ZEROED_MASK)))

    def count_invalid(self) -> int:
        return int(self.hist @ self.tables.invalid)

    def vaddrs(self) -> U64:
        import numpy as np

        return self.index.astype(np.uint64) * np.uint64(self.page_size) + np.uint64(self.vaddr_base)

    def take(self, sel: IP) -> Batch:
        import numpy as np

        where = np.full(len(self.raw), -1, dtype=np.intp)
        where[self.swap_idx] = np.arange(len(self.swap_idx))
        picked = where[sel]
        keep = picked >= 0
        return replace(self, raw=self.raw[sel], index=self.index[sel], vma=None if self.vma is None else self.vma[sel],
                       key=self.key[sel], swap_idx=np.flatnonzero(keep), swap_pm=self.swap_pm[picked[keep]],
                       kpf=None if self.kpf is None else self.kpf[sel], _hist=None, _starts=None)


def run_starts(key: IP, index: I64, vma: Any) -> IP:
    """Where each run of records with equal keys, at consecutive indexes, in one mapping begins."""
    import numpy as np

    change = key[1:] != key[:-1]
    if len(index) and int(index[-1]) - int(index[0]) != len(index) - 1:  # not one consecutive stretch
        change |= index[1:] - index[:-1] != 1
    if vma is not None:
        change |= vma[1:] != vma[:-1]
    return np.flatnonzero(np.concatenate(([True], change)))


# --- --filter --------------------------------------------------------------------------------------

# A record's pagemap bits by the kernel's own names (PM_SOFT_DIRTY, ..., PM_PRESENT, lower-cased): the
# pm_ prefix keeps "pm_swap" (the PM_SWAP bit) apart from the class "swap" (a real swap entry), and
# "pm_present" apart from the class "present". Positions count from FLAG_LSB, as flags9 holds them.
FLAG_FILTERS: dict[str, int] = {"pm_soft_dirty": 0, "pm_mmap_exclusive": 1, "pm_uffd_wp": 2, "pm_guard_region": 3,
                                "pm_file": 6, "pm_swap": 7, "pm_present": 8}
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
                anyof |= (pm & np.uint32(~ZEROED_MASK & 0xFFFFFFFF)) != 0
        keep &= anyof
    return keep


def entry_matches(entry: Entry, groups: Sequence[frozenset[str]]) -> bool:
    """The per-record form of filter_mask."""
    for names in groups:
        hit = False
        for name in names:
            if name in CODE:
                hit |= entry.cls == name
            elif name in FLAG_FILTERS:
                hit |= bool(entry.value >> (FLAG_LSB + FLAG_FILTERS[name]) & 1)
            elif name == "zeroed":
                hit |= entry.zeroed
            else:
                hit |= bool(entry.pmask & ~ZEROED_MASK)
        if not hit:
            return False
    return True


# --- the pipeline: source -> decoded, filtered batches -------------------------------------------

@dataclass
class Stats:
    records: int = 0  # read
    kept: int = 0  # after --filter
    zeroed: int = 0
    invalid: int = 0


_T = TypeVar("_T")


def read_ahead(items: Iterator[_T], depth: int = 4) -> Iterator[_T]:
    """``items``, produced on a second thread up to ``depth`` ahead: reading the input and the
    key pass (numpy lets go of the GIL) overlap with the formatting on the main thread."""
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
    is a fresh mmap, and its page faults cost more than the arithmetic (3x in the key pass)."""
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
            stats: Stats | None = None, progress: Callable[[int], None] | None = None) -> Iterator[Batch]:
    """Decoded batches of up to CHUNK_RECORDS records; small pieces (little mappings) are joined."""
    import numpy as np

    stats = stats if stats is not None else Stats()
    tables = key_tables(rules, zeroed_rule)
    tune_allocator()

    def chunks() -> Iterator[tuple[U64, I64, Any]]:
        held: list[Piece] = []
        count = 0
        for piece in source.pieces():
            held.append(piece)
            count += len(piece.data) // RECORD_BYTES
            if count >= CHUNK_RECORDS:
                yield _join(held, source, count)
                held, count = [], 0
        if held:
            yield _join(held, source, count)

    def decoded() -> Iterator[tuple[U64, I64, Any, Keyed, IP]]:
        for raw, index, vma in chunks():
            keyed = key_chunk(raw, rules, zeroed_rule)
            yield raw, index, vma, keyed, run_starts(keyed.key, index, vma)

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


# --- records and rows: the slow path, one Entry at a time ----------------------------------------

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
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue()


def csv_header(with_kpf: bool) -> str:
    return csv_line([*CSV_COLUMNS, *(("kpageflags",) if with_kpf else ())])


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
HEX_WIDTH = 18  # "0x" and 16 digits
DEC_WIDTH = 20  # 2**64 - 1 has 20 digits
_LEN_KEYS = DEC_WIDTH + 1


@dataclass
class _Template:
    prefix: bytes
    between: tuple[bytes, ...]  # the text between consecutive tokens
    tokens: tuple[str, ...]
    suffix: bytes
    rows: dict[tuple[int, int], tuple[Any, tuple[tuple[str, int, int], ...]]] = field(default_factory=dict)

    @classmethod
    def parse(cls, line: str) -> _Template:
        parts = _TOKEN.split(line)  # text, group 1, group 2, text, ...
        texts = parts[0::3]
        tokens = tuple(a or b for a, b in zip(parts[1::3], parts[2::3], strict=True))
        if not tokens:
            return cls(line.encode(), (), (), b"")
        return cls(texts[0].encode(), tuple(t.encode() for t in texts[1:-1]), tokens, texts[-1].encode())

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


def _hex_matrix(values: U64) -> U8:
    """'0x' and 16 lowercase hex digits per value: (n, 18) bytes."""
    import numpy as np

    n = len(values)
    out = np.empty((n, HEX_WIDTH), dtype=np.uint8)
    out[:, 0], out[:, 1] = ord("0"), ord("x")
    octets = values.astype(">u8").view(np.uint8).astype(np.uint16).reshape(n, 8)
    digits = (octets >> 4 | (octets & 15) << 8).view(np.uint8).reshape(n, 16)  # high nibble first
    digits += ord("0")
    digits += (digits > ord("9")) * np.uint8(ord("a") - ord("9") - 1)
    out[:, 2:] = digits
    return out


@lru_cache(maxsize=1)
def _dec4() -> Any:
    """'0000' to '9999' as one uint32 each."""
    import numpy as np

    return np.frombuffer(b"".join(b"%04d" % i for i in range(10000)), dtype=np.uint32)


@lru_cache(maxsize=1)
def _pow10() -> Any:
    import numpy as np

    return np.array([10**k for k in range(1, DEC_WIDTH)], dtype=np.uint64)


def _dec_lengths(values: U64) -> Any:
    """How many decimal digits each value has (uint8)."""
    import numpy as np

    lengths = np.ones(len(values), dtype=np.uint8)
    if len(values):
        top = len(str(int(values.max())))
        for power in _pow10()[: top - 1]:
            lengths += values >= power
    return lengths


def _dec_matrix(values: U64, longest: int) -> U8:
    """Right-aligned decimal digits, (n, 20) bytes (only the last ``longest`` columns are filled)."""
    import numpy as np

    n = len(values)
    out = np.empty((n, DEC_WIDTH // 4), dtype=np.uint32)
    rest = values.copy()
    table = _dec4()
    for g in range(-(-longest // 4)):
        quotient = rest // np.uint64(10000)
        np.take(table, (rest - quotient * np.uint64(10000)).astype(np.intp), out=out[:, DEC_WIDTH // 4 - 1 - g])
        rest = quotient
    return out.view(np.uint8)


class LineWriter:
    """NDJSON, JSON (one array) or CSV lines of batches, handed to ``sink`` as lists of pieces."""

    PER_WRITE = 1020  # pieces per sink total: 340 lines of three pieces

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
             placeholders: bool = False) -> str:
        """The record's line as the format prints it (CSV and NDJSON end in a newline, JSON does not)."""
        vma = self.vma_of(vma_id)
        if self.fmt == "csv":
            if placeholders:
                return csv_line(csv_cells(entry, _SENTINEL["I"], _SENTINEL["X"], vma, kpf, self.with_kpf,
                                          value=_SENTINEL["V"], frame=_SENTINEL["A"]))
            return csv_line(csv_cells(entry, index, vaddr, vma, kpf, self.with_kpf))
        from ptetool.record import to_pagemap_record

        names = None if kpf is None or kpf == KPF_MISSING else list(kpf_names(kpf))
        rec: dict[str, Any] = dict(to_pagemap_record(entry, index, vaddr, vma, labelled=self.labelled,
                                                     kpageflags=names, with_kpageflags=self.with_kpf))
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
        u = np.uint64
        raw = batch.raw
        flags9, cls, pm = batch.flags9, batch.cls, batch.pm
        frame = raw & u(PM_PFRAME_MASK)
        swap_shaped = (flags9 >> 7) == 1
        number = np.where(swap_shaped, frame >> u(MAX_SWAPFILES_SHIFT), frame)
        shape = (flags9.astype(np.uint64)
                 | np.where(swap_shaped, frame & u(31), u(0)) << u(9)
                 | np.where(cls == PTE_MARKER, number & u(7), u(0)) << u(14)
                 | cls.astype(np.uint64) << u(17) | pm.astype(np.uint64) << u(21))
        if batch.kpf is not None:
            words, word_ids = np.unique(batch.kpf, return_inverse=True)
            shape |= word_ids.astype(np.uint64) << u(48)
        # one template lookup per run of equal shapes (and one mapping)
        change = shape[1:] != shape[:-1]
        vma = batch.vma if batch.vma is not None else np.full(n, -1, dtype=np.int32)
        if batch.vma is not None:
            change |= vma[1:] != vma[:-1]
        starts = np.flatnonzero(np.concatenate(([True], change)))
        run_ids = np.empty(len(starts), dtype=np.int64)
        for r, (s, k, v) in enumerate(zip(starts.tolist(), shape[starts].tolist(), vma[starts].tolist(), strict=True)):
            word = int(words[k >> 48]) if batch.kpf is not None else None
            tkey = (k & ((1 << 48) - 1), -1 if word is None else word, v)
            tid = self.template_ids.get(tkey)
            if tid is None:
                tid = self.template_ids[tkey] = self._template(batch, s, word)
            run_ids[r] = tid
        tids = np.repeat(run_ids, np.diff(starts, append=n))
        # group the records by template and number lengths; work on each group as one slice
        index = batch.index
        len_a = _dec_lengths(number)
        len_i = _dec_lengths(index.astype(np.uint64))
        group = (tids * _LEN_KEYS + len_a) * _LEN_KEYS + len_i
        slow = (cls == INVALID) | ((pm & np.uint32(SLOW_MASK)) != 0)
        if slow.any():
            group[slow] = -1
        if int(group.max()) < 1 << 15:
            group = group.astype(np.int16)  # a radix sort
        order = np.argsort(group, kind="stable")
        ordered = group[order]
        bounds = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
        number_o = number[order]
        index_o = index[order]
        mats = {
            "V": _hex_matrix(raw[order]),
            "X": _hex_matrix(index_o.astype(np.uint64) * u(batch.page_size) + u(batch.vaddr_base)),
            "A": _dec_matrix(number_o, int(len_a.max())),
            "I": _dec_matrix(index_o.astype(np.uint64), int(len_i.max())),
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

    def _slow_line(self, batch: Batch, r: int) -> bytes:
        index = int(batch.index[r])
        vaddr = batch.vaddr_base + index * batch.page_size
        entry = decode_record(int(batch.raw[r]), self.rules, self.zeroed_rule)
        kpf = int(batch.kpf[r]) if batch.kpf is not None else None
        return (self._sep() + self.line(entry, index, vaddr, batch.vma_at(r), kpf)).encode()


# --- summary: counts per mapping and in total, runs of alike pages -------------------------------

@dataclass
class Counts:
    """Pages of one mapping (or in total) by class and by flag bit (55-63)."""

    pages: int = 0
    classes: list[int] = field(default_factory=lambda: [0] * len(CLASSES))
    flags: list[int] = field(default_factory=lambda: [0] * 9)
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
    code: int  # class code << 9 | flag bits 55-63
    first: int  # the first page's raw record
    vma_id: int

    @property
    def cls(self) -> str:
        return CLASSES[self.code >> 9]

    @property
    def flags9(self) -> int:
        return self.code & 511


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

    return (np.arange(512)[:, None] >> np.arange(9)[None, :]) & 1


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
        by_flags = np.bincount(local * 512 + tables.flags9[run_keys], weights=lengths,
                               minlength=nv * 512).reshape(nv, 512) @ _bit_matrix()
        zeroed = np.bincount(local, weights=lengths * (tables.zeroed[safe] * pfn_key), minlength=nv)
        other = np.bincount(local, weights=lengths * (tables.other[safe] * pfn_key), minlength=nv)
        assumed: Any = np.zeros((nv, len(CLASSES)))
        if len(batch.swap_idx):
            swap_local = local[np.searchsorted(starts, batch.swap_idx, side="right") - 1]
            zeroed += np.bincount(swap_local, weights=(batch.swap_pm & np.uint32(ZEROED_MASK)) != 0, minlength=nv)
            other += np.bincount(swap_local, weights=(batch.swap_pm & np.uint32(0xFFFFFFFF & ~ZEROED_MASK)) != 0,
                                 minlength=nv)
            assumed = np.bincount(swap_local * len(CLASSES) + batch.cls[batch.swap_idx],
                                  weights=(batch.swap_pm & np.uint32(ASSUMED_MASK)) != 0,
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


def describe_first(run: Run, rules: Rules, zeroed_rule: bool) -> str:
    """What the first page of a run holds: its pfn, swap entry or marker bits (from the raw bits)."""
    return describe_raw(run.first, run.code >> 9, rules, zeroed_rule)


def describe_raw(value: int, code: int, rules: Rules, zeroed_rule: bool) -> str:
    """The frame of a record of class ``code``, for people: pfn, swap type and offset, or marker bits."""
    if code in (NONE, INVALID):
        return ""
    frame = value & PM_PFRAME_MASK
    if zeroed_rule and frame == 0 and value >> BIT_PRESENT & 1 != value >> BIT_SWAP & 1:
        if code == PTE_MARKER:
            return "marker " + "|".join(n for n, _ in rules.marker_names if n == "guard" or (
                n == "uffd_wp" and value >> BIT_UFFD_WP & 1))
        return ZEROED_TEXT
    if code == PRESENT:
        return f"pfn {frame:#x}"
    stype, offset = frame & ((1 << MAX_SWAPFILES_SHIFT) - 1), frame >> MAX_SWAPFILES_SHIFT
    if code == PTE_MARKER:
        return "marker " + ("|".join(n for n, mask in rules.marker_names if offset & mask) or "(empty)")
    if rules.pfn_types[stype]:
        return f"pfn {offset:#x} ({rules.type_names[stype]})"
    return f"type {stype} offset {offset:#x}"


ZEROED_TEXT = "hidden (no CAP_SYS_ADMIN)"


def describe_frame(entry: Entry) -> str:
    if entry.zeroed:
        return ZEROED_TEXT if entry.marker is None else "marker " + "|".join(entry.marker)
    if entry.cls == "present":
        return f"pfn {entry.field_values['pfn']:#x}"
    if entry.marker is not None:
        return "marker " + ("|".join(entry.marker) or "(empty)")
    if entry.swap is not None:
        pfn = entry.field_values.get("pfn")
        if pfn is not None:
            return f"pfn {pfn:#x} ({entry.swap.type_name})"
        return f"type {entry.swap.type} offset {entry.swap.offset:#x}"
    return ""
