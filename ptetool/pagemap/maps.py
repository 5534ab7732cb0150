"""The mappings of a process (/proc/PID/maps), the choice among them, and what /proc says of a process."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ptetool.errors import UsageError, WorkError


@dataclass(frozen=True)
class Vma:
    """One line of /proc/PID/maps."""

    start: int
    end: int
    perms: str
    offset: int
    dev: str
    inode: int
    name: str  # the path, [heap]/[stack]/[vdso]/..., or [anon] for an unnamed mapping

    @property
    def pages(self) -> int:
        return (self.end - self.start) // 4096

    def label(self) -> str:
        return f"{self.start:016x}-{self.end:016x} {self.perms} {self.name}"

    def contains(self, vaddr: int) -> bool:
        return self.start <= vaddr < self.end


_MAPS_LINE = re.compile(r"([0-9a-fA-F]+)-([0-9a-fA-F]+)\s+(\S{4})\s+([0-9a-fA-F]+)\s+(\S+)\s+(\d+)\s?(.*)$")
ANON = "[anon]"


def parse_maps(text: str, source: str = "maps") -> list[Vma]:
    """The VMAs of a /proc/PID/maps text, sorted; WorkError naming the first malformed line."""
    vmas: list[Vma] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = _MAPS_LINE.match(line)
        if not match:
            raise WorkError(f"{source} line {number}: not a /proc/PID/maps line: {line[:80]!r}")
        start, end = int(match[1], 16), int(match[2], 16)
        if end <= start:
            raise WorkError(f"{source} line {number}: the range {match[1]}-{match[2]} is empty")
        name = match[7].strip() or ANON
        vmas.append(Vma(start, end, match[3], int(match[4], 16), match[5], int(match[6]), name))
    vmas.sort(key=lambda v: v.start)
    for a, b in itertools.pairwise(vmas):
        if b.start < a.end:
            raise WorkError(f"{source}: mappings {a.label()} and {b.label()} overlap")
    return vmas


def select_vmas(vmas: Sequence[Vma], wanted: Sequence[str]) -> list[Vma]:
    """--vma: each NAME (exact, or the basename of a path) or ADDR (hex, inside the VMA) selects VMAs."""
    if not wanted:
        return list(vmas)
    chosen: set[int] = set()
    for token in wanted:
        hits = {i for i, v in enumerate(vmas) if v.name == token}
        if not hits:
            hits = {i for i, v in enumerate(vmas) if v.name.startswith("/") and os.path.basename(
                v.name.removesuffix(" (deleted)")) == token}
        if not hits:
            addr = _maybe_address(token)
            if addr is not None:
                hits = {i for i, v in enumerate(vmas) if v.contains(addr)}
        if not hits:
            names = sorted({v.name for v in vmas})
            shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
            raise UsageError(f"--vma {token!r}: no mapping has that name or holds that address; "
                             + (f"names: {shown}" if names else "there are no mappings at all"))
        chosen |= hits
    return [vmas[i] for i in sorted(chosen)]


def _maybe_address(token: str) -> int | None:
    from ptetool.values import parse_address

    try:
        return parse_address(token, "--vma")[0]
    except UsageError:
        return None


def parse_range(text: str, page_size: int) -> tuple[tuple[int, int], list[str]]:
    """--range LO-HI (addresses by ptetool.values.ADDRESS_RULE, HI exclusive) widened to whole pages,
    and notes on how ambiguous numbers were read; UsageError otherwise."""
    from ptetool.values import parse_address

    lo_text, sep, hi_text = text.partition("-")
    if not sep or not lo_text or not hi_text:
        raise UsageError(f"--range {text!r}: expected LO-HI, two hex addresses such as 7f0000000000-7f0000200000")
    (lo, lo_note), (hi, hi_note) = parse_address(lo_text, "--range"), parse_address(hi_text, "--range")
    if hi <= lo:
        raise UsageError(f"--range {text!r}: HI must lie above LO (HI is exclusive)")
    notes = [n for n in (lo_note, hi_note) if n]
    return (lo - lo % page_size, -(-hi // page_size) * page_size), notes


# --- a live process ----------------------------------------------------------------------------

CAP_SYS_ADMIN = 21  # include/uapi/linux/capability.h: its bit in the capability sets


def has_cap_sys_admin() -> bool:
    """CAP_SYS_ADMIN in this process's effective set: pagemap shows PFNs only then."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("CapEff:"):
                    return bool(int(line.split()[1], 16) >> CAP_SYS_ADMIN & 1)
    except (OSError, ValueError, IndexError):
        pass
    return False


PF_KTHREAD = 0x00200000  # include/linux/sched.h (6.12): the task is a kernel thread


@dataclass(frozen=True)
class ProcState:
    """What /proc/PID/stat says of a process: its name, state letter, and whether it is a kernel thread."""

    comm: str
    state: str
    kthread: bool


def proc_state(pid: int) -> ProcState | None:
    """fs/proc/array.c do_task_stat: 'pid (comm) state ppid ... flags' (flags is field 9); None if gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat_file:
            text = stat_file.read()
    except OSError:
        return None
    comm = text[text.find("(") + 1: text.rfind(")")]
    rest = text[text.rfind(")") + 2:].split()
    try:
        return ProcState(comm, rest[0], bool(int(rest[6]) & PF_KTHREAD))
    except (IndexError, ValueError):
        return None


def why_no_memory(pid: int) -> str | None:
    """Why a process has no user memory to read: gone, a zombie, or a kernel thread; None if it has."""
    state = proc_state(pid)
    if state is None:
        return f"--pid {pid}: no such process"
    if state.state in ("Z", "X"):
        return (f"--pid {pid} ({state.comm}) is a zombie: it has exited and its memory is gone; only its "
                "parent's wait() is pending")
    if state.kthread:
        return f"--pid {pid} ({state.comm}) is a kernel thread: it has no user address space, so no pagemap"
    return None


def proc_error(pid: int, what: str, exc: OSError) -> WorkError:
    """The error for a failed read of /proc/PID/WHAT: the process's own state when it has gone."""
    import errno

    if exc.errno in (errno.ENOENT, errno.ESRCH):
        return WorkError(why_no_memory(pid) or f"--pid {pid}: no such process")
    return WorkError(f"cannot read /proc/{pid}/{what}: {exc.strerror or exc}")


def read_proc_maps(pid: int) -> list[Vma]:
    """The mappings of a live process; a kernel thread or zombie (whose maps are empty) is an error saying so."""
    try:
        with open(f"/proc/{pid}/maps") as maps:
            text = maps.read()
    except OSError as exc:
        raise proc_error(pid, "maps", exc) from None
    if not text.strip():
        why = why_no_memory(pid)
        if why:
            raise WorkError(why)
    return parse_maps(text, f"/proc/{pid}/maps")
