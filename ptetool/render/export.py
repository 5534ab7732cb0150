"""Views for bug reports: Markdown to paste, SVG and HTML files from rich's export."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Group, RenderableType

from ptetool.decoder import Decoded
from ptetool.errors import WorkError
from ptetool.layout import Layout
from ptetool.render import views
from ptetool.term import make_console

MARKDOWN_WIDTH = 80  # fits an email or an issue comment without wrapping


def plain(renderable: RenderableType, width: int = MARKDOWN_WIDTH) -> str:
    buffer = io.StringIO()
    make_console(False, file=buffer, width=width).print(renderable)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def _md_table(layout: Layout, value: int | None) -> str:
    head = "| bits | field | value | meaning |" if value is not None else "| bits | field | meaning | source |"
    rows = [head, "|" + "---|" * (head.count("|") - 1)]
    for f in sorted(layout.fields, key=lambda f: (-f.msb, f.alias_of is not None)):
        name = ("↳ " if f.alias_of else "") + f"`{f.name}`"
        doc = f.doc.replace("|", "\\|")
        if value is not None:
            got = f.extract(value)
            rows.append(f"| {f.bit_range()} | {name} | {got if f.is_flag else hex(got)} | {doc} |")
        else:
            rows.append(f"| {f.bit_range()} | {name} | {doc} | {f.source} |")
    return "\n".join(rows)


def markdown(d: Decoded) -> str:
    diagram = views.BitDiagram(d.layout, d.value, ascii_only=False)
    summary = plain(Group(*views.summary(d, with_model=True)))
    return (f"```\n{plain(diagram)}\n```\n\n```\n{summary}\n```\n\n{_md_table(d.layout, d.value)}\n")


def markdown_layout(layout: Layout, title: str) -> str:
    diagram = views.BitDiagram(layout, None)
    return f"**{title}**: {layout.doc}\n\n```\n{plain(diagram)}\n```\n\n{_md_table(layout, None)}\n"


def export_renderable(renderables: RenderableType | Sequence[RenderableType], svg: str | None,
                      html: str | None, width: int = 120) -> None:
    console = make_console(True, file=io.StringIO(), width=width, record=True)
    for renderable in renderables if isinstance(renderables, Sequence) else [renderables]:
        console.print(renderable)
    try:
        if svg:
            console.save_svg(svg, title="ptetool", clear=False)
        if html:
            console.save_html(html, clear=False)
    except OSError as exc:
        raise WorkError(f"cannot write {exc.filename}: {exc.strerror}") from None


def export_views(decoded: Sequence[Decoded], ascii_only: bool, svg: str | None, html: str | None) -> None:
    export_renderable([views.decode_view(d, ascii_only, with_model=True) for d in decoded], svg, html)

