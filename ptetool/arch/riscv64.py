"""riscv64 page-table entries (Sv39/Sv48/Sv57 alike): present, PROT_NONE and swap, by kernel era.

The PTE format is the same in every paging mode: V R W X U G A D, two RSW bits, the PPN in bits
10-53, then Svpbmt (61-62) and Svnapot (63). A leaf may sit at any level; an entry with V set and
R, W, X clear points to the next table. Sources beside each field; version boundaries and what
is UNVERIFIED are in tools/notes/arm64-riscv64-layouts.md. Soft-dirty and uffd-wp (Svrsw60t59b,
6.19) lie past the newest modelled kernel.
"""

from __future__ import annotations

from functools import lru_cache

from ptetool.arch.common import ALWAYS, FieldDef, When, select, swap_layout
from ptetool.kernel import Model, Version
from ptetool.layout import Family, Field, Layout, Source

ARCH = "riscv64"
LEVELS = ("pte", "pmd", "pud", "p4d", "pgd")
SWP_UFFD_WP = "_PAGE_SWP_UFFD_WP"  # 6.19 (Svrsw60t59b): not modelled yet

BITS_612 = Source("arch/riscv/include/asm/pgtable-bits.h", "6.12")
BITS_61 = Source("arch/riscv/include/asm/pgtable-bits.h", "6.1")
PGTABLE_612 = Source("arch/riscv/include/asm/pgtable.h", "6.12")
PGTABLE_61 = Source("arch/riscv/include/asm/pgtable.h", "6.1")
PGTABLE64_612 = Source("arch/riscv/include/asm/pgtable-64.h", "6.12")

PFN_MASKED: Version = (5, 19)  # _PAGE_PFN_MASK = GENMASK(53, 10) and Svpbmt (61-62)
NAPOT: Version = (6, 4)  # _PAGE_NAPOT (63)
SWP_EXCLUSIVE: Version = (6, 3)  # _PAGE_SWP_EXCLUSIVE (bit 6); type 7-11, offset 12-63 (51a1007d4113, MM 6.3)
DEVMAP: tuple[Version, Version] = ((6, 11), (6, 17))  # _PAGE_DEVMAP (RSW bit 9)

BIT_V, BIT_G = 0, 5
PAGE_SHIFT, MAX_PHYSMEM_BITS = 12, 56
LEAF_MASK = 0b1110  # R | W | X: a leaf; all clear with V set: a pointer to the next table


def has_uffd_wp(model: Model) -> bool:
    return False  # HAVE_ARCH_USERFAULTFD_WP came with Svrsw60t59b in 6.19, past the newest modelled kernel


def has_soft_dirty(model: Model) -> bool:
    return False  # HAVE_ARCH_SOFT_DIRTY likewise (6.19)


def swp_pfn_bits(model: Model) -> int:
    """MAX_PHYSMEM_BITS is 56 on riscv64 (arch/riscv/include/asm/sparsemem.h 6.1 and 6.12).

    Assumes CONFIG_SPARSEMEM, as distribution kernels build it: a FLATMEM kernel (the 6.1 defconfig)
    has no MAX_PHYSMEM_BITS, and swapops.h falls back to 64 - PAGE_SHIFT = 52 bits.
    """
    return MAX_PHYSMEM_BITS - PAGE_SHIFT


def pte_none(value: int, model: Model) -> bool:
    return value == 0


def _hw(name: str, bit: int, doc: str) -> Field:
    return Field(name, bit, 1, doc, BITS_612, Family.HW_FLAG)


def _zero(name: str, lsb: int, width: int, doc: str, source: Source = BITS_612) -> Field:
    return Field(name, lsb, width, doc, source, Family.RESERVED, zero_expected=True)


def _ign(name: str, lsb: int, width: int, doc: str, source: Source = BITS_612) -> Field:
    return Field(name, lsb, width, doc, source, Family.IGNORED)


def _devmap(model: Model) -> bool:
    return DEVMAP[0] <= model.version < DEVMAP[1]


_HIGH: tuple[FieldDef, ...] = (
    (Field("pfn", 10, 54, "the PPN: the page frame number, bits 10-63 (no mask before 5.19)", PGTABLE_61, Family.FRAME),
     When(until=PFN_MASKED)),
    (Field("pfn", 10, 44, "the PPN (_PAGE_PFN_MASK, bits 10-53): the page frame number", BITS_612, Family.FRAME),
     When(since=PFN_MASKED)),
    (_zero("reserved_54_60", 54, 7, "reserved: 0 without the Svrsw60t59b and T-Head extensions"),
     When(since=PFN_MASKED)),
    (Field("mt", 61, 2, "Svpbmt memory type: 0 PMA, 1 NC, 2 IO", BITS_612, Family.HW_FLAG), When(since=PFN_MASKED)),
    (Field("napot", 63, 1, "_PAGE_NAPOT (Svnapot N): one of a naturally aligned power-of-two run", BITS_612,
        Family.HW_FLAG), When(since=NAPOT)),
    (_zero("reserved_63", 63, 1, "reserved: Svnapot is not used before 6.4"), When(since=PFN_MASKED, until=NAPOT)),
)


def _leaf_defs(protnone: bool) -> tuple[FieldDef, ...]:
    return (
        (_hw("v", BIT_V, "_PAGE_PRESENT (V): the MMU uses this entry"
             + ("; clear: present to the kernel only" if protnone else "")), ALWAYS),
        (_hw("r", 1, "_PAGE_READ (R)"), ALWAYS),
        (_hw("w", 2, "_PAGE_WRITE (W)"), ALWAYS),
        (_hw("x", 3, "_PAGE_EXEC (X)"), ALWAYS),
        (_hw("u", 4, "_PAGE_USER (U): user mode may access"), ALWAYS),
        (Field("prot_none", BIT_G, 1, "_PAGE_PROT_NONE (= G while not valid): present to the kernel, not to the MMU",
            BITS_612, Family.SW_FLAG) if protnone else _hw("g", BIT_G, "_PAGE_GLOBAL (G)"), ALWAYS),
        (_hw("a", 6, "_PAGE_ACCESSED (A)"), ALWAYS),
        (_hw("d", 7, "_PAGE_DIRTY (D)"), ALWAYS),
        (Field("special", 8, 1, "_PAGE_SPECIAL (RSW bit 8): no struct page behind it", BITS_612, Family.SW_FLAG),
         ALWAYS),
        (Field("devmap", 9, 1, "_PAGE_DEVMAP (RSW bit 9): ZONE_DEVICE memory", BITS_612, Family.SW_FLAG),
         When(needs=_devmap)),
        (_ign("rsw_9", 9, 1, "RSW bit 9: reserved for software, unused here"), When(unless=_devmap)),
        *_HIGH,
    )


_TABLE_DEFS: tuple[FieldDef, ...] = (
    (_hw("v", BIT_V, "_PAGE_PRESENT (V): valid; the kernel writes a pointer as PFN | _PAGE_TABLE (= V)"), ALWAYS),
    (_zero("leaf_bits", 1, 3, "R, W, X: all clear in a pointer to the next table (_PAGE_TABLE)"), ALWAYS),
    (_zero("u", 4, 1, "U: reserved in a non-leaf entry (RISC-V privileged spec)"), ALWAYS),
    (_hw("g", BIT_G, "_PAGE_GLOBAL (G): every mapping below this pointer is global"), ALWAYS),
    (_zero("a_d", 6, 2, "A and D: reserved in a non-leaf entry (RISC-V privileged spec)"), ALWAYS),
    (_ign("rsw", 8, 2, "RSW: reserved for software, unused in a pointer"), ALWAYS),
    _HIGH[0], _HIGH[1],
    (_zero("reserved_54_63", 54, 10, "N, PBMT and bits 54-60: reserved in a non-leaf entry (privileged spec; "
           "the kernel's pointers set none)"), When(since=PFN_MASKED)),
)

_SWAP_DEFS: tuple[FieldDef, ...] = (
    (_zero("v", BIT_V, 1, "_PAGE_PRESENT: clear in a swap entry", PGTABLE_612), ALWAYS),
    (_zero("leaf_bits", 1, 3, "R, W, X: 0 in a swap entry", PGTABLE_612), ALWAYS),
    (_ign("ignored_4", 4, 1, "unused in a swap entry", PGTABLE_612), ALWAYS),
    (_zero("prot_none", BIT_G, 1, "_PAGE_PROT_NONE: must be 0, or the entry is present", PGTABLE_612), ALWAYS),
    # up to 6.2: __SWP_TYPE_SHIFT 6, type 6-10, offset from 11 (pgtable.h 6.1)
    (Field("swp_type", 6, 5, "__SWP_TYPE_SHIFT 6, __SWP_TYPE_BITS 5", PGTABLE_61, Family.SWAP_TYPE),
     When(until=SWP_EXCLUSIVE)),
    (Field("swp_offset", 11, 53, "__SWP_OFFSET_SHIFT 11 (the source comment says 10)", PGTABLE_61, Family.SWAP_OFFSET),
     When(until=SWP_EXCLUSIVE)),
    # 6.3 on: _PAGE_SWP_EXCLUSIVE (= _PAGE_ACCESSED), type 7-11, offset 12-63 (pgtable.h 6.12)
    (Field("swp_exclusive", 6, 1, "_PAGE_SWP_EXCLUSIVE: the anonymous page was exclusive", PGTABLE_612,
        Family.SWAP_FLAG), When(since=SWP_EXCLUSIVE)),
    (Field("swp_type", 7, 5, "__SWP_TYPE_SHIFT 7, __SWP_TYPE_BITS 5", PGTABLE_612, Family.SWAP_TYPE),
     When(since=SWP_EXCLUSIVE)),
    (Field("swp_offset", 12, 52, "__SWP_OFFSET_SHIFT 12", PGTABLE_612, Family.SWAP_OFFSET), When(since=SWP_EXCLUSIVE)),
)

_NONE_DEFS: tuple[FieldDef, ...] = ((_zero("zero", 0, 64, "pte_none(): the value is 0", PGTABLE_612), ALWAYS),)


def swap_era(model: Model) -> str:
    return ("6.3+: exclusive 6, type 7-11, offset 12-63" if model.version >= SWP_EXCLUSIVE
            else "up to 6.2: type 6-10, offset 11-63")


@lru_cache(maxsize=256)
def layout(form: str, level: str, model: Model, cls: str = "", type_name: str = "") -> Layout:
    """The layout of ``form`` (none, present, table, protnone, swap) at ``level`` for ``model``."""
    name = f"riscv64 {level} {form}"
    if form == "none":
        return select(name, "pte_none(): nothing mapped, nothing remembered", _NONE_DEFS, model)
    if form == "table":
        return select(name, "a pointer to the next-level table (V set, R W X clear)", _TABLE_DEFS, model)
    if form in ("present", "protnone"):
        doc = ("a valid leaf" if form == "present"
               else "present to the kernel, not to the MMU: PROT_NONE, NUMA hinting or a PMD being split")
        return select(name, doc, _leaf_defs(form == "protnone"), model)
    return swap_layout(f"riscv64 {level} swap", f"swap-format entry, {swap_era(model)}", _SWAP_DEFS, model, cls,
                       type_name, swp_pfn_bits(model))


def form_of(value: int, level: str, model: Model) -> str:
    """pte_present(): V or G; pmd_present() with THP also counts R W X (a PMD being split)."""
    if value == 0:
        return "none"
    if value >> BIT_V & 1:
        return "table" if level != "pte" and not value & LEAF_MASK else "present"
    if value >> BIT_G & 1 or (level != "pte" and value & LEAF_MASK):
        return "protnone"
    return "swap"


def form_problems(value: int, form: str, level: str, model: Model) -> list[str]:
    """A huge entry with V cleared but no _PAGE_PROT_NONE: pmd_present() (THP), not pmd_protnone()."""
    if form == "protnone" and not value >> BIT_G & 1:
        return [f"V and _PAGE_PROT_NONE are clear but a leaf bit is set: a huge {level} invalidated by "
                f"{level}_mkinvalid() (a THP split), present to the kernel, not PROT_NONE (pgtable.h 6.12)"]
    return []


def is_table(fields: dict[str, int]) -> bool:
    """A valid entry given these fields points to a table: R, W and X are all clear."""
    return not any(fields.get(name, 0) for name in ("r", "w", "x"))


def form_defaults(form: str, level: str) -> dict[str, int]:
    """The bits that make an entry of ``form`` (encode sets them unless given)."""
    return {"present": {"v": 1, "r": 1}, "table": {"v": 1}, "protnone": {"prot_none": 1, "r": 1}}[form]
