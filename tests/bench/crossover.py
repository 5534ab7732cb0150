"""Where decoding one record at a time stops beating numpy's import: `pagemap --pid` reads of N pages.

Not collected by pytest. Run: python tests/bench/crossover.py [--format summary] [N ...]. Each N is
a fresh mapping of N pages (half present, half never touched) of this process, read as NDJSON (or
the given format) with ptetool.pagemap's PLAIN_LIMIT and PLAIN_SUMMARY_LIMIT forced high (one record
at a time) and forced off (numpy); whole processes, best of 7. ptetool/pagemap/plain.py sets the
limits where the two cross.
"""

from __future__ import annotations

import ctypes
import mmap
import os
import subprocess
import sys
import time

CODE = """
import sys, ptetool.pagemap as pm
pm.PLAIN_LIMIT = pm.PLAIN_SUMMARY_LIMIT = {limit}
from ptetool.cli import main
sys.argv = ['ptetool', 'pagemap', '--pid', '{pid}', '--range', '{lo:x}-{hi:x}', '--format', '{fmt}']
main()
"""


def best_of(code: str, runs: int = 7) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    args = sys.argv[1:]
    fmt = "ndjson"
    if args[:1] == ["--format"]:
        fmt, args = args[1], args[2:]
    sizes = [int(a) for a in args] or [256, 1024, 2048, 4096, 8192]
    print(f"{'pages':>6} {'one by one':>11} {'numpy':>9}")
    for n in sizes:
        region = mmap.mmap(-1, mmap.PAGESIZE * n)
        for page in range(0, n, 2):
            region[page * mmap.PAGESIZE] = 1
        lo = ctypes.addressof(ctypes.c_char.from_buffer(region))
        where = {"pid": os.getpid(), "lo": lo, "hi": lo + mmap.PAGESIZE * n, "fmt": fmt}
        plain, bulk = best_of(CODE.format(limit=1 << 40, **where)), best_of(CODE.format(limit=-1, **where))
        print(f"{n:>6} {plain * 1000:>8.1f} ms {bulk * 1000:>6.1f} ms")


if __name__ == "__main__":
    main()
