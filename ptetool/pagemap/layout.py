"""The pagemap record layout (fs/proc/task_mmu.c), its classes, and the rules of one kernel model.

One 64-bit little-endian record per virtual page: PFN-shaped (bits 0-54 a page frame number) or,
with PM_SWAP, swap-shaped (bits 0-4 the swap type, 5-54 the offset). The flag bits 55-63 and the
class are also packed into small numbers for the bulk path; those encodings are declared here once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property, lru_cache

from ptetool.arch.common import ALWAYS, FieldDef, When, offset_views, select, with_views
from ptetool.arch.x86_64 import has_uffd_wp
from ptetool.errors import UsageError
from ptetool.kernel import Model, Version
from ptetool.layout import ENTRY_BITS, Family, Field, Layout, Source
from ptetool.releases import parse_release
from ptetool.swaptypes import CLASS_OF_TYPE, MAX_SWAPFILES_SHIFT, PFN_TYPE_CLASSES, marker_bits, swap_types

TASK_MMU = "fs/proc/task_mmu.c"
TASK_MMU_612 = Source(TASK_MMU, "6.12")
PAGEMAP = "pagemap"  # the "layout" of every pagemap record
RECORD_BYTES = 8  # PM_ENTRY_BYTES: sizeof(pagemap_entry_t)

PM_PFRAME_BITS = 55  # bits 0-54: the frame, or swap type | offset << MAX_SWAPFILES_SHIFT
PM_PFRAME_MASK = (1 << PM_PFRAME_BITS) - 1
SWAP_OFFSET_BITS = PM_PFRAME_BITS - MAX_SWAPFILES_SHIFT  # 50
SWAP_TYPE_MASK = (1 << MAX_SWAPFILES_SHIFT) - 1  # of bits 0-54 in a swap-shaped record
SWAP_OFFSET_MASK = (1 << SWAP_OFFSET_BITS) - 1  # of bits 0-54 >> MAX_SWAPFILES_SHIFT
BIT_SOFT_DIRTY = 55  # PM_SOFT_DIRTY
BIT_MMAP_EXCLUSIVE = 56  # PM_MMAP_EXCLUSIVE
BIT_UFFD_WP = 57  # PM_UFFD_WP
BIT_GUARD_REGION = 58  # PM_GUARD_REGION
RESERVED_LSB, RESERVED_WIDTH = 59, 2  # "Bits 59-60 zero"
BIT_FILE = 61  # PM_FILE
BIT_SWAP = 62  # PM_SWAP
BIT_PRESENT = 63  # PM_PRESENT
FLAG_LSB = BIT_SOFT_DIRTY  # the 9 bits 55-63 are the record's flags

# The bulk path holds bits 55-63 as one number, flags9: its bit i is the record's bit FLAG_LSB + i.
FLAGS9_BITS = ENTRY_BITS - FLAG_LSB
FLAGS9_VALUES = 1 << FLAGS9_BITS
FLAGS9_MASK = FLAGS9_VALUES - 1
# The named bits' positions in flags9, by the kernel's names lower-cased (the reserved 59-60 have none).
FLAG_POS: dict[str, int] = {name: bit - FLAG_LSB for name, bit in (
    ("soft_dirty", BIT_SOFT_DIRTY), ("mmap_exclusive", BIT_MMAP_EXCLUSIVE), ("uffd_wp", BIT_UFFD_WP),
    ("guard_region", BIT_GUARD_REGION), ("file", BIT_FILE), ("swap", BIT_SWAP), ("present", BIT_PRESENT))}
# A record's shape is flags9 & SHAPE9: SWAP_SHAPED9 (PM_SWAP without PM_PRESENT) is swap-shaped, all else PFN-shaped.
SHAPE9 = 1 << FLAG_POS["swap"] | 1 << FLAG_POS["present"]
SWAP_SHAPED9 = 1 << FLAG_POS["swap"]

# When a bit got its meaning. Before that the kernel left it 0.
MMAP_EXCLUSIVE_SINCE: Version = (4, 2)  # "pagemap: add mmap-exclusive bit for marking pages mapped only here"
UFFD_WP_SINCE: Version = (5, 13)  # Documentation/admin-guide/mm/pagemap.rst
GUARD_REGION_SINCE: Version = (6, 15)  # "fs/proc/task_mmu: add guard region bit to pagemap"
# PM_MMAP_EXCLUSIVE off a present page: a device or hwpoison entry whose page had mapcount 1 got it
# until da7f31ed0f4d ("fs/proc/task_mmu: don't indicate PM_MMAP_EXCLUSIVE without PM_PRESENT", MM
# updates for 6.11-rc1; stable 6.6.44 and 6.10.3), a migration entry until 24d7275ce279 ("fs/proc:
# task_mmu.c: don't read mapcount for migration entry", 5.17; stable 5.10.102, 5.15.25 and 5.16.11, all
# queued by linux-stable-rc on 2022-02-23). Read in fs/proc/task_mmu.c pte_to_pagemap_entry(), 6.1.192
# (`page && !migration && page_mapcount(page) == 1`) and 6.12.117 (`flags & PM_PRESENT`).
EXCLUSIVE_PRESENT_ONLY: Version = (6, 11)
STABLE_EXCLUSIVE_PRESENT_ONLY: dict[Version, int] = {(6, 6): 44, (6, 10): 3}
EXCLUSIVE_NOT_MIGRATION: Version = (5, 17)
STABLE_EXCLUSIVE_NOT_MIGRATION: dict[Version, int] = {(5, 10): 102, (5, 15): 25, (5, 16): 11}
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
           "(6.11, 6.10.3 and 6.6.44 on: present pages with precise mapcount 1)", "6.12"),
     When(since=MMAP_EXCLUSIVE_SINCE)),
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
# A "code" packs a class and a record's flags: class code << CLASS_SHIFT | flags9. Runs are told apart
# by their code, and a swap-shaped record's key is PFN_KEYS + its code (ptetool.pagemap.chunks).
CLASS_BITS = (len(CLASSES) - 1).bit_length()
CLASS_SHIFT = FLAGS9_BITS
CODES = len(CLASSES) << CLASS_SHIFT


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
    excl_swap_ok: bool  # a device or hwpoison entry may carry PM_MMAP_EXCLUSIVE
    excl_migration_ok: bool  # a migration entry may too
    pfn_limit_shift: int
    swp_pfn_bits: int

    @cached_property
    def flag_names(self) -> tuple[str, ...]:
        """The names of flag bits 55-63 for this model (reserved bits included)."""
        lay = pfn_layout(self.model)
        return tuple(lay.field_at(FLAG_LSB + i).name for i in range(FLAGS9_BITS))


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
        excl_swap_ok=not _since(model, EXCLUSIVE_PRESENT_ONLY, STABLE_EXCLUSIVE_PRESENT_ONLY),
        excl_migration_ok=not _since(model, EXCLUSIVE_NOT_MIGRATION, STABLE_EXCLUSIVE_NOT_MIGRATION),
        pfn_limit_shift=model.phys_bits - 12, swp_pfn_bits=model.swp_pfn_bits,
    )


def _since(model: Model, mainline: Version, stable: Mapping[Version, int]) -> bool:
    """The model's kernel has a change: from its mainline release, or from the stable release that
    took it (known only when the model names a full release, 6.6.44 say)."""
    if model.version >= mainline:
        return True
    first = stable.get(model.version)
    if first is None or model.release is None:
        return False
    release = parse_release(model.release)
    return release is not None and release.sublevel is not None and release.sublevel >= first


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
