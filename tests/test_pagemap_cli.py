"""ptetool pagemap at the command line: inputs, formats, narrowing, errors and exit codes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ptetool import pagemap as pm
from tests.cli_helpers import MODEL_LINE, PINNED, run

ANON = 0x8100_0000_001A_D106
GUARD = 0x4400_0000_0000_009F
UFFD_MARKER = 0x4200_0000_0000_003F
SWAPPED = 0x4000_0000_0000_0141  # type 1, offset 10
RECORDS = [ANON, 0, 1 << 55, GUARD, UFFD_MARKER, SWAPPED, 1 << 63 | 1 << 62 | 1]


def dump(values: list[int], tail: bytes = b"") -> bytes:
    return struct.pack(f"<{len(values)}Q", *values) + tail


@pytest.fixture
def dumpfile(tmp_path: Path) -> Path:
    path = tmp_path / "pagemap.bin"
    path.write_bytes(dump(RECORDS))
    return path


def records(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_ndjson_from_a_file(dumpfile: Path) -> None:
    result = run("pagemap", str(dumpfile), "--format", "ndjson", "--vaddr", "0x7f0000000000", *PINNED)
    assert result.exit_code == 0, result.stderr
    got = records(result.stdout)
    assert [r["class"] for r in got] == ["present", "none", "none", "pte_marker", "pte_marker", "swap", "invalid"]
    assert [r["index"] for r in got] == list(range(7))
    assert got[3]["vaddr"] == "0x00007f0000003000" and got[3]["marker"] == ["guard"]
    assert got[5]["swap"] == {"type": 1, "offset": 10, "type_name": "swapfile"}
    assert got[0]["layout"] == "pagemap" and got[0]["level"] == "pte" and got[0]["arch"] == "x86_64"
    assert got[0]["model"]["kernel"] == "6.18" and "vma" not in got[0]
    assert result.stderr == "ptetool: note: 1 records no kernel writes (class invalid; see their problems)\n"


def test_every_record_encodes_back(dumpfile: Path) -> None:
    result = run("pagemap", str(dumpfile), "--format", "ndjson", *PINNED)
    for value, record in zip(RECORDS, records(result.stdout), strict=True):
        assert pm.encode_fields(record["fields"], pm.Model.from_json(record["model"])) == value  # type: ignore


def test_stdin_is_read_as_binary() -> None:
    result = run("pagemap", "-", "--format", "csv", *PINNED, stdin=dump(RECORDS[:3]))
    assert result.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["class"] for r in rows] == ["present", "none", "none"] and rows[0]["pfn"] == str(0x1AD106)
    assert result.stderr == MODEL_LINE
    implicit = run("pagemap", "--format", "csv", *PINNED, stdin=dump(RECORDS[:3]))
    assert implicit.stdout == result.stdout


def test_truncated_record_prints_the_whole_ones_then_fails(tmp_path: Path) -> None:
    path = tmp_path / "cut.bin"
    path.write_bytes(dump([ANON, GUARD], b"\x01\x02\x03"))
    result = run("pagemap", str(path), "--format", "ndjson", *PINNED)
    assert result.exit_code == 1
    assert [r["class"] for r in records(result.stdout)] == ["present", "pte_marker"]
    assert result.stderr == "ptetool: truncated pagemap record: 2 whole records read, 3 trailing bytes\n"
    piped = run("pagemap", "--format", "summary", *PINNED, stdin=dump([ANON], b"\x00"))
    assert piped.exit_code == 1 and "total" in piped.stdout
    assert piped.stderr.endswith("ptetool: truncated pagemap record: 1 whole records read, 1 trailing bytes\n")


def test_zeroed_pfns_are_detected_and_said(tmp_path: Path) -> None:
    path = tmp_path / "unprivileged.bin"
    path.write_bytes(dump([1 << 63 | 1 << 56, 0, 1 << 62 | 1 << 58, 1 << 62]))
    result = run("pagemap", str(path), "--format", "ndjson", *PINNED)
    got = records(result.stdout)
    assert [r["zeroed"] for r in got] == [True, False, True, True]
    assert got[0]["problems"] == ["pfn zeroed: the reader lacked CAP_SYS_ADMIN, so pagemap hid the page frame number"]
    assert got[2]["class"] == "pte_marker" and got[2]["marker"] == ["guard"] and got[2]["swap"] is None
    assert result.stderr.startswith("ptetool: note: 3 present or swap records have bits 0-54 all 0: read as zeroed")
    real = run("pagemap", str(path), "--format", "ndjson", "--no-assume-zeroed", *PINNED)
    got = records(real.stdout)
    assert [r["zeroed"] for r in got] == [False] * 4 and got[0]["problems"] == []
    assert got[3]["swap"] == {"type": 0, "offset": 0, "type_name": "swapfile"}
    table = run("pagemap", str(path), "--format", "table", *PINNED)
    assert "hidden (no CAP_SYS_ADMIN)" in table.stdout


def test_maps_label_records(tmp_path: Path) -> None:
    path = tmp_path / "dump.bin"
    path.write_bytes(dump([ANON, ANON + 1, 0, GUARD]))
    maps = tmp_path / "maps"
    maps.write_text("7f0000000000-7f0000002000 rw-p 00000000 00:00 0\n"
                    "7f0000003000-7f0000004000 ---p 00000000 00:00 0    [stack]\n")
    result = run("pagemap", str(path), "--maps", str(maps), "--vaddr", "7f0000000000", "--format", "ndjson", *PINNED)
    got = records(result.stdout)
    assert [r["vma"] and r["vma"]["name"] for r in got] == ["[anon]", "[anon]", None, "[stack]"]  # type: ignore
    assert got[3]["vma"] == {"start": "0x00007f0000003000", "end": "0x00007f0000004000", "perms": "---p",
                             "name": "[stack]"}
    only = run("pagemap", str(path), "--maps", str(maps), "--vaddr", "7f0000000000", "--vma", "[stack]",
               "--format", "ndjson", *PINNED)
    assert [r["index"] for r in records(only.stdout)] == [3]
    summary = run("pagemap", str(path), "--maps", str(maps), "--vaddr", "7f0000000000", "--format", "summary",
                  *PINNED)
    lines = summary.stdout.splitlines()
    assert lines[1].split() == ["0x00007f0000000000", "0x00007f0000002000", "2", "present", "mmap_exclusive",
                                "pfn", "0x1ad106", "[anon]"]
    assert any(line.startswith("00007f0000003000-00007f0000004000  ---p") for line in lines)


def test_range_narrows_a_dump(dumpfile: Path) -> None:
    result = run("pagemap", str(dumpfile), "--vaddr", "0x1000000", "--range", "0x1002000-0x1004000",
                 "--format", "ndjson", *PINNED)
    assert [r["index"] for r in records(result.stdout)] == [2, 3]
    piped = run("pagemap", "--vaddr", "0x1000000", "--range", "1002000-1004001", "--format", "ndjson", *PINNED,
                stdin=dump(RECORDS))
    assert [r["index"] for r in records(piped.stdout)] == [2, 3, 4]


def test_filter(dumpfile: Path) -> None:
    result = run("pagemap", str(dumpfile), "--filter", "uffd_wp,pte_marker", "--format", "ndjson", *PINNED)
    assert [r["index"] for r in records(result.stdout)] == [3, 4]
    both = run("pagemap", str(dumpfile), "--filter", "pte_marker", "--filter", "uffd_wp", "--format", "ndjson",
               *PINNED)
    assert [r["index"] for r in records(both.stdout)] == [4]
    bad = run("pagemap", str(dumpfile), "--filter", "uffd", *PINNED)
    assert bad.exit_code == 2 and "--filter 'uffd': unknown name 'uffd'" in bad.stderr


def test_summary_counts_and_runs(dumpfile: Path) -> None:
    result = run("pagemap", str(dumpfile), "--format", "summary", *PINNED)
    lines = result.stdout.splitlines()
    assert lines[0].split()[:5] == ["start", "end", "pages", "class", "flags"]
    assert [line.split()[3] for line in lines[1:7]] == ["present", "none", "none", "pte_marker", "pte_marker", "swap"]
    assert "marker guard" in lines[4] and "type 1 offset 0xa" in lines[6]
    header, total = lines[-2].split(), lines[-1].split()
    assert dict(zip(header[2:-1], total[1:], strict=True)) == {
        "pages": "7", "none": "2", "present": "1", "swap": "1", "pte_marker": "2", "invalid": "1",
        "soft_dirty": "1", "mmap_exclusive": "1", "uffd_wp": "1", "guard_region": "1", "problems": "1"}
    quiet = run("pagemap", str(dumpfile), "--format", "summary", "--no-runs", *PINNED)
    assert quiet.stdout.splitlines()[0].startswith("mapping")


def test_json_and_table(dumpfile: Path) -> None:
    as_json = run("pagemap", str(dumpfile), "--format", "json", *PINNED)
    assert [r["index"] for r in json.loads(as_json.stdout)] == list(range(7))
    table = run("pagemap", str(dumpfile), "--format", "table", *PINNED)
    assert table.exit_code == 0
    assert "pte_marker" in table.stdout and "marker guard" in table.stdout and "pfn 0x1ad106" in table.stdout
    assert table.stdout.splitlines()[0].split()[:3] == ["vaddr", "value", "class"]
    assert table.stderr.endswith(MODEL_LINE)


@pytest.mark.parametrize(("args", "message"), [
    (["--range", "2000-1000"], "--range '2000-1000': HI must lie above LO"),
    (["--vaddr", "0x12"], "--vaddr 0x12: not aligned"),
    (["--vaddr", "zz"], "--vaddr: bad value 'zz'"),
    (["--vma", "[heap]"], "--vma needs the mappings"),
    (["--level", "pmd"], "--level pmd: pagemap has one record per page"),
    (["--page-size", "1000"], "--page-size 1000: a power of two"),
    (["--pid", "1"], "--pid reads the process's own pagemap and maps: FILE does not go with it"),
])
def test_usage_errors(dumpfile: Path, args: list[str], message: str) -> None:
    result = run("pagemap", str(dumpfile), *args, *PINNED)
    assert result.exit_code == 2 and message in result.stderr and "Traceback" not in result.stderr


def test_work_errors(tmp_path: Path) -> None:
    missing = run("pagemap", str(tmp_path / "nope.bin"), *PINNED)
    assert missing.exit_code == 1 and missing.stderr == f"ptetool: cannot read {tmp_path / 'nope.bin'}: " \
        "No such file or directory\n"
    no_pid = run("pagemap", "--pid", "999999999", *PINNED)
    assert no_pid.exit_code == 1 and no_pid.stderr == "ptetool: --pid 999999999: no such process\n"
    bad_maps = tmp_path / "maps"
    bad_maps.write_text("this is not a maps file\n")
    result = run("pagemap", "-", "--maps", str(bad_maps), *PINNED, stdin=b"")
    assert result.exit_code == 1 and "not a /proc/PID/maps line" in result.stderr


def test_pid_reads_this_process() -> None:
    result = run("pagemap", "--pid", str(os.getpid()), "--vma", "[stack]", "--format", "summary", "--no-runs",
                 *PINNED)
    assert result.exit_code == 0, result.stderr
    assert "[stack]" in result.stdout and "total" in result.stdout


def test_a_closed_pipe_ends_quietly(dumpfile: Path) -> None:
    big = dumpfile.parent / "big.bin"
    big.write_bytes(dump(RECORDS) * 20000)
    command = f"{sys.executable} -m ptetool pagemap {big} --format ndjson {' '.join(PINNED)} | head -n 2"
    proc = subprocess.run(["bash", "-o", "pipefail", "-c", command], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stderr == "" and len(proc.stdout.splitlines()) == 2


def test_pid_range_outside_every_mapping() -> None:
    result = run("pagemap", "--pid", str(os.getpid()), "--range", "1000-2000", "--format", "csv", *PINNED)
    assert result.exit_code == 0 and result.stdout == ",".join(pm.CSV_COLUMNS) + "\n"
    assert "note: no page of the chosen mappings lies in --range" in result.stderr


def test_progress_only_for_a_terminal(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    from ptetool import term

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    progress = term.Progress(1000, delay=0)
    progress.update(500)
    progress.close()
    err = capsys.readouterr().err
    assert "500/1,000 records  50%" in err and err.endswith("\r\x1b[K")
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # the table is on the screen: no progress
    quiet = term.Progress(1000, delay=0)
    quiet.update(500)
    assert capsys.readouterr().err == ""


def test_a_reader_gone_before_the_last_flush_ends_quietly(tmp_path: Path) -> None:
    """`| head -1` may close the pipe before the output still buffered at exit is flushed (issue #8.9)."""
    dump = tmp_path / "dump"
    dump.write_bytes(b"".join((0x8100000000000000 | i).to_bytes(8, "little") for i in range(64)))
    script = ("import sys; from ptetool.cli import main; sys.stdout.write('x' * 100)\n"
              "r, w = __import__('os').pipe(); __import__('os').close(r); __import__('os').dup2(w, 1)\n"
              f"main(['pagemap', {str(dump)!r}, '--format', 'summary'])")
    for fmt_script in (script, script.replace("'summary'", "'csv'")):
        result = subprocess.run([sys.executable, "-c", fmt_script], capture_output=True, text=True,
                                env={**os.environ, "NO_COLOR": "1"})
        assert result.returncode == 0
        assert "Exception ignored" not in result.stderr and "BrokenPipeError" not in result.stderr


def test_address_rule_says_how_a_bare_number_was_read(dumpfile: Path) -> None:
    """Issue #8.4: digits alone are hex, as maps prints them, and the reading is said; 0d is decimal."""
    hexed = run("pagemap", str(dumpfile), "--vaddr", "8192000", "--format", "csv", *PINNED)
    assert hexed.exit_code == 0
    assert ("ptetool: note: --vaddr 8192000 read as hex 0x8192000 (an address is hexadecimal, as /proc/PID/maps "
            "prints it (7f0000000000, 0x7f0000000000); 0d marks a decimal one (0d140737488351232, what $((...)) "
            "gives)); for the decimal 8192000 (0x7d0000) write 0d8192000\n") in hexed.stderr
    assert hexed.stdout.splitlines()[1].split(",")[1] == "0x0000000008192000"
    decimal = run("pagemap", str(dumpfile), "--vaddr", "0d8192000", "--format", "csv", *PINNED)
    assert decimal.stdout.splitlines()[1].split(",")[1] == "0x00000000007d0000" and "read as" not in decimal.stderr
    real = str(0x7F0000001000)  # what --vaddr $((0x7f0000001000)) passes
    refused = run("pagemap", str(dumpfile), "--vaddr", real, *PINNED)
    assert refused.exit_code == 2
    assert (f"--vaddr {real}: read as hex (an address is hexadecimal" in refused.stderr
            and f"as a decimal it would be 0x7f0000001000: write 0d{real} or 0x7f0000001000" in refused.stderr)
    lettered = run("pagemap", str(dumpfile), "--vaddr", "7f0000001000", "--format", "csv", *PINNED)
    assert lettered.exit_code == 0 and "read as" not in lettered.stderr


def test_vma_seeks_in_a_file_and_reads_past_in_a_pipe(tmp_path: Path) -> None:
    """Issue #8.1: --vma on a file reads only the mapping's records (a sparse 8 GiB dump takes no time)."""
    path = tmp_path / "huge.bin"
    with open(path, "wb") as out:
        out.truncate(8 << 30)  # 2^30 records of 0, sparse
        out.seek((1 << 30) - 4 << 3)
        out.write(dump([ANON, GUARD]))
    maps = tmp_path / "maps"
    top = (1 << 30) - 4 << 12
    maps.write_text(f"{0:x}-{top:x} rw-p 00000000 00:00 0\n{top:x}-{top + 0x2000:x} rw-p 00000000 00:00 0 [heap]\n")
    args = ["pagemap", str(path), "--maps", str(maps), "--vaddr", "0x0", "--vma", "[heap]", "--format", "ndjson",
            "--kernel", "6.18", "--kconfig", "allyes", "--phys-bits", "46", "--no-la57"]
    result = subprocess.run([sys.executable, "-m", "ptetool", *args], capture_output=True, text=True, timeout=30)
    assert [(r["index"], r["class"]) for r in records(result.stdout)] == [((1 << 30) - 4, "present"),
                                                                          ((1 << 30) - 3, "pte_marker")]
    piped = run(*args[:1], "-", *args[2:], stdin=dump([0] * 8))
    assert piped.exit_code == 0 and piped.stdout == ""
    assert (f"ptetool: note: --vma {top:016x}-{top + 0x2000:016x} rw-p [heap]: not in the dump, which ends "
            f"before {top:#x}\n") in piped.stderr


def test_vma_and_range_outside_a_dump_say_so(tmp_path: Path) -> None:
    """Issue #8.5: a mapping or range the dump does not hold gets a note, not a silent empty summary."""
    path = tmp_path / "dump.bin"
    path.write_bytes(dump([ANON, ANON + 1]))
    maps = tmp_path / "maps"
    maps.write_text("7f0000000000-7f0000002000 rw-p 00000000 00:00 0\n"
                    "7f0000010000-7f0000011000 rw-p 00000000 00:00 0 [stack]\n")
    result = run("pagemap", str(path), "--maps", str(maps), "--vaddr", "7f0000000000", "--vma", "[stack]",
                 "--format", "summary", *PINNED)
    assert ("ptetool: note: --vma 00007f0000010000-00007f0000011000 rw-p [stack]: not in the dump, which ends "
            "before 0x7f0000010000\n") in result.stderr
    below = run("pagemap", str(path), "--vaddr", "7f0000000000", "--range", "1000-2000", "--format", "csv", *PINNED)
    assert "ptetool: note: --range: lies below the dump's first record (0x7f0000000000, --vaddr)\n" in below.stderr


def test_vma_on_a_real_pipe_reads_past_the_records_before_it(tmp_path: Path) -> None:
    maps = tmp_path / "maps"
    maps.write_text("a000-c000 rw-p 00000000 00:00 0 [heap]\n")
    raw = dump([0] * 10 + [ANON, GUARD] + [0] * 4)
    result = subprocess.run([sys.executable, "-m", "ptetool", "pagemap", "-", "--maps", str(maps), "--vaddr", "0",
                             "--vma", "[heap]", "--format", "ndjson", *PINNED], input=raw, capture_output=True)
    assert [(r["index"], r["class"]) for r in records(result.stdout.decode())] == [(10, "present"), (11, "pte_marker")]


def _child(code: str) -> subprocess.Popen[bytes]:
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE)
    assert child.stdout is not None
    child.stdout.readline()  # ready
    return child


def test_a_process_that_exits_while_read_makes_partial_output_and_exit_1(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue #8.2: said once, with the address and the records read, and exit 1."""
    child = _child("import mmap, time; m = mmap.mmap(-1, 1 << 20); m[:1] = b'x'; print(flush=True); "
                   "time.sleep(60)")
    real_pread = os.pread
    calls = []

    def pread_then_exit(fd: int, n: int, offset: int) -> bytes:
        calls.append(offset)
        if len(calls) == 3:  # mid-read: the process exits and is reaped
            child.kill()
            child.wait()
        return real_pread(fd, n, offset)

    monkeypatch.setattr(os, "pread", pread_then_exit)
    result = run("pagemap", "--pid", str(child.pid), "--format", "summary", "--no-runs", *PINNED)
    assert result.exit_code == 1
    assert result.stderr.count("exited while being read") == 1
    assert re.search(rf"ptetool: process {child.pid} exited while being read: the output is partial, it stops at "
                     r"0x[0-9a-f]+ after \d+ records\n", result.stderr)
    assert re.search(rf"^partial: process {child.pid} exited at 0x[0-9a-f]+ after \d+ records$", result.stdout, re.M)
    assert "pagemap ended at" not in result.stderr  # no note per remaining mapping


def test_kernel_threads_and_zombies_are_named() -> None:
    """Issue #8.3: not 'no such process'; and --vma never lists an empty set of names."""
    kthreads = [pid for pid in range(1, 200) if (st := pm.proc_state(pid)) is not None and st.kthread]
    if not kthreads:
        pytest.skip("no kernel thread visible in this PID namespace")
    state = pm.proc_state(kthreads[0])
    assert state is not None
    kthread = run("pagemap", "--pid", str(kthreads[0]), "--vma", "[heap]", *PINNED)
    assert (kthread.exit_code, kthread.stderr) == (
        1, f"ptetool: --pid {kthreads[0]} ({state.comm}) is a kernel thread: it has no user address space, so no "
        "pagemap\n")
    zombie = subprocess.Popen([sys.executable, "-c", "pass"])
    deadline = time.monotonic() + 10
    while (pm.proc_state(zombie.pid) or pm.ProcState("", "R", False)).state != "Z" and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        result = run("pagemap", "--pid", str(zombie.pid), "--vma", "[heap]", *PINNED)
        assert result.exit_code == 1
        comm = pm.proc_state(zombie.pid).comm  # type: ignore[union-attr]
        assert result.stderr == (f"ptetool: --pid {zombie.pid} ({comm}) is a zombie: it has exited and its memory "
                                 "is gone; only its parent's wait() is pending\n")
    finally:
        zombie.wait()


def test_filter_bits_and_classes_do_not_collide(dumpfile: Path) -> None:
    """Issue #8.7: pm_swap selects the PM_SWAP bit (markers too); swap the class (real swap entries)."""
    bit = run("pagemap", str(dumpfile), "--filter", "pm_swap", "--format", "ndjson", *PINNED)
    cls = run("pagemap", str(dumpfile), "--filter", "swap", "--format", "ndjson", *PINNED)
    by_bit, by_cls = records(bit.stdout), records(cls.stdout)
    assert by_bit and {r["class"] for r in by_cls} == {"swap"}
    assert all(r["fields"]["swap"] == 1 for r in by_bit)  # type: ignore[index]
    assert len(by_bit) > len(by_cls) and {r["class"] for r in by_bit} > {"swap"}
    present = run("pagemap", str(dumpfile), "--filter", "pm_present", "--format", "ndjson", *PINNED)
    assert all(r["fields"]["present"] == 1 for r in records(present.stdout))  # type: ignore[index]
    helptext = run("pagemap", "--help").stdout
    for name in ("pm_swap", "pm_present", "pm_uffd_wp"):
        assert helptext.count(name) == 1
    bad = run("pagemap", str(dumpfile), "--filter", "dirty", *PINNED)
    assert bad.exit_code == 2


def test_hidden_swap_records_are_not_summarised_as_swap(tmp_path: Path) -> None:
    """Issue #8.6: without CAP_SYS_ADMIN a uffd-wp marker and a swapped page read the same."""
    pm_swap, pm_uffd, pm_guard = 1 << 62, 1 << 57, 1 << 58
    path = tmp_path / "dump.bin"
    path.write_bytes(dump([pm_swap, pm_swap | pm_uffd, pm_swap | pm_uffd, pm_swap | pm_guard, ANON, 0]))
    lines = run("pagemap", str(path), "--format", "summary", "--no-runs", *PINNED).stdout.splitlines()
    assert lines[0].split() == ["mapping", "perms", "pages", "none", "present", "pte_marker", "hidden",
                                "mmap_exclusive", "uffd_wp", "guard_region", "zeroed", "name"]
    assert lines[1].split() == ["total", "6", "1", "1", "1", "3", "1", "2", "1", "4"]
    assert lines[2].startswith("hidden: 3 swap-format pages whose type and offset pagemap hid (no CAP_SYS_ADMIN)")


def test_range_summary_shows_the_range_counted(tmp_path: Path) -> None:
    """Issue #8.8: the mapping column gives the bounds actually counted, not the whole mapping's."""
    path = tmp_path / "dump.bin"
    path.write_bytes(dump([ANON] * 8))
    maps = tmp_path / "maps"
    maps.write_text("7f0000000000-7f0000008000 rw-p 00000000 00:00 0\n")
    result = run("pagemap", str(path), "--maps", str(maps), "--vaddr", "7f0000000000",
                 "--range", "7f0000002000-7f0000005000", "--format", "summary", "--no-runs", *PINNED)
    rows = result.stdout.splitlines()
    assert rows[1].split()[:3] == ["00007f0000002000-00007f0000005000", "rw-p", "3"]


def test_address_space_picture_counts_match_the_summary(tmp_path: Path) -> None:
    """Issue #8.10: the SVG's strips, parsed, give the summary's counts per mapping and class."""
    import xml.etree.ElementTree as ET

    heap = [ANON] * 3 + [0] * 5000 + [SWAPPED] * 2 + [ANON]
    stack = [GUARD] * 2 + [UFFD_MARKER] * 3 + [0] * 4 + [ANON]
    path = tmp_path / "dump.bin"
    path.write_bytes(dump(heap + stack))
    base, mid = 0x7F0000000000, 0x7F0000000000 + len(heap) * 4096
    maps = tmp_path / "maps"
    maps.write_text(f"{base:x}-{mid:x} rw-p 00000000 00:00 0 [heap]\n{mid:x}-{mid + len(stack) * 4096:x} rw-p "
                    "00000000 00:00 0 [stack]\n")
    svg, html = tmp_path / "as.svg", tmp_path / "as.html"
    result = run("pagemap", str(path), "--maps", str(maps), "--vaddr", hex(base), "--format", "summary", "--no-runs",
                 "--svg", str(svg), "--html", str(html), *PINNED)
    assert result.exit_code == 0, result.stderr
    header, *rows = [line.split() for line in result.stdout.splitlines()[:3]]
    summary = {r[-1]: dict(zip(header[2:-1], map(int, r[2:-1]), strict=True)) for r in rows}
    root = ET.parse(svg).getroot()
    ns = "{http://www.w3.org/2000/svg}"
    pictured: dict[str, dict[str, int]] = {}
    for group in root.iter(f"{ns}g"):
        name = group.find(f"{ns}text").text.split()[0]  # type: ignore[union-attr]
        counts = pictured.setdefault(name, {})
        for rect in group.iter(f"{ns}rect"):
            if rect.get("class") == "seg":
                cat = rect.get("data-category", "")
                counts[cat] = counts.get(cat, 0) + int(rect.get("data-pages", "0"))
    assert pictured == {"[heap]": {"present": 4, "none": 5000, "swap": 2},
                        "[stack]": {"guard marker": 2, "uffd-wp marker": 3, "none": 4, "present": 1}}
    for name, counts in pictured.items():
        s = summary[name]
        markers = sum(n for cat, n in counts.items() if cat.endswith("marker"))
        assert (counts.get("present", 0), counts.get("none", 0), counts.get("swap", 0), markers) == (
            s.get("present", 0), s.get("none", 0), s.get("swap", 0), s.get("pte_marker", 0))
        assert sum(counts.values()) == s["pages"]
    assert root.get("data-total-none") == "5004" and root.get("data-total-guard-marker") == "2"
    widths = {rect.get("data-pages"): float(rect.get("width", "0")) for rect in root.iter(f"{ns}rect")
              if rect.get("class") == "seg" and rect.get("data-category") in ("none", "swap")}
    assert widths["5000"] < 10 * widths["2"]  # 5000 empty pages compressed: log-scaled, not 2500 times wider
    page = html.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "</html>" in page


def test_picture_of_a_worst_case_mapping_stays_bounded_and_exact() -> None:
    """Class changes every page: neighbours merge into mixed segments, the page counts stay exact."""
    from ptetool.pagemap import CODE, Runs, rules_for
    from ptetool.render import address_space as pic
    from tests.models import model

    np = pytest.importorskip("numpy")
    strips = pic.Strips(rules_for(model((6, 18))), False, 4096)
    n = 3 * pic.MAX_SEGMENTS
    codes = np.array([(CODE["present"] if i % 2 else CODE["none"]) << 9 for i in range(n)], dtype=np.intp)
    strips.add(Runs(np.arange(n, dtype=np.uint64) * np.uint64(4096), np.ones(n, dtype=np.int64), codes,
                    np.zeros(n, dtype=np.uint64), np.zeros(n, dtype=np.int32)))
    segs = strips.by_vma[0]
    assert len(segs) <= pic.MAX_SEGMENTS and pic.totals(strips) == {"present": n // 2, "none": n // 2}
    assert {s.category for s in pic._buckets(segs)} <= {"present", "none"} and len(pic._buckets(segs)) <= pic.MAX_DRAWN


PICTURE_GOLDEN = Path(__file__).parent / "golden" / "address-space.svg"


def picture_example(tmp_path: Path) -> str:
    """The README's picture: a heap with swapped pages, a stack's guard and uffd-wp markers, a sparse mapping."""
    heap = [ANON] * 40 + [SWAPPED] * 6 + [ANON] * 10 + [0] * 8
    stack = [GUARD] * 2 + [UFFD_MARKER] * 5 + [ANON] * 9
    sparse = [0] * 20000 + [ANON] * 3 + [0] * 30000
    path = tmp_path / "dump.bin"
    path.write_bytes(dump(heap + stack + sparse))
    base = 0x7F0000000000
    a, b, c = base + len(heap) * 4096, base + (len(heap) + len(stack)) * 4096, base
    end = c + (len(heap) + len(stack) + len(sparse)) * 4096
    maps = tmp_path / "maps"
    maps.write_text(f"{base:x}-{a:x} rw-p 00000000 00:00 0 [heap]\n{a:x}-{b:x} rw-p 00000000 00:00 0 [stack]\n"
                    f"{b:x}-{end:x} rw-p 00000000 00:00 0\n")
    svg = tmp_path / "as.svg"
    result = run("pagemap", str(path), "--maps", str(maps), "--vaddr", hex(base), "--format", "summary",
                 "--svg", str(svg), *PINNED)
    assert result.exit_code == 0, result.stderr
    return svg.read_text().replace(str(path), "dump.bin")


def test_picture_golden(tmp_path: Path) -> None:
    assert picture_example(tmp_path) == PICTURE_GOLDEN.read_text()


def test_bulk_records_name_the_model_the_first_states(dumpfile: Path) -> None:
    """Issue #10.4: the first record states the model in full, the rest name it by key; encode - rebuilds all."""
    lines = run("pagemap", str(dumpfile), "--format", "ndjson", *PINNED).stdout.splitlines()
    first, *rest = (json.loads(line)["model"] for line in lines)
    assert "options" in first and all(m == {"kernel": "6.18", "key": first["key"]} for m in rest)
    rebuilt = run("encode", "-", stdin="\n".join(lines) + "\n")
    assert rebuilt.exit_code == 0 and [int(v, 16) for v in rebuilt.stdout.split()] == RECORDS
    cut = run("encode", "-", stdin="\n".join(lines[1:]) + "\n")
    assert cut.exit_code == 2 and "is named but not stated" in cut.stderr
    stated = run("model", *PINNED).stdout
    assert json.loads(stated)["key"] == first["key"]
    assert run("encode", "-", stdin=stated + "\n".join(lines[1:]) + "\n").stdout.split() == [
        f"0x{v:016x}" for v in RECORDS[1:]]


def test_a_pipe_on_stdout_is_widened_to_one_mib(tmp_path: Path) -> None:
    """A 64 KiB pipe wakes its reader every 64 KiB: bulk output asks for 1 MiB (F_SETPIPE_SZ)."""
    import fcntl

    path = tmp_path / "dump.bin"
    path.write_bytes(dump([0x8000000000100000] * 64))
    read_end, write_end = os.pipe()
    get_size = getattr(fcntl, "F_GETPIPE_SZ", 1032)
    assert fcntl.fcntl(read_end, get_size) == 64 * 1024
    child = subprocess.Popen([sys.executable, "-m", "ptetool", "pagemap", str(path), "--format", "ndjson", *PINNED],
                             stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as out:
        lines = out.read().splitlines()
        assert child.wait() == 0 and len(lines) == 64
        if os.geteuid() != 0 and int(Path("/proc/sys/fs/pipe-max-size").read_text()) < 1 << 20:
            pytest.skip("this system caps pipes below 1 MiB for this user")
        assert fcntl.fcntl(out.fileno(), get_size) == 1 << 20
