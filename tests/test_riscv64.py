"""riscv64 (issue #11): values built by the kernel's own macros, as read in its headers.

The expected values are the formulas of arch/riscv/include/asm/pgtable.h and pgtable-bits.h
(6.1 and 6.12, cited in tools/notes/arm64-riscv64-layouts.md), evaluated by hand.
"""

from __future__ import annotations

import json

import pytest

from ptetool.decoder import decode
from ptetool.encoder import encode
from ptetool.kernel import Model
from tests.cli_helpers import run
from tests.models import model

M612, M613, M61, M510 = model((6, 12)), model((6, 13)), model((6, 1)), model((5, 10))
PFN = 0x123456


@pytest.mark.parametrize(("m", "value", "exclusive"), [
    (M612, 0x1234180, 0x12341C0),  # __swp_entry(3, 0x1234): type << 7 | offset << 12 (pgtable.h 6.12)
    (M61, 0x91A0C0, None),         # type << 6 | offset << 11 (pgtable.h 6.1): no exclusive bit yet
])
def test_swap_entries_by_era(m: Model, value: int, exclusive: int | None) -> None:
    d = decode(value, "riscv64", "pte", m)
    assert d.cls == "swap" and d.swap is not None and (d.swap.type, d.swap.offset) == (3, 0x1234)
    assert encode("swap", {"swp_type": 3, "swp_offset": 0x1234}, "riscv64", "pte", m).value == value
    if exclusive is not None:
        assert decode(exclusive, "riscv64", "pte", m).flags == ("swp_exclusive",)
    else:
        assert "swp_exclusive" not in d.layout


def test_the_same_bits_under_the_other_era_are_another_entry() -> None:
    d = decode(0x1234180, "riscv64", "pte", M61)  # bit 7 is the type's second bit up to 6.2
    assert d.swap is not None and (d.swap.type, d.swap.offset) == (6, 0x2468)


def test_prot_none_and_present() -> None:
    # PAGE_NONE = _PAGE_PROT_NONE | _PAGE_READ; pfn_pte() puts the PFN at _PAGE_PFN_SHIFT 10
    none = PFN << 10 | 0x22
    d = decode(none, "riscv64", "pte", M612)
    assert (d.cls, d.fields["pfn"], d.flags) == ("protnone", PFN, ("r", "prot_none"))
    # PAGE_SHARED = _PAGE_BASE (V, U, A) | R | W
    shared = decode(PFN << 10 | 0x57, "riscv64", "pte", M612)
    assert (shared.cls, shared.flags) == ("present", ("v", "r", "w", "u", "a"))
    assert decode(0x21, "riscv64", "pte", M612).cls == "present"  # pte_present(): V or G


def test_high_bits_by_era() -> None:
    top = 1 << 63 | 1 << 61 | PFN << 10 | 0xCF
    assert decode(top, "riscv64", "pte", M612).fields["napot"] == 1
    assert decode(top, "riscv64", "pte", M612).fields["mt"] == 1
    d61 = decode(top, "riscv64", "pte", M61)  # 6.1 has _PAGE_PFN_MASK and Svpbmt, not Svnapot
    assert d61.fields["mt"] == 1 and "napot" not in d61.layout and d61.problems
    d510 = decode(top, "riscv64", "pte", M510)  # before 5.19 the PFN is everything above bit 10
    assert d510.fields["pfn"] == top >> 10  # bits 61 and 63 read as frame bits, beyond MAX_PHYSMEM_BITS 56
    assert d510.problems == ("pfn 0x28000000123456 lies beyond the 56-bit physical address width",)
    assert "devmap" in decode(0x2CF, "riscv64", "pte", M612).flags  # _PAGE_DEVMAP, 6.11-6.16
    assert "devmap" not in decode(0x2CF, "riscv64", "pte", M61).layout


def test_markers() -> None:
    uffd = decode(0x1F80, "riscv64", "pte", M612)  # SWP_PTE_MARKER (31) << 7 | PTE_MARKER_UFFD_WP << 12
    assert (uffd.cls, uffd.marker) == ("pte_marker", ("uffd_wp",))
    assert any("never installs a uffd_wp marker" in n for n in uffd.notes)
    assert decode(0x2F80, "riscv64", "pte", M612).marker == ("poisoned",)
    assert decode(0x4F80, "riscv64", "pte", M613).marker == ("guard",)
    assert decode(0x4F80, "riscv64", "pte", M612).problems  # no guard marker before 6.13
    assert encode("pte_marker", {"marker_uffd_wp": 1}, "riscv64", "pte", M612).value == 0x1F80


@pytest.mark.parametrize(("value", "cls", "layout"), [
    (PFN << 10 | 0x1, "present", "riscv64 pmd table"),         # V with R W X clear: the next table
    (PFN << 10 | 0xCF, "present", "riscv64 pmd present"),      # a 2 MiB leaf
    (PFN << 10 | 0xCE, "protnone", "riscv64 pmd protnone"),    # a leaf with V cleared: a PMD being split
    (PFN << 10 | 0x80, "swap", "riscv64 pmd swap"),            # a PMD migration entry has the PTE's layout
])
def test_pmd_forms(value: int, cls: str, layout: str) -> None:
    d = decode(value, "riscv64", "pmd", M612)
    assert (d.cls, d.layout.name) == (cls, layout)
    assert encode(d.cls, d.field_values, "riscv64", "pmd", M612).value == value


def test_seed_rules_and_the_cli() -> None:
    rules = decode(0x1F80, "riscv64", "pte", M612).rules
    assert rules is not None and rules[2].why == "this model has no uffd-wp bits"
    result = run("decode", "--arch", "riscv64", "--kernel", "6.12", "--kconfig", "allyes", "0x12341c0")
    assert result.stdout == "0x00000000012341c0 swap type=3(swapfile) offset=0x1234 swp_exclusive\n"
    built = run("encode", "--arch", "riscv64", "--kernel", "6.12", "--kconfig", "allyes", "swap",
                "swp_type=3", "swp_offset=0x1234")
    assert built.stdout.split()[0] == "0x0000000001234180"


def test_migration_entries_keep_44_pfn_bits() -> None:
    # MAX_PHYSMEM_BITS 56 (asm/sparsemem.h): SWP_PFN_BITS 44, young at offset bit 44, dirty at 45
    from ptetool.swaptypes import swap_types

    write = swap_types(M612).number_of("migration_write")
    assert write is not None
    value = (write << 7) | ((1 << 44 | 0x1AD106) << 12)
    d = decode(value, "riscv64", "pte", M612)
    assert (d.cls, d.fields["pfn"], d.fields["mig_young"], d.fields["mig_dirty"]) == ("migration", 0x1AD106, 1, 0)
    assert not d.problems


def test_a_foreign_arch_does_not_take_the_running_kernel() -> None:
    """A riscv64 value read on another machine came from another kernel: the newest modelled is assumed."""
    from ptetool.options import host_arch

    if host_arch() == "riscv64":
        pytest.skip("this machine is riscv64: its running kernel is the right default")
    result = run("decode", "--arch", "riscv64", "--format", "json", "0x1f80")
    record = json.loads(result.stdout)[0]
    assert record["model"]["kernel"] == "6.18" and record["model"]["kconfig"] == "allyes"
    assert any(f"this machine runs {host_arch()}, not riscv64" in a for a in record["model"]["assumptions"])
    pinned = json.loads(run("decode", "--arch", "riscv64", "--kernel", "6.1", "--format", "json", "0x1f80").stdout)[0]
    assert pinned["model"]["kernel"] == "6.1" and not pinned["model"]["assumptions"]
