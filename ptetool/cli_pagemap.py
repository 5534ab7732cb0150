"""The pagemap command: parse the options, stream records through ptetool.pagemap, render.

Exit codes: see ptetool.errors (1 for unreadable input and a truncated record, 2 for usage).
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any, TypeVar

import click

from ptetool import term
from ptetool.errors import WorkError
from ptetool.kernel import Model
from ptetool.options import model_options

F = TypeVar("F", bound=Callable[..., Any])

FORMATS = ("table", "ndjson", "json", "csv", "summary")
TABLE_BLOCK = 256  # records per rendered block of the streamed table


def pagemap_options(func: F) -> F:
    """The input, narrowing and output options of ``ptetool pagemap``."""
    options = [
        click.option("--pid", type=click.IntRange(min=1), metavar="PID",
                     help="Read /proc/PID/pagemap for the mappings in /proc/PID/maps."),
        click.option("--range", "range_", metavar="LO-HI",
                     help="Only pages in [LO, HI), widened to whole pages. Addresses are hex as maps prints them "
                     "(digits alone too); 0d marks decimal."),
        click.option("--vma", multiple=True, metavar="NAME|ADDR",
                     help="Only the mappings named NAME (a path, its basename, [heap], [stack], [anon], ...) "
                     "or holding ADDR; repeatable. Needs --pid or --maps."),
        click.option("--vaddr", metavar="ADDR",
                     help="Virtual address of a dump's first record, hex (0d for decimal) [default: 0]."),
        click.option("--page-size", type=click.IntRange(min=1), metavar="BYTES",
                     help=f"Page size: the address step per record [default: {mmap.PAGESIZE}]."),
        click.option("--maps", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Label a dump's records with the mappings of a saved /proc/PID/maps."),
        click.option("--filter", "filters", multiple=True, metavar="NAME[,NAME]...",
                     help="Keep records of any of these: a class (none, present, swap, pte_marker, "
                     "migration, device_private, device_exclusive, hwpoison, swapin_error, invalid), a pagemap bit "
                     "(pm_present, pm_swap, pm_file, pm_mmap_exclusive, pm_uffd_wp, pm_guard_region, "
                     "pm_soft_dirty), zeroed or problems. Several --filter options must all hold."),
        click.option("--kpageflags", is_flag=True,
                     help="Join present pages with their /proc/kpageflags flags (root only)."),
        click.option("--assume-zeroed/--no-assume-zeroed", "assume_zeroed", default=None,
                     help="Read a present or swap record whose bits 0-54 are 0 as hidden by a reader without "
                     "CAP_SYS_ADMIN [default: yes for a dump; with --pid, when this process lacks it]."),
        click.option("--format", "fmt", type=click.Choice(FORMATS), default=None,
                     help="Output format [default: table on a terminal, else csv]."),
        click.option("--runs/--no-runs", default=True, show_default=True,
                     help="summary: list the runs of contiguous pages with the same class and flags."),
        click.option("--color", type=click.Choice(["auto", "always", "never"]), default="auto", show_default=True,
                     help="Colour: auto colours a terminal unless NO_COLOR is set."),
        click.option("--ascii", "ascii_only", is_flag=True, help="Draw tables with ASCII characters."),
        click.option("--svg", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Also draw the address space to FILE as SVG: a strip per mapping, pages coloured by "
                     "class and marker kind, long runs compressed."),
        click.option("--html", type=click.Path(dir_okay=False), metavar="FILE",
                     help="Also write that picture as an HTML page."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command("pagemap")
@click.argument("file", required=False, metavar="[FILE]")
@pagemap_options
@model_options
def pagemap_cmd(file: str | None, pid: int | None, range_: str | None, vma: tuple[str, ...], vaddr: str | None,
                page_size: int | None, maps: str | None, filters: tuple[str, ...], kpageflags: bool,
                assume_zeroed: bool | None, fmt: str | None, runs: bool, color: str, ascii_only: bool,
                svg: str | None, html: str | None, arch: str, level: str, model: Model) -> None:
    """Decode /proc/PID/pagemap records: from FILE, '-'/stdin (8-byte little-endian), or --pid PID.

    Each record gets its class (present, none, swap, pte_marker, migration, device_private,
    device_exclusive, hwpoison, swapin_error, invalid) by the kernel model's swap-type numbering,
    so a guard page is a pte_marker with guard, not "swapped at offset 4".
    """
    # numpy's OpenBLAS starts a thread per core at import; ptetool does no BLAS, and the second core
    # is better spent reading ahead (an explicit setting wins)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    from ptetool import pagemap as pm

    request = pm.Request(file, pid, range_, vma, vaddr, page_size, maps, filters, kpageflags, assume_zeroed, level)
    fmt = fmt or ("table" if term.stdout_is_terminal() else "csv")
    rules = pm.rules_for(model, arch)
    with ExitStack() as stack:
        run = pm.open_source(request, stack, None if term.stdin_is_terminal() else term.binary_stdin(),
                             mmap.PAGESIZE)
        for note in run.notes:
            term.err(note)
        stats = pm.Stats()
        progress = term.Progress(run.source.total)
        stack.callback(progress.close)
        picture = _Picture(rules, run.zeroed_rule, run.page_size) if svg or html else None
        if _plain(run, fmt, picture is not None):  # a small --pid read: no numpy to load
            _write_plain(fmt, pm.plain_records(run.source, rules, run.zeroed_rule, stats), run, rules, runs, color,
                         ascii_only, progress)
        else:
            pm.tune_allocator()  # process-wide malloc settings: the command's to make, before the pipeline runs
            chunk = pm.SUMMARY_CHUNK_RECORDS if fmt == "summary" else pm.CHUNK_RECORDS
            records = pm.batches(run.source, rules, run.zeroed_rule, run.groups, run.kpf, stats, progress.update,
                                 chunk)
            if picture is not None:
                records = picture.tee(records)
            _write(fmt, records, run, rules, kpageflags, runs, color, ascii_only, progress)
    if picture is not None:
        title = f"process {pid}" if pid is not None else (file or "standard input")
        picture.write(run.vmas, f"ptetool pagemap: {title}", run.lo_hi, svg, html)
    if fmt == "summary" and run.source.exited is not None:
        exited = run.source.exited
        term.out(f"partial: process {pid} exited at {exited[0]:#x} after {exited[1]} records")
    _notes(run.source, stats, run.zeroed_rule, pid is not None, fmt, rules, arch)


def _plain(run: Any, fmt: str, picture: bool) -> bool:
    """Whether to decode one record at a time: a live read of few records (no --filter, --kpageflags
    or picture)."""
    from ptetool import pagemap as pm

    return (fmt in ("ndjson", "json", "csv", "table", "summary") and isinstance(run.source, pm.PidSource)
            and run.source.total is not None
            and run.source.total <= (pm.PLAIN_SUMMARY_LIMIT if fmt == "summary" else pm.PLAIN_LIMIT)
            and not run.groups and run.kpf is None and not picture)


def _write_plain(fmt: str, records: Iterator[Any], run: Any, rules: Any, runs: bool, color: str, ascii_only: bool,
                 progress: term.Progress) -> None:
    from ptetool import pagemap as pm

    if fmt == "summary":
        from ptetool.render import pagemap_views as views

        summary, listed = pm.plain_summary(records, runs)
        if listed:
            term.out(views.RUN_HEADER)
            formatter = views.RunFormatter(rules, run.zeroed_rule, run.vmas, run.page_size)
            term.write_pieces([formatter.run_lines(listed)])
        _show_summary(summary, rules, run.vmas, color, ascii_only, progress, run.lo_hi)
        return
    if fmt == "table":
        rows = (_row(r.index, r.vaddr, r.entry, run.vmas, r.vma_id, None) for r in records)
        _table(rows, run.source.labelled, False, color, ascii_only, progress)
        return
    writer = pm.LineWriter(fmt, rules, run.vmas, run.source.labelled, run.zeroed_rule, term.write_pieces)
    writer.start()
    writer.write_records(records)
    writer.finish()
    progress.close()


def _write(fmt: str, records: Iterator[Any], run: Any, rules: Any, kpageflags: bool, runs: bool, color: str,
           ascii_only: bool, progress: term.Progress) -> None:
    """The records in the chosen format, as they stream in."""
    from ptetool import pagemap as pm

    if fmt in ("ndjson", "json", "csv"):
        writer = pm.LineWriter(fmt, rules, run.vmas, run.source.labelled, run.zeroed_rule, term.write_pieces,
                               kpageflags)
        writer.start()
        for batch in records:
            writer.feed(batch)
        writer.finish()
    elif fmt == "summary":
        _summary(records, rules, run.vmas, run.zeroed_rule, run.page_size, runs, color, ascii_only, progress,
                 run.lo_hi)
    else:
        _table(_batch_rows(records, rules, run.vmas, run.zeroed_rule), run.source.labelled, kpageflags, color,
               ascii_only, progress)
    progress.close()


class _Picture:
    """--svg/--html: a second summary of the same batches, its runs kept as the picture's strips."""

    def __init__(self, rules: Any, zeroed_rule: bool, page_size: int) -> None:
        from ptetool.pagemap import SummaryBuilder
        from ptetool.render.address_space import Strips

        self.strips = Strips(rules, zeroed_rule, page_size)
        self.builder = SummaryBuilder(page_size, self.strips.add)

    def tee(self, records: Iterator[Any]) -> Iterator[Any]:
        for batch in records:
            self.builder.feed(batch)
            yield batch

    def write(self, vmas: Any, title: str, clip: tuple[int, int] | None, svg: str | None, html: str | None) -> None:
        from ptetool.render import address_space

        drawing = address_space.svg(self.strips, self.builder.finish(), vmas, title, clip)
        for path, text in ((svg, drawing), (html, address_space.html(drawing, title) if html else "")):
            if path:
                try:
                    with open(path, "w", encoding="utf-8") as out:
                        out.write(text)
                except OSError as exc:
                    raise WorkError(f"cannot write {path}: {exc.strerror or exc}") from None


def _summary(records: Iterator[Any], rules: Any, vmas: Any, zeroed_rule: bool, page_size: int, runs: bool,
             color: str, ascii_only: bool, progress: term.Progress, clip: tuple[int, int] | None) -> None:
    from ptetool.pagemap import SummaryBuilder
    from ptetool.render import pagemap_views as views

    # only with --runs: its 512 flag texts cost more than a whole summary's counting of a small process
    formatter = views.RunFormatter(rules, zeroed_rule, vmas, page_size) if runs else None
    header = [views.RUN_HEADER]

    def on_runs(runs: Any) -> None:
        assert formatter is not None
        if header:
            term.out(header.pop())
        term.write_pieces([formatter.lines(runs)])

    builder = SummaryBuilder(page_size, on_runs if runs else None)
    for batch in records:
        builder.feed(batch)
    _show_summary(builder.finish(), rules, vmas, color, ascii_only, progress, clip)


def _show_summary(summary: Any, rules: Any, vmas: Any, color: str, ascii_only: bool, progress: term.Progress,
                  clip: tuple[int, int] | None) -> None:
    """The counts, after the runs listed (if any) and a blank line."""
    from ptetool.render import pagemap_views as views

    progress.close()
    if summary.runs:
        term.out("")
    if term.stdout_is_terminal():
        use_color = term.wants_color(color)
        view = views.summary_renderable(summary, rules, vmas, ascii_only, clip)
        console = term.stream_console(use_color)
        wide = console.measure(view, options=console.options.update_width(1 << 16)).maximum
        if wide > console.width:  # wider than the screen: let the terminal (or less -S) cut, not rich squeeze
            console = term.stream_console(use_color, width=wide)
        console.print(view)
    else:
        term.out("\n".join(views.summary_text(summary, rules, vmas, clip)))


def _batch_rows(records: Iterator[Any], rules: Any, vmas: Any, zeroed_rule: bool) -> Iterator[Any]:
    """The table's rows of decoded batches (a value's decode is kept: a run repeats it)."""
    from ptetool import pagemap as pm

    cache: dict[int, pm.Entry] = {}
    for batch in records:
        vaddrs = batch.vaddrs().tolist()
        kpf = batch.kpf.tolist() if batch.kpf is not None else None
        ids = batch.vma.tolist() if batch.vma is not None else None
        for i, (value, index) in enumerate(zip(batch.raw.tolist(), batch.index.tolist(), strict=True)):
            entry = cache.get(value)
            if entry is None:
                if len(cache) > 4096:
                    cache.clear()
                entry = cache[value] = pm.decode_record(value, rules, zeroed_rule)
            yield _row(index, vaddrs[i], entry, vmas, ids[i] if ids is not None else -1,
                       kpf[i] if kpf is not None else None)


def _row(index: int, vaddr: int, entry: Any, vmas: Any, vma_id: int, kpf: int | None) -> Any:
    from ptetool import pagemap as pm
    from ptetool.render import pagemap_views as views

    vma = vmas[vma_id] if vmas is not None and vma_id >= 0 else None
    names = pm.kpf_names(kpf) if kpf is not None and kpf != pm.KPF_MISSING else None
    return views.Row(index, vaddr, entry, vma, names)


def _table(rows: Iterator[Any], labelled: bool, with_kpf: bool, color: str, ascii_only: bool,
           progress: term.Progress) -> None:
    from ptetool.render import pagemap_views as views

    use_color = term.wants_color(color)
    with term.pager() as stream:
        console = term.stream_console(use_color, file=stream, width=None if term.stdout_is_terminal() else 200)
        width = console.width
        header = True
        block: list[views.Row] = []
        for row in rows:
            block.append(row)
            if len(block) >= TABLE_BLOCK:
                console.print(views.record_table(block, header, labelled, with_kpf, ascii_only, width),
                              soft_wrap=True)
                header, block = False, []
        if block or header:
            console.print(views.record_table(block, header, labelled, with_kpf, ascii_only, width), soft_wrap=True)
        progress.close()


def _notes(source: Any, stats: Any, zeroed_rule: bool, live: bool, fmt: str, rules: Any, arch: str) -> None:
    """What the user must know about the run, on stderr; then the truncation error, if any."""
    for short in getattr(source, "short", []):
        term.err(f"note: {short}")
    if live and not source.total:
        term.err("note: no page of the chosen mappings lies in --range: nothing to read")
    if stats.zeroed and not live:
        term.err(f"note: {stats.zeroed} present or swap records have bits 0-54 all 0: read as zeroed by a reader "
                 "without CAP_SYS_ADMIN (the records say so; --no-assume-zeroed takes them as real)")
    if stats.invalid:
        term.err(f"note: {stats.invalid} records no kernel writes (class invalid; see their problems)")
    if fmt in ("table", "summary", "csv"):
        from ptetool.render.text import model_note

        term.err(model_note(rules.model, arch, "pte"))
    if source.trailing:
        raise WorkError(f"truncated pagemap record: {source.records} whole records read, "
                        f"{source.trailing} trailing bytes")
    exited = source.exited
    if exited is not None:
        raise WorkError(f"process {source.pid} exited while being read: the output is partial, it stops at "
                        f"{exited[0]:#x} after {exited[1]} records")
