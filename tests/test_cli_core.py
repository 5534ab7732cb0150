"""decode, encode and layout at the command line: exact stdout, stderr and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ptetool import __version__
from tests.cli_helpers import MODEL_LINE, PINNED, run

BRIEF = {
    "0": "0x0000000000000000 none",
    "0x60": "0x0000000000000060 none accessed,dirty",
    "0x8000000123456867": "0x8000000123456867 present pfn=0x123456 present,rw,user,accessed,dirty,soft_dirty,nx",
    "0x000ffffedcba9120": "0x000ffffedcba9120 protnone pfn=0x123456 accessed,protnone",
    "0x4": "0x0000000000000004 uffd_wp_special type=0(swapfile) offset=0x3ffffffffffff swp_uffd_wp [1 problem]",
    "0x0fffffffffdb9600": "0x0fffffffffdb9600 swap type=1(swapfile) offset=0x1234",
    "0x07fffffffffffe04": "0x07fffffffffffe04 swap type=0(swapfile) offset=0x0 swp_uffd_wp [1 problem]",
    "0xfffffffffffffc00": "0xfffffffffffffc00 pte_marker type=31(pte_marker) offset=0x1 marker=uffd_wp",
    "0xfffffffffffffa00": "0xfffffffffffffa00 pte_marker type=31(pte_marker) offset=0x2 marker=poisoned",
    "0xfffffffffffff600": "0xfffffffffffff600 pte_marker type=31(pte_marker) offset=0x4 marker=guard",
    "0xcfffe7ffca5df200": "0xcfffe7ffca5df200 migration type=25(migration_read) offset=0xc001ad106 pfn=0x1ad106 "
                          "mig_young,mig_dirty",
    "0xdfffffffca5df200": "0xdfffffffca5df200 migration type=27(migration_write) offset=0x1ad106 pfn=0x1ad106",
    "0xe7ffffffca5df200": "0xe7ffffffca5df200 device_private type=28(device_write) offset=0x1ad106 pfn=0x1ad106",
    "0xf7ffffffca5df200": "0xf7ffffffca5df200 device_exclusive type=30(device_exclusive) offset=0x1ad106 "
                          "pfn=0x1ad106",
    "0xc7ffffffca5df200": "0xc7ffffffca5df200 hwpoison type=24(hwpoison) offset=0x1ad106 pfn=0x1ad106",
}


@pytest.mark.parametrize(("token", "line"), BRIEF.items())
def test_decode_brief_each_class(token: str, line: str) -> None:
    result = run("decode", *PINNED, "--format", "brief", token)
    assert (result.exit_code, result.stdout, result.stderr) == (0, line + "\n", MODEL_LINE)


def test_decode_reads_stdin_several_per_line() -> None:
    result = run("decode", *PINNED, stdin="0x4 0x0fffffffffdb9600\n\n  fffffffffffff600,0\n")
    assert result.stdout.splitlines() == [BRIEF["0x4"], BRIEF["0x0fffffffffdb9600"], BRIEF["0xfffffffffffff600"],
                                          BRIEF["0"]]
    assert result.exit_code == 0


@pytest.mark.parametrize("token", ["0b100", "0o4", "4", "0x0000_0000_0000_0004", "0x0000'0004", "0X4"])
def test_value_spellings(token: str) -> None:
    assert run("decode", *PINNED, token).stdout == BRIEF["0x4"] + "\n"


def test_bad_values_are_named_and_the_rest_still_decoded() -> None:
    result = run("decode", *PINNED, "0x1_0000_0000_0000_0000", "0x4", "zz", "0b102", "0x", "_4")
    assert result.exit_code == 2
    assert result.stdout == BRIEF["0x4"] + "\n"
    assert result.stderr == (
        "ptetool: bad value '0x1_0000_0000_0000_0000': 65 bits, more than 64\n"
        "ptetool: bad value 'zz': not a hexadecimal number\n"
        "ptetool: bad value '0b102': not a binary number\n"
        "ptetool: bad value '0x': not a hexadecimal number\n"
        "ptetool: bad value '_4': not a hexadecimal number\n" + MODEL_LINE
    )


def test_json_record_for_the_seed_pte() -> None:
    result = run("decode", *PINNED, "--format", "json", "0x4")
    assert result.exit_code == 0 and result.stderr == ""
    [record] = json.loads(result.stdout)
    model = record.pop("model")
    assert record == {
        "value": "0x0000000000000004",
        "class": "uffd_wp_special",
        "arch": "x86_64",
        "level": "pte",
        "layout": "x86_64 pte swap",
        "fields": {"present": 0, "swp_soft_dirty": 0, "swp_uffd_wp": 1, "swp_exclusive": 0, "ignored_4": 0,
                   "ignored_5_6": 0, "reserved_7": 0, "reserved_8": 0, "swp_offset": (1 << 50) - 1, "swp_type": 0},
        "flags": ["swp_uffd_wp"],
        "swap": {"type": 0, "offset": (1 << 50) - 1, "type_name": "swapfile"},
        "marker": None,
        "problems": [
            "the seed's UFFD_WP_SWP_PTE_SPECIAL existed only in the 2021 uffd-wp shmem series (v1-v5) and was never "
            "merged; mainline 5.19 and later use PTE markers, and there these bits read as swap type 0, offset "
            "0x3ffffffffffff with swp_uffd_wp: no swap area is that large"
        ],
        "notes": ["the swap offset is stored inverted (L1TF); swp_offset is shown un-inverted"],
        "rules": [
            {"rule": "pte_none() == false", "holds": True, "why": "0x4 & ~0x60 = 0x4 (A/D ignored)"},
            {"rule": "pte_present() == false", "holds": True, "why": "bits 0 and 8 are clear"},
            {"rule": "pte_swp_uffd_wp() == true", "holds": True, "why": "bit 2 (_PAGE_SWP_UFFD_WP) is set"},
            {"rule": "not a valid swap entry", "holds": True,
             "why": "type 0, offset 0x3ffffffffffff: no swap area holds that page"},
        ],
    }
    key = model.pop("key")  # names the model in bulk records (issue #10)
    assert len(key) == 12 and int(key, 16) >= 0
    assert model == {
        "kernel": "6.18", "release": None, "kconfig": "allyes",
        "options": {o: True for o in model["options"]}, "phys_bits": 46, "la57": False, "assumptions": [],
        "swap_types": {"24": "hwpoison", "25": "migration_read", "26": "migration_read_exclusive",
                       "27": "migration_write", "28": "device_write", "29": "device_read", "30": "device_exclusive",
                       "31": "pte_marker"},
        "max_swapfiles": 24, "marker_bits": {"uffd_wp": 0, "poisoned": 1, "guard": 2}, "swp_pfn_bits": 34,
        "swap_layout": "4.19+: type 59-63, inverted offset 9-58", "uffd_wp": True, "soft_dirty": True,
        "l1tf_swap": True,
    }
    assert len(model["options"]) == 8


def test_json_marker_and_migration_records() -> None:
    records = json.loads(run("decode", *PINNED, "--format", "json", "0xfffffffffffff600", "0xcfffe7ffca5df200").stdout)
    assert [(r["class"], r["marker"], r["swap"]) for r in records] == [
        ("pte_marker", ["guard"], {"type": 31, "offset": 4, "type_name": "pte_marker"}),
        ("migration", None, {"type": 25, "offset": 0xC001AD106, "type_name": "migration_read"}),
    ]
    assert records[0]["flags"] == ["marker_guard"]
    assert records[1]["fields"]["pfn"] == 0x1AD106 and records[1]["flags"] == ["mig_young", "mig_dirty"]


def test_ndjson_is_one_object_per_line_and_no_stderr() -> None:
    result = run("decode", *PINNED, "--format", "ndjson", "0", "0x4")
    lines = result.stdout.splitlines()
    assert [json.loads(x)["class"] for x in lines] == ["none", "uffd_wp_special"]
    assert result.stderr == ""


@pytest.mark.parametrize("arch", ["x86_64", "arm64", "generic"])
@pytest.mark.parametrize("level", ["pte", "pmd", "pud"])
def test_ndjson_pipes_back_through_encode(arch: str, level: str) -> None:
    values = ["0x0000000000000000", "0x0000000000000004", "0x0000000000000060", "0x8000000123456867",
              "0x000ffffedcba9120", "0x0fffffffffdb9600", "0xfffffffffffffc00", "0xfffffffffffff600",
              "0xcfffe7ffca5df200", "0x800fffffffc000a6", "0x80000000002001e3", "0xffffffffffffffff",
              "0x7c00000000000001", "0x0000000000000080"]
    ndjson = run("decode", *PINNED, "--arch", arch, "--level", level, "--format", "ndjson", *values).stdout
    result = run("encode", "-", stdin=ndjson)
    assert (result.exit_code, result.stdout.split(), result.stderr) == (0, values, "")


def test_encode_examples() -> None:
    assert run("encode", *PINNED, "swap", "swp_type=1", "swp_offset=0x1234").stdout == "0x0fffffffffdb9600\n"
    assert run("encode", *PINNED, "pte_marker", "marker_uffd_wp=1").stdout == "0xfffffffffffffc00\n"
    assert run("encode", *PINNED, "pte_marker", "marker_guard=1").stdout == "0xfffffffffffff600\n"
    assert run("encode", *PINNED, "uffd_wp_special").stdout == "0x0000000000000004\n"
    assert run("encode", *PINNED, "migration", "swp_type=migration_read", "pfn=0x1ad106", "mig_young=1",
               "mig_dirty=1").stdout == "0xcfffe7ffca5df200\n"
    assert run("encode", *PINNED, "protnone", "pfn=0x123456", "accessed=1").stdout == "0x000ffffedcba9120\n"
    assert run("encode", *PINNED, "present", "pfn=0x123456", "rw=1", "user=1", "accessed=1", "dirty=1",
               "soft_dirty=1", "nx=1").stdout == "0x8000000123456867\n"
    assert run("encode", *PINNED, "--level", "pmd", "present", "pfn=0x200", "rw=1").stdout == "0x0000000000200083\n"
    assert run("encode", *PINNED, "--arch", "generic", "pte_marker", "marker_uffd_wp=1").stdout == \
        "0x7c00000000000001\n"


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (["swap", "bogus=1"], "ptetool: x86_64 pte swap has no field 'bogus'; its fields: present, swp_soft_dirty, "
                              "swp_uffd_wp, swp_exclusive, ignored_4, ignored_5_6, reserved_7, reserved_8, swp_offset, "
                              "swp_type\n"),
        (["swap", "swp_type=40"], "ptetool: swp_type=40 does not fit in 5 bits\n"),
        (["swap", "swp_offset=-1"], "ptetool: swp_offset takes 0 to 0x3ffffffffffff (50 bits)\n"),
        (["swap", "swp_offset"], "ptetool: bad field 'swp_offset': expected NAME=VALUE\n"),
        (["swap", "swp_offset=zz"], "ptetool: bad field 'swp_offset=zz': VALUE is decimal, or 0x hex, 0b binary, "
                                    "0o octal\n"),
        (["banana"], "ptetool: unknown class 'banana': choose from none, present, protnone, uffd_wp_special, swap, "
                     "pte_marker, migration, device_private, device_exclusive, hwpoison, swapin_error, pte_file\n"),
        (["swapin_error"], "ptetool: kernel 6.18 with config allyes has no swapin_error swap type; choose another "
                           "--kernel or --kconfig\n"),
        (["migration", "swp_type=bogus"], "ptetool: swp_type=bogus: kernel 6.18 has no such type; choose from "
                                          "device_exclusive, device_read, device_write, hwpoison, migration_read, "
                                          "migration_read_exclusive, migration_write, pte_marker, swapfile\n"),
        (["--arch", "generic", "uffd_wp_special", "swp_offset=1"],
         "ptetool: the special PTE without uffd-wp bits is __pte(0): it has no fields to set\n"),
        (["pte_marker", "swp_offset=2", "marker_uffd_wp=1"],
         "ptetool: swp_offset=0x2 disagrees with another field given (those bits give 0x3)\n"),
    ],
)
def test_encode_usage_errors(args: list[str], stderr: str) -> None:
    result = run("encode", *PINNED, *args)
    assert (result.exit_code, result.stdout, result.stderr) == (2, "", stderr)


@pytest.mark.parametrize(("args", "where"), [(["--arch", "generic"], "the generic arch"),
                                             (["--kernel", "5.6"], "kernel 5.6 with config allyes")])
def test_encode_special_pte_without_uffd_wp_is_pte_0(args: list[str], where: str) -> None:
    """The seed defines the special PTE as __pte(0) where there are no uffd-wp bits (issue #9.5)."""
    result = run("encode", *PINNED, *args, "uffd_wp_special")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "0x0000000000000000\n", f"ptetool: warning: {where} has no uffd-wp bits: there the seed's special PTE "
        "is __pte(0), which reads as none\n")


def test_encode_warns_when_the_value_reads_as_another_class() -> None:
    result = run("encode", *PINNED, "swap", "swp_type=31", "swp_offset=1")
    assert (result.exit_code, result.stdout, result.stderr) == (
        0, "0xfffffffffffffc00\n", "ptetool: warning: 0xfffffffffffffc00 decodes as pte_marker, not swap\n")


def test_encode_stream_reports_bad_lines_and_goes_on() -> None:
    good = run("decode", *PINNED, "--format", "ndjson", "0x4").stdout
    result = run("encode", "-", stdin='{"x": 1}\nnope\n[1]\n\n' + good)
    assert result.exit_code == 2
    assert result.stdout == "0x0000000000000004\n"
    assert result.stderr == (
        "ptetool: stdin line 1: not a decode record (needs class, arch, level, fields): 'fields'\n"
        "ptetool: stdin line 2: not JSON: Expecting value\n"
        "ptetool: stdin line 3: not a JSON object\n"
    )
    assert run("encode", "-", "x=1").exit_code == 2


def test_model_errors_and_kconfig_files(tmp_path: Path) -> None:
    result = run("decode", "--kconfig", str(tmp_path / "missing"), "4")
    assert (result.exit_code, result.stdout) == (1, "")
    assert result.stderr == f"ptetool: cannot read kernel config {tmp_path / 'missing'}: No such file or directory\n"
    result = run("decode", "--kernel", "2.6.32", "4")
    assert (result.exit_code, result.stderr) == (
        2, "ptetool: --kernel 2.6.32: kernel 2.6 is not modelled; the oldest modelled is 3.0\n")
    result = run("decode", "--kernel", "six", "4")
    assert result.stderr == "ptetool: --kernel 'six': expected a version such as 6.12 or 'running'\n"
    (tmp_path / "junk").write_text("hello\n")
    assert run("decode", "--kconfig", str(tmp_path / "junk"), "4").stderr == (
        f"ptetool: {tmp_path / 'junk'} is not a kernel .config: it sets no CONFIG_ option\n")


def test_newer_kernel_is_read_as_the_newest_modelled_and_said() -> None:
    result = run("decode", "--kernel", "7.2", "--kconfig", "allyes", "--phys-bits", "46", "--no-la57", "0x4")
    assert result.exit_code == 0
    assert result.stderr.splitlines()[-1] == (
        "ptetool: model: kernel 7.2 is newer than the newest modelled (6.18): its layouts are read as 6.18's")


def test_usage_errors_from_click_exit_2() -> None:
    result = run("decode", "--arch", "sparc", "4")
    assert result.exit_code == 2 and "Invalid value for '--arch'" in result.stderr
    assert run("frobnicate").exit_code == 2


def test_version() -> None:
    assert run("--version").stdout == f"ptetool, version {__version__}\n"


def test_layout_json_lists_fields_with_sources() -> None:
    result = run("layout", *PINNED, "--class", "pte_marker", "--format", "json")
    data = json.loads(result.stdout)
    by_name = {f["name"]: f for f in data["fields"]}
    assert by_name["swp_offset"]["mask"] == "0x07fffffffffffe00" and by_name["swp_offset"]["inverted"]
    assert by_name["marker_guard"] == {
        "name": "marker_guard", "lsb": 11, "msb": 11, "width": 1, "mask": "0x0000000000000800",
        "family": "marker bit", "inverted": True, "value_shift": 0, "alias_of": "swp_offset", "zero_expected": False,
        "doc": "PTE_MARKER_GUARD: a guard region installed with MADV_GUARD_INSTALL",
        "source": {"file": "include/linux/swapops.h", "version": "6.13"},
    }
