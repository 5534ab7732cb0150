"""Every layout of every arch, level, form and era: 64 bits owned exactly once, masks derived."""

from __future__ import annotations

import pytest

from ptetool.arch import generic, x86_64
from ptetool.errors import LayoutError
from ptetool.layout import ENTRY_MASK, Family, Field, Layout, Source
from ptetool.swaptypes import CLASS_OF_TYPE
from tests.models import ERA_VERSIONS, OPTION_SETS, model

SRC = Source("test", "0")
FORMS = ("none", "present", "protnone", "swap", "table")


def _layouts() -> list[Layout]:
    result = []
    for version in ERA_VERSIONS:
        for enabled in (*OPTION_SETS[::max(1, len(OPTION_SETS) // 8)], OPTION_SETS[-1]):
            m = model(version, enabled)
            for level in x86_64.LEVELS:
                for form in FORMS:
                    if form == "table" and level == "pte":
                        continue
                    result.append(x86_64.layout(form, level, m))
                for cls in sorted(set(CLASS_OF_TYPE.values())):
                    result.append(x86_64.layout("swap", level, m, cls))
                    result.append(generic.layout("swap", level, m, cls))
    return result


ALL = _layouts()


def test_every_layout_owns_each_bit_once() -> None:
    assert len(ALL) > 1000
    for lay in ALL:
        owned = 0
        for f in lay.owners:
            assert owned & f.mask == 0, (lay.name, f.name)
            owned |= f.mask
        assert owned == ENTRY_MASK, lay.name
        for a in lay.aliases:
            assert a.mask & ~lay[a.alias_of or ""].mask == 0


def test_every_field_names_its_kernel_source() -> None:
    for lay in ALL:
        for f in lay.fields:
            assert f.source.file.startswith(("arch/", "include/")), (lay.name, f.name, f.source)
            assert f.source.version[0].isdigit(), (lay.name, f.name)
            assert f.doc


def test_derived_masks() -> None:
    m = model((6, 18))
    pte = x86_64.layout("present", "pte", m)
    assert pte["pfn"].mask == 0x000F_FFFF_FFFF_F000
    assert pte["pkey"].mask == 0x7800_0000_0000_0000
    assert pte["nx"].mask == 1 << 63
    pmd = x86_64.layout("present", "pmd", m)
    assert pmd["pfn"].mask == 0x000F_FFFF_FFE0_0000 and pmd["pfn"].value_shift == 9
    assert pmd["reserved_13_20"].mask == 0x1F_E000
    pud = x86_64.layout("present", "pud", m)
    assert pud["pfn"].mask == 0x000F_FFFF_C000_0000 and pud["pfn"].value_shift == 18
    swap = x86_64.layout("swap", "pte", m)
    assert swap["swp_offset"].mask == 0x07FF_FFFF_FFFF_FE00 and swap["swp_offset"].inverted
    assert swap["swp_type"].mask == 0xF800_0000_0000_0000
    assert generic.layout("swap", "pte", m)["swp_type"].mask == 0x7C00_0000_0000_0000
    assert generic.layout("swap", "pte", model((4, 19)))["swp_type"].mask == 0x3E00_0000_0000_0000


@pytest.mark.parametrize(
    ("version", "type_mask", "offset_mask", "inverted"),
    [
        ((4, 7), 0x3E, 0xFFFF_FFFF_FFFF_FE00, False),
        ((4, 8), 0x3E00, 0xFFFF_FFFF_FFFF_C000, False),
        ((4, 18), 0x3E00, 0xFFFF_FFFF_FFFF_C000, False),
        ((4, 19), 0xF800_0000_0000_0000, 0x07FF_FFFF_FFFF_FE00, True),
    ],
)
def test_x86_swap_eras(version: tuple[int, int], type_mask: int, offset_mask: int, inverted: bool) -> None:
    swap = x86_64.layout("swap", "pte", model(version))
    assert (swap["swp_type"].mask, swap["swp_offset"].mask, swap["swp_offset"].inverted) == (
        type_mask, offset_mask, inverted)


def test_soft_dirty_bit_moved_in_4_14() -> None:
    assert x86_64.layout("swap", "pte", model((4, 13)))["swp_soft_dirty"].lsb == 7
    assert x86_64.layout("swap", "pte", model((4, 14)))["swp_soft_dirty"].lsb == 1


@pytest.mark.parametrize(
    ("version", "bit57", "bit58"),
    [((4, 4), "ignored_57", "ignored_58"), ((6, 5), "ignored_57", "devmap"), ((6, 6), "devmap", "saved_dirty"),
     ((6, 17), "softw4", "saved_dirty")],
)
def test_x86_high_software_bits_by_era(version: tuple[int, int], bit57: str, bit58: str) -> None:
    lay = x86_64.layout("present", "pte", model(version))
    assert (lay.field_at(57).name, lay.field_at(58).name) == (bit57, bit58)


def test_layout_rejects_gaps_overlaps_and_stray_aliases() -> None:
    def f(name: str, lsb: int, width: int, **kw: object) -> Field:
        return Field(name, lsb, width, "doc", SRC, Family.RESERVED, **kw)  # type: ignore[arg-type]

    with pytest.raises(LayoutError, match="bit 63 belongs to no field"):
        Layout("t", "", (f("a", 0, 63),))
    with pytest.raises(LayoutError, match="bit 10 belongs to both 'a' and 'b'"):
        Layout("t", "", (f("a", 0, 11), f("b", 10, 54)))
    with pytest.raises(LayoutError, match="field 'a' ends at bit 65, past the 64-bit entry"):
        Layout("t", "", (f("a", 0, 65),))
    with pytest.raises(LayoutError, match="alias 'v' reaches outside 'a'"):
        Layout("t", "", (f("a", 0, 8), f("b", 8, 56), f("v", 6, 4, alias_of="a")))
    with pytest.raises(LayoutError, match="declared twice"):
        Layout("t", "", (f("a", 0, 8), f("a", 8, 56)))


def test_field_insert_rejects_values_that_do_not_fit() -> None:
    pfn = x86_64.layout("present", "pmd", model((6, 18)))["pfn"]
    assert pfn.insert(0x200) == 0x20_0000
    with pytest.raises(ValueError, match=r"pfn takes 0 to 0xfffffffe00 in steps of 0x200 \(31 bits\)"):
        pfn.insert(0x201)
