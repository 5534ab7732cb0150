"""ptetool.render.grid draws exactly what rich.table draws for the same rows (issue #10, item 2)."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.console import Console
from rich.text import Text

from ptetool.render.grid import Column, Grid

WORDS = st.text(alphabet="abcdefxyz0123456789_-()[]:.✔⚠ ", min_size=0, max_size=40)
STYLES = st.sampled_from(["", "bold red", "grey50", "color(170)"])


class AsciiOut(io.StringIO):
    encoding = "ascii"  # rich reads it to choose ASCII boxes (options.ascii_only)


def draw(renderable: object, width: int, color: bool, ascii_only: bool) -> str:
    out = AsciiOut() if ascii_only else io.StringIO()
    console = Console(file=out, width=width, force_terminal=color, color_system="256" if color else None,
                      legacy_windows=False)
    console.print(renderable)
    return out.getvalue()


@st.composite
def grids(draw_: st.DrawFn) -> Grid:
    kind = draw_(st.sampled_from(["field_table", "hanging", "diff"]))
    if kind == "hanging":
        grid = Grid([Column(no_wrap=True), Column()], show_header=False, collapse_padding=True)
        count = 2
    elif kind == "diff":
        grid = Grid([Column("field", no_wrap=True), Column("A", "right", no_wrap=True),
                     Column("B", "right", no_wrap=True)])
        count = 3
    else:
        box = draw_(st.sampled_from(["simple_head", "ascii"]))
        grid = Grid([Column("bits", "right", no_wrap=True), Column("field", no_wrap=True),
                     Column("value", "right", no_wrap=True), Column("meaning")], box=box)
        count = 4
    for _ in range(draw_(st.integers(1, 6))):
        grid.add_row(*(Text(draw_(WORDS), draw_(STYLES)) for _ in range(count)))
    return grid


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(grid=grids(), width=st.integers(8, 140), color=st.booleans(), ascii_only=st.booleans())
def test_grid_draws_what_rich_table_draws(grid: Grid, width: int, color: bool, ascii_only: bool) -> None:
    assert draw(grid, width, color, ascii_only) == draw(grid.as_rich_table(), width, color, ascii_only)


def test_the_simple_case_does_not_fall_back() -> None:
    grid = Grid([Column("bits", "right", no_wrap=True), Column("meaning")], box="simple_head")
    grid.add_row("63-12", "a long meaning that has to wrap over several lines at this width")
    assert grid._widths(40) == [6, 34]  # bits + its right padding; meaning takes the rest
    assert draw(grid, 41, False, False).splitlines()[1] == "─" * 41
