"""The arch-independent layer: asm-generic pgtable_uffd.h and swp_entry_t.

An arch without CONFIG_HAVE_ARCH_USERFAULTFD_WP has no uffd-wp bits, and the
seed's special PTE there is __pte(0): the same value as pte_none. A value is
read as the arch-independent swp_entry_t (include/linux/swapops.h, 4.20 on):
type in bits 58-62 (SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT),
offset in bits 0-57, bit 63 unused. Up to 4.19 the radix tree's exceptional
entries took two bits: SWP_TYPE_SHIFT was 64 - (5 + 2) = 57, type in 57-61.
"""

from __future__ import annotations

from functools import lru_cache

from ptetool.arch.common import FieldDef, When, swap_layout
from ptetool.kernel import Model, Version
from ptetool.layout import Family, Field, Layout, Source

ARCH = "generic"
# A swp_entry_t reads alike at any level.
LEVELS = ("pte", "pmd", "pud", "p4d", "pgd")
SWAPOPS = Source("include/linux/swapops.h", "6.12")

SWAPOPS_419 = Source("include/linux/swapops.h", "4.19")
XARRAY: Version = (4, 20)  # "xarray: Replace exceptional entries" (3159f943aafd)
# "radix_tree: exceptional entries and indices" (Hugh Dickins, 3.1) reserved two low bits of
# every radix-tree slot value, so swapops.h took RADIX_TREE_EXCEPTIONAL_SHIFT off the type shift.
RADIX_EXCEPTIONAL: Version = (3, 1)
SWAPOPS_30 = Source("include/linux/swapops.h", "3.0")

_DEFS: tuple[FieldDef, ...] = (
    (Field("swp_offset", 0, 58, "swap offset (SWP_OFFSET_MASK = 2^SWP_TYPE_SHIFT - 1)", SWAPOPS,
           Family.SWAP_OFFSET), When(since=XARRAY)),
    (Field("swp_type", 58, 5, "swap type (SWP_TYPE_SHIFT = BITS_PER_XA_VALUE - MAX_SWAPFILES_SHIFT = 58)",
           SWAPOPS, Family.SWAP_TYPE), When(since=XARRAY)),
    (Field("reserved_63", 63, 1, "unused: swp_entry_t holds an XArray value (BITS_PER_XA_VALUE 63)",
           SWAPOPS, Family.RESERVED, zero_expected=True), When(since=XARRAY)),
    (Field("swp_offset", 0, 57, "swap offset (SWP_OFFSET_MASK = 2^SWP_TYPE_SHIFT - 1)", SWAPOPS_419,
           Family.SWAP_OFFSET), When(since=RADIX_EXCEPTIONAL, until=XARRAY)),
    (Field("swp_type", 57, 5, "swap type (SWP_TYPE_SHIFT = 64 - (MAX_SWAPFILES_SHIFT + "
           "RADIX_TREE_EXCEPTIONAL_SHIFT) = 57)", SWAPOPS_419, Family.SWAP_TYPE),
     When(since=RADIX_EXCEPTIONAL, until=XARRAY)),
    (Field("reserved_62_63", 62, 2, "unused: the radix tree's exceptional-entry bits", SWAPOPS_419,
           Family.RESERVED, zero_expected=True), When(since=RADIX_EXCEPTIONAL, until=XARRAY)),
    (Field("swp_offset", 0, 59, "swap offset (SWP_OFFSET_MASK = 2^SWP_TYPE_SHIFT - 1)", SWAPOPS_30,
           Family.SWAP_OFFSET), When(until=RADIX_EXCEPTIONAL)),
    (Field("swp_type", 59, 5, "swap type (SWP_TYPE_SHIFT = 64 - MAX_SWAPFILES_SHIFT = 59)", SWAPOPS_30,
           Family.SWAP_TYPE), When(until=RADIX_EXCEPTIONAL)),
)


def swp_pfn_bits(model: Model) -> int:
    """SWP_PFN_BITS as on x86_64 (the arch-independent entry carries no arch of its own)."""
    return model.swp_pfn_bits


def form_problems(value: int, form: str, level: str, model: Model) -> list[str]:
    return []  # a generic swp_entry_t has no present forms

def pte_none(value: int, model: Model) -> bool:
    return value == 0


@lru_cache(maxsize=64)
def layout(form: str, level: str, model: Model, cls: str = "", type_name: str = "") -> Layout:
    return swap_layout("generic swp_entry_t", "the arch-independent swap entry (swp_entry_t.val)", _DEFS, model,
                       cls, type_name, swp_pfn_bits(model))


def form_of(value: int, level: str, model: Model) -> str:
    return "none" if value == 0 else "swap"
