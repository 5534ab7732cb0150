"""The JSON record: declared once here, the only way decoded entries are serialised."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypedDict, cast

from ptetool.decoder import Decoded, arch_module
from ptetool.kernel import Model
from ptetool.layout import Layout
from ptetool.reading import Reading
from ptetool.swaptypes import marker_bits, swap_types
from ptetool.values import format_value

if TYPE_CHECKING:
    from ptetool.diff import Diff


class SwapRecord(TypedDict):
    type: int
    offset: int
    type_name: str


class RuleRecord(TypedDict):
    rule: str
    holds: bool
    why: str


Record = TypedDict(
    "Record",
    {
        "value": str,
        "class": str,
        "arch": str,
        "level": str,
        "layout": str,
        "fields": dict[str, int],
        "flags": list[str],
        "swap": SwapRecord | None,
        "marker": list[str] | None,
        "problems": list[str],
        "notes": list[str],
        "rules": list[RuleRecord] | None,
        "model": dict[str, Any],
    },
)


def model_record(model: Model, arch: str) -> dict[str, Any]:
    """The model as stated in every record: inputs, then what they imply."""
    types = swap_types(model)
    data = model.to_json()
    data.update(
        swap_types={str(t): name for t, name in types.special().items()},
        max_swapfiles=types.max_swapfiles,
        marker_bits={m.name: m.bit for m in marker_bits(model)},
        swp_pfn_bits=arch_module(arch).swp_pfn_bits(model),
    )
    if arch == "generic":
        data.update(uffd_wp=False)
    else:
        mod = arch_module(arch)
        data.update(swap_layout=mod.swap_era(model), uffd_wp=mod.has_uffd_wp(model),
                    soft_dirty=mod.has_soft_dirty(model))
    data["key"] = model_key(model, arch)
    return data


def model_key(model: Model, arch: str) -> str:
    """A short name for the model's inputs: bulk records carry it instead of the whole model, which the
    first record of their stream (and `ptetool model`) states in full."""
    try:  # the builtin module: hashlib would load OpenSSL, ~3 ms of a single decode's start
        from _sha1 import sha1  # type: ignore[import-not-found]
    except ImportError:  # pragma: no cover - an interpreter without it
        from hashlib import sha1

    inputs = {k: v for k, v in model.to_json().items() if k not in ("assumptions", "sources")}
    return str(sha1(json.dumps([arch, inputs], sort_keys=True).encode()).hexdigest()[:12])


def short_model(model: Model, arch: str) -> dict[str, Any]:
    """The model as a bulk record after the first states it: its kernel and key."""
    return {"kernel": model.label, "key": model_key(model, arch)}


def reading_record(r: Reading, arch: str, level: str, layout: str) -> dict[str, Any]:
    """The keys every record shares, in their order: the one place a reading becomes JSON."""
    return {
        "value": format_value(r.value),
        "class": r.cls,
        "arch": arch,
        "level": level,
        "layout": layout,
        "fields": r.field_values,
        "flags": list(r.flags),
        "swap": SwapRecord(type=r.swap.type, offset=r.swap.offset, type_name=r.swap.type_name) if r.swap else None,
        "marker": list(r.marker) if r.marker is not None else None,
        "problems": list(r.problems),
    }


def to_record(d: Decoded) -> Record:
    record = reading_record(d, d.arch, d.level, d.layout.name)
    record.update(
        notes=list(d.notes),
        rules=[RuleRecord(rule=r.rule, holds=r.holds, why=r.why) for r in d.rules] if d.rules else None,
        model=model_record(d.model, d.arch),
    )
    return cast(Record, record)


def decode_record(d: Decoded) -> dict[str, Any]:
    """The record decode prints: plus "alternatives" where the swap layout cannot be told."""
    from ptetool.decoder import other_reading

    record: dict[str, Any] = dict(to_record(d))
    other = other_reading(d)
    if other is not None:
        record["alternatives"] = [to_record(other)]
    return record


def dumps(record: Record | list[Record] | dict[str, Any] | list[dict[str, Any]], indent: int | None = None) -> str:
    return json.dumps(record, indent=indent)


def layout_record(layout: Layout, cls: str, arch: str, level: str, model: Model) -> dict[str, Any]:
    """A layout without a value: every field with its bits, derived mask, doc and source."""
    return {
        "layout": layout.name,
        "class": cls,
        "arch": arch,
        "level": level,
        "doc": layout.doc,
        "fields": [
            {
                "name": f.name,
                "lsb": f.lsb,
                "msb": f.msb,
                "width": f.width,
                "mask": format_value(f.mask),
                "family": f.family.value,
                "inverted": f.inverted,
                "value_shift": f.value_shift,
                "alias_of": f.alias_of,
                "zero_expected": f.zero_expected,
                "doc": f.doc,
                "source": {"file": f.source.file, "version": f.source.version},
            }
            for f in layout.fields
        ],
        "model": model_record(model, arch),
    }


def diff_record(result: Diff) -> dict[str, Any]:
    return {
        "a": to_record(result.a),
        "b": to_record(result.b),
        "equal": result.equal,
        "changed_bits": format_value(result.changed_bits),
        "class_changed": result.class_changed,
        "fields": [{"field": c.name, "old": c.old, "new": c.new} for c in result.fields],
    }


# --- pagemap records (ptetool pagemap) -----------------------------------------------------------

class VmaRecord(TypedDict):
    start: str
    end: str
    perms: str
    name: str


_PagemapRecordBase = TypedDict(
    "_PagemapRecordBase",
    {
        "index": int,
        "vaddr": str,
        "value": str,
        "class": str,
        "arch": str,
        "level": str,
        "layout": str,
        "fields": dict[str, int],
        "flags": list[str],
        "swap": SwapRecord | None,
        "marker": list[str] | None,
        "problems": list[str],
        "zeroed": bool,
        "model": dict[str, Any],
    },
)


class PagemapRecord(_PagemapRecordBase, total=False):
    """A pagemap record: the decode record's keys plus where the page is, in this key order
    (built by ptetool.pagemap.to_pagemap_record).

    "index" is the record's position in the file read (the dump, or /proc/PID/pagemap:
    vaddr / page size); "zeroed" is true when the reader lacked CAP_SYS_ADMIN and the kernel
    hid the pfn or swap entry; "vma" (when the mappings are known; null in a hole) and
    "kpageflags" (with --kpageflags; null without a readable pfn) are optional.
    """

    vma: VmaRecord | None
    kpageflags: list[str] | None
