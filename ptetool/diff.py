"""What differs between two decoded entries: bits, fields (old -> new) and class."""

from __future__ import annotations

from dataclasses import dataclass

from ptetool.decoder import Decoded


@dataclass(frozen=True)
class FieldChange:
    """A field whose value differs; None where the field is absent from that side's layout."""

    name: str
    old: int | None
    new: int | None


@dataclass(frozen=True)
class Diff:
    a: Decoded
    b: Decoded
    changed_bits: int
    fields: tuple[FieldChange, ...]

    @property
    def equal(self) -> bool:
        return self.changed_bits == 0

    @property
    def class_changed(self) -> bool:
        return self.a.cls != self.b.cls


def diff(a: Decoded, b: Decoded) -> Diff:
    old, new = a.field_values, b.field_values
    names = list(old) + [n for n in new if n not in old]
    changes = tuple(FieldChange(n, old.get(n), new.get(n)) for n in names if old.get(n) != new.get(n))
    return Diff(a, b, a.value ^ b.value, changes)
