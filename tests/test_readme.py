"""Every command the README shows runs, as a newcomer would type it; shown output is what it prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()
# A child that maps 6 pages at 0x7f0000000000 (the dd example reads them) and waits.
CHILD = ("import ctypes, mmap, sys\n"
         "libc = ctypes.CDLL(None, use_errno=True)\n"
         "libc.mmap.restype = ctypes.c_void_p\n"
         "libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int, ctypes.c_int, "
         "ctypes.c_long]\n"
         "at = libc.mmap(0x7f0000000000, 6 * 4096, 3, 0x22 | 0x100000, -1, 0)\n"
         "ctypes.memset(at, 1, 4096)\n"
         "print(at, flush=True)\n"
         "sys.stdin.read()\n")


def console_commands() -> Iterator[tuple[str, list[str]]]:
    """(command, the output lines shown after it) for each `$ ` line of the README's console blocks."""
    for block in re.findall(r"```console\n(.*?)```", README, re.S):
        lines = block.splitlines()
        i = 0
        while i < len(lines):
            command = lines[i][2:]
            while command.endswith("\\"):
                i += 1
                command = command[:-1] + " " + lines[i].strip()
            i += 1
            shown = []
            while i < len(lines) and not lines[i].startswith("$ "):
                shown.append(lines[i])
                i += 1
            yield command, shown


COMMANDS = list(console_commands())


@pytest.fixture(scope="module")
def child_pid() -> Iterator[int]:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    child.stdout.readline()
    yield child.pid
    child.communicate("")


@pytest.mark.parametrize(("command", "shown"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_readme_command_runs(command: str, shown: list[str], child_pid: int, tmp_path: Path) -> None:
    assert command.startswith(("ptetool ", "sudo ptetool ", "dd ")), command
    line = re.sub(r"(--pid |/proc/)1234\b", rf"\g<1>{child_pid}", command.removeprefix("sudo "))
    bindir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}", "NO_COLOR": "1", "COLUMNS": "200"}
    result = subprocess.run(["bash", "-o", "pipefail", "-c", line], cwd=ROOT if "tests/" in line else tmp_path,
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == (1 if line.startswith("ptetool diff") else 0), f"{line}\n{result.stderr}"
    printed = result.stdout.splitlines()
    for expected in shown:
        # an elided line; the model line (stderr, the running kernel's); the scan table, which is what a
        # terminal shows (in a pipe scan writes NDJSON)
        if "..." in expected or expected.startswith("ptetool: model:") or line.startswith("ptetool scan"):
            continue
        assert expected in printed, f"{line}: {expected!r} not printed"
