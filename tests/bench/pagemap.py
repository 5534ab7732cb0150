"""Time `ptetool pagemap` on an 8M-record realistic dump and on a live process.

Not collected by pytest (no test_ prefix). Run: python tests/bench/pagemap.py [--records N] [--runs N]

Targets (issue #4, 2-core machine): from a file, NDJSON >= 1M records/s, CSV >= 2M records/s,
summary >= 20M records/s; `--pid PID --format summary` as a whole process no slower than 1.5x
a plain Python read of the same pagemap ranges (also a whole process); peak RSS under 150 MiB.
Every figure is a whole process (interpreter start-up included), output to /dev/null; the
best of --runs runs, interleaved. RSS is the child's ru_maxrss from wait4().

The dump imitates a process: mappings of anonymous memory (mostly present and exclusive,
with holes, swapped runs, zero pages and THPs), file and shmem mappings, unpopulated
reservations, guard regions and uffd-wp markers, in runs of geometric length.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PS = 4096
BASE = 0x7F00_0000_0000
PRESENT, SWAP, FILE, EXCL, UFFD, GUARD = 1 << 63, 1 << 62, 1 << 61, 1 << 56, 1 << 57, 1 << 58
MARKER_UFFD = SWAP | UFFD | 31 | 1 << 5
MARKER_GUARD = SWAP | GUARD | 31 | 4 << 5


NAMES = {"anon": "", "file": "  /usr/lib/libbench.so", "reserved": "", "shmem": "  /memfd:bench (deleted)",
         "guard": "", "thp": ""}


def realistic_dump(records: int, seed: int = 4) -> tuple[np.ndarray, list[str]]:
    """Records and the maps lines of the mappings they belong to."""
    rng = np.random.default_rng(seed)
    out = np.zeros(records, dtype=np.uint64)
    maps: list[str] = []
    pos = 0
    next_pfn = 0x100000
    swap_off = 1
    kinds = ["anon", "file", "reserved", "shmem", "guard", "thp"]
    weights = [0.40, 0.17, 0.25, 0.06, 0.02, 0.10]
    while pos < records:
        kind = kinds[rng.choice(len(kinds), p=weights)]
        size = int(min(records - pos, max(16, rng.geometric(1 / (512 if kind == "guard" else 4096)))))
        lo = pos
        maps.append(f"{BASE + lo * PS:x}-{BASE + (lo + size) * PS:x} "
                    f"{'rw-s' if kind == 'shmem' else 'r--p' if kind == 'file' else 'rw-p'} 00000000 "
                    f"{'00:05 42' if kind in ('shmem', 'file') else '00:00 0'}"
                    + NAMES[kind])
        while pos < lo + size:
            run = int(min(lo + size - pos, rng.geometric(1 / 96)))
            what = rng.random()
            sl = slice(pos, pos + run)
            pfns = np.arange(next_pfn, next_pfn + run, dtype=np.uint64)
            if kind == "reserved":
                out[sl] = 0
            elif kind == "guard":
                out[sl] = MARKER_GUARD
            elif kind == "thp":
                out[sl] = PRESENT | EXCL | pfns if what < 0.9 else 0
                next_pfn += run
            elif kind == "file":
                out[sl] = (PRESENT | FILE | (EXCL if what < 0.3 else 0)) | pfns if what < 0.8 else 0
                next_pfn += run
            elif kind == "shmem":
                out[sl] = (PRESENT | FILE | EXCL | pfns if what < 0.7 else MARKER_UFFD if what < 0.9 else 0)
                next_pfn += run
            else:  # anon
                if what < 0.70:
                    out[sl] = PRESENT | EXCL | pfns
                    next_pfn += run
                elif what < 0.80:
                    out[sl] = 0
                elif what < 0.90:
                    out[sl] = SWAP | (np.arange(swap_off, swap_off + run, dtype=np.uint64) << np.uint64(5))
                    swap_off += run
                else:
                    out[sl] = PRESENT | 0x1234  # the zero page
            pos += run
        next_pfn += int(rng.integers(0, 1 << 16))
    return out, maps


# Runs ptetool's entry point and, at exit, writes the process's own peak RSS (VmHWM) to a file: the
# ru_maxrss of wait4() would include the benchmark's own memory, inherited by fork.
PTETOOL = r"""
import os, re, sys
out = sys.argv.pop(1)
def hwm():
    status = open("/proc/self/status").read()
    open(out, "w").write(re.search(r"VmHWM:\s+(\d+)", status)[1])
end = os._exit  # the CLI ends with os._exit once flushed: note the peak first
os._exit = lambda code: (hwm(), end(code))
from ptetool.cli import main
sys.argv[0] = "ptetool"
main()
"""


def timed(cmd: list[str], rss_file: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak RSS KiB) of one whole process."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV)
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return wall, int(rss_file.read_text()) if rss_file is not None else 0


# Interpreter settings a user does not have: unbuffered output, and no byte-code cache written.
ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE")}


# --- a live process for --pid ---------------------------------------------------------------------

CHILD = r"""
import ctypes, mmap, os, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PS, GIB = 4096, 1 << 30
RW, PRIV_ANON, NORESERVE = 3, 0x22, 0x4000
pages = int(sys.argv[1])
def region(n, flags=PRIV_ANON | NORESERVE):
    return libc.mmap(None, n * PS, RW, flags, -1, 0)
# a realistic mix: 1/8 populated anon (4K pages), 1/16 zero pages, 1/32 THP, the rest reserved
populated = region(pages // 8); libc.madvise(populated, pages // 8 * PS, 15)   # MADV_NOHUGEPAGE
libc.madvise(populated, pages // 8 * PS, 23)                                   # MADV_POPULATE_WRITE
zero = region(pages // 16); libc.madvise(zero, pages // 16 * PS, 15); libc.madvise(zero, pages // 16 * PS, 22)
thp = region(pages // 32); libc.madvise(thp, pages // 32 * PS, 14); libc.madvise(thp, pages // 32 * PS, 23)
left = pages - pages // 8 - pages // 16 - pages // 32
for i in range(64):
    r = region(left // 64)
    libc.madvise(r, PS * 16, 23)
print(os.getpid(), flush=True)
sys.stdin.read()
"""

PLAIN_READ = r"""
import os, sys
pid = sys.argv[1]
total = 0
with open(f"/proc/{pid}/maps") as maps:
    ranges = [tuple(int(x, 16) for x in line.split()[0].split("-")) for line in maps]
fd = os.open(f"/proc/{pid}/pagemap", os.O_RDONLY)
for lo, hi in ranges:
    index, end = lo // 4096, hi // 4096
    while index < end:
        data = os.pread(fd, min(1 << 16, end - index) * 8, index * 8)
        if not data:
            break
        total += len(data) // 8
        index += len(data) // 8
print(total)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=8 << 20)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pid-pages", type=int, default=8 << 20, help="pages mapped by the --pid child")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ptetool-bench-"))
    rss = tmp / "rss"
    ptetool = [sys.executable, "-c", PTETOOL, str(rss)]
    try:
        t = time.perf_counter()
        data, maps = realistic_dump(args.records)
        dump, maps_file = tmp / "pagemap.bin", tmp / "maps"
        data.astype("<u8").tofile(dump)
        maps_file.write_text("\n".join(maps) + "\n")
        n = len(data)
        del data
        print(f"dump: {n:,} records ({dump.stat().st_size >> 20} MiB), {len(maps)} mappings, built in "
              f"{time.perf_counter() - t:.1f}s")
        pinned = ["--kernel", "6.18", "--kconfig", "allyes"]
        timed([*ptetool, "pagemap", "/dev/null", "--format", "summary"])  # byte-code cache, page cache warm
        cases = {
            "start-up (empty input)": ([*ptetool, "pagemap", "/dev/null", "--format", "summary", *pinned], 0.0),
            "ndjson": ([*ptetool, "pagemap", str(dump), "--format", "ndjson", *pinned], 1e6),
            "csv": ([*ptetool, "pagemap", str(dump), "--format", "csv", *pinned], 2e6),
            "summary": ([*ptetool, "pagemap", str(dump), "--format", "summary", *pinned], 20e6),
            "summary --no-runs": ([*ptetool, "pagemap", str(dump), "--format", "summary", "--no-runs", *pinned],
                                  20e6),
            "summary --maps": ([*ptetool, "pagemap", str(dump), "--format", "summary", "--maps", str(maps_file),
                                "--vaddr", hex(BASE), *pinned], 0.0),
            "ndjson --maps": ([*ptetool, "pagemap", str(dump), "--format", "ndjson", "--maps", str(maps_file),
                               "--vaddr", hex(BASE), *pinned], 0.0),
        }
        samples: dict[str, list[tuple[float, int]]] = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, (cmd, _target) in cases.items():
                samples[name].append(timed(cmd, rss))
        startup = min(w for w, _ in samples["start-up (empty input)"])
        print(f"{'from a file, to /dev/null':26} {'best s':>7} {'median s':>9} {'records/s':>10} "
              f"{'after start-up':>15} {'target':>7} {'peak RSS':>9}")
        for name, (_cmd, target) in cases.items():
            walls = [w for w, _ in samples[name]]
            best, median, peak = min(walls), statistics.median(walls), max(r for _, r in samples[name])
            if not target and name.startswith("start-up"):
                print(f"{name:26} {best:7.3f} {median:9.3f} {'':>10} {'':>15} {'':>7} {peak / 1024:7.1f}Mi")
                continue
            rate, steady = n / best, n / max(best - startup, 1e-9)
            verdict = "" if not target else "  ok" if rate >= target and peak < 150 * 1024 else "  MISSED"
            print(f"{name:26} {best:7.3f} {median:9.3f} {rate / 1e6:9.2f}M {steady / 1e6:14.2f}M "
                  f"{(f'{target / 1e6:.0f}M' if target else '-'):>7} {peak / 1024:7.1f}Mi{verdict}")
        pid_bench(ptetool, rss, args.pid_pages, args.runs)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pid_bench(ptetool: list[str], rss: Path, pages: int, runs: int) -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(pages)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        pid = child.stdout.readline().strip()
        plain = [sys.executable, "-c", PLAIN_READ, pid]
        out = subprocess.run(plain, capture_output=True, text=True, check=True, env=ENV).stdout.strip()
        cases = {
            "plain Python read (maps + pread)": plain,
            "ptetool --pid --format summary": [*ptetool, "pagemap", "--pid", pid, "--format", "summary"],
            "  ... --no-runs": [*ptetool, "pagemap", "--pid", pid, "--format", "summary", "--no-runs"],
            "ptetool start-up (empty input)": [*ptetool, "pagemap", "/dev/null", "--format", "summary"],
        }
        samples: dict[str, list[float]] = {name: [] for name in cases}
        peak = 0
        for _ in range(runs):
            for name, cmd in cases.items():
                wall, kib = timed(cmd, None if name.startswith("plain") else rss)
                samples[name].append(wall)
                peak = max(peak, kib)
        base = min(samples["plain Python read (maps + pread)"])
        print(f"\n--pid: {int(out):,} records in the child's mappings, whole processes")
        print(f"{'':40} {'best s':>7} {'median s':>9} {'x plain':>8}")
        for name, walls in samples.items():
            print(f"{name:40} {min(walls):7.3f} {statistics.median(walls):9.3f} {min(walls) / base:8.2f}")
        best = min(samples["ptetool --pid --format summary"])
        print(f"peak RSS {peak / 1024:.1f} MiB; target 1.5x plain: {'ok' if best <= 1.5 * base else 'MISSED'}")
    finally:
        if child.stdin:
            child.stdin.close()
        child.wait()


if __name__ == "__main__":
    sys.exit(main())
