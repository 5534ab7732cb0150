"""The commands around decode: encode, model, layout and diff (loaded when one of them runs).

Exit codes: see ptetool.errors (diff: 0 equal, 1 different, 2 usage error).
"""

from __future__ import annotations

import sys

import click

from ptetool import term
from ptetool.decoder import CLASSES, decode
from ptetool.errors import EXIT_DIFFERENT, EXIT_USAGE, UsageError
from ptetool.kernel import Model
from ptetool.options import model_options, output_options
from ptetool.render.text import model_note
from ptetool.values import format_value, parse_value

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


@click.command("encode")
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

@click.command("model")
@model_options
def model_cmd(arch: str, level: str, model: Model) -> None:
    """The kernel model the options (or the running kernel) give, as JSON: what bulk records name by key."""
    import json

    from ptetool.record import model_record

    term.out(json.dumps(model_record(model, arch)))


# --- layout -------------------------------------------------------------------------------------

@click.command("layout")
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
        import json

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
        term.err(model_note(model, arch, level))


# --- diff ---------------------------------------------------------------------------------------

@click.command("diff")
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
        import json

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
        term.err(model_note(model, arch, level))
    if not result.equal:
        raise SystemExit(EXIT_DIFFERENT)
