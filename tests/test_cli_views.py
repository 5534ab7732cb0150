"""The human commands at the command line: colour policy, exports, diff exit codes."""

from __future__ import annotations

import json
import xml.dom.minidom
from pathlib import Path

from tests.cli_helpers import MODEL_LINE, PINNED, run

ESC = "\x1b["


def test_no_color_and_pipes_are_plain() -> None:
    assert ESC not in run("decode", *PINNED, "--format", "diagram", "0x4").stdout
    assert ESC not in run("decode", *PINNED, "--format", "diagram", "--color", "auto", "0x4",
                          env={"NO_COLOR": ""}).stdout


def test_color_always_wins_over_no_color_and_pipes() -> None:
    out = run("decode", *PINNED, "--format", "diagram", "--color", "always", "0x4", env={"NO_COLOR": "1"}).stdout
    assert ESC in out


def test_color_never() -> None:
    assert ESC not in run("decode", *PINNED, "--format", "table", "--color", "never", "0x4").stdout


def test_svg_and_html_export(tmp_path: Path) -> None:
    svg, html = tmp_path / "out.svg", tmp_path / "out.html"
    result = run("decode", *PINNED, "--svg", str(svg), "--html", str(html), "0x4")
    assert result.exit_code == 0 and result.stderr == MODEL_LINE
    doc = xml.dom.minidom.parse(str(svg))
    assert doc.documentElement.tagName == "svg"
    text = svg.read_text()
    assert "uffd_wp_special" in text and "model:" in text
    assert html.read_text().lstrip().startswith("<!DOCTYPE html>")


def test_export_to_an_unwritable_place_is_a_work_error(tmp_path: Path) -> None:
    result = run("decode", *PINNED, "--svg", str(tmp_path / "no" / "such" / "dir.svg"), "0x4")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"ptetool: cannot write {tmp_path / 'no' / 'such' / 'dir.svg'}:")


def test_diff_exit_codes_and_brief() -> None:
    result = run("diff", *PINNED, "0x8000000123456867", "0x8000000123456865")
    assert (result.exit_code, result.stdout) == (
        1, "rw: 1 -> 0\nclass: present (unchanged)\nbits: 0x0000000000000002\n")
    result = run("diff", *PINNED, "0x4", "4")
    assert (result.exit_code, result.stdout) == (0, "0x0000000000000004 == 0x0000000000000004: equal\n")
    result = run("diff", *PINNED, "0x4", "zz")
    assert (result.exit_code, result.stdout) == (2, "")
    assert result.stderr == "ptetool: bad value 'zz': not a hexadecimal number\n"
    assert run("diff", *PINNED, "0x4").exit_code == 2


def test_diff_across_classes_brief() -> None:
    result = run("diff", *PINNED, "0x4", "0xfffffffffffffc00")
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "swp_uffd_wp: 1 -> 0", "swp_offset: 0x3ffffffffffff -> 1", "swp_type: 0 -> 0x1f",
        "marker_uffd_wp: (absent) -> 1", "marker_poisoned: (absent) -> 0", "marker_guard: (absent) -> 0",
        "class: uffd_wp_special -> pte_marker", "bits: 0xfffffffffffffc04",
    ]


def test_diff_json() -> None:
    import json

    data = json.loads(run("diff", *PINNED, "--format", "json", "0x8000000123456867", "0x8000000123456865").stdout)
    assert (data["equal"], data["changed_bits"], data["class_changed"], data["fields"]) == (
        False, "0x0000000000000002", False, [{"field": "rw", "old": 1, "new": 0}])
    assert data["a"]["value"] == "0x8000000123456867" and data["b"]["fields"]["rw"] == 0


def test_table_format_golden() -> None:
    from tests.test_render import check_golden

    result = run("decode", *PINNED, "--format", "table", "0xcfffe7ffca5df200")
    assert result.exit_code == 0 and result.stderr == MODEL_LINE
    check_golden("table-migration-w80.txt", result.stdout)


def test_closed_pipe_ends_quietly() -> None:
    import subprocess
    import sys

    values = "\n".join(["0x4"] * 200_000) + "\n"
    proc = subprocess.run(
        f"{sys.executable} -m ptetool decode --kernel 6.18 --kconfig allyes --format ndjson | head -n 1",
        shell=True, input=values, capture_output=True, text=True, check=False,
        executable="/bin/bash", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert proc.stdout.count("\n") == 1 and '"class": "uffd_wp_special"' in proc.stdout
    assert proc.stderr == ""
    status = subprocess.run(
        f"set -o pipefail; {sys.executable} -m ptetool decode --kernel 6.18 --kconfig allyes --format ndjson "
        "| head -c 10 >/dev/null", shell=True, input=values, capture_output=True, text=True, check=False,
        executable="/bin/bash", env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert (status.returncode, status.stderr) == (0, "")
    diagram = subprocess.run(
        f"set -o pipefail; {sys.executable} -m ptetool decode --kernel 6.18 --kconfig allyes --format diagram "
        "--color always | head -n 1 >/dev/null", shell=True, input=values[:60_000], capture_output=True, text=True,
        check=False, executable="/bin/bash",
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).parents[1])},
    )
    assert (diagram.returncode, diagram.stderr) == (0, "")


def test_layout_json_with_svg_writes_the_picture_too(tmp_path: Path) -> None:
    """Issue #9.5: --svg with --format json used to exit 0 and write no file."""
    svg = tmp_path / "layout.svg"
    result = run("layout", *PINNED, "--class", "swap", "--format", "json", "--svg", str(svg))
    assert result.exit_code == 0 and json.loads(result.stdout)["class"] == "swap"
    assert svg.read_text().startswith("<svg") and "TYPE" in svg.read_text()
