"""Time single-value decode as a whole process against `python -c 'import click'`.

Not collected by pytest (no test_ prefix). Run: python tests/bench/decode.py [--runs N]
The target (issue #2): `ptetool decode 0x4` under 3x the bare click import. Runs are
interleaved so that machine noise hits every command alike.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    ptetool = shutil.which("ptetool")
    decode = [ptetool] if ptetool else [sys.executable, "-m", "ptetool"]
    cases = {
        "python -c 'import click'": [sys.executable, "-c", "import click"],
        "ptetool decode 0x4 (running model)": [*decode, "decode", "0x4"],
        "ptetool decode 0x4 (pinned model)": [*decode, "decode", "--kernel", "6.18", "--kconfig", "allyes", "0x4"],
        "ptetool decode --format json 0x4": [*decode, "decode", "--format", "json", "0x4"],
        "ptetool decode --format diagram 0x4": [*decode, "decode", "--format", "diagram", "0x4"],
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, cmd in cases.items():
            start = time.perf_counter()
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            times[name].append(time.perf_counter() - start)
    base = times["python -c 'import click'"]
    print(f"{'command':40} {'best ms':>8} {'median ms':>10} {'best x':>7} {'median x':>9}")
    for name, samples in times.items():
        best, median = min(samples), statistics.median(samples)
        print(f"{name:40} {best * 1e3:8.1f} {median * 1e3:10.1f} {best / min(base):7.2f} "
              f"{median / statistics.median(base):9.2f}")


if __name__ == "__main__":
    main()
