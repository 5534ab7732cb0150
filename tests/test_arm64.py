"""arm64 (issue #11, first part): values built by the kernel's own macros, as read in its headers.

The expected values are the kernel's formulas evaluated by hand (tools/notes/arm64-riscv64-layouts.md
cites the header and version of each); tests/test_kernel_vectors_cross.py checks the kernel-compiled ones.
"""

from __future__ import annotations

import pytest

from ptetool.decoder import decode
from ptetool.encoder import encode
from ptetool.swaptypes import swap_types
from tests.cli_helpers import run
from tests.models import model

M612, M61, M510 = model((6, 12)), model((6, 1)), model((5, 10))


@pytest.mark.parametrize(("m", "value", "exclusive"), [
    (M612, 0x12340C0, 0x12340C4),  # __swp_entry(3, 0x1234): type << 6 | offset << 12 (pgtable.h 6.12)
    (M61, 0x123418, 0x12341C),     # type << 3 | offset << 8 (pgtable.h 6.1)
    (M510, 0x12340C, None),        # type << 2 | offset << 8 (pgtable.h 5.10), no exclusive bit yet
])
def test_swap_entries_by_era(m: object, value: int, exclusive: int | None) -> None:
    d = decode(value, "arm64", "pte", m)  # type: ignore[arg-type]
    assert d.cls == "swap" and d.swap is not None and (d.swap.type, d.swap.offset) == (3, 0x1234)
    assert encode("swap", {"swp_type": 3, "swp_offset": 0x1234}, "arm64", "pte", m).value == value  # type: ignore[arg-type]
    if exclusive is not None:
        assert decode(exclusive, "arm64", "pte", m).flags == ("swp_exclusive",)  # type: ignore[arg-type]


def test_uffd_wp_marker_and_swap_bit_on_612() -> None:
    marker = encode("pte_marker", {"marker_uffd_wp": 1}, "arm64", "pte", M612).value
    assert marker == 31 << 6 | 1 << 12  # SWP_PTE_MARKER is type 31 with every option on
    d = decode(marker, "arm64", "pte", M612)
    assert (d.cls, d.marker) == ("pte_marker", ("uffd_wp",))
    assert decode(0x12340C8, "arm64", "pte", M612).flags == ("swp_uffd_wp",)  # PTE_SWP_UFFD_WP, bit 3


def test_prot_none_by_era() -> None:
    # PAGE_NONE = (_PAGE_DEFAULT & ~PTE_VALID) | PTE_PRESENT_INVALID | PTE_RDONLY | PTE_NG | PTE_PXN | PTE_UXN (6.12)
    none_612 = 0x0060000012345F82
    d = decode(none_612, "arm64", "pte", M612)
    assert d.cls == "protnone" and d.fields["present_invalid"] == 1 and d.fields["pfn"] == 0x12345
    # 6.1: PTE_PROT_NONE (bit 58) instead of PTE_PRESENT_INVALID
    none_61 = 0x0460000012345F82
    assert decode(none_61, "arm64", "pte", M61).cls == "protnone"
    assert decode(none_612 & ~(1 << 11), "arm64", "pte", M612).swap is not None  # nG clear: a swap-format entry
    assert decode(1 << 59 | 0x12345F80, "arm64", "pmd", M61).cls == "protnone"  # PMD_PRESENT_INVALID


def test_levels_and_the_cli() -> None:
    assert decode(0x00000000DBF36003, "arm64", "pmd", M612).layout.name == "arm64 pmd table"
    assert decode(0x0068000040000741, "arm64", "pmd", M612).cls == "present"  # a 2 MiB block
    assert decode(0x40000741, "arm64", "pmd", M612).field_values["pfn"] == 0x40000
    result = run("decode", "--arch", "aarch64", "--kernel", "6.12", "--kconfig", "allyes", "0x12340c0")
    assert result.stdout == "0x00000000012340c0 swap type=3(swapfile) offset=0x1234\n"


def test_markers_by_era() -> None:
    """PTE_MARKER_GUARD (6.13) and PTE_MARKER_POISONED (6.6) under SWP_PTE_MARKER 31, type at bit 6."""
    m613 = model((6, 13))
    assert decode(31 << 6 | 4 << 12, "arm64", "pte", m613).marker == ("guard",)
    assert decode(31 << 6 | 2 << 12, "arm64", "pte", m613).marker == ("poisoned",)
    assert decode(31 << 6 | 4 << 12, "arm64", "pte", M612).problems  # no guard marker before 6.13
    # 6.1 places the type at bits 3-7 and the offset from bit 8; SWP_SWAPIN_ERROR takes type 31 there
    marker = swap_types(M61).number_of("pte_marker")
    assert marker == 30
    assert decode(marker << 3 | 1 << 8, "arm64", "pte", M61).marker == ("uffd_wp",)


def test_16k_and_64k_pages_are_refused_by_name() -> None:
    refused = run("decode", "--arch", "arm64", "--granule", "64k", "0x17c0")
    assert refused.exit_code == 2 and "arm64 with 64 KiB pages is not modelled yet" in refused.output
    x86 = run("decode", "--granule", "16k", "0x4")
    assert x86.exit_code == 2 and "--granule 16k: x86_64 pages are 4 KiB" in x86.output
    assert run("decode", "--arch", "arm64", "--granule", "4k", "--kernel", "6.12", "0x17c0").exit_code == 0
    wide = run("decode", "--arch", "arm64", "--phys-bits", "52", "0x00e8000123456f43")
    assert wide.exit_code == 2 and "more than 48-bit physical addresses" in wide.output
