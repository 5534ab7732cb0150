"""The whole table of issue #10 in one run, side by side, with each target and whether it is met.

Not collected by pytest. Run: python tests/bench/issue10.py [--runs N] [--page-types PATH]
Every figure is a whole process of this interpreter's `ptetool` script, the best of --runs runs (15
for the single decodes). The dump is 8M records in
runs of 1 to 4,096 pages of one class each (half present, a quarter none, the rest swap, uffd-wp
and guard markers); the worst case changes class every 1 to 3 records. --pid is compared with the
kernel's tools/mm/page-types on the same range, where a built page-types is given (or on PATH).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from pagemap import CHILD, ENV, MARKER_GUARD, MARKER_UFFD, PRESENT, PTETOOL, SWAP

RECORDS = 8 << 20
PINNED = ["--kernel", "6.18", "--kconfig", "allyes"]


def issue_dump(records: int, worst: bool) -> np.ndarray:
    rng = np.random.default_rng(10)
    kinds = np.array([PRESENT | 0x100000, 0, SWAP | 1 << 5, MARKER_UFFD, MARKER_GUARD], dtype=np.uint64)
    longest = 3 if worst else 4096
    lengths = rng.integers(1, longest + 1, size=2 * records // (longest + 1) + 16)  # enough runs to fill it
    picks = rng.choice(len(kinds), size=len(lengths), p=[0.5, 0.25, 0.0834, 0.0833, 0.0833])
    if worst:  # never the same class twice in a row
        picks = (np.cumsum(rng.integers(1, len(kinds), size=len(picks)))) % len(kinds)
    values = np.repeat(kinds[picks], lengths)[:records]
    return values


def console_script() -> list[str]:
    """The command as users run it: this interpreter's `ptetool` script (pip's entry point), run
    directly, so that neither a pyenv shim nor the RSS probe's own work is timed."""
    script = Path(sys.executable).parent / "ptetool"
    if script.is_file():
        return [sys.executable, str(script)]
    return [sys.executable, "-c", "import sys; from ptetool.cli import main; sys.argv[0] = 'ptetool'; main()"]


def wall(cmd: list[str] | str, runs: int, shell: bool = False) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(cmd, shell=shell, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--page-types", default=shutil.which("page-types"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ptetool-issue10-"))
    rss = tmp / "rss"
    measured = [sys.executable, "-c", PTETOOL, str(rss)]  # notes its peak RSS at exit: for that row only
    ptetool = console_script()
    rows: list[tuple[str, str, str, bool]] = []
    try:
        dump, worst = tmp / "dump.bin", tmp / "worst.bin"
        issue_dump(RECORDS, False).astype("<u8").tofile(dump)
        issue_dump(RECORDS, True).astype("<u8").tofile(worst)
        click = wall([sys.executable, "-c", "import click"], args.runs * 5)
        for fmt, target in (("json", 1.2), ("diagram", 1.8)):
            ratio = wall([*ptetool, "decode", "--format", fmt, "--color", "always", *PINNED, "0x4"],
                         args.runs * 5) / click
            rows.append((f"decode --format {fmt} 0x4 / import click", f"{ratio:.2f}x", f"<= {target}x",
                         ratio <= target))
        for fmt, target in (("ndjson", 5e6), ("csv", 6e6)):
            rate = RECORDS / wall([*ptetool, "pagemap", str(dump), "--format", fmt, *PINNED], args.runs)
            rows.append((f"{fmt} of the dump to /dev/null", f"{rate / 1e6:.2f}M rec/s", f">= {target / 1e6:.0f}M",
                         rate >= target))
        line = " ".join(f"'{a}'" for a in [*ptetool, "pagemap", str(dump), "--format", "ndjson", *PINNED])
        rate = RECORDS / wall(f"{line} | cat > /dev/null", args.runs, shell=True)
        rows.append(("ndjson through a pipe", f"{rate / 1e6:.2f}M rec/s", ">= 2.5M", rate >= 2.5e6))
        seconds = wall([*ptetool, "pagemap", str(dump), "--format", "summary", *PINNED], args.runs)
        rows.append(("summary of the dump", f"{seconds:.3f} s", "<= 0.2 s", seconds <= 0.2))
        seconds = wall([*ptetool, "pagemap", str(worst), "--format", "summary", *PINNED], args.runs)
        rows.append(("worst case: summary with runs", f"{seconds:.2f} s", "<= 2 s", seconds <= 2))
        wall([*measured, "pagemap", str(dump), "--format", "ndjson", *PINNED], 1)
        mib = int(rss.read_text()) / 1024
        rows.append(("peak RSS, ndjson", f"{mib:.0f} MiB", "<= 48 MiB", mib <= 48))
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(1 << 19)], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        assert child.stdout is not None
        pid = child.stdout.readline().strip()
        try:
            ours = wall([*ptetool, "pagemap", "--pid", pid, "--format", "summary", *PINNED], args.runs)
            if args.page_types:
                theirs = wall([args.page_types, "-p", pid], args.runs)
                rows.append(("--pid summary / page-types (2 GiB)", f"{ours / theirs:.2f}x", "<= 0.5x",
                             ours / theirs <= 0.5))
            else:
                rows.append(("--pid summary (2 GiB; no page-types given)", f"{ours:.3f} s", "<= 0.5x page-types",
                             False))
        finally:
            child.communicate("")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{'work':46} {'now':>14} {'target':>18}  met")
    for work, now, target, met in rows:
        print(f"{work:46} {now:>14} {target:>18}  {'yes' if met else 'NO'}")


if __name__ == "__main__":
    main()
