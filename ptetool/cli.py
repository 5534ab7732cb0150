"""The click commands: parse, call the core, render. Exit codes: see ptetool.errors."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

import click

from ptetool import __version__, term
from ptetool.decoder import CLASSES, Decoded, decode
from ptetool.errors import EXIT_DIFFERENT, EXIT_USAGE, PtetoolError, UsageError
from ptetool.kernel import Model
from ptetool.options import DECODE_FORMATS, model_options, output_options
from ptetool.values import format_value, parse_value, split_level, split_tokens


class PtetoolGroup(click.Group):
    """Maps ptetool's errors to the exit codes of ptetool.errors, in this one place; loads the
    commands that live in their own modules only when they run (or when help lists them)."""

    LAZY: ClassVar[dict[str, tuple[str, str]]] = {"pagemap": ("ptetool.cli_pagemap", "pagemap_cmd"),
                                                   "scan": ("ptetool.cli_scan", "scan_cmd")}

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
        term.err(_model_line(model, arch, level))
    if bad:
        raise SystemExit(EXIT_USAGE)


def _say_other_reading(d: Decoded) -> None:
    from ptetool.decoder import other_reading
    from ptetool.render.text import brief

    other = other_reading(d)
    if other is not None:
        term.err(f"the other swap layout ({'L1TF' if other.model.swap_l1tf else 'pre-L1TF'}) reads it as: "
                 + brief(other))


def _model_line(model: Model, arch: str, level: str) -> str:
    from ptetool.render.text import describe_model

    return describe_model(model, arch, level).replace("\n", "\nptetool: ")


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


# --- encode -------------------------------------------------------------------------------------

def parse_assignment(text: str) -> tuple[str, int | str]:
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise UsageError(f"bad field {text!r}: expected NAME=VALUE")
    try:
        return name, int(raw.replace("_", ""), 0)
    except ValueError:
        if name == "swp_type" and raw:
            return name, raw
        raise UsageError(f"bad field {text!r}: VALUE is decimal, or 0x hex, 0b binary, 0o octal") from None


@cli.command("encode")
@click.argument("cls", metavar="CLASS|-")
@click.argument("assignments", nargs=-1, metavar="[NAME=VALUE]...")
@model_options
def encode_cmd(cls: str, assignments: tuple[str, ...], arch: str, level: str, model: Model) -> None:
    """Build a raw entry from a class and fields; '-' reads decode's NDJSON from stdin.

    Field values are decimal, or 0x hex, 0b binary, 0o octal; swp_type also takes
    a type name (migration_write, pte_marker, ...). Missing fields are 0, except the
    bits a class needs (present, protnone, pse, the class's swap type).
    """
    from ptetool.encoder import encode, resolve_type_names

    if cls == "-":
        if assignments:
            raise UsageError("encode -: reads records from stdin and takes no NAME=VALUE")
        _encode_stream(model)
        return
    result = encode(cls, resolve_type_names(dict(parse_assignment(a) for a in assignments), model), arch, level,
                    model)
    term.out(format_value(result.value))
    for warning in result.warnings:
        term.err("warning: " + warning)


def _encode_stream(model: Model) -> None:
    """encode -: one value per NDJSON record on stdin; a bad line is named and the rest still built."""
    from ptetool.encoder import encode_json_record

    models: dict[str, Model] = {}  # full models by key, as the stream states them
    bad = 0
    for number, line in enumerate(sys.stdin, 1):
        if not line.strip():
            continue
        try:
            value = encode_json_record(line, lambda: model, models)
            if value is not None:
                term.out(format_value(value))
        except UsageError as exc:
            term.err(f"stdin line {number}: {exc}")
            bad += 1
    if bad:
        raise SystemExit(EXIT_USAGE)


# --- model --------------------------------------------------------------------------------------

@cli.command("model")
@model_options
def model_cmd(arch: str, level: str, model: Model) -> None:
    """The kernel model the options (or the running kernel) give, as JSON: what bulk records name by key."""
    from ptetool.record import model_record

    term.out(json.dumps(model_record(model, arch)))


# --- layout -------------------------------------------------------------------------------------

@cli.command("layout")
@click.option("--class", "cls", type=click.Choice(CLASSES), default="present",
              show_default=True, help="Which class's layout to show.")
@model_options
@output_options(("diagram", "table", "json", "markdown"))
def layout_cmd(cls: str, arch: str, level: str, model: Model, fmt: str | None, color: str,
               ascii_only: bool, svg: str | None, html: str | None) -> None:
    """Show a layout (arch, level, class, kernel) as a bit diagram and field table, with no value."""
    from ptetool.encoder import encode

    lay = encode(cls, {}, arch, level, model).layout
    title = f"{arch} {level} {cls}, kernel {model.label}"
    fmt = fmt or "diagram"
    if fmt == "json":
        from ptetool.record import layout_record

        term.out(json.dumps(layout_record(lay, cls, arch, level, model), indent=2))
    elif fmt == "markdown":
        from ptetool.render.export import markdown_layout

        term.out(markdown_layout(lay, title))
    if fmt in ("diagram", "table") or svg or html:
        from ptetool.render import views

        view = views.field_table(lay, None, ascii_only) if fmt == "table" else views.layout_view(lay, title, ascii_only)
        if fmt in ("diagram", "table"):
            term.show(view, term.wants_color(color))
        if svg or html:  # the picture, whatever the format on stdout
            from ptetool.render.export import export_renderable

            export_renderable(view, svg, html)
    if fmt != "json":
        term.err(_model_line(model, arch, level))


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


# --- diff ---------------------------------------------------------------------------------------

@cli.command("diff")
@click.argument("value_a", metavar="A")
@click.argument("value_b", metavar="B")
@model_options
@output_options(("diagram", "brief", "json"))
def diff_cmd(value_a: str, value_b: str, arch: str, level: str, model: Model, fmt: str | None, color: str,
             ascii_only: bool, svg: str | None, html: str | None) -> None:
    """The fields and bits that differ between two values: exit 0 equal, 1 different, 2 usage error."""
    from ptetool.diff import diff

    result = diff(decode(parse_value(value_a), arch, level, model), decode(parse_value(value_b), arch, level, model))
    fmt = fmt or ("diagram" if term.stdout_is_terminal() else "brief")
    if fmt == "json":
        from ptetool.record import diff_record

        term.out(json.dumps(diff_record(result), indent=2))
    elif fmt == "brief":
        from ptetool.render.text import brief_diff

        for line in brief_diff(result):
            term.out(line)
    else:
        from ptetool.render import views

        term.show(views.diff_view(result, ascii_only), term.wants_color(color))
    if svg or html:
        from ptetool.render import views
        from ptetool.render.export import export_renderable

        export_renderable(views.diff_view(result, ascii_only), svg, html)
    if fmt != "json":
        term.err(_model_line(model, arch, level))
    if not result.equal:
        raise SystemExit(EXIT_DIFFERENT)
