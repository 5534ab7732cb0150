"""What a pagemap run reads: the options checked against each other, then the one source they choose."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from typing import BinaryIO

from ptetool.errors import UsageError, WorkError
from ptetool.pagemap.maps import Vma, has_cap_sys_admin, parse_maps, parse_range, read_proc_maps
from ptetool.pagemap.pipeline import parse_filters
from ptetool.pagemap.sources import Kpageflags, PidSource, StreamSource


@dataclass(frozen=True)
class Request:
    """The input and narrowing options of `ptetool pagemap`, as given (None: not given)."""

    file: str | None = None
    pid: int | None = None
    range_text: str | None = None
    vma: tuple[str, ...] = ()
    vaddr_text: str | None = None
    page_size: int | None = None
    maps_path: str | None = None
    filters: tuple[str, ...] = ()
    kpageflags: bool = False
    assume_zeroed: bool | None = None
    level: str = "pte"


@dataclass
class Opened:
    """The chosen source and what goes with it; ``notes`` are for the user before the output."""

    source: StreamSource | PidSource
    vmas: list[Vma] | None
    lo_hi: tuple[int, int] | None
    groups: tuple[frozenset[str], ...]
    zeroed_rule: bool
    kpf: Kpageflags | None
    page_size: int
    notes: list[str]


def open_source(request: Request, stack: ExitStack, stdin: BinaryIO | None, system_page_size: int) -> Opened:
    """Check the options against each other and open what they name; the stack closes it all.

    ``stdin`` is None when standard input is a terminal (no dump can come from it).
    """
    from ptetool.values import parse_address

    r = request
    ps = r.page_size or system_page_size
    if ps & (ps - 1) or ps < 4096:
        raise UsageError(f"--page-size {ps}: a power of two, 4096 or more")
    if r.level != "pte":
        raise UsageError(f"--level {r.level}: pagemap has one record per page (pte); leave --level out")
    if r.pid is not None:
        for given, name in ((r.file, "FILE"), (r.vaddr_text, "--vaddr"), (r.maps_path, "--maps")):
            if given is not None:
                raise UsageError(f"--pid reads the process's own pagemap and maps: {name} does not go with it")
        if r.page_size is not None and ps != system_page_size:
            raise UsageError(f"--page-size {ps}: a live process has this machine's page size, {system_page_size}")
    if r.vma and r.pid is None and r.maps_path is None:
        raise UsageError("--vma needs the mappings: give --pid or --maps")
    lo_hi, range_notes = parse_range(r.range_text, ps) if r.range_text else (None, [])
    base, vaddr_note = parse_address(r.vaddr_text, "--vaddr", ps) if r.vaddr_text else (0, None)
    notes = [f"note: {n}" for n in (*range_notes, *([vaddr_note] if vaddr_note else []), *_vma_notes(r.vma))]
    groups = parse_filters(r.filters)
    source: StreamSource | PidSource
    if r.pid is not None:
        vmas: list[Vma] | None = read_proc_maps(r.pid)
        source = PidSource(r.pid, vmas or [], r.vma, lo_hi, ps)
        stack.callback(source.close)
        capable = has_cap_sys_admin()
        zeroed_rule = (not capable) if r.assume_zeroed is None else r.assume_zeroed
        if not capable:
            notes.append(f"no CAP_SYS_ADMIN: /proc/{r.pid}/pagemap hides pfns and swap entries (they read as 0); "
                         "the records say \"zeroed\"")
    else:
        vmas = _read_maps(r.maps_path) if r.maps_path is not None else None
        if r.maps_path is not None and r.vaddr_text is None:
            notes.append("note: --maps without --vaddr: the dump's first record is taken to be the page at 0x0")
        stream, name = _open_input(r.file, stack, stdin)
        source = StreamSource(stream, name, base, ps, vmas, lo_hi, r.vma)
        zeroed_rule = True if r.assume_zeroed is None else r.assume_zeroed
    kpf = None
    if r.kpageflags:
        kpf = Kpageflags()
        stack.callback(kpf.close)
    return Opened(source, vmas, lo_hi, groups, zeroed_rule, kpf, ps, notes)


def _vma_notes(wanted: tuple[str, ...]) -> list[str]:
    """How each --vma that is a bare number was read (a name never is one)."""
    from ptetool.values import parse_address

    notes = []
    for token in wanted:
        if token.strip().isdigit():
            try:
                _value, note = parse_address(token, "--vma")
            except UsageError:
                continue
            if note:
                notes.append(note)
    return notes


def _read_maps(path: str) -> list[Vma]:
    try:
        with open(path, encoding="utf-8", errors="surrogateescape") as maps:
            text = maps.read()
    except OSError as exc:
        raise WorkError(f"cannot read --maps {path}: {exc.strerror or exc}") from None
    return parse_maps(text, path)


def _open_input(file: str | None, stack: ExitStack, stdin: BinaryIO | None) -> tuple[BinaryIO, str]:
    if file in (None, "-"):
        if stdin is None:
            raise UsageError("no input: give FILE, pipe a dump into standard input, or use --pid PID")
        return stdin, "standard input"
    assert file is not None
    try:
        stream = stack.enter_context(open(file, "rb"))  # noqa: SIM115 (closed by the stack)
    except OSError as exc:
        raise WorkError(f"cannot read {file}: {exc.strerror or exc}") from None
    return stream, file
