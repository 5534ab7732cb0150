"""Rich renderables for people: the bit diagram, the field table, the whole decode view.

These know nothing of click. Each holds decoded data and yields rich output;
tests render them to a Console of fixed width and compare golden text.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.console import Console, ConsoleOptions, Group, RenderableType, RenderResult
from rich.style import Style
from rich.text import Text

from ptetool.bits import bit_view, bits_of
from ptetool.decoder import Decoded
from ptetool.layout import Family, Field, Layout
from ptetool.render.grid import Column, Grid
from ptetool.render.text import describe_model, field_text
from ptetool.swaptypes import marker_bits
from ptetool.values import format_value

if TYPE_CHECKING:
    from ptetool.diff import Diff

FAMILY_COLOR: dict[Family, str] = {
    Family.HW_FLAG: "cyan",
    Family.SW_FLAG: "magenta",
    Family.FRAME: "green",
    Family.SWAP_TYPE: "yellow",
    Family.SWAP_OFFSET: "dark_orange",
    Family.SWAP_FLAG: "orchid",
    Family.MARKER: "bright_red",
    Family.PKEY: "blue",
    Family.RESERVED: "grey50",
    Family.IGNORED: "grey50",
}

# Diagram labels, kernel-comment style; the field table names them in full.
SHORT: dict[str, str] = {
    "present": "P", "rw": "RW", "user": "U", "pwt": "PWT", "pcd": "PCD", "accessed": "A", "dirty": "D",
    "pat": "PAT", "pse": "PS", "global": "G", "protnone": "PN", "special": "SP", "uffd_wp": "UW",
    "soft_dirty": "SD", "softw2": "S2", "softw3": "S3", "softw4": "S4", "devmap": "DM", "saved_dirty": "SVD",
    "pkey": "PKEY", "nx": "NX", "pat_large": "PAT", "swp_soft_dirty": "SD", "swp_uffd_wp": "UW",
    "swp_exclusive": "E", "swp_type": "TYPE", "pfn": "PFN", "marker_uffd_wp": "WP", "marker_poisoned": "PO",
    "marker_swapin_error": "SE", "marker_guard": "GD", "mig_young": "Y", "mig_dirty": "D",
    "pgoff": "PGOFF", "file": "F", "file_soft_dirty": "SD", "numa": "NUMA",
    # arm64
    "valid": "V", "page": "PG", "table": "T", "attrindx": "ATTR", "ns": "NS", "rdonly": "RO", "shared": "SH",
    "af": "AF", "ng": "NG", "present_invalid": "PI", "gp": "GP", "dbm": "DBM", "cont": "CT", "pxn": "PXN",
    "uxn": "UXN", "prot_none": "PN", "pmd_present_invalid": "PI", "po_index": "POE", "pxn_table": "PXT",
    "uxn_table": "UXT", "ap_table": "APT", "ns_table": "NST",
    # riscv64
    "v": "V", "r": "R", "w": "W", "x": "X", "u": "U", "g": "G", "a": "A", "d": "D", "mt": "MT",
    "napot": "N",
}

CLASS_WORDS: dict[str, str] = {
    "none": "an empty entry: nothing mapped, nothing remembered (pte_none)",
    "present": "a present entry: the CPU translates through it",
    "protnone": "a PROT_NONE or NUMA-hinting entry: present to the kernel, not to the CPU (pte_protnone)",
    "uffd_wp_special": "the seed's special swap-like PTE: userfaultfd write-protect on an unmapped file page",
    "swap": "a swap entry: the page is in a swap area",
    "pte_marker": "a PTE marker: no page, only a remembered state",
    "migration": "a migration entry: the page is being moved; faults wait for it",
    "device_private": "a device-private entry: the page lives in device memory",
    "device_exclusive": "a device-exclusive entry: a device holds the page for atomic access",
    "hwpoison": "a hardware-poison entry: the page's memory failed; access gets SIGBUS",
    "swapin_error": "a swap-in error entry: reading the page back failed; access gets SIGBUS",
    "pte_file": "a nonlinear file PTE (remap_file_pages, up to 3.19): the page's file offset, no frame",
    "invalid": "an encoding no kernel produces",
}


def short_label(f: Field) -> str:
    if f.name in SHORT:
        return SHORT[f.name]
    if f.name == "swp_offset":
        return "~OFFSET" if f.inverted else "OFFSET"
    if f.family is Family.RESERVED:
        return "rsvd" if f.width >= 4 else "0"
    return "ign" if f.width >= 3 else "-"


@dataclass(frozen=True)
class Piece:
    """A run of bits drawn as one cell: all or part of a field (or alias)."""

    field: Field
    msb: int
    lsb: int

    @property
    def width(self) -> int:
        return self.msb - self.lsb + 1


def pieces(layout: Layout) -> list[Piece]:
    """Owners MSB first, each split where the class's aliases give bits their own meaning."""
    result: list[Piece] = []
    for owner in layout.owners:
        views = sorted((a for a in layout.aliases if a.alias_of == owner.name), key=lambda a: -a.lsb)
        bit = owner.msb
        for alias in views:
            if alias.msb < bit:
                result.append(Piece(owner, bit, alias.msb + 1))
            result.append(Piece(alias, alias.msb, alias.lsb))
            bit = alias.lsb - 1
        if bit >= owner.lsb:
            result.append(Piece(owner, bit, owner.lsb))
    return result


def split_rows(all_pieces: list[Piece], rows: int) -> list[list[Piece]]:
    span = 64 // rows
    out: list[list[Piece]] = [[] for _ in range(rows)]
    for p in all_pieces:
        msb = p.msb
        while msb >= p.lsb:
            row = (63 - msb) // span
            row_lsb = 64 - (row + 1) * span
            lsb = max(p.lsb, row_lsb)
            out[row].append(Piece(p.field, msb, lsb))
            msb = lsb - 1
    return out


@dataclass(frozen=True)
class Cell:
    """A piece with the texts drawn for it; ``width`` is the drawn width in columns."""

    piece: Piece
    label: str
    bits: str
    value: str
    width: int


class BitDiagram:
    """All 64 bits, MSB left, kernel-comment style: bit numbers, field labels, the bits, values.

    Fits the console: one row of 64 bits when wide enough, else 2, 4 or 8 rows of
    equal span. ``value`` None draws the layout alone; ``changed`` marks bits (diff).
    """

    def __init__(self, layout: Layout, value: int | None = None, ascii_only: bool = False,
                 changed: int = 0) -> None:
        self.layout = layout
        self.value = value
        self.ascii_only = ascii_only
        self.changed = changed
        self._pieces = pieces(layout)
        self._bits = bits_of(bit_view(value), 63, 0) if value is not None else ""

    # --- cells -----------------------------------------------------------------------------
    def _label(self, p: Piece) -> str:
        label = short_label(p.field)
        if p.field.is_flag and self.value is not None:
            return label.upper() if p.field.extract(self.value) else label.lower()
        return label

    def _cells(self, rows: list[list[Piece]]) -> list[list[Cell]]:
        # A multi-bit value goes under every piece of its field wide enough to hold it,
        # or under the widest piece when none is.
        texts: dict[str, str] = {}
        homes: dict[str, set[tuple[int, int]]] = {}
        if self.value is not None:
            for row in rows:
                for p in row:
                    if not p.field.is_flag:
                        texts[p.field.name] = f"{p.field.extract(self.value):#x}"
            for name, text in texts.items():
                parts = [p for row in rows for p in row if p.field.name == name]
                fitting = {(p.msb, p.lsb) for p in parts if p.width >= len(text)}
                widest = max(parts, key=lambda p: p.width)
                homes[name] = fitting or {(widest.msb, widest.lsb)}
        result = []
        for row in rows:
            cells = []
            for p in row:
                value = texts.get(p.field.name, "") if (p.msb, p.lsb) in homes.get(p.field.name, ()) else ""
                label = self._label(p)
                numbers = len(str(p.msb)) + (len(str(p.lsb)) + 1 if p.width > 1 else 0)
                bits = self._bits[63 - p.msb : 64 - p.lsb] if self._bits else ""
                cells.append(Cell(p, label, bits, value, max(p.width, len(label), numbers, len(value))))
            result.append(cells)
        return result

    def rows(self, max_width: int) -> list[list[Cell]]:
        for count in (1, 2, 4, 8):
            rows = self._cells(split_rows(self._pieces, count))
            if all(sum(c.width for c in row) + len(row) + 1 <= max_width for row in rows):
                break
        return rows

    # --- drawing ---------------------------------------------------------------------------
    def _flag_set(self, p: Piece) -> bool:
        return self.value is not None and p.field.is_flag and bool(p.field.extract(self.value))

    def _label_style(self, p: Piece) -> Style:
        color = FAMILY_COLOR[p.field.family]
        if p.field.is_flag and self.value is not None:
            return Style(color=color, bold=True) if self._flag_set(p) else Style(color=color, dim=True)
        return Style(color=color, bold=not p.field.is_flag)

    def _bits_text(self, cell: Cell) -> Text:
        text = Text()
        color = FAMILY_COLOR[cell.piece.field.family]
        for i, ch in enumerate(cell.bits):
            bit = cell.piece.msb - i
            style = Style(color=color, bold=ch == "1", dim=ch == "0")
            if self.changed >> bit & 1:
                style = Style(color="black", bgcolor="bright_yellow", bold=True)
            text.append(ch, style)
        return text

    @staticmethod
    def _centered(text: Text, width: int) -> Text:
        pad = width - text.cell_len
        return Text(" " * (pad // 2)) + text + Text(" " * (pad - pad // 2))

    def render_lines(self, max_width: int) -> list[Text]:
        h, v = ("-", "|") if self.ascii_only else ("─", "│")
        top, bottom = (("+", "+", "+"),) * 2 if self.ascii_only else (("┌", "┬", "┐"), ("└", "┴", "┘"))
        lines: list[Text] = []
        for row in self.rows(max_width):
            numbers = Text(" ")
            for cell in row:
                p, w = cell.piece, cell.width
                hi, lo = str(p.msb), str(p.lsb)
                numbers.append(hi.center(w) if p.width == 1 else hi + " " * (w - len(hi) - len(lo)) + lo, "grey50")
                numbers.append(" ")
            numbers.rstrip()
            lines.append(numbers)
            lines.append(Text(top[0] + top[1].join(h * c.width for c in row) + top[2]))
            label_line = Text(v)
            for cell in row:
                label_line.append_text(self._centered(Text(cell.label, self._label_style(cell.piece)), cell.width))
                label_line.append(v)
            lines.append(label_line)
            if self.value is not None:
                bits_line = Text(v)
                for cell in row:
                    bits_line.append_text(self._centered(self._bits_text(cell), cell.width))
                    bits_line.append(v)
                lines.append(bits_line)
            if any(c.value for c in row):
                value_line = Text(v)
                for cell in row:
                    style = Style(color=FAMILY_COLOR[cell.piece.field.family], bold=True)
                    value_line.append(cell.value.center(cell.width), style)
                    value_line.append(v)
                lines.append(value_line)
            lines.append(Text(bottom[0] + bottom[1].join(h * c.width for c in row) + bottom[2]))
            if any(self.changed >> bit & 1 for c in row for bit in range(c.piece.lsb, c.piece.msb + 1)):
                marks = Text(" ")
                for cell in row:
                    ticks = "".join("^" if self.changed >> (cell.piece.msb - i) & 1 else " "
                                    for i in range(cell.piece.width))
                    marks.append_text(self._centered(Text(ticks, "bold bright_yellow"), cell.width))
                    marks.append(" ")
                marks.rstrip()
                lines.append(marks)
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.render_lines(options.max_width)

    def legend(self) -> Legend:
        """The families drawn, how set flags look, and every label that is not the field's name."""
        families: list[Family] = []
        for p in self._pieces:
            if p.field.family not in families:
                families.append(p.field.family)
        lines = [[Text.assemble(("# " if self.ascii_only else "■ ", FAMILY_COLOR[f]), f.value) for f in families]]
        if self.value is not None:
            lines.append([Text("flags: UPPER = set, lower = clear")])
        labels: list[Text] = []
        for p in self._pieces:
            label = short_label(p.field)
            if p.field.family in (Family.RESERVED, Family.IGNORED) and p.field.name not in SHORT:
                continue
            entry = Text.assemble((label, FAMILY_COLOR[p.field.family]), f" {p.field.name}")
            if label != p.field.name and entry.plain not in [t.plain for t in labels]:
                labels.append(entry)
        if labels:
            lines.append(labels)
        if any(p.field.family in (Family.RESERVED, Family.IGNORED) and p.field.name not in SHORT
               for p in self._pieces):
            lines.append([Text("0/rsvd: reserved, must be 0"), Text("-/ign: ignored")])
        if self.value is not None and any(p.field.inverted for p in self._pieces):
            lines.append([Text("~: stored inverted (L1TF): the bits are as stored, labels and values decoded")])
        return Legend(lines)


class Legend:
    """Lines of items, wrapped only between items so that no item is split."""

    def __init__(self, lines: list[list[Text]]) -> None:
        self.lines = lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for items in self.lines:
            line = Text()
            for item in items:
                if line.cell_len and line.cell_len + 2 + item.cell_len > options.max_width:
                    yield line
                    line = Text()
                if line.cell_len:
                    line.append("  ")
                line.append_text(item)
            yield line


def field_table(layout: Layout, value: int | None, ascii_only: bool = False) -> Grid:
    """Every field: bits, name, value (when there is one), meaning and kernel source."""
    columns = [Column("bits", "right", no_wrap=True), Column("field", no_wrap=True)]
    if value is not None:
        columns.append(Column("value", "right", no_wrap=True))
    columns.append(Column("meaning"))
    table = Grid(columns, box="ascii" if ascii_only else "simple_head")
    ordered = sorted(layout.fields, key=lambda f: (-f.msb, f.alias_of is not None))
    for f in ordered:
        name = Text(("  " if f.alias_of else "") + f.name, FAMILY_COLOR[f.family])
        cells: list[Text | str] = [f.bit_range(), name]
        if value is not None:
            got = f.extract(value)
            cells.append(str(got) if f.is_flag else f"{got:#x}")
        cells.append(f"{f.doc} [{f.source}]" if value is None else f.doc)
        table.add_row(*cells)
    return table


def _mark(ok: bool, ascii_only: bool) -> str:
    if ascii_only:
        return "[yes]" if ok else "[no] "
    return "✔" if ok else "✘"


def _hanging(mark: Text, text: Text) -> Grid:
    """``mark`` then ``text``, wrapped lines indented under the text's first column."""
    grid = Grid([Column(no_wrap=True), Column()], show_header=False, collapse_padding=True)
    grid.add_row(mark, text)
    return grid


def summary(d: Decoded, ascii_only: bool = False, with_model: bool = False) -> Iterator[RenderableType]:
    """The class in words, swap facts, problems, the seed's rules, a marker's fault."""
    head = Text()
    head.append(format_value(d.value) + "  ", "bold")
    head.append(d.cls, "bold yellow")
    head.append(f"  {d.arch} {d.level}: {CLASS_WORDS[d.cls]}")
    yield head
    if d.swap is not None:
        pfn = d.field_values.get("pfn")
        yield Text(f"swap type {d.swap.type} ({d.swap.type_name}), offset {d.swap.offset:#x}"
                   + (f", pfn {pfn:#x}" if pfn is not None else ""))
    if d.marker is not None:
        by_name = {m.name: m for m in marker_bits(d.model)}
        for name in d.marker:
            yield Text(f"marker {name}: {by_name[name].fault}")
    if d.flags:
        yield Text("flags: " + " ".join(d.flags))
    for note in d.notes:
        yield Text("note: " + note, "grey50")
    for problem in d.problems:
        yield _hanging(Text("!" if ascii_only else "⚠", "bold red"), Text(problem, "bold red"))
    if d.rules:
        yield Text("the seed's rules for its special PTE:")
        for number, rule in enumerate(d.rules, 1):
            mark = Text(f"  {_mark(rule.holds, ascii_only)} ({number})")
            mark.stylize("green" if rule.holds else "red", 0, len(mark))
            yield _hanging(mark, Text(f"{rule.rule}: {rule.why}"))
    if with_model:
        yield Text(describe_model(d.model, d.arch, d.level), "grey50")


def decode_view(d: Decoded, ascii_only: bool = False, with_model: bool = False) -> Group:
    """The whole human view: diagram, legend, the class in words, findings, every field."""
    diagram = BitDiagram(d.layout, d.value, ascii_only)
    return Group(diagram, diagram.legend(), Text(""), *summary(d, ascii_only, with_model), Text(""),
                 field_table(d.layout, d.value, ascii_only))


def diff_view(result: Diff, ascii_only: bool = False) -> Group:
    """Both diagrams with the differing bits marked, then the fields that changed."""
    parts: list[RenderableType] = []
    for tag, d in (("A", result.a), ("B", result.b)):
        parts.append(Text.assemble((f"{tag}  {format_value(d.value)}  ", "bold"), (d.cls, "bold yellow"),
                                   f"  ({d.layout.name})"))
        parts.append(BitDiagram(d.layout, d.value, ascii_only, changed=result.changed_bits))
    if result.equal:
        parts.append(Text("the values are equal"))
        return Group(*parts)
    arrow = "->" if ascii_only else "→"
    count = bin(result.changed_bits).count("1")
    parts.append(Text(f"{count} bit{'s differ' if count > 1 else ' differs'}: {format_value(result.changed_bits)}"))
    if result.class_changed:
        parts.append(Text(f"class changed: {result.a.cls} {arrow} {result.b.cls}", "bold red"))
    else:
        parts.append(Text(f"class unchanged: {result.a.cls}"))
    table = Grid([Column("field", no_wrap=True), Column("A", "right", no_wrap=True),
                  Column("B", "right", no_wrap=True)])
    for change in result.fields:
        table.add_row(change.name, field_text(change.old), field_text(change.new))
    parts.append(table)
    return Group(*parts)


def layout_view(layout: Layout, title: str, ascii_only: bool = False) -> Group:
    diagram = BitDiagram(layout, None, ascii_only)
    return Group(Text(title, "bold"), Text(layout.doc), diagram, diagram.legend(), Text(""),
                 field_table(layout, None, ascii_only))


def decode_table(d: Decoded, ascii_only: bool = False) -> Group:
    return Group(*summary(d, ascii_only), Text(""), field_table(d.layout, d.value, ascii_only))
