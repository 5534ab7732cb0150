"""A client of ptetool's Python API, type-checked with mypy --strict by tests/test_api.py."""

from __future__ import annotations

from collections.abc import Mapping

import ptetool


def classify(values: list[int], release: str) -> dict[int, str]:
    model: ptetool.Model = ptetool.Model.for_kernel(release, kconfig={"CONFIG_MIGRATION": "y"})
    return {v: ptetool.decode(v, model=model).cls for v in values}


def marker_bits(value: int) -> tuple[str, ...]:
    d: ptetool.Decoded = ptetool.decode(value, arch="x86_64", level="pte")
    fields: Mapping[str, int] = d.fields
    assert fields["present"] in (0, 1)
    return d.marker or ()


def rebuild(value: int) -> int:
    d = ptetool.decode(value)
    return ptetool.encode(d.cls, dict(d.fields), arch=d.arch, level=d.level, model=d.model)


def swapped_pages(dump: bytes) -> int:
    return sum(1 for record in ptetool.read_pagemap(dump, vaddr=0) if record.cls == "swap")


def complaints(log: str) -> list[str]:
    found: list[ptetool.Finding] = list(ptetool.scan_log(log, kernel="6.12"))
    return [f.decoded.cls if f.decoded is not None else (f.why_not or "") for f in found]


def record(value: int) -> dict[str, object]:
    return ptetool.decode(value).to_json()
