"""The click commands: parse, call the core, render. Exit codes: see ptetool.errors."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import click

from ptetool import __version__, term
from ptetool.decoder import Decoded, decode
from ptetool.errors import EXIT_USAGE, PtetoolError, UsageError
from ptetool.kernel import Model
from ptetool.options import DECODE_FORMATS, model_options, output_options
from ptetool.values import parse_value, split_level, split_tokens


class PtetoolGroup(click.Group):
    """Maps ptetool's errors to the exit codes of ptetool.errors, in this one place; loads the
    commands that live in their own modules only when they run (or when help lists them)."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {
        "pagemap": ("ptetool.cli_pagemap", "pagemap_cmd"), "scan": ("ptetool.cli_scan", "scan_cmd"),
        **{name: ("ptetool.cli_tools", f"{name}_cmd") for name in ("encode", "model", "layout", "diff")},
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *self.LAZY])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.LAZY and cmd_name not in self.commands:
            import importlib

            module, name = self.LAZY[cmd_name]
            self.add_command(getattr(importlib.import_module(module), name), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except PtetoolError as exc:
            term.err(str(exc))
            ctx.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader is gone (| head): point stdout at /dev/null so the final flush is silent.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)


@click.group(cls=PtetoolGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="ptetool")
def cli() -> None:
    """Decode and encode Linux page-table entries, bit for bit.

    Values are hexadecimal, with or without 0x, as the kernel prints them.
    """


# --- decode -------------------------------------------------------------------------------------

def _tokens(values: tuple[str, ...]) -> Iterator[str]:
    if values:
        yield from values
        return
    for number, line in enumerate(sys.stdin, 1):
        tokens = split_tokens(line)
        if _is_kernel_message(line):
            term.err(f"stdin line {number} is a kernel message: decoding only its pte:/pmd:/pud:/p4d:/pgd: values; "
                     "'ptetool scan' reads whole logs, with the release and arch they name")
            tokens = [t for t in tokens if split_level(t)[0]]
        yield from tokens


def _is_kernel_message(line: str) -> bool:
    from ptetool.scan.lines import clean
    from ptetool.scan.messages import find

    if not any(c.isalpha() and c not in "abcdefABCDEFxX" for c in line):
        return False  # only hex digits and 0x prefixes: values, never a message
    found, unparsed, _ = find(clean(line), False)
    return bool(found or unparsed)


@cli.command("decode")
@click.argument("values", nargs=-1, metavar="[VALUE]...")
@model_options
@output_options(DECODE_FORMATS)
def decode_cmd(values: tuple[str, ...], arch: str, level: str, model: Model, fmt: str | None, color: str,
               ascii_only: bool, svg: str | None, html: str | None) -> None:
    """Decode raw entries; with no VALUE, read them from standard input."""
    fmt = fmt or ("diagram" if term.stdout_is_terminal() else "brief")
    bad = 0
    decoded: list[Decoded] = []  # kept only for the JSON array and the exports
    keep = fmt == "json" or bool(svg or html)
    emit = _emitter(fmt, color, ascii_only)
    for token in _tokens(values):
        token_level, token = split_level(token)
        try:
            d = decode(parse_value(token), arch, token_level or level, model)
        except UsageError as exc:
            term.err(str(exc))
            bad += 1
            continue
        if keep:
            decoded.append(d)
        emit(d)
        if fmt not in ("json", "ndjson"):
            _say_other_reading(d)
    if fmt == "json":
        from ptetool.record import decode_record, dumps

        term.out(dumps([decode_record(d) for d in decoded], indent=2))
    if svg or html:
        from ptetool.render.export import export_views

        export_views(decoded, ascii_only, svg, html)
    if fmt not in ("json", "ndjson"):
        from ptetool.render.text import model_note

        term.err(model_note(model, arch, level))
    if bad:
        raise SystemExit(EXIT_USAGE)


def _say_other_reading(d: Decoded) -> None:
    from ptetool.decoder import other_reading
    from ptetool.render.text import brief

    other = other_reading(d)
    if other is not None:
        term.err(f"the other swap layout ({'L1TF' if other.model.swap_l1tf else 'pre-L1TF'}) reads it as: "
                 + brief(other))


def _emitter(fmt: str, color: str, ascii_only: bool) -> Callable[[Decoded], None]:
    """How each decoded value is written as it comes (json writes one array at the end)."""
    if fmt == "brief":
        from ptetool.render.text import brief

        return lambda d: term.out(brief(d))
    if fmt == "ndjson":
        from ptetool.record import decode_record, dumps

        return lambda d: term.out(dumps(decode_record(d)))
    if fmt == "json":
        return lambda d: None
    if fmt == "markdown":
        from ptetool.render.export import markdown

        return lambda d: term.out(markdown(d))
    from ptetool.render import views

    use_color = term.wants_color(color)
    if fmt == "table":
        return lambda d: term.show(views.decode_table(d, ascii_only), use_color)
    return lambda d: term.show(views.decode_view(d, ascii_only), use_color)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point. Once the output is flushed the process ends at once: interpreter
    teardown (freeing every module and object) costs a single decode more than the work itself."""
    try:
        cli.main(args=argv, prog_name="ptetool")
    except SystemExit as exc:
        code = exc.code
    else:
        code = 0
    term.flush_or_discard()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else 0 if code is None else 1)
