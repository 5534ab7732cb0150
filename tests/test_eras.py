"""Kernels from 3.0, stable and distribution releases, and the p4d/pgd levels."""

from __future__ import annotations

import pytest

from ptetool.decoder import decode
from ptetool.encoder import encode
from ptetool.kernel import build_model
from ptetool.releases import l1tf_verdict, parse_release
from tests.cli_helpers import run
from tests.models import model


@pytest.mark.parametrize(("release", "l1tf"), [
    ("4.18.8-200.fc28.x86_64", True), ("4.18", None), ("4.18.0", False), ("4.17.15", True), ("4.17.14", False),
    ("4.14.63", True), ("4.14.62", False), ("4.9.120", True), ("4.4.148", True), ("4.4.147", False),
    ("3.10.0-862.11.6.el7.x86_64", True), ("3.10.0-862.9.1.el7.x86_64", False), ("4.18.0-80.el8.x86_64", True),
    ("4.15.0-33-generic", None),
    ("4.4.0-133-generic", True), ("4.4.0-131-generic", False),
    ("4.13.0-rc3", False), ("4.12", False), ("5.4", True), ("3.2.0", False),
])
def test_release_picks_the_swap_layout_it_carried(release: str, l1tf: bool | None) -> None:
    parsed = parse_release(release)
    assert parsed is not None and l1tf_verdict(parsed).l1tf is l1tf


def test_a_stable_release_reads_the_backported_layout_and_a_bare_version_reads_both() -> None:
    value = 0x0400000000000000
    d = decode(value, "x86_64", "pte", build_model("4.14.70", "allyes", 46, False))
    assert d.swap is not None and d.swap.offset == (1 << 49) - 1
    d = decode(value, "x86_64", "pte", build_model("4.14.50", "allyes", 46, False))
    assert d.swap is not None and d.swap.offset == 1 << 44
    result = run("decode", "--kernel", "4.14", "--kconfig", "allyes", "--phys-bits", "46", hex(value))
    assert ("ptetool: the other swap layout (L1TF) reads it as: 0x0400000000000000 swap type=0(swapfile) "
            "offset=0x1ffffffffffff [1 problem]\n") in result.stderr
    forced = run("decode", "--kernel", "4.14.50", "--l1tf", "--kconfig", "allyes", "--phys-bits", "46", hex(value))
    assert forced.stdout == "0x0400000000000000 swap type=0(swapfile) offset=0x1ffffffffffff [1 problem]\n"


def test_3x_nonlinear_file_pte_numa_and_swap() -> None:
    m310 = model((3, 10))
    d = decode(0x1234040, "x86_64", "pte", m310)
    assert (d.cls, d.field_values["pgoff"], d.flags) == ("pte_file", 0x1234, ("file",))
    assert encode("pte_file", {"pgoff": 0x1234}, "x86_64", "pte", m310).value == 0x1234040
    assert decode(0x1234040, "x86_64", "pte", model((4, 0))).cls == "swap"  # _PAGE_FILE gone in 4.0
    d = decode(0x1402, "x86_64", "pte", model((3, 16)))
    assert d.swap is not None and (d.swap.type, d.swap.offset) == (1, 0x5)  # offset at 10 with NUMA balancing
    d = decode(0x8000000123456200, "x86_64", "pte", model((3, 16)))
    assert (d.cls, d.problems) == ("protnone", ()) and "numa" in d.flags
    assert "soft_dirty" not in decode(0x867, "x86_64", "pte", model((3, 10))).field_values
    assert decode(0x0800000000000123, "generic", "pte", model((3, 0))).swap.type == 1  # type shift 59


@pytest.mark.parametrize("level", ["p4d", "pgd"])
def test_upper_levels_are_tables_only(level: str) -> None:
    m = model((6, 12))
    assert decode(0x1234067, "x86_64", level, m).cls == "present"
    bad = decode(0x1234066, "x86_64", level, m)
    assert bad.cls == "invalid" and bad.problems[0].startswith("PRESENT (bit 0) is clear in a non-empty")
    assert encode("invalid", bad.field_values, "x86_64", level, m).value == 0x1234066
    assert "reserved_7" in decode(0x12340E7, "x86_64", level, m).flags
    result = run("encode", "--level", level, "--kernel", "6.12", "swap")
    assert (result.exit_code, result.stderr) == (
        2, f"ptetool: a {level} entry is empty, a table pointer (present) or invalid: it is never swap\n")
