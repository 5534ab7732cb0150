"""ptetool scan: parse options, run the scanner, render each finding as it comes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING

import click

from ptetool import term
from ptetool.kernel import parse_version

if TYPE_CHECKING:
    from ptetool.scan import Finding

SCAN_ARCHES = ("x86_64", "generic", "arm64", "aarch64", "riscv64", "arm", "i386", "powerpc")
SCAN_FORMATS = ("table", "ndjson", "json", "report")


@click.command("scan")
@click.argument("file", required=False, metavar="[FILE|-]")
@click.option("--arch", type=click.Choice(SCAN_ARCHES), default=None,
              help="Arch of the log [default: inferred from it (RIP:, pc :, the release), else x86_64].")
@click.option("--kernel", metavar="X.Y[.Z][-suffix]",
              help="Kernel release of the log [default: its CPU: or Linux version line, else the newest modelled].")
@click.option("--kconfig", metavar="PATH|allyes", help="A .config deciding swap types [default: allyes].")
@click.option("--l1tf/--no-l1tf", default=None,
              help="x86 swap layout: force L1TF or the one before [default: the release's, or the log's own "
              "agreement between a pte and its swp_entry_t].")
@click.option("--phys-bits", type=click.IntRange(32, 52), metavar="N", help="Physical address width [default: 52].")
@click.option("--la57/--no-la57", default=None, help="5-level paging [default: off].")
@click.option("--format", "fmt", type=click.Choice(SCAN_FORMATS), default=None,
              help="Output format [default: table on a terminal, else ndjson].")
def scan_cmd(file: str | None, arch: str | None, kernel: str | None, kconfig: str | None, l1tf: bool | None,
             phys_bits: int | None, la57: bool | None, fmt: str | None) -> None:
    """Find page-table values in kernel log text (FILE or stdin) and decode each.

    Reads Bad page map, bad swap entry, oops page-table walk, dump_page, Bad page state and
    rss-counter messages, with any timestamp, syslog, journalctl or mail-quote prefix. The
    release and arch come from the log itself (CPU: ... <release>, RIP:, pc :) unless given.
    """
    from ptetool.scan import Options, read_lines, scan_log

    if kernel:
        parse_version(kernel)  # a usage error now, not one per finding
    options = Options(kernel=kernel, kconfig=kconfig, arch="arm64" if arch == "aarch64" else arch, l1tf=l1tf,
                      phys_bits=phys_bits, la57=la57)
    fmt = fmt or ("table" if term.stdout_is_terminal() else "ndjson")
    count = _render(scan_log(read_lines(file), options), fmt)
    if not count and fmt != "json":
        term.err("no page-table values or kernel messages found")


def _render(findings: Iterable[Finding], fmt: str) -> int:
    """Write findings as they come (constant memory, even for json); the number written."""
    from ptetool.scan.record import scan_record

    count = 0
    if fmt == "json":
        term.raw_out("[")
    for f in findings:
        if fmt == "ndjson":
            term.out(json.dumps(scan_record(f)))
        elif fmt == "json":
            term.raw_out(("\n  " if not count else ",\n  ") + json.dumps(scan_record(f)))
        elif fmt == "report":
            from ptetool.render.scan_views import report

            term.out(("\n" if count else "") + report(f))
        else:
            from ptetool.render.scan_views import table_lines

            for line in table_lines(f):
                term.out(line)
        count += 1
    if fmt == "json":
        term.raw_out("\n]\n")
    return count
