"""A 64-bit value read against a layout: what a decoded entry and a decoded pagemap record share."""

from __future__ import annotations

from dataclasses import dataclass

from ptetool.layout import FieldValues, Layout
from ptetool.swaptypes import SwapInfo


# Only a base: each subclass (Decoded, pagemap's Entry) is a dataclass that makes its own __init__,
# __repr__, __eq__ and __hash__ over all the fields, so this one skips making its own (0.5 ms a run).
@dataclass(frozen=True, init=False, repr=False, eq=False)
class Reading:
    """The value, its class and layout, the fields by name, and what the class adds (swap, marker)."""

    value: int
    cls: str
    layout: Layout
    fields: FieldValues
    swap: SwapInfo | None
    marker: tuple[str, ...] | None
    problems: tuple[str, ...]

    @property
    def field_values(self) -> dict[str, int]:
        return dict(self.fields)

    @property
    def flags(self) -> tuple[str, ...]:
        """The one-bit fields that are set, in layout order."""
        return self.layout.set_flags(self.fields.items())
