"""arm64 page-table entries (4 KiB granule): present, present-invalid (PROT_NONE) and swap, by kernel era.

Sources beside each field; the version boundaries and what is UNVERIFIED are in
tools/notes/arm64-riscv64-layouts.md. Leaf PTEs and block PMD/PUD descriptors share their bits;
Linux reads every level through the PTE helpers. Swap entries are the raw value, not inverted,
and PMD migration entries use the same layout. The 16K/64K granules and 52-bit physical
addresses (LPA/LPA2) are not modelled: their output-address bits move.
"""

from __future__ import annotations

from functools import lru_cache

from ptetool.arch.common import ALWAYS, FieldDef, When, select, swap_layout
from ptetool.kernel import Model, Version
from ptetool.layout import Family, Field, Layout, Source

ARCH = "arm64"
LEVELS = ("pte", "pmd", "pud", "p4d", "pgd")
SWP_UFFD_WP = "PTE_SWP_UFFD_WP"  # the macro, as seed_rules names it
TABLE_ONLY_LEVELS = ("p4d", "pgd")  # no block above 1 GiB with the 4 KiB granule

HWDEF_612 = Source("arch/arm64/include/asm/pgtable-hwdef.h", "6.12")
HWDEF_61 = Source("arch/arm64/include/asm/pgtable-hwdef.h", "6.1")
PROT_612 = Source("arch/arm64/include/asm/pgtable-prot.h", "6.12")
PROT_61 = Source("arch/arm64/include/asm/pgtable-prot.h", "6.1")
PROT_510 = Source("arch/arm64/include/asm/pgtable-prot.h", "5.10")
PGTABLE_612 = Source("arch/arm64/include/asm/pgtable.h", "6.12")
PGTABLE_61 = Source("arch/arm64/include/asm/pgtable.h", "6.1")
PGTABLE_514 = Source("arch/arm64/include/asm/pgtable.h", "4.14 and 5.10")

# Eras in which the kernel changed what a bit means.
SWP_EXCLUSIVE: Version = (5, 19)  # PTE_SWP_EXCLUSIVE at bit 2; swap type at 3-7
PRESENT_INVALID: Version = (6, 10)  # PTE_PRESENT_INVALID = nG (11) replaces PTE_PROT_NONE (58); UFFD_WP at 58
PMD_PRESENT_INVALID: Version = (5, 10)  # bit 59 for an invalidated huge PMD (the arm64 5.10 pull; not in 5.8's)
ADDR_TO_49: Version = (6, 9)  # PTE_ADDR_LOW reaches bit 49 (the LPA2 series, in the arm64 6.9 pull)
DEVMAP_SINCE: Version = (5, 3)  # commit 73b20c84d42d, merged for 5.3 (its fix was pulled on v5.3-rc3)
DEVMAP_GONE: Version = (6, 17)  # d438d2734170, "MM updates for 6.17-rc1"
POE_SINCE: Version = (6, 12)  # PTE_PO_IDX_0..2 ("arm64: add POIndex defines", the arm64 6.12 pull)

BIT_VALID, BIT_TABLE, BIT_NG, BIT_PROT_NONE, BIT_PMD_PRESENT_INVALID = 0, 1, 11, 58, 59
PAGE_SHIFT = 12
PA_BITS = 48  # CONFIG_ARM64_PA_BITS_48; 52-bit physical addresses are not modelled


def has_uffd_wp(model: Model) -> bool:
    """arm64 selects HAVE_ARCH_USERFAULTFD_WP from 6.10 (arch/arm64/Kconfig 6.12; absent in 6.1)."""
    return model.version >= PRESENT_INVALID and model.has("CONFIG_HAVE_ARCH_USERFAULTFD_WP")


def has_soft_dirty(model: Model) -> bool:
    return False  # arm64 does not select HAVE_ARCH_SOFT_DIRTY (arch/arm64/Kconfig 6.12)


def swp_pfn_bits(model: Model) -> int:
    """MAX_PHYSMEM_BITS = CONFIG_ARM64_PA_BITS, 48 without PA_BITS_52 (sparsemem.h 6.1; PHYS_MASK_SHIFT, 6.12)."""
    return PA_BITS - PAGE_SHIFT


def pte_none(value: int, model: Model) -> bool:
    return value == 0


def _hw(name: str, bit: int, doc: str, source: Source = HWDEF_612) -> Field:
    return Field(name, bit, 1, doc, source, Family.HW_FLAG)


def _sw(name: str, bit: int, doc: str, source: Source = PROT_612) -> Field:
    return Field(name, bit, 1, doc, source, Family.SW_FLAG)


def _ign(name: str, lsb: int, width: int, doc: str, source: Source = HWDEF_612) -> Field:
    return Field(name, lsb, width, doc, source, Family.IGNORED)


def _zero(name: str, lsb: int, width: int, doc: str, source: Source = PGTABLE_612) -> Field:
    return Field(name, lsb, width, doc, source, Family.RESERVED, zero_expected=True)


def _uffd(model: Model) -> bool:
    return has_uffd_wp(model)


# --- present and present-invalid leaves (PTE, block PMD/PUD) --------------------------------------

def _leaf_defs(level: str, invalid: bool, model: Model) -> tuple[FieldDef, ...]:
    lsb = {"pte": 12, "pmd": 21, "pud": 30}[level]
    top = 50 if model.version >= ADDR_TO_49 else 48
    defs: list[FieldDef] = [
        (_hw("valid", BIT_VALID, "PTE_VALID: the MMU uses this entry" + ("; clear: present to the kernel only"
                                                                         if invalid else "")), ALWAYS),
        (_hw("page" if level == "pte" else "table", BIT_TABLE,
             "PTE_TYPE_PAGE bit: 1 in a page descriptor" if level == "pte"
             else "PMD_TABLE_BIT: 0 in a block (huge) descriptor"), ALWAYS),
        (Field("attrindx", 2, 3, "PTE_ATTRINDX: the MAIR memory-type index (MT_NORMAL, MT_DEVICE_nGnRE, ...)",
            HWDEF_612, Family.HW_FLAG), ALWAYS),
        (_ign("ns", 5, 1, "NS: a secure-state bit Linux never sets"), ALWAYS),
        (_hw("user", 6, "PTE_USER (AP[1]): EL0 may access"), ALWAYS),
        (_hw("rdonly", 7, "PTE_RDONLY (AP[2]): read-only to the hardware"), ALWAYS),
        (Field("shared", 8, 2, "PTE_SHARED: SH[1:0], inner shareable (3)", HWDEF_612, Family.HW_FLAG), ALWAYS),
        (_hw("af", 10, "PTE_AF: the access flag (pte_young)"), ALWAYS),
    ]
    if invalid:
        defs.append((_sw("present_invalid", BIT_NG, "PTE_PRESENT_INVALID (= nG while not valid): present to the "
                         "kernel, not to the MMU (PROT_NONE, NUMA hinting, an invalidated huge PMD)"),
                      When(since=PRESENT_INVALID)))
        defs.append((_hw("ng", BIT_NG, "PTE_NG: not global", HWDEF_61), When(until=PRESENT_INVALID)))
    else:
        defs.append((_hw("ng", BIT_NG, "PTE_NG: not global (ASID-tagged in the TLB)"), ALWAYS))
    if lsb > PAGE_SHIFT:
        defs.append((_zero(f"reserved_12_{lsb - 1}", 12, lsb - 12, "RES0 below a block's output address",
                           HWDEF_612), ALWAYS))
    defs.append((Field("pfn", lsb, top - lsb, f"output address bits {lsb}-{top - 1} (PTE_ADDR_LOW), as a 4 KiB page "
                    "frame number", HWDEF_612 if top == 50 else HWDEF_61, Family.FRAME,
                    value_shift=lsb - PAGE_SHIFT), ALWAYS))
    if top == 48:
        defs.append((_zero("reserved_48_49", 48, 2, "RES0 with 48-bit output addresses", HWDEF_61), ALWAYS))
    defs += [
        (_hw("gp", 50, "PTE_GP: a BTI guarded page"), ALWAYS),
        (_hw("dbm", 51, "PTE_DBM (= PTE_WRITE): writable; the hardware clears RDONLY on the first write"), ALWAYS),
        (_hw("cont", 52, "PTE_CONT: one of a contiguous run sharing a TLB entry"), ALWAYS),
        (_hw("pxn", 53, "PTE_PXN: never executable at EL1"), ALWAYS),
        (_hw("uxn", 54, "PTE_UXN: never executable at EL0"), ALWAYS),
        (_sw("dirty", 55, "PTE_DIRTY: software dirty (pte_dirty also counts DBM && !RDONLY)"), ALWAYS),
        (_sw("special", 56, "PTE_SPECIAL: no struct page behind it"), ALWAYS),
        (_sw("devmap", 57, "PTE_DEVMAP: ZONE_DEVICE memory", PROT_510), When(since=DEVMAP_SINCE, until=DEVMAP_GONE)),
        (_ign("softw57", 57, 1, "software bit, unused here", PROT_612),
         When(unless=lambda m: DEVMAP_SINCE <= m.version < DEVMAP_GONE)),
    ]
    if invalid:
        defs.append((_sw("prot_none", BIT_PROT_NONE, "PTE_PROT_NONE: present to the kernel, not to the MMU",
                         PROT_61), When(until=PRESENT_INVALID)))
    else:
        defs.append((_ign("softw58", BIT_PROT_NONE, 1, "software bit: PTE_PROT_NONE only while not valid", PROT_61),
                     When(until=PRESENT_INVALID)))
    defs += [
        (_sw("uffd_wp", 58, "PTE_UFFD_WP: write-protected by userfaultfd"),
         When(since=PRESENT_INVALID, needs=_uffd)),
        (_ign("softw58", 58, 1, "software bit: PTE_UFFD_WP without uffd-wp"), When(since=PRESENT_INVALID,
                                                                                    unless=_uffd)),
    ]
    if invalid and level != "pte":
        defs.append((_sw("pmd_present_invalid", BIT_PMD_PRESENT_INVALID, "PMD_PRESENT_INVALID: an invalidated "
                         "huge PMD (THP split), still present to the kernel", PROT_61),
                     When(since=PMD_PRESENT_INVALID, until=PRESENT_INVALID)))
        defs.append((_ign("softw59", 59, 1, "software bit"), When(unless=lambda m: PMD_PRESENT_INVALID <= m.version
                                                                      < PRESENT_INVALID)))
    else:
        defs.append((_ign("softw59", 59, 1, "software bit"), ALWAYS))
    defs += [
        (Field("po_index", 60, 3, "PTE_PO_IDX: the POE protection-overlay index (pkey)", PROT_612, Family.PKEY),
         When(since=POE_SINCE)),
        (_ign("ignored_60_62", 60, 3, "ignored: no protection overlays before 6.12"), When(until=POE_SINCE)),
        (_ign("softw63", 63, 1, "software bit, unused by Linux"), ALWAYS),
    ]
    return tuple(defs)


def _table_defs(level: str, model: Model) -> tuple[FieldDef, ...]:
    top = 50 if model.version >= ADDR_TO_49 else 48
    defs: list[FieldDef] = [
        (_hw("valid", BIT_VALID, "PMD_TYPE_TABLE bit 0: valid"), ALWAYS),
        (_hw("table", BIT_TABLE, "PMD_TABLE_BIT: 1, the entry points to the next-level table"), ALWAYS),
        (_ign("ignored_2_11", 2, 10, "ignored in a table descriptor"), ALWAYS),
        (Field("pfn", 12, top - 12, "the next-level table's address, as a page frame number", HWDEF_612,
            Family.FRAME), ALWAYS),
    ]
    if top == 48:
        defs.append((_zero("reserved_48_49", 48, 2, "RES0 with 48-bit output addresses", HWDEF_61), ALWAYS))
    defs += [
        (_ign("ignored_50_58", 50, 9, "ignored in a table descriptor"), ALWAYS),
        (_hw("pxn_table", 59, "PXNTable: nothing below is executable at EL1"), ALWAYS),
        (_hw("uxn_table", 60, "UXNTable: nothing below is executable at EL0"), ALWAYS),
        (Field("ap_table", 61, 2, "APTable: access limits for everything below", HWDEF_612, Family.HW_FLAG), ALWAYS),
        (_hw("ns_table", 63, "NSTable: a secure-state bit Linux never sets"), ALWAYS),
    ]
    return tuple(defs)


# --- swap entries ----------------------------------------------------------------------------------

_SWAP_DEFS: tuple[FieldDef, ...] = (
    (_zero("valid", 0, 1, "PTE_VALID: clear in a swap entry"), ALWAYS),
    (_zero("reserved_1", 1, 1, "0 in a swap entry (__swp_entry never sets it)"), ALWAYS),
    # up to 5.18: "bits 2-7: swap type, bits 8-57: swap offset, bit 58: PTE_PROT_NONE (must be zero)"
    (Field("swp_type", 2, 5, "__SWP_TYPE_SHIFT 2 (__SWP_TYPE_BITS 6; MAX_SWAPFILES_SHIFT 5 uses the low five)",
        PGTABLE_514, Family.SWAP_TYPE), When(until=SWP_EXCLUSIVE)),
    (_zero("swp_type_7", 7, 1, "the sixth type bit: swap types stop at 31", PGTABLE_514), When(until=SWP_EXCLUSIVE)),
    (Field("swp_exclusive", 2, 1, "PTE_SWP_EXCLUSIVE: the anonymous page was exclusive", PGTABLE_612,
        Family.SWAP_FLAG), When(since=SWP_EXCLUSIVE)),
    (Field("swp_type", 3, 5, "__SWP_TYPE_SHIFT 3, __SWP_TYPE_BITS 5", PGTABLE_61, Family.SWAP_TYPE),
     When(since=SWP_EXCLUSIVE, until=PRESENT_INVALID)),
    (Field("swp_offset", 8, 50, "__SWP_OFFSET_SHIFT 8, __SWP_OFFSET_BITS 50", PGTABLE_61, Family.SWAP_OFFSET),
     When(until=PRESENT_INVALID)),
    (_zero("reserved_58", 58, 1, "PTE_PROT_NONE: must be zero, or the entry is present", PGTABLE_61),
     When(until=PRESENT_INVALID)),
    (_ign("ignored_59_63", 59, 5, "unused in a swap entry", PGTABLE_61), When(until=PRESENT_INVALID)),
    # 6.10 on: "bits 6-10 swap type, bit 11 PTE_PRESENT_INVALID (must be zero), bits 12-61 swap offset"
    (Field("swp_uffd_wp", 3, 1, "PTE_SWP_UFFD_WP: write-protected by userfaultfd", PGTABLE_612, Family.SWAP_FLAG),
     When(since=PRESENT_INVALID, needs=_uffd)),
    (_ign("ignored_3", 3, 1, "PTE_SWP_UFFD_WP without uffd-wp", PGTABLE_612),
     When(since=PRESENT_INVALID, unless=_uffd)),
    (_ign("ignored_4_5", 4, 2, "unused in a swap entry", PGTABLE_612), When(since=PRESENT_INVALID)),
    (Field("swp_type", 6, 5, "__SWP_TYPE_SHIFT 6, __SWP_TYPE_BITS 5", PGTABLE_612, Family.SWAP_TYPE),
     When(since=PRESENT_INVALID)),
    (_zero("reserved_11", 11, 1, "PTE_PRESENT_INVALID: must be zero, or the entry is present", PGTABLE_612),
     When(since=PRESENT_INVALID)),
    (Field("swp_offset", 12, 50, "__SWP_OFFSET_SHIFT 12, __SWP_OFFSET_BITS 50", PGTABLE_612, Family.SWAP_OFFSET),
     When(since=PRESENT_INVALID)),
    (_ign("ignored_62_63", 62, 2, "unused in a swap entry", PGTABLE_612), When(since=PRESENT_INVALID)),
)

_NONE_DEFS: tuple[FieldDef, ...] = ((_zero("zero", 0, 64, "pte_none(): the value is 0"), ALWAYS),)


def swap_era(model: Model) -> str:
    if model.version >= PRESENT_INVALID:
        return "6.10+: type 6-10, offset 12-61"
    if model.version >= SWP_EXCLUSIVE:
        return "5.19-6.9: type 3-7, offset 8-57"
    return "up to 5.18: type 2-7, offset 8-57"


@lru_cache(maxsize=256)
def layout(form: str, level: str, model: Model, cls: str = "", type_name: str = "") -> Layout:
    """The layout of ``form`` (none, present, table, bad_table, protnone, swap) at ``level`` for ``model``."""
    name = f"arm64 {level} {form}"
    if form == "none":
        return select(name, "pte_none(): nothing mapped, nothing remembered", _NONE_DEFS, model)
    if form in ("table", "bad_table"):
        doc = ("a table descriptor: the entry addresses the next-level table" if form == "table"
               else f"a {level} entry is never a swap entry: any other non-empty value is {level}_bad()")
        return select(name, doc, _table_defs(level, model), model)
    if form in ("present", "protnone"):
        doc = ("a valid page or block descriptor" if form == "present"
               else "present to the kernel, not to the MMU: PROT_NONE, NUMA hinting or an invalidated huge PMD")
        return select(name, doc, _leaf_defs(level, form == "protnone", model), model)
    return swap_layout(f"arm64 {level} swap", f"swap-format entry, {swap_era(model)}", _SWAP_DEFS, model, cls,
                       type_name, swp_pfn_bits(model))


def form_of(value: int, level: str, model: Model) -> str:
    """Which layout the kernel's predicates pick for ``value`` at ``level``."""
    if value == 0:
        return "none"
    valid, table = value >> BIT_VALID & 1, value >> BIT_TABLE & 1
    if level in TABLE_ONLY_LEVELS:
        return "table" if valid and table else "bad_table"
    if valid:
        return "table" if level != "pte" and table else "present"
    if model.version >= PRESENT_INVALID:
        if value >> BIT_NG & 1:
            return "protnone"  # pte_present_invalid() (pgtable.h 6.12)
    elif value >> BIT_PROT_NONE & 1 or (level != "pte" and model.version >= PMD_PRESENT_INVALID
                                        and value >> BIT_PMD_PRESENT_INVALID & 1):
        return "protnone"  # PTE_PROT_NONE, or PMD_PRESENT_INVALID (pgtable.h 6.1)
    return "swap"


BIT_USER, BIT_UXN = 6, 54


def form_problems(value: int, form: str, level: str, model: Model) -> list[str]:
    """Present to the kernel but not its PROT_NONE encoding: pte_protnone() is false for it."""
    if form != "protnone":
        return []
    if model.version >= PRESENT_INVALID:
        if value >> BIT_USER & 1 or not value >> BIT_UXN & 1:
            return [f"present-invalid, but USER set or UXN clear: pte_protnone() is false (pgtable.h 6.12), so "
                    f"this is no PROT_NONE page but an entry made invalid with its permissions kept "
                    f"({level}_mkinvalid(), a THP split)"]
    elif not value >> BIT_PROT_NONE & 1:
        return [f"PMD_PRESENT_INVALID without PTE_PROT_NONE: pmd_protnone() is false (pgtable.h 6.1), a huge "
                f"{level} invalidated by {level}_mkinvalid() (a THP split), not PROT_NONE"]
    return []


def is_table(fields: dict[str, int]) -> bool:
    """A valid pmd/pud given these fields points to a table: PMD_TABLE_BIT is set."""
    return fields.get("table", 0) == 1


def form_defaults(form: str, level: str) -> dict[str, int]:
    """The bits that make an entry of ``form`` (encode sets them unless given)."""
    page = {"page": 1} if level == "pte" else {}
    if form == "table":
        return {"valid": 1, "table": 1}
    if form == "protnone":  # whichever of the two the model's layout has
        return {**page, "present_invalid": 1, "prot_none": 1}
    return {**page, "valid": 1}
