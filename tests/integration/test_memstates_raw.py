"""Raw /proc/PID/pagemap records of real memory states (no ptetool involved).

One child process holds every state for the whole module; the swap states
run on a temporary swap file that is always removed afterwards.  A state
that this machine cannot build is skipped with the child's reason; a state
whose builder crashed fails.

Bit 55 (soft-dirty) is masked out on kernels that may have CONFIG_MEM_SOFT_DIRTY:
there every fresh VMA carries VM_SOFTDIRTY, which sets bit 55 on all records.
"""

from __future__ import annotations

import platform
import sys

import pytest

if not sys.platform.startswith("linux"):
    pytest.skip(f"Linux only (this is {sys.platform})", allow_module_level=True)

from . import memstates as ms
from .conftest import need

PROBE = ms.probe()
if PROBE["pagemap"]:
    pytest.skip(PROBE["pagemap"], allow_module_level=True)

KV = ms.kernel_version()
IGNORE = ms.PM_SOFT_DIRTY if ms.soft_dirty_possible() else 0

PRESENT, SWAP, FILE = ms.PM_PRESENT, ms.PM_SWAP, ms.PM_FILE
EXCL, UFFD_WP, GUARD = ms.PM_MMAP_EXCLUSIVE, ms.PM_UFFD_WP, ms.PM_GUARD_REGION

# Exact PTE-marker records (swap type 31 on 5.19 and 6.2+, offset = marker bit):
MARKER_UFFD_WP = 0x4200_0000_0000_003F          # SWAP|UFFD_WP, 31 | 1<<5
MARKER_GUARD_615 = 0x4400_0000_0000_009F        # SWAP|GUARD_REGION, 31 | 4<<5 (6.15+)
MARKER_GUARD_613 = 0x4000_0000_0000_009F        # 6.13-6.14: no PM_GUARD_REGION yet
if (5, 19) <= KV < (6, 2):                      # SWP_SWAPIN_ERROR took 31: markers were 30
    MARKER_UFFD_WP = 0x4200_0000_0000_003E


def flags(rec: int) -> int:
    return rec & ms.PM_FLAGS_MASK & ~IGNORE


def hexes(recs):
    return [hex(r) for r in recs]


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def child(swap):
    # `swap` first, so the child is stopped before the swap file goes away.
    names = [n for n in ms.STATES if n not in ms.SOLO_STATES]
    with ms.spawn(names) as c:
        yield c


def records(child, name: str, swap=None) -> list[int]:
    if isinstance(swap, str):
        pytest.skip(f"{name}: no swap: {swap}")
    if name in child.errors:
        pytest.fail(f"building state {name!r} crashed in the child:\n{child.errors[name]}")
    if name in child.skipped:
        pytest.skip(f"{name}: {child.skipped[name]}")
    st = child.states[name]
    return ms.read_pagemap(child.pid, st["addr"], st["pages"])


def assert_flags(recs, expected: int) -> None:
    assert [flags(r) for r in recs] == [expected] * len(recs), hexes(recs)


def assert_distinct_real_pfns(recs) -> None:
    if PROBE["pfn"]:
        assert all(ms.pfn_of(r) == 0 for r in recs), hexes(recs)   # hidden, not garbage
        return
    pfns = [ms.pfn_of(r) for r in recs]
    assert all(pfns), hexes(recs)
    assert len(set(pfns)) == len(pfns), hexes(recs)


def assert_swap_entries(recs, swap) -> None:
    if PROBE["pfn"]:
        assert all(r & ms.PM_PFRAME_MASK == 0 for r in recs), hexes(recs)
        return
    assert [ms.swap_type_of(r) for r in recs] == [swap.type_index] * len(recs), hexes(recs)
    offsets = [ms.swap_offset_of(r) for r in recs]
    # slot 0 holds the swap header; usable slots are 1..pages
    assert all(1 <= o <= swap.pages for o in offsets), hexes(recs)
    assert len(set(offsets)) == len(offsets), hexes(recs)


# --------------------------------------------------------------------------- present pages
def test_anon(child):
    recs = records(child, "anon")
    assert_flags(recs, PRESENT | EXCL)
    assert_distinct_real_pfns(recs)


def test_anon_untouched(child):
    recs = records(child, "anon_untouched")
    assert [r & ~IGNORE for r in recs] == [0] * len(recs), hexes(recs)


def test_mlocked(child):
    recs = records(child, "mlocked")
    assert_flags(recs, PRESENT | EXCL)
    assert_distinct_real_pfns(recs)


def test_file(child):
    recs = records(child, "file")
    assert_flags(recs, PRESENT | FILE | EXCL)
    assert_distinct_real_pfns(recs)


def test_file_private_cow(child):
    recs = records(child, "file_private_cow")
    assert_flags(recs, PRESENT | EXCL)          # the COW copies are anon: no PM_FILE
    assert_distinct_real_pfns(recs)


def test_shmem(child):
    recs = records(child, "shmem")
    assert_flags(recs, PRESENT | FILE | EXCL)
    assert_distinct_real_pfns(recs)


def test_zero_page(child):
    recs = records(child, "zero_page")
    # vm_normal_page() is NULL for the zero page: no PM_FILE, no PM_MMAP_EXCLUSIVE
    assert_flags(recs, PRESENT)
    need("pfn")
    pfns = {ms.pfn_of(r) for r in recs}
    assert len(pfns) == 1 and 0 not in pfns, hexes(recs)
    if not PROBE["kpageflags"]:
        kpf = ms.read_kpageflags(pfns.pop())
        assert kpf >> ms.KPF_ZERO_PAGE & 1, hex(kpf)


def test_protnone(child):
    recs = records(child, "protnone")
    # P=0,G=1 in the PTE still counts as present; the PFN comes out de-inverted
    assert_flags(recs, PRESENT | EXCL)
    assert_distinct_real_pfns(recs)


def test_anon_cow_shared(child):
    recs = records(child, "anon_cow_shared")
    assert_flags(recs, PRESENT)                 # mapcount 2 after fork: not exclusive
    assert_distinct_real_pfns(recs)
    st = child.states["anon_cow_shared"]
    peer = ms.read_pagemap(st["peer_pid"], st["addr"], st["pages"])
    assert peer == recs, (hexes(recs), hexes(peer))


def test_thp(child):
    need("thp")
    recs = records(child, "thp")
    assert len(recs) == ms.thp_pmd_size() // ms.PAGE_SIZE
    assert_flags(recs, PRESENT | EXCL)
    need("pfn")
    first = ms.pfn_of(recs[0])
    assert first and first % len(recs) == 0, hex(first)
    assert [ms.pfn_of(r) for r in recs] == list(range(first, first + len(recs))), \
        hexes(recs[:4])
    if not PROBE["kpageflags"]:
        kpf = ms.read_kpageflags(first)
        assert kpf >> ms.KPF_THP & 1 and kpf >> ms.KPF_COMPOUND_HEAD & 1, hex(kpf)


# --------------------------------------------------------------------------- swap entries
def test_swapped(child, swap):
    recs = records(child, "swapped", swap)
    assert_flags(recs, SWAP)                    # no PM_MMAP_EXCLUSIVE for swap entries
    assert_swap_entries(recs, swap)


def test_uffd_wp_swapped(child, swap):
    need("uffd_wp")
    recs = records(child, "uffd_wp_swapped", swap)
    assert_flags(recs, SWAP | UFFD_WP)          # swap PTE bit 2 -> PM_UFFD_WP
    assert_swap_entries(recs, swap)


# --------------------------------------------------------------------------- uffd-wp
def test_uffd_wp_present(child):
    need("uffd_wp")
    recs = records(child, "uffd_wp_present")
    assert_flags(recs, PRESENT | EXCL | UFFD_WP)
    assert_distinct_real_pfns(recs)


def test_uffd_wp_shmem(child):
    need("uffd_wp_shmem")
    recs = records(child, "uffd_wp_shmem")
    assert_flags(recs, PRESENT | FILE | EXCL | UFFD_WP)
    assert_distinct_real_pfns(recs)


def test_uffd_wp_marker(child):
    need("uffd_wp_shmem")
    recs = records(child, "uffd_wp_marker")
    expected = MARKER_UFFD_WP if not PROBE["pfn"] else MARKER_UFFD_WP & ms.PM_FLAGS_MASK
    assert [r & ~IGNORE for r in recs] == [expected] * len(recs), hexes(recs)


def test_uffd_wp_unpopulated(child):
    need("uffd_wp_unpopulated")
    recs = records(child, "uffd_wp_unpopulated")
    expected = MARKER_UFFD_WP if not PROBE["pfn"] else MARKER_UFFD_WP & ms.PM_FLAGS_MASK
    assert [r & ~IGNORE for r in recs] == [expected] * len(recs), hexes(recs)


# --------------------------------------------------------------------------- guard
def test_guard(child):
    need("guard")
    recs = records(child, "guard")
    expected = MARKER_GUARD_615 if KV >= (6, 15) else MARKER_GUARD_613
    if PROBE["pfn"]:
        expected &= ms.PM_FLAGS_MASK
    assert [r & ~IGNORE for r in recs] == [expected] * len(recs), hexes(recs)


# --------------------------------------------------------------------------- soft-dirty
def test_softdirty():
    # clear_refs acts on the whole mm, so this state gets a child of its own.
    with ms.spawn(["softdirty"]) as c:
        recs = records(c, "softdirty")
        assert [bool(r & ms.PM_SOFT_DIRTY) for r in recs] == [True, True, False, False], \
            hexes(recs)
        assert [r & ms.PM_FLAGS_MASK & ~ms.PM_SOFT_DIRTY for r in recs] == \
            [PRESENT | EXCL] * len(recs), hexes(recs)


# --------------------------------------------------------------------------- the harness itself
@pytest.mark.parametrize("name", [n for n in ms.STATES if n not in ms.SOLO_STATES])
def test_expect_metadata(child, swap, name):
    """Each state's own `expect` (what the lead's ptetool tests may rely on) holds."""
    recs = records(child, name, swap if name in ms.SWAP_STATES else None)
    exp = child.states[name]["expect"]
    for r in recs:
        assert all(r >> b & 1 for b in exp["set"]), (name, hex(r), exp)
        assert not any(r >> b & 1 for b in exp["clear"]), (name, hex(r), exp)
        if exp["exact"] is not None and not PROBE["pfn"]:
            assert r & ~IGNORE == exp["exact"], (name, hex(r), exp)


def test_spawn_reports_unknown_state_as_error():
    with ms.spawn(["no_such_state"]) as c:
        assert not c.states and not c.skipped
        assert "unknown state" in c.errors["no_such_state"]


@pytest.mark.skipif(platform.machine() != "x86_64", reason="x86_64 ioctl encoding")
def test_uffd_ioctl_numbers():
    assert ms.UFFDIO_API == 0xC018AA3F
    assert ms.UFFDIO_REGISTER == 0xC020AA00
    assert ms.UFFDIO_WRITEPROTECT == 0xC018AA06
