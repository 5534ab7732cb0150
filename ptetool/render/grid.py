"""Aligned columns drawn the way rich's Table draws them, without importing rich.table.

rich.table pulls in fractions and decimal (its width ratios) and measures every cell twice:
about 10 ms of a single decode's diagram. ptetool's tables are simple: no-wrap columns and
at most one wrapping column, so the widths follow directly. Each cell is still rendered by
rich (Padding, Text wrapping, Segment shaping), the output is identical (tests/test_grid.py
compares the two), and anything outside the simple case is handed to rich.table itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from rich.cells import cell_len
from rich.padding import Padding
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

if TYPE_CHECKING:
    from rich.box import Box
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.table import Table

Justify = Literal["left", "right"]


@dataclass(frozen=True)
class Column:
    header: str = ""
    justify: Justify = "left"
    no_wrap: bool = False


class Grid:
    """Rows of Text under columns; the box, header and padding rules of rich's Table.

    ``box``: "simple_head" (a rule under the header), "ascii" or None; ``collapse_padding``
    as Table.grid sets it (one space between columns instead of two).
    """

    def __init__(self, columns: list[Column], box: str | None = None, show_header: bool = True,
                 collapse_padding: bool = False) -> None:
        self.columns = columns
        self.box_name = box
        self.show_header = show_header
        self.collapse_padding = collapse_padding
        self.rows: list[list[Text]] = []

    def add_row(self, *cells: Text | str) -> None:
        self.rows.append([cell if isinstance(cell, Text) else Text(cell) for cell in cells])

    def _box(self, options: ConsoleOptions) -> Box | None:
        from rich import box

        chosen = {"simple_head": box.SIMPLE_HEAD, "ascii": box.ASCII, None: None}[self.box_name]
        return chosen.substitute(options) if chosen is not None else None

    def _padding(self, column: int, first_row: bool, last_row: bool) -> tuple[int, int, int, int]:
        right = 0 if column == len(self.columns) - 1 else 1
        left = 0 if column == 0 else 1
        if self.collapse_padding and column:
            left = max(0, left - 1)
        return 0, right, 0, left

    def _cells(self) -> list[tuple[list[tuple[Style, Text]], Column]]:
        header_style = Style(bold=True)  # rich's "table.header"
        columns = []
        for i, column in enumerate(self.columns):
            cells = [(header_style, Text(column.header))] if self.show_header else []
            cells += [(Style.null(), row[i]) for row in self.rows]
            columns.append((cells, column))
        return columns

    def _widths(self, max_width: int) -> list[int] | None:
        """Each column's width, or None where rich would have to share out a shortfall."""
        widths = []
        for i, (cells, _column) in enumerate(self._cells()):
            _, right, _, left = self._padding(i, False, False)
            longest = max((max((cell_len(line) for line in text.plain.splitlines()), default=0)
                           for _style, text in cells), default=0)
            widths.append(min(longest + left + right, max_width) or 1)
        excess = sum(widths) - max_width
        if excess <= 0:
            return widths
        wrapping = [i for i, column in enumerate(self.columns) if not column.no_wrap]
        if len(wrapping) != 1 or excess >= widths[wrapping[0]]:
            return None
        widths[wrapping[0]] -= excess
        return widths

    def _extra_width(self) -> int:
        return len(self.columns) - 1 if self.box_name else 0

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        extra = self._extra_width()
        widths = self._widths(options.max_width - extra)
        if widths is None:
            yield self.as_rich_table()
            return
        render_options = options.update(width=sum(widths) + extra, highlight=False, height=None)
        box = self._box(render_options)
        columns = self._cells()
        row_count = len(columns[0][0]) if columns else 0
        for index in range(row_count):
            header = index == 0 and self.show_header
            cells = []
            for i, ((column_cells, column), width) in enumerate(zip(columns, widths, strict=True)):
                style, text = column_cells[index]
                pad = self._padding(i, index == 0, index == row_count - 1)
                lines = console.render_lines(
                    Padding(text, pad),
                    render_options.update(width=width, justify=column.justify, no_wrap=column.no_wrap,
                                          overflow="ellipsis", height=None, highlight=False),
                    style=style,
                )
                cells.append(lines)
            height = max(len(lines) for lines in cells)
            shaped = [
                Segment.set_shape((Segment.align_bottom if header else Segment.align_top)(lines, width, height, style),
                                  width, height)
                for lines, width, style in zip(cells, widths, (c[0][index][0] for c in columns), strict=True)
            ]
            divider = Segment((box.head_vertical if header else box.mid_vertical) if box else "", Style())
            for line_no in range(height):
                for i, lines in enumerate(shaped):
                    yield from lines[line_no]
                    if box and i < len(shaped) - 1:
                        yield divider
                yield Segment.line()
            if box and header:
                yield Segment(box.get_row(widths, "head", edge=False), Style())
                yield Segment.line()

    def as_rich_table(self) -> Table:
        """The same table as rich.table draws it (the fallback, and the tests' reference)."""
        from rich import box
        from rich.table import Table

        chosen = {"simple_head": box.SIMPLE_HEAD, "ascii": box.ASCII, None: None}[self.box_name]
        if self.collapse_padding:
            table = Table.grid(padding=(0, 1))
        else:
            table = Table(box=chosen, show_header=self.show_header, show_edge=False, pad_edge=False)
        for column in self.columns:
            table.add_column(column.header, justify=column.justify, no_wrap=column.no_wrap)
        for row in self.rows:
            table.add_row(*row)
        return table
