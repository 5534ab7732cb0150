"""`ptetool pagemap --pid` on real memory states of a child process, read by this machine's kernel.

The states come from memstates.py (anonymous, file, shmem, zero page, PROT_NONE, swapped,
uffd-wp present / swapped / marker, guard region, THP). Each test probes for what it needs and
skips with the reason when this machine lacks it; the swapped states run on a temporary swap file
that is always switched off and removed. ptetool runs in-process (click's CliRunner) with the
running kernel's model, as a user would run it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli_helpers import run

if not sys.platform.startswith("linux"):
    pytest.skip(f"Linux only (this is {sys.platform})", allow_module_level=True)

from . import memstates as ms
from .conftest import need

PROBE = ms.probe()
if PROBE["pagemap"]:
    pytest.skip(PROBE["pagemap"], allow_module_level=True)

KV = ms.kernel_version()
STATES = ["anon", "anon_untouched", "file", "shmem", "zero_page", "protnone", "swapped", "uffd_wp_present",
          "uffd_wp_swapped", "uffd_wp_marker", "uffd_wp_unpopulated", "guard", "thp"]




@pytest.fixture(scope="module")
def child(swap: ms.SwapInfo | str) -> Iterator[ms.Child]:
    # `swap` first, so the child is stopped before the swap file goes away
    with ms.spawn(STATES) as c:
        yield c


def state(child: ms.Child, name: str, swap: ms.SwapInfo | str | None = None) -> dict[str, Any]:
    if isinstance(swap, str):
        pytest.skip(f"{name}: no swap: {swap}")
    if name in child.errors:
        pytest.fail(f"building state {name!r} crashed in the child:\n{child.errors[name]}")
    if name in child.skipped:
        pytest.skip(f"{name}: {child.skipped[name]}")
    return child.states[name]  # type: ignore[no-any-return]


def pagemap(child: ms.Child, name: str, *args: str, swap: ms.SwapInfo | str | None = None) -> list[dict[str, Any]]:
    """ptetool's NDJSON records for the pages of one state."""
    st = state(child, name, swap)
    lo, hi = st["addr"], st["addr"] + st["pages"] * ms.PAGE_SIZE
    result = run("pagemap", "--pid", str(child.pid), "--range", f"{lo:x}-{hi:x}", "--format", "ndjson", *args)
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [int(r["vaddr"], 16) for r in records] == list(range(lo, hi, ms.PAGE_SIZE))
    for r in records:  # every record carries its mapping
        assert int(r["vma"]["start"], 16) <= int(r["vaddr"], 16) < int(r["vma"]["end"], 16)
    return records


def classes(records: list[dict[str, Any]]) -> set[str]:
    return {r["class"] for r in records}


def flags(records: list[dict[str, Any]]) -> set[tuple[str, ...]]:
    """The PM_* flags of the records (soft-dirty left out: VM_SOFTDIRTY may set it on every page)."""
    names = ("mmap_exclusive", "uffd_wp", "guard_region", "file", "swap", "present")
    return {tuple(f for f in r["flags"] if f in names) for r in records}


def pfns(records: list[dict[str, Any]]) -> list[int]:
    if PROBE["pfn"]:  # without CAP_SYS_ADMIN the kernel hides them, and ptetool says so
        assert all(r["zeroed"] and "pfn zeroed" in r["problems"][0] for r in records)
        pytest.skip(PROBE["pfn"])
    assert not any(r["zeroed"] for r in records)
    return [r["fields"]["pfn"] for r in records]


def test_anonymous(child: ms.Child) -> None:
    recs = pagemap(child, "anon")
    assert classes(recs) == {"present"} and flags(recs) == {("mmap_exclusive", "present")}
    assert {r["vma"]["perms"] for r in recs} == {"rw-p"} and {r["vma"]["name"] for r in recs} == {"[anon]"}
    got = pfns(recs)
    assert all(got) and len(set(got)) == len(got)


def test_untouched_anonymous_is_none(child: ms.Child) -> None:
    recs = pagemap(child, "anon_untouched")
    assert classes(recs) == {"none"} and not any(r["problems"] for r in recs)


def test_file_backed(child: ms.Child) -> None:
    recs = pagemap(child, "file")
    assert classes(recs) == {"present"} and flags(recs) == {("mmap_exclusive", "file", "present")}
    name = recs[0]["vma"]["name"]
    assert "memstates-file-" in name and name.endswith("(deleted)") and recs[0]["vma"]["perms"] == "r--s"
    assert all(pfns(recs))


def test_shared_anonymous_is_shmem(child: ms.Child) -> None:
    recs = pagemap(child, "shmem")
    assert classes(recs) == {"present"} and flags(recs) == {("mmap_exclusive", "file", "present")}
    assert recs[0]["vma"]["perms"] == "rw-s"
    assert all(pfns(recs))


def test_zero_page(child: ms.Child) -> None:
    recs = pagemap(child, "zero_page")
    assert classes(recs) == {"present"} and flags(recs) == {("present",)}  # not exclusive, not file
    assert len(set(pfns(recs))) == 1
    if PROBE["kpageflags"]:
        pytest.skip(PROBE["kpageflags"])
    joined = pagemap(child, "zero_page", "--kpageflags")
    assert all("zero_page" in r["kpageflags"] for r in joined)


def test_prot_none_is_present(child: ms.Child) -> None:
    recs = pagemap(child, "protnone")
    assert classes(recs) == {"present"} and flags(recs) == {("mmap_exclusive", "present")}
    assert recs[0]["vma"]["perms"] == "---p"
    assert all(pfns(recs))


def swap_entries(recs: list[dict[str, Any]], swap: ms.SwapInfo) -> None:
    pfns_hidden = PROBE["pfn"]
    if pfns_hidden:
        assert all(r["zeroed"] and r["swap"] is None for r in recs)
        pytest.skip(pfns_hidden)
    assert [r["swap"]["type"] for r in recs] == [swap.type_index] * len(recs)
    assert {r["swap"]["type_name"] for r in recs} == {"swapfile"}
    offsets = [r["swap"]["offset"] for r in recs]
    assert all(1 <= o <= swap.pages for o in offsets) and len(set(offsets)) == len(offsets)
    assert not any(r["problems"] for r in recs)


def test_swapped_out(child: ms.Child, swap: ms.SwapInfo | str) -> None:
    recs = pagemap(child, "swapped", swap=swap)
    assert classes(recs) == {"swap"} and flags(recs) == {("swap",)}
    assert isinstance(swap, ms.SwapInfo)
    swap_entries(recs, swap)


def test_uffd_wp_present(child: ms.Child) -> None:
    need("uffd_wp")
    recs = pagemap(child, "uffd_wp_present")
    assert classes(recs) == {"present"} and flags(recs) == {("mmap_exclusive", "uffd_wp", "present")}


def test_uffd_wp_on_a_swapped_page(child: ms.Child, swap: ms.SwapInfo | str) -> None:
    need("uffd_wp")
    recs = pagemap(child, "uffd_wp_swapped", swap=swap)
    assert classes(recs) == {"swap"} and flags(recs) == {("uffd_wp", "swap")}
    assert {r["marker"] is None for r in recs} == {True}
    assert isinstance(swap, ms.SwapInfo)
    swap_entries(recs, swap)


@pytest.mark.parametrize("name", ["uffd_wp_marker", "uffd_wp_unpopulated"])
def test_uffd_wp_pte_marker(child: ms.Child, name: str) -> None:
    need("uffd_wp_shmem" if name == "uffd_wp_marker" else "uffd_wp_unpopulated")
    recs = pagemap(child, name)
    if PROBE["pfn"]:
        assert all(r["zeroed"] for r in recs)
        pytest.skip(f"{PROBE['pfn']}: a uffd-wp marker and a write-protected swapped page read the same")
    assert classes(recs) == {"pte_marker"} and flags(recs) == {("uffd_wp", "swap")}
    assert all(r["marker"] == ["uffd_wp"] and r["swap"]["type_name"] == "pte_marker" for r in recs)
    assert not any(r["problems"] for r in recs)


def test_guard_region(child: ms.Child) -> None:
    need("guard")
    recs = pagemap(child, "guard")
    assert classes(recs) == {"pte_marker"}
    assert flags(recs) == ({("guard_region", "swap")} if KV >= (6, 15) else {("swap",)})
    if PROBE["pfn"] and KV >= (6, 15):  # PM_GUARD_REGION still tells, without CAP_SYS_ADMIN
        assert all(r["marker"] == ["guard"] and r["zeroed"] for r in recs)
        return
    assert all(r["marker"] == ["guard"] and r["swap"] == {"type": r["swap"]["type"], "offset": 4,
                                                          "type_name": "pte_marker"} for r in recs)
    assert not any(r["problems"] for r in recs)


def test_thp(child: ms.Child) -> None:
    need("thp")
    recs = pagemap(child, "thp")
    assert classes(recs) == {"present"} and flags(recs) == {("mmap_exclusive", "present")}
    got = pfns(recs)
    assert got == list(range(got[0], got[0] + len(got))) and got[0] % len(got) == 0
    if PROBE["kpageflags"]:
        pytest.skip(PROBE["kpageflags"])
    first = pagemap(child, "thp", "--kpageflags")[0]["kpageflags"]
    assert "thp" in first and "compound_head" in first


def test_summary_of_the_child(child: ms.Child) -> None:
    st = state(child, "guard" if "guard" in child.states else "anon")
    result = run("pagemap", "--pid", str(child.pid), "--vma", hex(st["addr"]), "--format", "summary")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    runs = [line for line in lines[1:] if line.startswith("0x")]
    assert runs and "total" in lines[-1] + lines[-2]
    if "guard" in child.states:
        assert any("pte_marker" in line and "marker guard" in line for line in runs)


def test_filter_finds_the_markers(child: ms.Child) -> None:
    need("guard")
    st = state(child, "guard")
    result = run("pagemap", "--pid", str(child.pid), "--filter", "pte_marker", "--format", "csv")
    assert result.exit_code == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    guard_rows = [r for r in rows if int(r.split(",")[1], 16) in range(st["addr"], st["addr"] + 4 * ms.PAGE_SIZE)]
    assert len(guard_rows) == st["pages"] and all(",pte_marker," in r for r in guard_rows)


def without_cap_sys_admin(child: ms.Child, name: str, *args: str) -> subprocess.CompletedProcess[str]:
    """`ptetool pagemap --pid` over one state, run by setpriv with CAP_SYS_ADMIN dropped (skips where it cannot)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.skip("no setpriv (util-linux) to drop CAP_SYS_ADMIN")
    if PROBE["pfn"]:
        pytest.skip("this process already lacks CAP_SYS_ADMIN")
    st = state(child, name)
    lo, hi = st["addr"], st["addr"] + st["pages"] * ms.PAGE_SIZE
    cmd = [setpriv, "--inh-caps=-sys_admin", "--bounding-set=-sys_admin", sys.executable, "-m", "ptetool", "pagemap",
           "--pid", str(child.pid), "--range", f"{lo:x}-{hi:x}", *args]
    proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    if proc.returncode and "setpriv" in proc.stderr:
        pytest.skip(f"setpriv cannot drop the capability here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    return proc


def test_without_cap_sys_admin(child: ms.Child) -> None:
    """Drop CAP_SYS_ADMIN with setpriv: pfns read as 0 and ptetool says so instead of printing pfn 0."""
    proc = without_cap_sys_admin(child, "anon", "--format", "ndjson")
    recs = [json.loads(line) for line in proc.stdout.splitlines()]
    assert classes(recs) == {"present"} and all(r["zeroed"] for r in recs)
    assert all(r["problems"][0].startswith("pfn zeroed: the reader lacked CAP_SYS_ADMIN") for r in recs)
    assert "no CAP_SYS_ADMIN" in proc.stderr


def test_address_space_picture_of_a_live_process(child: ms.Child, tmp_path: Any) -> None:
    """Issue #8.10 on real memory: the picture's totals are the summary's, markers sit where they were made."""
    import xml.etree.ElementTree as ET

    svg = tmp_path / "as.svg"
    result = run("pagemap", "--pid", str(child.pid), "--format", "summary", "--no-runs", "--svg", str(svg))
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    header = lines[0].split()
    total = next(line.split() for line in lines if line.startswith("total"))
    summary = dict(zip(header[2:-1], map(int, total[1:]), strict=False))
    root = ET.parse(svg).getroot()
    totals = {k.removeprefix("data-total-"): int(v) for k, v in root.attrib.items() if k.startswith("data-total-")}
    markers = sum(n for cat, n in totals.items() if cat.endswith("marker"))
    assert markers == summary.get("pte_marker", 0)
    for cls in ("present", "none", "swap", "migration"):
        assert totals.get(cls, 0) == summary.get(cls, 0), cls
    assert sum(totals.values()) == summary["pages"]
    ns = "{http://www.w3.org/2000/svg}"
    starts = {int(r.get("data-start", "0"), 16): r.get("data-category") for r in root.iter(f"{ns}rect")
              if r.get("class") == "seg"}
    for name, cat in (("guard", "guard marker"), ("uffd_wp_marker", "uffd-wp marker")):
        if name in child.states and name not in child.skipped and not PROBE["pfn"]:
            assert starts.get(child.states[name]["addr"]) == cat, name


def test_hidden_markers_are_not_summarised_as_swap(child: ms.Child) -> None:
    """Issue #8.6 on real memory: without CAP_SYS_ADMIN a uffd-wp marker is counted as hidden, not as swap."""
    st = state(child, "uffd_wp_marker")
    proc = without_cap_sys_admin(child, "uffd_wp_marker", "--format", "summary", "--no-runs")
    lines = proc.stdout.splitlines()
    header = lines[0].split()
    assert "hidden" in header and "swap" not in header
    total = next(line.split() for line in lines if line.startswith("total"))
    assert dict(zip(header[2:-1], map(int, total[1:]), strict=False))["hidden"] == st["pages"]
    assert any(line.startswith(f"hidden: {st['pages']} swap-format pages") for line in lines)


@pytest.mark.parametrize("fmt", ["ndjson", "json", "csv", "table", "summary", "summary --no-runs"])
def test_small_reads_decoded_one_by_one_equal_the_bulk_path(child: ms.Child, fmt: str) -> None:
    """Below PLAIN_LIMIT records a --pid read skips numpy (ptetool.pagemap.plain): same output."""
    from unittest.mock import patch

    import ptetool.pagemap as pm

    compared = 0
    for name in STATES:
        if name not in child.states:
            continue
        st = child.states[name]
        lo, hi = st["addr"], st["addr"] + st["pages"] * ms.PAGE_SIZE
        args = ("pagemap", "--pid", str(child.pid), "--range", f"{lo:x}-{hi:x}", "--format", *fmt.split())
        plain = run(*args)
        with patch.object(pm, "PLAIN_LIMIT", -1), patch.object(pm, "PLAIN_SUMMARY_LIMIT", -1):  # the numpy path
            bulk = run(*args)
        assert plain.exit_code == bulk.exit_code == 0, (plain.stderr, bulk.stderr)
        assert (plain.stdout, plain.stderr) == (bulk.stdout, bulk.stderr), name
        compared += 1
    assert compared >= 5


@pytest.mark.parametrize("fmt", ["ndjson", "summary"])
def test_a_small_read_loads_no_numpy(child: ms.Child, fmt: str) -> None:
    st = state(child, "anon")
    lo = st["addr"]
    code = ("import sys\nfrom ptetool.cli import cli\n"
            f"cli.main(args=['pagemap', '--pid', '{child.pid}', '--range', '{lo:x}-{lo + ms.PAGE_SIZE:x}',"
            f" '--format', '{fmt}'],"
            " prog_name='ptetool', standalone_mode=False)\n"
            "sys.stderr.write('numpy loaded' if 'numpy' in sys.modules else 'no numpy')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.endswith("no numpy"), out.stderr
    if fmt == "ndjson":
        assert json.loads(out.stdout.splitlines()[0])["class"] == "present"
    else:  # the page's run, then the counts: one present page
        assert out.stdout.splitlines()[1].split()[2:4] == ["1", "present"]
        total = next(line.split() for line in out.stdout.splitlines() if line.startswith("total"))
        assert total[1:3] == ["1", "1"]
