"""Golden renders of the human views at fixed widths, with and without colour.

Regenerate after an intended change, then read the diff before committing:
    PTETOOL_REGEN_GOLDEN=1 python -m pytest tests/test_render.py
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest

from ptetool.decoder import decode
from ptetool.diff import diff
from ptetool.kernel import Model, build_model
from ptetool.render import views
from ptetool.render.export import markdown
from ptetool.term import make_console
from tests.cli_helpers import PINNED, run
from tests.models import model

GOLDEN = Path(__file__).parent / "golden"
REGEN = bool(os.environ.get("PTETOOL_REGEN_GOLDEN"))
MODEL = model((6, 18))
CASES = {
    "present-pte": (0x8000000123456867, "pte"),
    "present-pmd": (0x80000000002001E3, "pmd"),
    "table-pmd": (0x0000000123456067, "pmd"),
    "protnone": (0x000FFFFEDCBA9120, "pte"),
    "swap": (0x0FFFFFFFFFDB9600, "pte"),
    "uffd_wp_special": (0x4, "pte"),
    "marker-uffd_wp": (0xFFFFFFFFFFFFFC00, "pte"),
    "marker-poisoned": (0xFFFFFFFFFFFFFA00, "pte"),
    "marker-guard": (0xFFFFFFFFFFFFF600, "pte"),
    "migration": (0xCFFFE7FFCA5DF200, "pte"),
    "device_private": (0xE7FFFFFFCA5DF200, "pte"),
    "hwpoison": (0xC7FFFFFFCA5DF200, "pte"),
    "none": (0x0, "pte"),
}
WIDTHS = (60, 80, 120, 200)


def render(renderable: object, width: int, color: bool) -> str:
    buffer = io.StringIO()
    make_console(color, file=buffer, width=width).print(renderable)
    return buffer.getvalue()


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if REGEN:
        path.write_text(text)
    assert path.exists(), f"no golden {path}: run with PTETOOL_REGEN_GOLDEN=1 and review it"
    assert text == path.read_text(), f"{name} differs from its golden file"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("color", [False, True], ids=["plain", "color"])
@pytest.mark.parametrize("case", CASES)
def test_decode_view_golden(case: str, width: int, color: bool) -> None:
    value, level = CASES[case]
    text = render(views.decode_view(decode(value, "x86_64", level, MODEL)), width, color)
    check_golden(f"decode-{case}-w{width}-{'color' if color else 'plain'}.txt", text)


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("width", WIDTHS)
def test_no_line_is_wider_than_the_terminal(case: str, width: int) -> None:
    value, level = CASES[case]
    d = decode(value, "x86_64", level, MODEL)
    diagram = render(views.BitDiagram(d.layout, d.value), width, False)
    assert max(len(line) for line in diagram.splitlines()) <= width
    assert diagram.count("┌") <= {60: 4, 80: 2, 120: 1, 200: 1}[width], diagram


def test_colour_and_plain_say_the_same_thing() -> None:
    d = decode(0x8000000123456867, "x86_64", "pte", MODEL)
    assert ANSI.sub("", render(views.decode_view(d), 80, True)) == render(views.decode_view(d), 80, False)


def test_every_field_is_named_and_valued_at_80_columns() -> None:
    d = decode(0x8000000123456867, "x86_64", "pte", MODEL)
    text = render(views.BitDiagram(d.layout, d.value), 80, False)
    for label in ("NX", "PKEY", "svd", "s4", "ign", "PFN", "SD", "uw", "sp", "g", "pat", "D", "A", "pcd", "pwt",
                  "U", "RW", "P"):
        assert re.search(rf"│\s*{label}\s*│", text), label
    assert text.count("0x123456") == 2  # under both halves of the split frame number


def test_ascii_diagram_has_no_box_drawing() -> None:
    d = decode(0x4, "x86_64", "pte", MODEL)
    text = render(views.decode_view(d, ascii_only=True), 80, False)
    assert text.isascii()
    check_golden("decode-uffd_wp_special-w80-ascii.txt", text)


@pytest.mark.parametrize("width", [80, 120])
def test_diff_view_golden(width: int) -> None:
    a = decode(0x8000000123456867, "x86_64", "pte", MODEL)
    b = decode(0x8000000123456865, "x86_64", "pte", MODEL)
    check_golden(f"diff-rw-w{width}-plain.txt", render(views.diff_view(diff(a, b)), width, False))


def test_diff_view_across_classes() -> None:
    a, b = decode(0x4, "x86_64", "pte", MODEL), decode(0xFFFFFFFFFFFFFC00, "x86_64", "pte", MODEL)
    check_golden("diff-special-marker-w80-plain.txt", render(views.diff_view(diff(a, b)), 80, False))


@pytest.mark.parametrize("cls", ["present", "swap", "pte_marker", "migration"])
def test_layout_view_golden(cls: str) -> None:
    result = run("layout", *PINNED, "--class", cls, "--format", "diagram")
    assert result.exit_code == 0
    check_golden(f"layout-{cls}-w80-plain.txt", result.stdout)


def test_markdown_golden() -> None:
    result = run("decode", *PINNED, "--format", "markdown", "0xfffffffffffff600")
    assert result.exit_code == 0
    check_golden("markdown-marker-guard.md", result.stdout)
    assert result.stdout == markdown(decode(0xFFFFFFFFFFFFF600, "x86_64", "pte", result_model())) + "\n"


def result_model() -> Model:
    return build_model("6.18", "allyes", 46, False)


ARM64_CASES = {
    "present-pte": (0x00E8000038300707, "pte"),
    "protnone": (0x0060000012345F82, "pte"),
    "swap": (0x00000000012340C4, "pte"),
    "marker-uffd_wp": (31 << 6 | 1 << 12, "pte"),
    "table-pmd": (0x00000000DBF36003, "pmd"),
}


@pytest.mark.parametrize("width", (80, 120))
@pytest.mark.parametrize("case", ARM64_CASES)
def test_arm64_decode_view_golden(case: str, width: int) -> None:
    value, level = ARM64_CASES[case]
    d = decode(value, "arm64", level, model((6, 12)))
    text = render(views.decode_view(d), width, False)
    check_golden(f"decode-arm64-{case}-w{width}-plain.txt", text)
    diagram = render(views.BitDiagram(d.layout, d.value), width, False)
    assert max(len(line) for line in diagram.splitlines()) <= width


RISCV64_CASES = {
    "present-napot": (0x80000000123454EF, "pte"),
    "protnone": (0x0000000048D15822, "pte"),
    "swap": (0x00000000012341C0, "pte"),
    "marker-uffd_wp": (31 << 7 | 1 << 12, "pte"),
    "table-pmd": (0x0000000048D15801, "pmd"),
}


@pytest.mark.parametrize("width", (80, 120))
@pytest.mark.parametrize("case", RISCV64_CASES)
def test_riscv64_decode_view_golden(case: str, width: int) -> None:
    value, level = RISCV64_CASES[case]
    d = decode(value, "riscv64", level, model((6, 12)))
    text = render(views.decode_view(d), width, False)
    check_golden(f"decode-riscv64-{case}-w{width}-plain.txt", text)
    diagram = render(views.BitDiagram(d.layout, d.value), width, False)
    assert max(len(line) for line in diagram.splitlines()) <= width
