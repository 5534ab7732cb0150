"""pagemap records, one at a time: the layout, every class and flag, the problems, encode_fields."""

from __future__ import annotations

import pytest

from ptetool import pagemap as pm
from ptetool.errors import UsageError, WorkError
from ptetool.kernel import Model
from ptetool.layout import ENTRY_BITS
from ptetool.swaptypes import swap_types
from tests.models import ALL_ON, ERA_VERSIONS, OPTION_SETS, model

PRESENT, SWAP, FILE = 1 << 63, 1 << 62, 1 << 61
GUARD, UFFD, EXCL, SD = 1 << 58, 1 << 57, 1 << 56, 1 << 55
M618 = model((6, 18))
R618 = pm.rules_for(M618)


def swap_record(swap_type: int, offset: int, flags: int = 0) -> int:
    return SWAP | flags | offset << 5 | swap_type


def type_of(m: Model, name: str) -> int:
    number = swap_types(m).number_of(name)
    assert number is not None, (m.version, name)
    return number


def decode(value: int, m: Model = M618, zeroed_rule: bool = False) -> pm.Entry:
    return pm.decode_record(value, pm.rules_for(m), zeroed_rule)


# --- the layout --------------------------------------------------------------------------------

@pytest.mark.parametrize("version", ERA_VERSIONS)
def test_every_layout_covers_64_bits(version: tuple[int, int]) -> None:
    for enabled in (ALL_ON, frozenset()):
        m = model(version, enabled)
        layouts = [pm.pfn_layout(m)] + [pm.swap_layout(m, name) for name in set(swap_types(m).names)]
        for lay in layouts:
            owned = sorted(bit for f in lay.owners for bit in range(f.lsb, f.msb + 1))
            assert owned == list(range(ENTRY_BITS)), lay.name
            for f in lay.fields:
                assert f.source.file == pm.TASK_MMU or f.alias_of, f.name


def test_field_names_follow_pm_macros() -> None:
    assert [f.name for f in pm.pfn_layout(M618).owners] == [
        "present", "swap", "file", "reserved_59_60", "guard_region", "uffd_wp", "mmap_exclusive", "soft_dirty", "pfn"]
    swap = pm.swap_layout(M618, "pte_marker")
    assert {f.name for f in swap.fields} >= {"swap_type", "swap_offset", "marker_uffd_wp", "marker_guard"}
    assert "pfn" in pm.swap_layout(M618, "migration_write")
    assert "mig_young" not in pm.swap_layout(M618, "migration_write")  # pagemap strips them


def test_bits_get_their_meaning_by_version() -> None:
    names = {v: [f.name for f in pm.pfn_layout(model(v)).owners] for v in ((4, 0), (5, 10), (6, 12), (6, 15))}
    assert "reserved_56" in names[(4, 0)] and "mmap_exclusive" in names[(5, 10)]
    assert "reserved_57" in names[(5, 10)] and "uffd_wp" in names[(6, 12)]
    assert "reserved_58" in names[(6, 12)] and "guard_region" in names[(6, 15)]


# --- every class --------------------------------------------------------------------------------

def test_none_and_soft_dirty_none() -> None:
    e = decode(0)
    assert (e.cls, e.flags, e.problems, e.swap, e.marker) == ("none", (), (), None, None)
    e = decode(SD)
    assert e.cls == "none" and e.flags == ("soft_dirty",) and not e.problems


def test_present_anonymous_and_file() -> None:
    e = decode(0x8100_0000_001A_D106)  # seen on 6.18: anon, touched
    assert e.cls == "present" and e.field_values["pfn"] == 0x1AD106 and e.pfn == 0x1AD106
    assert e.flags == ("mmap_exclusive", "present")
    e = decode(0xA300_0000_001A_E247)  # shmem + uffd-wp, present
    assert e.cls == "present" and e.flags == ("mmap_exclusive", "uffd_wp", "file", "present")


def test_real_swap_entry_with_type_and_offset() -> None:
    e = decode(swap_record(3, 0x1234, SD | UFFD))
    assert e.cls == "swap" and e.swap == pm.SwapInfo(3, 0x1234, "swapfile")
    assert e.flags == ("soft_dirty", "uffd_wp", "swap") and not e.problems and e.marker is None


def test_guard_marker_is_a_pte_marker_not_a_swapped_page() -> None:
    e = decode(0x4400_0000_0000_009F)  # seen on 6.18: MADV_GUARD_INSTALL
    assert e.cls == "pte_marker" and e.marker == ("guard",)
    assert e.swap == pm.SwapInfo(31, 4, "pte_marker") and not e.problems
    assert "guard_region" in e.flags and "marker_guard" in e.flags


def test_uffd_wp_marker() -> None:
    e = decode(0x4200_0000_0000_003F)  # shmem + uffd-wp, then MADV_DONTNEED
    assert e.cls == "pte_marker" and e.marker == ("uffd_wp",) and "uffd_wp" in e.flags and not e.problems


@pytest.mark.parametrize(("name", "cls"), [
    ("migration_read", "migration"), ("migration_read_exclusive", "migration"), ("migration_write", "migration"),
    ("device_write", "device_private"), ("device_read", "device_private"), ("device_exclusive", "device_exclusive"),
    ("hwpoison", "hwpoison"),
])
def test_pfn_swap_entries(name: str, cls: str) -> None:
    e = decode(swap_record(type_of(M618, name), 0x1AD106, FILE))
    assert e.cls == cls and e.swap is not None and e.swap.type_name == name
    assert e.field_values["pfn"] == 0x1AD106 and e.pfn == 0x1AD106 and not e.problems


def test_swap_types_follow_the_kernel_numbering() -> None:
    m61, m519, m612 = model((6, 1)), model((5, 19)), model((6, 12))
    assert decode(swap_record(type_of(m61, "swapin_error"), 0x42), m61).cls == "swapin_error"
    assert decode(swap_record(30, 1, UFFD), m61).cls == "pte_marker"  # SWP_PTE_MARKER 30 in 6.0-6.1
    assert decode(swap_record(30, 1, UFFD), m519).cls == "pte_marker"  # and in 5.19 (SWAPIN_ERROR is 31)
    assert decode(swap_record(type_of(m612, "device_exclusive_read"), 5), m612).cls == "device_exclusive"
    running = model((6, 18), frozenset({"CONFIG_MIGRATION", "CONFIG_HAVE_ARCH_USERFAULTFD_WP"}))
    assert decode(swap_record(28, 0x10), running).cls == "migration"  # MAX_SWAPFILES 28 there
    assert decode(swap_record(27, 0x10), running).cls == "swap"


def test_guard_bit_before_pm_guard_region() -> None:
    m613, m612 = model((6, 13)), model((6, 12))
    e = decode(0x4000_0000_0000_009F, m613)  # 6.13-6.14: a guard marker, no bit 58 yet
    assert e.cls == "pte_marker" and e.marker == ("guard",) and not e.problems
    e = decode(0x4000_0000_0000_009F, m612)  # 6.12 has no guard marker bit
    assert e.cls == "pte_marker" and any("does not define" in p for p in e.problems)
    assert decode(0x4400_0000_0000_009F, m612).cls == "invalid"  # bit 58 is reserved there


# --- invalid: records no kernel writes ------------------------------------------------------------

@pytest.mark.parametrize(("value", "words"), [
    (PRESENT | SWAP | 0x1234, "present and swap are both set"),
    (PRESENT | 1 << 59 | 0x1234, "reserved_59_60 (bits 60-59) is 0x1"),
    (GUARD, "guard_region is set, but the record is not a guard PTE marker"),
    (PRESENT | GUARD | 0x10, "guard_region is set"),
    (swap_record(3, 4, GUARD), "guard_region is set"),
    (FILE, "file is set, but the record holds no page"),
    (swap_record(3, 9, FILE), "file is set"),
    (0x4200_0000_0000_009F | FILE, "file is set"),
    (EXCL, "mmap_exclusive is set"),
    (swap_record(3, 9, EXCL), "mmap_exclusive is set"),
    (swap_record(27, 9, EXCL), "mmap_exclusive is set, but kernel 6.18 sets PM_MMAP_EXCLUSIVE only for a present"),
    (0x5, "bits 0-54 hold 0x5"),
    (0x4000_0000_0000_009F, "a guard PTE marker without guard_region"),
    (0x4600_0000_0000_009F, "uffd_wp is set, but the PTE marker's uffd_wp bit is clear"),
    (0x4000_0000_0000_003F, "the PTE marker's uffd_wp bit is set, but uffd_wp is clear"),
])
def test_invalid_records(value: int, words: str) -> None:
    e = decode(value)
    assert e.cls == "invalid", e.problems
    assert any(words in p for p in e.problems), e.problems


@pytest.mark.parametrize(("version", "release", "entry", "allowed"), [
    # device and hwpoison entries lose PM_MMAP_EXCLUSIVE in 6.11 (da7f31ed0f4d; stable 6.6.44, 6.10.3)
    ((6, 1), None, "device_write", True),
    ((6, 10), None, "device_write", True),
    ((6, 10), "6.10.2", "device_write", True),
    ((6, 10), "6.10.3", "device_write", False),
    ((6, 6), "6.6.43", "hwpoison", True),
    ((6, 6), "6.6.44-fc40", "hwpoison", False),
    ((6, 11), None, "device_write", False),
    # migration entries lose it in 5.17 (24d7275ce279; stable 5.10.102, 5.15.25, 5.16.11)
    ((5, 10), None, "migration_write", True),
    ((5, 10), "5.10.101", "migration_write", True),
    ((5, 10), "5.10.102", "migration_write", False),
    ((5, 15), "5.15.24", "migration_write", True),
    ((5, 15), "5.15.25", "migration_write", False),
    ((5, 16), None, "migration_read", True),
    ((5, 16), "5.16.11", "migration_read", False),
    ((5, 17), None, "migration_read", False),
    ((6, 1), None, "migration_write", False),
])
def test_which_swap_entries_a_kernel_marks_exclusive(version: tuple[int, int], release: str | None, entry: str,
                                                     allowed: bool) -> None:
    """Both decoders: a stable release that took the change (6.6.44) follows it; a bare 6.6 does not."""
    from dataclasses import replace

    import numpy as np

    m = replace(model(version), release=release)
    value = swap_record(type_of(m, entry), 9, EXCL)
    e = decode(value, m)
    if allowed:
        assert e.cls != "invalid" and not e.problems, e.problems
    else:
        assert e.cls == "invalid" and any(f"mmap_exclusive is set, but kernel {release or m.label} sets" in p
                                          for p in e.problems), e.problems
    for count in (3, 5000):  # record by record, and as one progression
        _flags, cls, pmask = pm.decode_chunk(np.array([value] * count, dtype=np.uint64), pm.rules_for(m), True)
        assert set(cls.tolist()) == {pm.CODE[e.cls]} and set(pmask.tolist()) == {e.pmask}


# --- problems that keep the class -----------------------------------------------------------------

def test_hugetlb_uffd_wp_without_present_or_swap() -> None:
    e = decode(UFFD)
    assert e.cls == "none" and e.flags == ("uffd_wp",)
    assert e.problems and "pagemap_hugetlb_range()" in e.problems[0]


@pytest.mark.parametrize(("value", "cls", "words"), [
    (PRESENT | 1 << 40, "present", "lies beyond the 46-bit physical address width"),
    (swap_record(2, 0), "swap", "swap offset 0 is the swap header page"),
    (swap_record(2, 1 << 33), "swap", "is beyond any swap area"),
    (swap_record(31, 0), "pte_marker", "empty PTE marker"),
    (swap_record(31, 0x21, UFFD), "pte_marker", "marker offset 0x21 sets bits"),
    (swap_record(27, 1 << 40), "migration", "sets bits above SWP_PFN_BITS 34"),
])
def test_odd_but_classified(value: int, cls: str, words: str) -> None:
    e = decode(value)
    assert e.cls == cls and any(words in p for p in e.problems), e.problems


def test_bits_the_model_cannot_have() -> None:
    bare = model((6, 18), frozenset({"CONFIG_MIGRATION"}))
    e = decode(PRESENT | SD | UFFD | 0x10, bare)
    assert e.cls == "present"
    assert any("CONFIG_MEM_SOFT_DIRTY" in p for p in e.problems)
    assert any("CONFIG_HAVE_ARCH_USERFAULTFD_WP" in p for p in e.problems)


# --- zeroed pfns (no CAP_SYS_ADMIN) ----------------------------------------------------------------

def test_zeroed_present_pfn_is_said_not_printed_as_zero() -> None:
    e = decode(PRESENT | EXCL, zeroed_rule=True)
    assert e.cls == "present" and e.zeroed and e.pfn is None
    assert e.problems == ("pfn zeroed: the reader lacked CAP_SYS_ADMIN, so pagemap hid the page frame number",)
    real = decode(PRESENT | EXCL, zeroed_rule=False)
    assert not real.zeroed and real.pfn == 0 and not real.problems


@pytest.mark.parametrize(("value", "cls", "marker", "words"), [
    (SWAP | GUARD, "pte_marker", ("guard",), "guard_region makes it a guard PTE marker"),
    (SWAP | FILE, "migration", None, "class migration assumed"),
    (SWAP | UFFD, "swap", None, "read the same; class swap assumed"),
    (SWAP, "swap", None, "class swap assumed"),
])
def test_zeroed_swap_entries_are_classed_from_their_flags(value: int, cls: str, marker: tuple[str, ...] | None,
                                                          words: str) -> None:
    e = decode(value, zeroed_rule=True)
    assert e.cls == cls and e.marker == marker and e.zeroed and e.swap is None
    assert e.problems[0].startswith("swap type and offset zeroed: the reader lacked CAP_SYS_ADMIN")
    assert words in e.problems[0]


def test_a_record_with_a_frame_is_never_zeroed() -> None:
    assert not decode(PRESENT | 5, zeroed_rule=True).zeroed
    assert not decode(0, zeroed_rule=True).zeroed  # none records have no frame to hide


# --- encode_fields -----------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    0, SD, 0x8100_0000_001A_D106, 0x4400_0000_0000_009F, 0x4200_0000_0000_003F, swap_record(27, 0x1234, FILE),
    PRESENT | SWAP | 5, (1 << 64) - 1,
])
def test_encode_fields_rebuilds_the_value(value: int) -> None:
    for m in (M618, model((6, 1)), model((4, 0), frozenset())):
        assert pm.encode_fields(decode(value, m).field_values, m) == value


def test_encode_fields_names_what_is_wrong() -> None:
    with pytest.raises(UsageError, match="has no field 'pte'"):
        pm.encode_fields({"pfn": 1, "pte": 2}, M618)
    with pytest.raises(UsageError, match="pfn takes 0 to"):
        pm.encode_fields({"pfn": 1 << 60}, M618)
    with pytest.raises(UsageError, match="disagrees"):
        pm.encode_fields({"swap_type": 31, "swap_offset": 4, "marker_guard": 0}, M618)
    assert pm.encode_fields({"present": 1, "pfn": 0x10}) == PRESENT | 0x10  # default model


def test_decode_refuses_only_values_beyond_64_bits() -> None:
    with pytest.raises(UsageError):
        pm.decode_record(1 << 64, R618)


def test_every_option_set_decodes_every_flag_combination() -> None:
    for enabled in OPTION_SETS[:: max(1, len(OPTION_SETS) // 8)]:
        rules = pm.rules_for(model((6, 18), enabled))
        for f9 in range(512):
            for frame in (0, 1, 31 | 4 << 5):
                e = pm.decode_record(f9 << 55 | frame, rules, True)
                assert e.cls in pm.CLASSES
                assert pm.encode_fields(e.field_values, rules.model) == f9 << 55 | frame


# --- maps -------------------------------------------------------------------------------------------

MAPS = """\
55d4c8a00000-55d4c8a21000 r--p 00000000 fd:01 1234                       /usr/bin/python3.11
55d4c8c00000-55d4c8c42000 rw-p 00000000 00:00 0                          [heap]
7f0000000000-7f0000100000 rw-p 00000000 00:00 0
7f0000100000-7f0000104000 rw-s 00000000 00:01 77                         /memfd:a b (deleted)
7ffd00000000-7ffd00021000 rw-p 00000000 00:00 0                          [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]
"""


def test_parse_maps() -> None:
    vmas = pm.parse_maps(MAPS)
    assert [v.name for v in vmas] == ["/usr/bin/python3.11", "[heap]", "[anon]", "/memfd:a b (deleted)", "[stack]",
                                      "[vsyscall]"]
    assert vmas[3].perms == "rw-s" and vmas[3].inode == 77 and vmas[2].start == 0x7F00_0000_0000
    with pytest.raises(WorkError, match="line 2: not a /proc/PID/maps line"):
        pm.parse_maps("55d4c8a00000-55d4c8a21000 r--p 00000000 fd:01 1 x\nbogus\n")
    with pytest.raises(WorkError, match="overlap"):
        pm.parse_maps("1000-3000 r--p 0 00:00 0\n2000-4000 r--p 0 00:00 0\n")


def test_select_vmas_by_name_basename_or_address() -> None:
    vmas = pm.parse_maps(MAPS)
    assert [v.name for v in pm.select_vmas(vmas, ["[heap]"])] == ["[heap]"]
    assert [v.name for v in pm.select_vmas(vmas, ["python3.11"])] == ["/usr/bin/python3.11"]
    assert [v.name for v in pm.select_vmas(vmas, ["0x7f0000100010"])] == ["/memfd:a b (deleted)"]
    assert len(pm.select_vmas(vmas, ["[heap]", "[stack]"])) == 2
    with pytest.raises(UsageError, match="--vma 'nothing'"):
        pm.select_vmas(vmas, ["nothing"])


@pytest.mark.parametrize(("text", "expected"), [
    ("7f0000000000-7f0000002000", (0x7F00_0000_0000, 0x7F00_0000_2000)),
    ("0x1001-0x1002", (0x1000, 0x2000)),
])
def test_parse_range(text: str, expected: tuple[int, int]) -> None:
    assert pm.parse_range(text, 4096) == (expected, [])


@pytest.mark.parametrize("text", ["7f00", "2000-1000", "zz-1000", "1000-"])
def test_bad_range(text: str) -> None:
    with pytest.raises(UsageError, match="--range"):
        pm.parse_range(text, 4096)
