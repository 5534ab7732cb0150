"""What each command path imports (issue #10): nothing heavy that the path does not use."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# json is imported by the probe itself before `before` is taken; a path that needs it gets it free.
PROBE = ("import io, sys\nimport json as _j\n"
         "before = set(sys.modules)\n"
         "sys.stdout = io.TextIOWrapper(io.BytesIO())\n"
         "from ptetool.cli import cli\n"
         "try:\n    cli.main(args={args!r}, prog_name='ptetool', standalone_mode=False)\n"
         "except SystemExit:\n    pass\n"
         "sys.__stdout__.write(_j.dumps(sorted(set(sys.modules) - before)))\n")
PINNED = ["--kernel", "6.18", "--kconfig", "allyes"]
HEAVY = ("numpy", "rich", "json", "pathlib", "bitstring", "ptetool.pagemap", "ptetool.scan", "gzip",
         "ptetool.cli_tools")


def modules(args: list[str]) -> set[str]:
    """Every module a fresh process loads for this command line (beyond the probe's own)."""
    code = PROBE.format(args=args)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


def imported(args: list[str]) -> set[str]:
    """modules(), by top-level package (ptetool's by subpackage)."""
    return {m.split(".")[0] if not m.startswith("ptetool.") else ".".join(m.split(".")[:2]) for m in modules(args)}


LOG = str(Path(__file__).parent / "data" / "scan_corpus" / "celery-4.1-bad-page-map-swap.log")


@pytest.mark.parametrize(("args", "allowed"), [
    (["decode", *PINNED, "--format", "brief", "0x4"], ()),
    (["decode", *PINNED, "--format", "json", "0x4"], ()),
    (["decode", *PINNED, "--format", "diagram", "0x4"], ("rich", "bitstring", "pathlib")),  # bitstring's own
    (["encode", *PINNED, "swap", "swp_type=1"], ("ptetool.cli_tools",)),
    (["layout", *PINNED, "--format", "json"], ("ptetool.cli_tools",)),
    (["scan", "--format", "ndjson", LOG], ("ptetool.scan",)),
])
def test_a_path_imports_only_what_it_uses(args: list[str], allowed: tuple[str, ...]) -> None:
    loaded = imported(args)
    assert not {m for m in HEAVY if m in loaded and m not in allowed}, sorted(loaded)


def test_the_diagram_draws_its_tables_without_rich_table() -> None:
    """rich.table brings fractions and decimal (~10 ms); ptetool.render.grid draws the same tables."""
    loaded = modules(["decode", *PINNED, "--format", "diagram", "0x4"])
    assert "ptetool.render.grid" in loaded
    assert not loaded & {"rich.table", "fractions", "decimal"}, sorted(loaded)


def test_a_decode_loads_only_its_own_arch() -> None:
    loaded = modules(["decode", *PINNED, "--format", "json", "0x4"])
    assert "ptetool.arch.x86_64" in loaded
    assert not loaded & {"ptetool.arch.arm64", "ptetool.arch.riscv64", "ptetool.arch.generic"}, sorted(loaded)


def test_a_summary_loads_neither_the_line_writers_nor_the_plain_reader(tmp_path: Path) -> None:
    """The summary counts with numpy and lays out its runs with ptetool.pagemap.digits: the NDJSON/CSV
    writers (with the json they bring) and the one-record reader stay unloaded."""
    dump = tmp_path / "dump"
    dump.write_bytes(bytes(8 * 4096))
    for runs in ("--no-runs", "--runs"):
        loaded = modules(["pagemap", str(dump), "--format", "summary", runs, *PINNED])
        assert {"numpy", "ptetool.pagemap.summary"} <= loaded
        assert not loaded & {"ptetool.pagemap.writers", "ptetool.pagemap.plain"}, sorted(loaded)
