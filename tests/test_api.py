"""The Python API (issue #9), independent of the CLI except where it must equal it."""

from __future__ import annotations

import dataclasses
import io
import json
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console

import ptetool
from ptetool.decoder import CLASSES
from tests.cli_helpers import PINNED, run
from tests.test_cli_core import BRIEF

MODEL = ptetool.Model.for_kernel("6.18", phys_bits=46)
EVERY_CLASS = {  # one value per class the x86_64 decoder gives, on 6.18 (and pte_file on 3.10, invalid at p4d)
    "none": 0, "present": 0x8000000123456867, "protnone": 0x000FFFFEDCBA9120, "uffd_wp_special": 0x4,
    "swap": 0x0FFFFFFFFFDB9600, "pte_marker": 0xFFFFFFFFFFFFFC00, "migration": 0xDFFFFFFFCA5DF200,
    "device_private": 0xE7FFFFFFCA5DF200, "device_exclusive": 0xF7FFFFFFCA5DF200, "hwpoison": 0xC7FFFFFFCA5DF200,
}


@pytest.mark.parametrize(("cls", "value"), EVERY_CLASS.items())
def test_every_class_through_the_api_and_back(cls: str, value: int) -> None:
    d = ptetool.decode(value, model=MODEL)
    assert d.cls == cls and d.value == value and d.model == MODEL
    assert ptetool.encode(d.cls, d.fields, model=MODEL) == value
    assert str(d) == BRIEF[f"{value:#x}"] if f"{value:#x}" in BRIEF else str(d).startswith(f"{value:#018x} {cls}")


def test_the_other_classes_through_the_api() -> None:
    old = ptetool.Model.for_kernel("3.10")
    assert ptetool.decode(0x1234040, model=old).cls == "pte_file"
    assert ptetool.encode("pte_file", {"pgoff": 0x1234}, model=old) == 0x1234040
    assert ptetool.decode(0x1234066, level="p4d", model=MODEL).cls == "invalid"
    assert ptetool.decode("pgd:1234066", model=MODEL).level == "pgd"
    swapin = ptetool.Model.for_kernel("6.0")
    value = ptetool.encode("swapin_error", {"pfn": 0x1234}, model=swapin)
    assert ptetool.decode(value, model=swapin).cls == "swapin_error"
    assert {"swapin_error", "pte_file", "invalid"} | set(EVERY_CLASS) == set(CLASSES)


def test_to_json_is_the_record_the_cli_prints() -> None:
    for value in (*EVERY_CLASS.values(), 0x400000000000000):
        for model, kernel in ((MODEL, "6.18"), (ptetool.Model.for_kernel("4.14", phys_bits=46), "4.14")):
            cli = run("decode", "--kernel", kernel, "--kconfig", "allyes", "--phys-bits", "46", "--no-la57",
                      "--format", "ndjson", hex(value))
            assert ptetool.decode(value, model=model).to_json() == json.loads(cli.stdout)


def test_decoded_is_immutable() -> None:
    d = ptetool.decode(0x4, model=MODEL)
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.cls = "none"  # type: ignore[misc]
    with pytest.raises(TypeError):
        d.fields["swp_uffd_wp"] = 0  # type: ignore[index]
    assert hash(d) == hash(ptetool.decode(0x4, model=MODEL))


def test_rich_print_draws_the_diagram() -> None:
    buffer = io.StringIO()
    Console(file=buffer, width=120, color_system=None).print(ptetool.decode(0x4, model=MODEL))
    drawn = buffer.getvalue()
    assert drawn.splitlines()[0].split()[:3] == ["63", "59", "58"] and "TYPE" in drawn and "UW" in drawn
    assert "the seed's special swap-like PTE" in drawn


def test_encode_warns_like_the_cli() -> None:
    with pytest.warns(ptetool.PtetoolWarning, match="decodes as none"):
        assert ptetool.encode("present", {"present": 0}, model=MODEL) == 0


def test_bad_input_raises_the_usage_error() -> None:
    with pytest.raises(ptetool.UsageError, match="does not fit in 64 bits"):
        ptetool.decode(1 << 64, model=MODEL)
    with pytest.raises(ptetool.UsageError, match="a word, not a number"):
        ptetool.decode("Bad", model=MODEL)


def test_read_pagemap_and_the_vectorised_form_agree(tmp_path: Path) -> None:
    values = [0x8100000000001234, 0x420000000000003F, 0x440000000000009F, 0, 0x4000000000000141, 1 << 62]
    data = struct.pack(f"<{len(values)}Q", *values)
    records = list(ptetool.read_pagemap(data, vaddr=0x1000, model=MODEL))
    assert [r.cls for r in records] == ["present", "pte_marker", "pte_marker", "none", "swap", "swap"]
    assert [r.vaddr for r in records] == [0x1000 * (i + 1) for i in range(len(values))]
    path = tmp_path / "dump"
    path.write_bytes(data)
    assert [r.cls for r in ptetool.read_pagemap(path, vaddr=0x1000, model=MODEL)] == [r.cls for r in records]
    from ptetool.pagemap import CLASSES as PAGEMAP_CLASSES

    codes = ptetool.classify_pagemap(values, model=MODEL)
    assert [PAGEMAP_CLASSES[c] for c in codes.tolist()] == [r.cls for r in records]
    cli = run("pagemap", "-", "--vaddr", "0x1000", "--format", "ndjson", *PINNED, stdin=data)
    assert [{k: v for k, v in json.loads(line).items() if k != "model"} for line in cli.stdout.splitlines()] == [
        {k: v for k, v in r.to_json().items() if k != "model"} for r in records]


def test_scan_log_from_text_bytes_and_files(tmp_path: Path) -> None:
    log = ("swap_info_get: Bad swap offset entry 1ffffffffffff\n"
           "BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067\n"
           "CPU: 2 PID: 21057 Comm: gdbus Tainted: G    B      OE     4.18.8-200.fc28.x86_64 #1\n")
    path = tmp_path / "log"
    path.write_text(log)
    for source in (log, log.encode(), path, io.StringIO(log), log.splitlines()):
        findings = list(ptetool.scan_log(source))
        assert [(f.line, f.name, f.decoded.cls if f.decoded else None) for f in findings] == [
            (1, "swp_entry", "swap"), (2, "pte", "swap"), (2, "pmd", "present")], source
    assert findings[1].to_json()["model"]["sources"]["swap_layout"].startswith("agreement with line 1")


def test_a_typed_client_passes_mypy_strict() -> None:
    client = Path(__file__).parent / "data" / "typed_client.py"
    result = subprocess.run([sys.executable, "-m", "mypy", "--strict", "--no-incremental", str(client)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_importing_ptetool_loads_nothing_heavy() -> None:
    code = ("import sys, ptetool; ptetool.decode(4, model=ptetool.Model.for_kernel('6.12')); "
            "print(sorted(m for m in ('numpy', 'rich', 'click', 'json', 'ptetool.pagemap', 'ptetool.scan') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
