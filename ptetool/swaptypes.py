"""Swap-type numbering and PTE-marker bits: arch-independent, by kernel version and config.

The five type bits give 32 values. Real swap files take 0..MAX_SWAPFILES-1;
the special types take the rest, counted down from 31 in include/linux/swap.h:
MAX_SWAPFILES = 32 - DEVICE_NUM - MIGRATION_NUM - HWPOISON_NUM - PTE_MARKER_NUM
(- SWAPIN_ERROR_NUM in 5.19-6.1), then SWP_HWPOISON = MAX_SWAPFILES, migration
after it, device types after those, SWP_PTE_MARKER after them.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

from ptetool.kernel import Model, Version
from ptetool.layout import Source

SWAP_H = "include/linux/swap.h"
SWAPOPS_H = "include/linux/swapops.h"
MAX_SWAPFILES_SHIFT = 5  # include/linux/swap.h, every version ptetool models
TYPE_COUNT = 1 << MAX_SWAPFILES_SHIFT

# type_name -> class (SPEC "Classes")
CLASS_OF_TYPE: dict[str, str] = {
    "swapfile": "swap",
    "hwpoison": "hwpoison",
    "migration_read": "migration",
    "migration_read_exclusive": "migration",
    "migration_write": "migration",
    "device_write": "device_private",
    "device_read": "device_private",
    "device_exclusive": "device_exclusive",
    "device_exclusive_write": "device_exclusive",
    "device_exclusive_read": "device_exclusive",
    "swapin_error": "swapin_error",
    "pte_marker": "pte_marker",
}

# Entries whose swap offset is a page frame number (make_*_entry(page) stores
# page_to_pfn): migration, device private/exclusive (swapops.h, 6.12),
# hwpoison (make_hwpoison_entry, swapops.h 6.12) and swapin_error
# (make_swapin_error_entry, swapops.h 6.1: swp_entry(SWP_SWAPIN_ERROR, page_to_pfn)).
PFN_TYPE_CLASSES = frozenset({"migration", "device_private", "device_exclusive", "hwpoison", "swapin_error"})


class SwapInfo(NamedTuple):
    """A swap-format entry's type, offset and the kernel's name for the type."""

    type: int
    offset: int
    type_name: str


class SwapTypes(NamedTuple):
    """The model's numbering: names[t] is the type_name of swap type t."""

    names: tuple[str, ...]
    source: Source

    @property
    def max_swapfiles(self) -> int:
        return self.names.index("swapfile", 0) + self.names.count("swapfile")

    def number_of(self, type_name: str) -> int | None:
        return self.names.index(type_name) if type_name in self.names else None

    def special(self) -> dict[int, str]:
        return {t: n for t, n in enumerate(self.names) if n != "swapfile"}


def _migration_names(model: Model) -> tuple[str, ...]:
    if not model.has("CONFIG_MIGRATION"):
        return ()
    if model.version >= (5, 19):  # SWP_MIGRATION_NUM 3 (swap.h 6.1): READ_EXCLUSIVE added
        return ("migration_read", "migration_read_exclusive", "migration_write")
    return ("migration_read", "migration_write")  # SWP_MIGRATION_NUM 2 (swap.h 5.10)


def _device_names(model: Model) -> tuple[str, ...]:
    if not model.has("CONFIG_DEVICE_PRIVATE") or model.version < (4, 14):
        return ()
    if model.version >= (6, 15):  # single SWP_DEVICE_EXCLUSIVE ("mm: use single SWP_DEVICE_EXCLUSIVE entry type")
        return ("device_write", "device_read", "device_exclusive")
    if model.version >= (5, 14):  # SWP_DEVICE_NUM 4 (swap.h 6.1)
        return ("device_write", "device_read", "device_exclusive_write", "device_exclusive_read")
    return ("device_write", "device_read")  # SWP_DEVICE_NUM 2 (swap.h 5.10)


def _marker_names(model: Model) -> tuple[str, ...]:
    if model.version < (5, 19):
        return ()
    if model.version >= (6, 2):  # CONFIG_PTE_MARKER dropped: markers always compiled in
        return ("pte_marker",)
    return ("pte_marker",) if model.has("CONFIG_PTE_MARKER") else ()


@lru_cache(maxsize=64)
def _numbering(version: Version, enabled: frozenset[str]) -> SwapTypes:
    model = Model(version=version, enabled=enabled)
    special = (
        (("hwpoison",) if model.has("CONFIG_MEMORY_FAILURE") else ())
        + _migration_names(model)
        + _device_names(model)
        + _marker_names(model)
        # SWP_SWAPIN_ERROR_NUM 1 (swap.h 6.1): added in 5.19 with "mm/swapfile: unuse_pte can map
        # random data if swap read fails", replaced by a PTE marker bit in 6.2
        + (("swapin_error",) if (5, 19) <= version < (6, 2) else ())
    )
    names = ("swapfile",) * (TYPE_COUNT - len(special)) + special
    return SwapTypes(names=names, source=Source(SWAP_H, "5.10, 6.1, 6.12; 6.15 device-exclusive change"))


def swap_types(model: Model) -> SwapTypes:
    return _numbering(model.version, model.enabled)


class MarkerBit(NamedTuple):
    """One PTE-marker bit: kept in the swap offset of a SWP_PTE_MARKER entry."""

    name: str
    bit: int
    doc: str
    source: Source
    fault: str


def marker_bits(model: Model) -> tuple[MarkerBit, ...]:
    """PTE_MARKER_* (swapops.h): uffd_wp 5.19; swapin_error 6.2, renamed poisoned 6.6; guard 6.13."""
    if model.version < (5, 19):
        return ()
    bits = [
        MarkerBit(
            "uffd_wp", 0, "PTE_MARKER_UFFD_WP: a write-protected page that is not mapped (shmem, hugetlbfs, "
            "or anonymous with UFFD_FEATURE_WP_UNPOPULATED)", Source(SWAPOPS_H, "5.19"),
            "a write faults to userfaultfd (UFFD_PAGEFAULT_FLAG_WP); a read maps the page",
        )
    ]
    if model.version >= (6, 6):
        bits.append(MarkerBit(
            "poisoned", 1, "PTE_MARKER_POISONED: the page's data is lost (UFFDIO_POISON or a failed swap-in)",
            Source(SWAPOPS_H, "6.6"), "any access gets VM_FAULT_HWPOISON: SIGBUS",
        ))
    elif model.version >= (6, 2):
        bits.append(MarkerBit(
            "swapin_error", 1, "PTE_MARKER_SWAPIN_ERROR: reading the page back from swap failed",
            Source(SWAPOPS_H, "6.2"), "any access gets VM_FAULT_SIGBUS",
        ))
    if model.version >= (6, 13):
        bits.append(MarkerBit(
            "guard", 2, "PTE_MARKER_GUARD: a guard region installed with MADV_GUARD_INSTALL",
            Source(SWAPOPS_H, "6.13"), "any access gets SIGSEGV, as if PROT_NONE",
        ))
    return tuple(bits)
