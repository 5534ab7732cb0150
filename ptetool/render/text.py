"""Plain-text renderings that need no rich: the brief line and the model statement."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptetool.decoder import Decoded, arch_module
from ptetool.kernel import Model
from ptetool.swaptypes import swap_types
from ptetool.values import format_value

if TYPE_CHECKING:
    from ptetool.diff import Diff

# Multi-bit fields worth naming on the brief line, in this order.
_BRIEF_FIELDS = ("pfn", "pgoff", "pkey")


def brief(d: Decoded) -> str:
    """One line: value, class, what matters for the class, flags, problem count."""
    fields = d.field_values
    parts = [format_value(d.value), d.cls]
    if d.swap is not None:
        parts.append(f"type={d.swap.type}({d.swap.type_name}) offset={d.swap.offset:#x}")
    if d.marker is not None:
        parts.append("marker=" + (",".join(d.marker) or "-"))
    parts += [f"{name}={fields[name]:#x}" for name in _BRIEF_FIELDS if name in fields and
              (name != "pkey" or fields[name])]
    flags = [f for f in d.flags if not f.startswith("marker_")]
    if flags:
        parts.append(",".join(flags))
    if d.problems:
        parts.append(f"[{len(d.problems)} problem{'s' if len(d.problems) > 1 else ''}]")
    return " ".join(parts)


def describe_model(model: Model, arch: str, level: str) -> str:
    """The model actually used, said once per run on stderr for human formats."""
    kernel = model.label + (f" ({'running ' if model.is_running else 'release '}{model.release})"
                            if model.release else "")
    parts = [f"{arch} {level}", f"kernel {kernel}", f"kconfig {model.kconfig}"]
    if arch != "generic":
        mod = arch_module(arch)
        parts.append(f"uffd-wp {'on' if mod.has_uffd_wp(model) else 'off'}")
        parts.append(f"soft-dirty {'on' if mod.has_soft_dirty(model) else 'off'}")
    parts.append(f"MAX_SWAPFILES {swap_types(model).max_swapfiles}")
    if arch == "x86_64":
        parts.append(f"phys {model.phys_bits} bits")
    if arch == "arm64":
        parts.append("4 KiB pages, 48-bit physical addresses")
    text = "model: " + ", ".join(parts)
    for assumption in model.assumptions:
        if arch == "x86_64" or not assumption.startswith("x86 "):
            text += f"\nmodel: {assumption}"
    return text


def model_note(model: Model, arch: str, level: str) -> str:
    """describe_model as one stderr note: its lines after the first prefixed like the first."""
    return describe_model(model, arch, level).replace("\n", "\nptetool: ")


def brief_diff(result: Diff) -> list[str]:
    """One line per changed field, then the class verdict; nothing but 'equal' when equal."""
    if result.equal:
        return [f"{format_value(result.a.value)} == {format_value(result.b.value)}: equal"]

    lines = [f"{change.name}: {field_text(change.old)} -> {field_text(change.new)}" for change in result.fields]
    verdict = (f"class: {result.a.cls} -> {result.b.cls}" if result.class_changed
               else f"class: {result.a.cls} (unchanged)")
    return [*lines, verdict, f"bits: {format_value(result.changed_bits)}"]


def field_text(value: int | None) -> str:
    """A field value as people read it: 0/1 plain, larger values in hex, absent fields said."""
    if value is None:
        return "(absent)"
    return str(value) if value < 2 else f"{value:#x}"
