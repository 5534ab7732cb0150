"""x86_64 page-table entries: present, PROT_NONE and swap-format, per level and kernel era.

Every bit number below is the kernel's; the file and version it was read in
stand beside it. Reused bits are separate fields in separate layouts, with the
condition that picks one meaning or the other written as data (``When``).
"""

from __future__ import annotations

from functools import lru_cache

from ptetool.arch.common import ALWAYS, FieldDef, When, select, swap_layout
from ptetool.kernel import Model, Version
from ptetool.layout import Family, Field, Layout, Source

ARCH = "x86_64"
LEVELS = ("pte", "pmd", "pud", "p4d", "pgd")
# Levels whose entries only ever point to a table: no 512 GiB pages (p4d_leaf() is 0,
# pgd_leaf() false, pgtable.h 6.12), and no swap entries.
TABLE_ONLY_LEVELS = ("p4d", "pgd")

TYPES_H = Source("arch/x86/include/asm/pgtable_types.h", "6.12")
TYPES_H_61 = Source("arch/x86/include/asm/pgtable_types.h", "6.1")
TYPES_H_618 = Source("arch/x86/include/asm/pgtable_types.h", "6.18")
PGTABLE_64 = Source("arch/x86/include/asm/pgtable_64.h", "6.12")
PGTABLE_64_47 = Source("arch/x86/include/asm/pgtable_64.h", "4.7")
PGTABLE_64_48 = Source("arch/x86/include/asm/pgtable_64.h", "4.8")
# "x86/mm: Move swap offset/type up in PTE to work around erratum" as first merged (offset at 15),
# read in RHEL 7.3's 3.10.0 tree and in the 4.4.148 stable backport mail.
PGTABLE_64_48_FIRST = Source("arch/x86/include/asm/pgtable_64.h", "3.10.0-514.el7 (RHEL 7.3)")
PGTABLE_H = Source("arch/x86/include/asm/pgtable.h", "6.12")
PAGE_TYPES = Source("arch/x86/include/asm/page_types.h", "6.12")

# Eras in which the kernel changed what a bit means.
KNL_ERRATUM: Version = (4, 8)  # swap type moved out of A/D; pte_none ignores A/D
SWP_SOFT_DIRTY_AT_RW: Version = (4, 14)  # _PAGE_SWP_SOFT_DIRTY moved from PSE (7) to RW (1)
UFFD_WP: Version = (5, 7)  # _PAGE_UFFD_WP (SOFTW2) and _PAGE_SWP_UFFD_WP (USER)
SWP_EXCLUSIVE: Version = (5, 19)  # _PAGE_SWP_EXCLUSIVE (PWT)
SHADOW_STACK: Version = (6, 6)  # DEVMAP 58 -> 57, SAVED_DIRTY at 58
DEVMAP_GONE: Version = (6, 17)
DEVMAP_SINCE: Version = (4, 5)
SOFT_DIRTY_SINCE: Version = (3, 11)  # _PAGE_BIT_SOFT_DIRTY (HIDDEN, 11), _PAGE_SWP_SOFT_DIRTY (PSE, 7)
FILE_PTE_GONE: Version = (4, 0)  # _PAGE_BIT_FILE and pte_file() dropped with nonlinear mappings
NUMA_BIT9: tuple[Version, Version] = ((3, 16), (4, 0))  # _PAGE_BIT_NUMA = GLOBAL + 1 with NUMA balancing
PMD_PRESENT_PSE: Version = (3, 7)  # pmd_present() counts PROTNONE and PSE (THP splitting)
BIT_FILE, BIT_NUMA = 6, 9
PGTABLE_64_30 = Source("arch/x86/include/asm/pgtable_64.h", "3.0.101")
TYPES_H_3 = Source("arch/x86/include/asm/pgtable_types.h", "3.14.11")
TYPES_H_316 = Source("arch/x86/include/asm/pgtable_types.h", "3.16 (linux-mm post-image)")
PKEYS_SINCE: Version = (4, 6)

KNL_ERRATUM_MASK = (1 << 5) | (1 << 6)  # _PAGE_KNL_ERRATUM_MASK = _PAGE_DIRTY | _PAGE_ACCESSED
BIT_PRESENT, BIT_PSE, BIT_PROTNONE = 0, 7, 8
PTE_PFN_LSB, PHYS_MASK_SHIFT = 12, 52  # __PHYSICAL_MASK_SHIFT (page_types.h 6.12)


def has_uffd_wp(model: Model) -> bool:
    """CONFIG_HAVE_ARCH_USERFAULTFD_WP (x86_64 selects it with USERFAULTFD) from 5.7 on."""
    return model.version >= UFFD_WP and model.has("CONFIG_HAVE_ARCH_USERFAULTFD_WP")


def has_soft_dirty(model: Model) -> bool:
    return model.version >= SOFT_DIRTY_SINCE and model.has("CONFIG_MEM_SOFT_DIRTY")


def has_numa_bit9(model: Model) -> bool:
    """3.16-3.19 with CONFIG_NUMA_BALANCING: a NUMA-hinting entry sets bit 9, not PROTNONE."""
    return NUMA_BIT9[0] <= model.version < NUMA_BIT9[1] and model.has("CONFIG_NUMA_BALANCING")


def has_file_ptes(model: Model) -> bool:
    """Nonlinear file PTEs (remap_file_pages) exist up to 3.19."""
    return model.version < FILE_PTE_GONE


def l1tf(model: Model) -> bool:
    """The L1TF layout: mainline 4.19, and the stable and distribution kernels that took the backport."""
    return model.swap_l1tf


def knl_erratum(model: Model) -> bool:
    """The 4.8 erratum layout; the L1TF backports to 4.4.y and 4.9.y brought it along."""
    return model.version >= KNL_ERRATUM or model.swap_l1tf or model.swap_variant == "offset15"


def swp_pfn_bits(model: Model) -> int:
    """SWP_PFN_BITS = MAX_PHYSMEM_BITS - PAGE_SHIFT: 46 or, with 5-level paging, 52 (sparsemem.h 6.12)."""
    return model.swp_pfn_bits


def form_problems(value: int, form: str, level: str, model: Model) -> list[str]:
    return []  # x86_64's own checks live in the decoder, where they came first

def pte_none(value: int, model: Model) -> bool:
    """pte_none (pgtable.h): A and D are ignored since the Knights Landing erratum fix."""
    ignored = KNL_ERRATUM_MASK if knl_erratum(model) else 0
    return value & ~ignored == 0


def _hw(name: str, bit: int, doc: str) -> Field:
    return Field(name, bit, 1, doc, TYPES_H, Family.HW_FLAG)


# --- present and PROT_NONE entries -------------------------------------------------------------

# Bits 0-6, 9-11, 52-63 read alike in a 4K PTE and a huge leaf; bits 7, 8 and 12-51 differ.
_LOW_FLAGS: tuple[FieldDef, ...] = (
    (_hw("present", 0, "_PAGE_BIT_PRESENT: the hardware may use this entry"), ALWAYS),
    (_hw("rw", 1, "_PAGE_BIT_RW: writeable"), ALWAYS),
    (_hw("user", 2, "_PAGE_BIT_USER: user-mode accessible"), ALWAYS),
    (_hw("pwt", 3, "_PAGE_BIT_PWT: page write-through (PAT index bit 0)"), ALWAYS),
    (_hw("pcd", 4, "_PAGE_BIT_PCD: page cache disabled (PAT index bit 1)"), ALWAYS),
    (_hw("accessed", 5, "_PAGE_BIT_ACCESSED: set by the CPU on any access"), ALWAYS),
    (_hw("dirty", 6, "_PAGE_BIT_DIRTY: set by the CPU on a write"), ALWAYS),
)

_SOFTWARE_FLAGS: tuple[FieldDef, ...] = (
    (Field("special", 9, 1, "_PAGE_BIT_SPECIAL (SOFTW1): no struct page behind it (pte_special)",
        TYPES_H, Family.SW_FLAG), ALWAYS),
    (Field("uffd_wp", 10, 1, "_PAGE_BIT_UFFD_WP (SOFTW2): write-protected by userfaultfd",
        TYPES_H, Family.SW_FLAG), When(needs=has_uffd_wp)),
    (Field("softw2", 10, 1, "_PAGE_BIT_SOFTW2: available to software; unused without uffd-wp",
        TYPES_H, Family.SW_FLAG), When(unless=has_uffd_wp)),
    (Field("soft_dirty", 11, 1, "_PAGE_BIT_SOFT_DIRTY (SOFTW3): written since soft-dirty was last cleared",
        TYPES_H, Family.SW_FLAG), When(needs=has_soft_dirty)),
    (Field("softw3", 11, 1, "_PAGE_BIT_SOFTW3: available to software; unused without CONFIG_MEM_SOFT_DIRTY",
        TYPES_H, Family.SW_FLAG), When(unless=has_soft_dirty)),
)

_HIGH_FLAGS: tuple[FieldDef, ...] = (
    (Field("ignored_52_56", 52, 5, "ignored by the hardware and unused by Linux", TYPES_H, Family.IGNORED), ALWAYS),
    (Field("ignored_57", 57, 1, "ignored by the hardware and unused by Linux", TYPES_H_61, Family.IGNORED),
     When(until=SHADOW_STACK)),
    (Field("devmap", 57, 1, "_PAGE_BIT_DEVMAP (SOFTW4): ZONE_DEVICE memory (pte_devmap)", TYPES_H,
        Family.SW_FLAG), When(since=SHADOW_STACK, until=DEVMAP_GONE)),
    (Field("softw4", 57, 1, "_PAGE_BIT_SOFTW4: available to software; unused since devmap was removed",
        TYPES_H_618, Family.SW_FLAG), When(since=DEVMAP_GONE)),
    (Field("ignored_58", 58, 1, "ignored by the hardware and unused by Linux", TYPES_H_61, Family.IGNORED),
     When(until=DEVMAP_SINCE)),
    (Field("devmap", 58, 1, "_PAGE_BIT_DEVMAP (SOFTW4): ZONE_DEVICE memory (pte_devmap)", TYPES_H_61,
        Family.SW_FLAG), When(since=DEVMAP_SINCE, until=SHADOW_STACK)),
    (Field("saved_dirty", 58, 1, "_PAGE_BIT_SAVED_DIRTY (SOFTW5): the dirty bit, kept here while the "
        "entry is read-only so that Write=0,Dirty=1 never looks like a shadow-stack page", TYPES_H,
        Family.SW_FLAG), When(since=SHADOW_STACK)),
    (Field("ignored_59_62", 59, 4, "ignored by the hardware (no protection keys before 4.6)", TYPES_H,
        Family.IGNORED), When(until=PKEYS_SINCE)),
    (Field("pkey", 59, 4, "_PAGE_BIT_PKEY_BIT0-3: protection key, used when CR4.PKE is set", TYPES_H,
        Family.PKEY), When(since=PKEYS_SINCE)),
    (_hw("nx", 63, "_PAGE_BIT_NX: no execute (needs EFER.NXE)"), ALWAYS),
)

_GLOBAL = _hw("global", BIT_PROTNONE, "_PAGE_BIT_GLOBAL: kept in the TLB across address-space switches")
_PROTNONE = Field("protnone", BIT_PROTNONE, 1, "_PAGE_BIT_PROTNONE (= GLOBAL while not present): "
               "PROT_NONE or NUMA hinting; pte_present() stays true", TYPES_H, Family.SW_FLAG)


def _pfn(lsb: int, inverted: bool) -> Field:
    doc = "page frame number (PTE_PFN_MASK, bits up to __PHYSICAL_MASK_SHIFT 52)"
    if inverted:
        doc += "; stored inverted while not present (L1TF, protnone_mask)"
    return Field("pfn", lsb, PHYS_MASK_SHIFT - lsb, doc, PGTABLE_H if inverted else TYPES_H, Family.FRAME,
              inverted=inverted, value_shift=lsb - PTE_PFN_LSB)


_NUMA = Field("numa", BIT_NUMA, 1, "_PAGE_BIT_NUMA (= GLOBAL + 1 = SOFTW1): a NUMA-hinting fault is armed; "
           "pte_present() counts it", TYPES_H_316, Family.SW_FLAG)


def _leaf_defs(level: str, protnone: bool, model: Model) -> tuple[FieldDef, ...]:
    inverted = protnone and l1tf(model)
    mid: list[FieldDef] = [(_PROTNONE if protnone else _GLOBAL, ALWAYS)]
    software = _SOFTWARE_FLAGS
    if protnone and has_numa_bit9(model):
        software = tuple((_NUMA, w) if f.name == "special" else (f, w) for f, w in software)
    if level == "pte":
        mid.append((_hw("pat", 7, "_PAGE_BIT_PAT: PAT index bit 2 (4 KiB page)"), ALWAYS))
        mid.append((_pfn(12, inverted), ALWAYS))
    else:
        frame_lsb = 21 if level == "pmd" else 30
        size = "2 MiB" if level == "pmd" else "1 GiB"
        mid.append((_hw("pse", BIT_PSE, f"_PAGE_BIT_PSE: a {size} leaf, not a table pointer"), ALWAYS))
        mid.append((_hw("pat_large", 12, "_PAGE_BIT_PAT_LARGE: PAT index bit 2 (huge leaf)"), ALWAYS))
        mid.append((Field(f"reserved_13_{frame_lsb - 1}", 13, frame_lsb - 13,
                       f"reserved: must be 0 below a {size} leaf's frame", TYPES_H, Family.RESERVED,
                       zero_expected=True), ALWAYS))
        mid.append((_pfn(frame_lsb, inverted), ALWAYS))
    return _LOW_FLAGS + tuple(mid) + software + _HIGH_FLAGS


_TABLE_DEFS: tuple[FieldDef, ...] = (
    *(d for d in _LOW_FLAGS if d[0].name != "dirty"),
    (Field("dirty", 6, 1, "_PAGE_BIT_DIRTY: ignored by the hardware in a table entry; the kernel's "
        "_PAGE_TABLE sets it", TYPES_H, Family.IGNORED), ALWAYS),
    (_hw("pse", BIT_PSE, "_PAGE_BIT_PSE: clear, so this entry points to the next-level table"), ALWAYS),
    (Field("ignored_8_11", 8, 4, "ignored by the hardware in a table entry", TYPES_H, Family.IGNORED), ALWAYS),
    (Field("pfn", 12, PHYS_MASK_SHIFT - 12, "page frame number of the next-level table", TYPES_H, Family.FRAME),
     ALWAYS),
    (Field("ignored_52_62", 52, 11, "ignored by the hardware in a table entry", TYPES_H, Family.IGNORED), ALWAYS),
    (_hw("nx", 63, "_PAGE_BIT_NX: no execute for everything below this table"), ALWAYS),
)


# --- swap-format entries -----------------------------------------------------------------------

def _zero(name: str, lsb: int, width: int, doc: str, source: Source = PGTABLE_64) -> Field:
    return Field(name, lsb, width, doc, source, Family.RESERVED, zero_expected=True)


def _ignored(name: str, lsb: int, width: int, doc: str, source: Source = PGTABLE_64) -> Field:
    return Field(name, lsb, width, doc, source, Family.IGNORED, zero_expected=True)


def _offset_at_15(model: Model) -> bool:
    return model.swap_variant == "offset15"


def _sd_at_rw(model: Model) -> bool:
    return model.version >= SWP_SOFT_DIRTY_AT_RW and has_soft_dirty(model)


def _sd_at_pse(model: Model) -> bool:
    return model.version < SWP_SOFT_DIRTY_AT_RW and has_soft_dirty(model)


# A p4d or pgd entry (PML4E/PML5E) only points to a table: its PS bit is reserved.
_TOP_TABLE_DEFS: tuple[FieldDef, ...] = tuple(
    (_zero("reserved_7", BIT_PSE, 1, "PS: reserved above the pud, no 512 GiB pages (p4d_leaf() is 0)", PGTABLE_H), w)
    if f.name == "pse" else (f, w)
    for f, w in _TABLE_DEFS
)


_NOT_PRESENT = _zero("present", 0, 1, "_PAGE_BIT_PRESENT: clear in a swap-format entry")

# 4.19 on: TYPE (59-63) | ~OFFSET (9-58) | 0 (8) | 0 (7) | A/D ignored (5-6) | X (4) | E (3) | F (2) | SD (1) | 0
_SWAP_DEFS_L1TF: tuple[FieldDef, ...] = (
    (_NOT_PRESENT, ALWAYS),
    (Field("swp_soft_dirty", 1, 1, "_PAGE_SWP_SOFT_DIRTY (= RW): soft-dirty kept across swap-out", TYPES_H,
        Family.SWAP_FLAG), When(since=SWP_SOFT_DIRTY_AT_RW, needs=has_soft_dirty)),
    (_ignored("ignored_1", 1, 1, "unused without CONFIG_MEM_SOFT_DIRTY (and before 4.14)"),
     When(unless=_sd_at_rw)),
    (Field("swp_uffd_wp", 2, 1, "_PAGE_SWP_UFFD_WP (= USER): userfaultfd write-protect kept in a swap entry",
        TYPES_H, Family.SWAP_FLAG), When(needs=has_uffd_wp)),
    (_ignored("ignored_2", 2, 1, "unused without uffd-wp (before 5.7 or without "
              "CONFIG_HAVE_ARCH_USERFAULTFD_WP)"), When(unless=has_uffd_wp)),
    (Field("swp_exclusive", 3, 1, "_PAGE_SWP_EXCLUSIVE (= PWT): the anonymous page was exclusive "
        "(PG_anon_exclusive)", TYPES_H, Family.SWAP_FLAG), When(since=SWP_EXCLUSIVE)),
    (_ignored("ignored_3", 3, 1, "unused before 5.19"), When(until=SWP_EXCLUSIVE)),
    (_ignored("ignored_4", 4, 1, "unused ('X' in the pgtable_64.h diagram)"), ALWAYS),
    (_ignored("ignored_5_6", 5, 2, "A/D: only the Knights Landing erratum sets them on a not-present "
              "entry; pte_none() ignores them"), ALWAYS),
    (Field("swp_soft_dirty", 7, 1, "_PAGE_SWP_SOFT_DIRTY (= PSE) in an L1TF backport to a kernel before 4.14",
        PGTABLE_64_48, Family.SWAP_FLAG), When(until=SWP_SOFT_DIRTY_AT_RW, needs=has_soft_dirty)),
    (_zero("reserved_7", 7, 1, "must be 0: PSE would make pmd_present() true"), When(unless=_sd_at_pse)),
    (_zero("reserved_8", 8, 1, "must be 0: PROTNONE would make pte_present() true"), ALWAYS),
    (Field("swp_offset", 9, 50, "swap offset, stored inverted (~OFFSET, L1TF): __swp_offset", PGTABLE_64,
        Family.SWAP_OFFSET, inverted=True), ALWAYS),
    (Field("swp_type", 59, 5, "swap type (SWP_TYPE_BITS 5): a swap file or a special type", PGTABLE_64,
        Family.SWAP_TYPE), ALWAYS),
)

# 4.8 to 4.18: TYPE at 9-13 (SWP_TYPE_FIRST_BIT = PROTNONE + 1), OFFSET at 14-63, not inverted.
_SWAP_DEFS_48: tuple[FieldDef, ...] = (
    (_NOT_PRESENT, ALWAYS),
    (Field("swp_soft_dirty", 1, 1, "_PAGE_SWP_SOFT_DIRTY (= RW)", PGTABLE_64_48, Family.SWAP_FLAG),
     When(since=SWP_SOFT_DIRTY_AT_RW, needs=has_soft_dirty)),
    (_ignored("ignored_1", 1, 1, "unused here", PGTABLE_64_48), When(unless=_sd_at_rw)),
    (_ignored("ignored_2_4", 2, 3, "unused", PGTABLE_64_48), ALWAYS),
    (_ignored("ignored_5_6", 5, 2, "A/D: only the Knights Landing erratum sets them on a not-present "
              "entry; pte_none() ignores them", PGTABLE_64_48), ALWAYS),
    (Field("swp_soft_dirty", 7, 1, "_PAGE_SWP_SOFT_DIRTY (= PSE, before THP migration moved it to RW)",
        PGTABLE_64_48, Family.SWAP_FLAG), When(until=SWP_SOFT_DIRTY_AT_RW, needs=has_soft_dirty)),
    (_zero("reserved_7", 7, 1, "must be 0: PSE would make pmd_present() true", PGTABLE_64_48),
     When(unless=_sd_at_pse)),
    (_zero("reserved_8", 8, 1, "must be 0: PROTNONE would make pte_present() true", PGTABLE_64_48), ALWAYS),
    (Field("swp_type", 9, 5, "swap type (SWP_TYPE_FIRST_BIT = PROTNONE + 1)", PGTABLE_64_48, Family.SWAP_TYPE),
     ALWAYS),
    (Field("swp_offset", 14, 50, "swap offset (SWP_OFFSET_FIRST_BIT 14), not inverted", PGTABLE_64_48,
        Family.SWAP_OFFSET), When(unless=_offset_at_15)),
    (_ignored("ignored_14", 14, 1, "unused: the erratum move as first written left it out", PGTABLE_64_48_FIRST),
     When(needs=_offset_at_15)),
    (Field("swp_offset", 15, 49, "swap offset (SWP_OFFSET_FIRST_BIT = TYPE_FIRST + TYPE_BITS + 1 = 15, the erratum "
        "move as first written; RHEL 7 kernels before the L1TF errata)", PGTABLE_64_48_FIRST, Family.SWAP_OFFSET),
     When(needs=_offset_at_15)),
)

# Up to 4.7: TYPE at 1-5 (right after PRESENT), OFFSET at 9-63.
_SWAP_DEFS_47: tuple[FieldDef, ...] = (
    (_NOT_PRESENT, ALWAYS),
    (Field("swp_type", 1, 5, "swap type (SWP_TYPE_FIRST_BIT = PRESENT + 1)", PGTABLE_64_47, Family.SWAP_TYPE),
     ALWAYS),
    (_ignored("ignored_6", 6, 1, "unused", PGTABLE_64_47), ALWAYS),
    (Field("swp_soft_dirty", 7, 1, "_PAGE_SWP_SOFT_DIRTY (= PSE)", PGTABLE_64_47, Family.SWAP_FLAG),
     When(needs=has_soft_dirty)),
    (_zero("reserved_7", 7, 1, "must be 0: PSE would make pmd_present() true", PGTABLE_64_47),
     When(unless=has_soft_dirty)),
    (_zero("reserved_8", 8, 1, "must be 0: PROTNONE would make pte_present() true", PGTABLE_64_47), ALWAYS),
    (Field("swp_offset", 9, 55, "swap offset (SWP_OFFSET_SHIFT = PROTNONE + 1), not inverted", PGTABLE_64_47,
        Family.SWAP_OFFSET), When(unless=has_numa_bit9)),
    (_zero("reserved_9", 9, 1, "must be 0: _PAGE_NUMA would make pte_present() true", TYPES_H_316),
     When(needs=has_numa_bit9)),
    (Field("swp_offset", 10, 54, "swap offset (SWP_OFFSET_SHIFT = PROTNONE + 2 with CONFIG_NUMA_BALANCING), "
        "not inverted", TYPES_H_316, Family.SWAP_OFFSET), When(needs=has_numa_bit9)),
)

# Up to 3.19: a nonlinear file PTE (remap_file_pages) keeps the file page offset where the
# frame would be: pgoff_to_pte(off) = off << 12 | _PAGE_FILE; pte_to_pgoff masks bits 12-45.
_FILE_DEFS: tuple[FieldDef, ...] = (
    (_zero("present", 0, 1, "_PAGE_BIT_PRESENT: clear", PGTABLE_64_30), ALWAYS),
    (_ignored("ignored_1_5", 1, 5, "unused in a file PTE", PGTABLE_64_30), ALWAYS),
    (Field("file", BIT_FILE, 1, "_PAGE_BIT_FILE (= DIRTY while not present): a nonlinear file PTE (pte_file)",
        TYPES_H_3, Family.SW_FLAG), ALWAYS),
    (_ignored("ignored_7", 7, 1, "unused in a file PTE", PGTABLE_64_30), ALWAYS),
    (_zero("reserved_8", 8, 1, "must be 0: PROTNONE would make pte_present() true", PGTABLE_64_30), ALWAYS),
    (_ignored("ignored_9_10", 9, 2, "unused in a file PTE", PGTABLE_64_30), ALWAYS),
    (Field("file_soft_dirty", 11, 1, "_PAGE_FILE_SOFT_DIRTY (= SOFT_DIRTY): soft-dirty kept in a file PTE",
        TYPES_H_3, Family.SWAP_FLAG), When(needs=has_soft_dirty)),
    (_ignored("ignored_11", 11, 1, "unused without CONFIG_MEM_SOFT_DIRTY", PGTABLE_64_30),
     When(unless=has_soft_dirty)),
    (Field("pgoff", 12, 34, "file page offset (pte_to_pgoff: PTE_FILE_MAX_BITS 46, bits 12-45)", PGTABLE_64_30,
        Family.SWAP_OFFSET), ALWAYS),
    (_ignored("ignored_46_63", 46, 18, "ignored by pte_to_pgoff", PGTABLE_64_30), ALWAYS),
)


def swap_era(model: Model) -> str:
    if l1tf(model):
        return "4.19+: type 59-63, inverted offset 9-58"
    if model.swap_variant == "offset15":
        return "erratum move as first written (RHEL 7 before the L1TF errata): type 9-13, offset 15-63"
    if knl_erratum(model):
        return "4.8-4.18: type 9-13, offset 14-63 (stable kernels from Aug 2018 may carry the 4.19 layout)"
    return "up to 4.7: type 1-5, offset 9-63"


def _swap_defs(model: Model) -> tuple[FieldDef, ...]:
    if l1tf(model):
        return _SWAP_DEFS_L1TF
    return _SWAP_DEFS_48 if knl_erratum(model) else _SWAP_DEFS_47


_NONE_DEFS: tuple[FieldDef, ...] = (
    (_zero("reserved_0_4", 0, 5, "0 in an empty entry", TYPES_H), ALWAYS),
    (Field("accessed", 5, 1, "may be set by the Knights Landing erratum; pte_none() ignores it", PGTABLE_H,
        Family.IGNORED), ALWAYS),
    (Field("dirty", 6, 1, "may be set by the Knights Landing erratum; pte_none() ignores it", PGTABLE_H,
        Family.IGNORED), ALWAYS),
    (_zero("reserved_7_63", 7, 57, "0 in an empty entry", TYPES_H), ALWAYS),
)


@lru_cache(maxsize=256)
def layout(form: str, level: str, model: Model, cls: str = "", type_name: str = "") -> Layout:
    """The layout of ``form`` (none, present, table, protnone, swap) at ``level`` for ``model``."""
    name = f"x86_64 {level} {form}"
    if form == "none":
        return select(name, "pte_none(): nothing mapped, nothing remembered", _NONE_DEFS, model)
    if form == "table":
        defs = _TOP_TABLE_DEFS if level in TABLE_ONLY_LEVELS else _TABLE_DEFS
        return select(name, "a table pointer: the entry addresses the next-level page table", defs, model)
    if form == "bad_table":
        return select(f"x86_64 {level} not present", f"a {level} entry is never a swap entry: the kernel "
                      f"reports any other non-empty value as {level}_bad()", _TOP_TABLE_DEFS, model)
    if form == "file":
        return select(name, "a nonlinear file PTE (remap_file_pages, up to 3.19): the file page offset", _FILE_DEFS,
                      model)
    if form in ("present", "protnone"):
        leaf = _leaf_defs(level, form == "protnone", model)
        doc = ("a present entry" if form == "present"
               else "PROT_NONE / NUMA-hinting: present to the kernel, not to the CPU")
        return select(name, doc, leaf, model)
    return swap_layout(f"x86_64 {level} swap", f"swap-format entry, {swap_era(model)}", _swap_defs(model), model,
                       cls, type_name, swp_pfn_bits(model))


def form_of(value: int, level: str, model: Model) -> str:
    """Which layout the kernel's predicates pick for ``value`` at ``level``."""
    if level == "pgd" and value == 0:
        return "none"  # pgd_none() has no Knights Landing A/D workaround (pgtable.h 6.12)
    if level != "pgd" and pte_none(value, model):
        return "none"
    if level in TABLE_ONLY_LEVELS:
        return "table" if value >> BIT_PRESENT & 1 else "bad_table"
    if value >> BIT_PRESENT & 1:
        if level != "pte" and not value >> BIT_PSE & 1:
            return "table"
        return "present"
    if value >> BIT_PROTNONE & 1 or (value >> BIT_NUMA & 1 and has_numa_bit9(model)):
        return "protnone"
    if level != "pte" and value >> BIT_PSE & 1 and model.version >= PMD_PRESENT_PSE:
        # pmd_present() counts PSE: a huge PMD (or PUD) invalidated by pmd_mkinvalid()/pud_mkinvalid(),
        # which clear PRESENT and PROTNONE and invert the frame (pgtable.h 6.12).
        return "protnone"
    if level == "pte" and value >> BIT_FILE & 1 and has_file_ptes(model):
        return "file"  # pte_file() is tested before a swap entry is (mm/memory.c 3.x zap_pte_range)
    return "swap"


def is_table(fields: dict[str, int]) -> bool:
    """A present pmd/pud given these fields points to a table: PSE is clear (it is set unless given)."""
    return fields.get("pse", 1) == 0


def form_defaults(form: str, level: str) -> dict[str, int]:
    """The bits that make an entry of ``form`` (encode sets them unless given)."""
    return {"present": {"present": 1, "pse": 1}, "table": {"present": 1}, "protnone": {"protnone": 1},
            "file": {"file": 1}}[form]
