"""The kernel model: version parsing, .config reading, swap-type numbering per era."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

import pytest

from ptetool.errors import UsageError, WorkError
from ptetool.kernel import NEWEST, OPTIONS, build_model, parse_version, read_kconfig
from ptetool.swaptypes import marker_bits, swap_types
from tests.models import model

CONFIG = """\
# Linux/x86 6.12.0 Kernel Configuration
CONFIG_MIGRATION=y
CONFIG_MEMORY_FAILURE=y
# CONFIG_DEVICE_PRIVATE is not set
CONFIG_MEM_SOFT_DIRTY=y
CONFIG_HAVE_ARCH_USERFAULTFD_WP=y
CONFIG_PTE_MARKER_UFFD_WP=m
CONFIG_NUMA_BALANCING=n
"""


@pytest.mark.parametrize(("text", "version"), [("6.12", (6, 12)), ("6.12.57", (6, 12)), ("v5.19", (5, 19)),
                                               ("6.18.44-fc-v657", (6, 18)), ("4.19.0-27-amd64", (4, 19))])
def test_parse_version(text: str, version: tuple[int, int]) -> None:
    assert parse_version(text) == version


@pytest.mark.parametrize("text", ["6", "six", "6.x", "", "2.6.32"])
def test_parse_version_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_version(text)


def test_read_kconfig_plain_and_gzip(tmp_path: Path) -> None:
    plain, gz = tmp_path / "config", tmp_path / "config.gz"
    plain.write_text(CONFIG)
    gz.write_bytes(gzip.compress(CONFIG.encode()))
    expected = frozenset({"CONFIG_MIGRATION", "CONFIG_MEMORY_FAILURE", "CONFIG_MEM_SOFT_DIRTY",
                          "CONFIG_HAVE_ARCH_USERFAULTFD_WP", "CONFIG_PTE_MARKER_UFFD_WP"})
    assert read_kconfig(plain) == expected == read_kconfig(gz)
    m = build_model("6.12", str(gz), 46, False)
    assert (m.kconfig, swap_types(m).max_swapfiles) == (str(gz), 27)


def test_broken_gzip_is_a_work_error(tmp_path: Path) -> None:
    bad = tmp_path / "config.gz"
    bad.write_bytes(b"\x1f\x8b\x08garbage")
    with pytest.raises(WorkError, match="not a valid gzip file"):
        read_kconfig(bad)


def test_kernel_given_without_kconfig_assumes_every_option() -> None:
    m = build_model("5.10", None)
    assert (m.kconfig, m.enabled, m.release) == ("allyes", frozenset(OPTIONS), None)


@pytest.mark.parametrize(
    ("version", "enabled", "special"),
    [
        ((4, 13), {"CONFIG_MIGRATION", "CONFIG_MEMORY_FAILURE"}, ["hwpoison", "migration_read", "migration_write"]),
        ((4, 14), set(OPTIONS), ["hwpoison", "migration_read", "migration_write", "device_write", "device_read"]),
        ((5, 14), set(OPTIONS), ["hwpoison", "migration_read", "migration_write", "device_write", "device_read",
                                 "device_exclusive_write", "device_exclusive_read"]),
        ((5, 19), set(OPTIONS), ["hwpoison", "migration_read", "migration_read_exclusive", "migration_write",
                                 "device_write", "device_read", "device_exclusive_write", "device_exclusive_read",
                                 "pte_marker", "swapin_error"]),
        ((6, 2), set(), ["pte_marker"]),
        ((6, 18), {"CONFIG_MIGRATION"}, ["migration_read", "migration_read_exclusive", "migration_write",
                                         "pte_marker"]),
    ],
)
def test_swap_type_numbering_by_era(version: tuple[int, int], enabled: set[str], special: list[str]) -> None:
    types = swap_types(model(version, frozenset(enabled)))
    assert list(types.special().values()) == special
    assert max(types.special()) == 31 and types.max_swapfiles == 32 - len(special)


def test_running_kernel_fixture_matches_layouts_md() -> None:
    """The 6.18 config of LAYOUTS.md [L6.18]: MIGRATION only -> 28 swap files, migration 28-30, marker 31."""
    types = swap_types(model((6, 18), frozenset({"CONFIG_MIGRATION", "CONFIG_HAVE_ARCH_USERFAULTFD_WP"})))
    assert types.special() == {28: "migration_read", 29: "migration_read_exclusive", 30: "migration_write",
                               31: "pte_marker"}


@pytest.mark.parametrize(("version", "bits"), [((5, 18), []), ((5, 19), ["uffd_wp"]),
                                               ((6, 2), ["uffd_wp", "swapin_error"]), ((6, 6), ["uffd_wp", "poisoned"]),
                                               ((6, 13), ["uffd_wp", "poisoned", "guard"])])
def test_marker_bits_by_era(version: tuple[int, int], bits: list[str]) -> None:
    assert [m.name for m in marker_bits(model(version))] == bits


@pytest.mark.skipif(not (os.access("/proc/config.gz", os.R_OK) or
                         os.access(f"/boot/config-{os.uname().release}", os.R_OK)),
                    reason="the running kernel's config is not readable here")
def test_running_model_reads_this_machine() -> None:
    m = build_model(None, None)
    assert m.release == os.uname().release
    assert m.kconfig.startswith("running (")
    assert m.version <= NEWEST
