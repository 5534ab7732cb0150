"""Plain-text views of scan findings: a table for the terminal and a report to paste into an email."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator

from ptetool.render.text import brief, describe_model
from ptetool.scan import Finding

REPORT_WIDTH = 80


def reading(f: Finding) -> str:
    """A short reading of a finding: the brief line without the value, or why it is not decoded."""
    if f.decoded is not None:
        text = brief(f.decoded).split(" ", 1)[1]
        if f.alternatives:
            text += " | other layout: " + brief(f.alternatives[0]).split(" ", 1)[1]
        return text
    if f.page_flags is not None:
        pf = f.page_flags
        verdict = {True: "agrees with the printed names", False: "differs from the printed names",
                   None: "no names printed"}[pf.agrees]
        off = f", with {', '.join(pf.disabled)} off" if pf.disabled else ""
        return (f"page flags {'|'.join(pf.set_names) or '-'} ({pf.numbering[0]}.{pf.numbering[1]} numbering{off}: "
                f"{verdict})")
    return "not decoded: " + (f.why_not or "") if f.unparsed is None else "unparsed: " + f.unparsed


def table_lines(f: Finding) -> Iterator[str]:
    """One row per finding: line, message, name, value, then the reading; hints indented below."""
    value = f.token or "-"
    yield f"{f.line:>6}  {f.message:<15} {f.name or '-':<10} {value:<18} {reading(f)}"
    for hint in f.hints:
        yield f"{'':>6}  hint: {hint}"


def report(f: Finding) -> str:
    """A plain block at most 80 columns wide: the line as read, the diagram, fields, problems, hints, model."""
    from ptetool.render import views
    from ptetool.render.export import plain

    wrap = textwrap.TextWrapper(width=REPORT_WIDTH, subsequent_indent="    ", break_long_words=True)
    head = f"line {f.line}: {f.message} {f.name or ''} {f.token or ''}".rstrip()
    parts = [head, *wrap.wrap("  | " + f.text)]
    if f.decoded is None:
        parts += wrap.wrap(reading(f))
        return "\n".join(parts)
    d = f.decoded
    parts.append(plain(views.BitDiagram(d.layout, d.value, ascii_only=True), REPORT_WIDTH))
    parts += wrap.wrap(brief(d))
    fields = ", ".join(f"{name}={value:#x}" if value > 1 else f"{name}={value}" for name, value in d.fields.items())
    parts += wrap.wrap("fields: " + fields)
    parts += [line for p in d.problems for line in wrap.wrap("problem: " + p)]
    parts += [line for n in d.notes for line in wrap.wrap("note: " + n)]
    parts += [line for h in f.hints for line in wrap.wrap("hint: " + h)]
    for alt in f.alternatives:
        parts += wrap.wrap("other layout (" + alt.layout.doc + "): " + brief(alt))
    parts += [line for m in describe_model(d.model, d.arch, d.level).splitlines() for line in wrap.wrap(m)]
    parts += [line for part, why in d.model.sources for line in wrap.wrap(f"  {part}: {why}")]
    return "\n".join(parts)
