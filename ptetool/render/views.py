"""Rich renderables for people: the bit diagram, the field table, the whole decode view.

These know nothing of click. Each holds decoded data and yields rich output;
tests render them to a Console of fixed width and compare golden text.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.style import Style
from rich.table import Table
from rich.text import Text

from ptetool.bits import bit_view, bits_of
from ptetool.decode import Decoded
from ptetool.layout import Family, Field, Layout
from ptetool.render.text import describe_model
from ptetool.swaptypes import marker_bits
from ptetool.values import format_value

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
    "swp_exclusive": "E", "swp_type": "TYPE", "pfn": "PFN", "marker_uffd_wp": "UW", "marker_poisoned": "PO",
    "marker_swapin_error": "SE", "marker_guard": "GD", "mig_young": "Y", "mig_dirty": "D",
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


class BitDiagram:
    """All 64 bits, MSB left: bit numbers, field labels, the bits, multi-bit values.

    Fits the console: one row of 64 bits when wide enough, else 2, 4 or 8 rows.
    ``value`` None draws the layout alone. ``changed`` highlights bits (diff).
    """

    def __init__(self, layout: Layout, value: int | None = None, ascii_only: bool = False,
                 changed: int = 0) -> None:
        self.layout = layout
        self.value = value
        self.ascii_only = ascii_only
        self.changed = changed
        self._pieces = pieces(layout)
        self._bits = bits_of(bit_view(value), 63, 0) if value is not None else None
        # A multi-bit field's value is written once, under its widest piece.
        self._value_home: dict[str, tuple[int, int]] = {}

    # --- cell text -------------------------------------------------------------------------
    def _label(self, p: Piece) -> str:
        label = short_label(p.field)
        if p.field.is_flag and self.value is not None:
            return label.upper() if p.field.extract(self.value) else label.lower()
        return label

    def _value_text(self, p: Piece) -> str:
        if self.value is None or p.field.is_flag or self._value_home.get(p.field.name) != (p.msb, p.lsb):
            return ""
        return f"{p.field.extract(self.value):#x}"

    def _numbers(self, p: Piece) -> tuple[str, str]:
        return (str(p.msb), "") if p.width == 1 else (str(p.msb), str(p.lsb))

    def _cell_width(self, p: Piece) -> int:
        hi, lo = self._numbers(p)
        numbers = len(hi) + (len(lo) + 1 if lo else 0)
        return max(p.width, len(self._label(p)), numbers, len(self._value_text(p)))

    def _place_values(self, rows: list[list[Piece]]) -> None:
        best: dict[str, Piece] = {}
        for row in rows:
            for p in row:
                if not p.field.is_flag and (p.field.name not in best or p.width > best[p.field.name].width):
                    best[p.field.name] = p
        self._value_home = {name: (p.msb, p.lsb) for name, p in best.items()}

    def _row_width(self, row: list[Piece]) -> int:
        return sum(self._cell_width(p) for p in row) + len(row) + 1

    def layout_rows(self, max_width: int) -> list[list[Piece]]:
        for count in (1, 2, 4, 8):
            rows = split_rows(self._pieces, count)
            self._place_values(rows)
            if all(self._row_width(r) <= max_width for r in rows):
                return rows
        return rows

    # --- drawing ---------------------------------------------------------------------------
    def _style(self, p: Piece, emphasised: bool) -> Style:
        color = FAMILY_COLOR[p.field.family]
        if p.field.is_flag and self.value is not None and not emphasised:
            return Style(color=color, dim=True)
        return Style(color=color, bold=emphasised)

    def _bits_text(self, p: Piece) -> Text:
        assert self._bits is not None
        text = Text()
        for bit in range(p.msb, p.lsb - 1, -1):
            ch = self._bits[63 - bit]
            style = Style(bold=ch == "1", dim=ch == "0", color=FAMILY_COLOR[p.field.family])
            if self.changed >> bit & 1:
                style += Style(reverse=True, bold=True)
            text.append(ch, style)
        return text

    def render_lines(self, max_width: int) -> list[Text]:
        rows = self.layout_rows(max_width)
        h, v = ("-", "|") if self.ascii_only else ("─", "│")
        top, bottom = (("+", "+", "+"),) * 2 if self.ascii_only else (("┌", "┬", "┐"), ("└", "┴", "┘"))
        lines: list[Text] = []
        for row in rows:
            widths = [self._cell_width(p) for p in row]
            numbers = Text(" ")
            for p, w in zip(row, widths, strict=True):
                hi, lo = self._numbers(p)
                numbers.append((hi + " " * (w - len(hi) - len(lo)) + lo) if lo else hi.center(w), "grey50")
                numbers.append(" ")
            numbers.rstrip()
            lines.append(numbers)
            lines.append(Text(top[0] + top[1].join(h * w for w in widths) + top[2]))
            label_line, bits_line, value_line = Text(v), Text(v), Text(v)
            any_value = False
            for p, w in zip(row, widths, strict=True):
                is_set = bool(self.value is not None and p.field.is_flag and p.field.extract(self.value))
                label_line.append(self._label(p).center(w), self._style(p, is_set or not p.field.is_flag))
                label_line.append(v)
                if self._bits is not None:
                    bits = self._bits_text(p)
                    pad = w - p.width
                    bits_line.append(" " * (pad // 2))
                    bits_line.append_text(bits)
                    bits_line.append(" " * (pad - pad // 2) + v)
                value = self._value_text(p)
                any_value |= bool(value)
                value_line.append(value.center(w), Style(color=FAMILY_COLOR[p.field.family], bold=True))
                value_line.append(v)
            lines.append(label_line)
            if self._bits is not None:
                lines.append(bits_line)
            if any_value:
                lines.append(value_line)
            lines.append(Text(bottom[0] + bottom[1].join(h * w for w in widths) + bottom[2]))
        return lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        yield from self.render_lines(options.max_width)

    def legend(self) -> Text:
        """Families shown, and the label of every field in the diagram."""
        text = Text()
        families = []
        for p in self._pieces:
            if p.field.family not in families:
                families.append(p.field.family)
        for fam in families:
            text.append("■ " if not self.ascii_only else "# ", FAMILY_COLOR[fam])
            text.append(fam.value + "  ")
        if self.value is not None:
            text.append("· flags: UPPER set, lower clear")
        text.append("\n")
        seen: list[str] = []
        for p in self._pieces:
            label = f"{short_label(p.field)}={p.field.name}"
            if short_label(p.field) != p.field.name and label not in seen:
                seen.append(label)
        text.append("  ".join(seen))
        return text


def field_table(layout: Layout, value: int | None, ascii_only: bool = False) -> Table:
    """Every field: bits, name, value (when there is one), meaning and kernel source."""
    from rich import box

    table = Table(box=box.ASCII if ascii_only else box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    table.add_column("bits", justify="right", no_wrap=True)
    table.add_column("field", no_wrap=True)
    if value is not None:
        table.add_column("value", justify="right", no_wrap=True)
    table.add_column("meaning")
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


def summary(d: Decoded, ascii_only: bool = False) -> Iterator[Text]:
    """The class in words, swap facts, problems, the seed's rules, a marker's fault."""
    head = Text()
    head.append(format_value(d.value) + "  ", "bold")
    head.append(d.cls, "bold yellow")
    head.append(f"  {d.arch} {d.level}: {CLASS_WORDS[d.cls]}")
    yield head
    if d.swap is not None:
        yield Text(f"swap type {d.swap.type} ({d.swap.type_name}), offset {d.swap.offset:#x}")
    if d.marker is not None:
        by_name = {m.name: m for m in marker_bits(d.model)}
        for name in d.marker:
            yield Text(f"marker {name}: {by_name[name].fault}")
    if d.flags:
        yield Text("flags: " + " ".join(d.flags))
    for note in d.notes:
        yield Text("note: " + note, "grey50")
    for problem in d.problems:
        yield Text(("! " if ascii_only else "⚠ ") + problem, "bold red")
    if d.rules:
        yield Text("the seed's rules for its special PTE:")
        for number, rule in enumerate(d.rules, 1):
            line = Text(f"  {_mark(rule.holds, ascii_only)} ({number}) {rule.rule}: ")
            line.stylize("green" if rule.holds else "red", 0, 4)
            line.append(rule.why)
            yield line
    yield Text(describe_model(d.model, d.arch, d.level), "grey50")


def decode_view(d: Decoded, ascii_only: bool = False) -> Group:
    diagram = BitDiagram(d.layout, d.value, ascii_only)
    parts: list[object] = [diagram, diagram.legend(), Text(""), *summary(d, ascii_only), Text(""),
                           field_table(d.layout, d.value, ascii_only)]
    return Group(*parts)  # type: ignore[arg-type]


def layout_view(layout: Layout, title: str, ascii_only: bool = False) -> Group:
    diagram = BitDiagram(layout, None, ascii_only)
    return Group(Text(title, "bold"), Text(layout.doc), diagram, diagram.legend(), Text(""),
                 field_table(layout, None, ascii_only))


def join_lines(lines: Iterable[Text]) -> Text:
    return Text("\n").join(lines)


def decode_table(d: Decoded, ascii_only: bool = False) -> Group:
    return Group(*summary(d, ascii_only), Text(""), field_table(d.layout, d.value, ascii_only))
