"""Declarative bit layouts: immutable fields, validated when a layout is built.

A field is declared by its least-significant bit and width, never by order.
Masks and shifts are derived here and nowhere else. Bit arithmetic stays on
plain ``int``s; bitstring's MSB-first indexing lives in :mod:`ptetool.bits`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import NamedTuple

from ptetool.errors import LayoutError

ENTRY_BITS = 64
ENTRY_MASK = (1 << ENTRY_BITS) - 1


class FieldValues(Mapping[str, int]):
    """A decoded entry's field values by name, in layout order: read-only and hashable.

    >>> values = FieldValues([("present", 1), ("rw", 0)])
    >>> values["present"], list(values), dict(values)
    (1, ['present', 'rw'], {'present': 1, 'rw': 0})
    """

    __slots__ = ("_by_name", "_items")

    def __init__(self, items: Iterable[tuple[str, int]]) -> None:
        self._items = tuple(items)
        self._by_name = dict(self._items)

    def __getitem__(self, name: str) -> int:
        return self._by_name[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_name)

    def __len__(self) -> int:
        return len(self._items)

    def __hash__(self) -> int:
        return hash(self._items)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, FieldValues):
            return self._items == other._items
        return isinstance(other, Mapping) and self._by_name == dict(other.items())

    def __repr__(self) -> str:
        return f"FieldValues({self._by_name!r})"


class Family(Enum):
    """What kind of thing a field is; the diagram colours by family."""

    HW_FLAG = "hardware flag"
    SW_FLAG = "software flag"
    FRAME = "frame number"
    SWAP_TYPE = "swap type"
    SWAP_OFFSET = "swap offset"
    SWAP_FLAG = "swap flag"
    MARKER = "marker bit"
    PKEY = "protection key"
    RESERVED = "reserved"
    IGNORED = "ignored"


# Small value records (Source, Field, When, SwapInfo, MarkerBit, Rule, ...) are NamedTuples: a frozen
# dataclass costs about 0.5 ms to create, and a single decode's start-up would pay it for each.
class Source(NamedTuple):
    """Where a layout fact comes from: a kernel file and the version read."""

    file: str
    version: str

    def __str__(self) -> str:
        return f"{self.file} ({self.version})"


class Field(NamedTuple):
    """A named run of bits in a 64-bit entry.

    ``inverted``: the entry stores the one's complement of the value (x86
    L1TF mitigation for swap offsets and PROT_NONE frame numbers).
    ``value_shift``: the value is the stored bits shifted left this far, so a
    2 MiB leaf's frame (bits 21-51) still reads as a 4 KiB page frame number.
    ``alias_of``: a view over bits owned by that field, for example the PFN
    kept in a migration entry's swap offset. Aliases never own bits.
    ``zero_expected``: the kernel never sets these bits in this layout; a set
    bit is reported as a problem, not an error.
    """

    name: str
    lsb: int
    width: int
    doc: str
    source: Source
    family: Family
    inverted: bool = False
    value_shift: int = 0
    alias_of: str | None = None
    zero_expected: bool = False

    @property
    def msb(self) -> int:
        return self.lsb + self.width - 1

    @property
    def ones(self) -> int:
        return (1 << self.width) - 1

    @property
    def mask(self) -> int:
        return self.ones << self.lsb

    @property
    def is_flag(self) -> bool:
        return self.width == 1

    def extract(self, value: int) -> int:
        stored = (~value if self.inverted else value) >> self.lsb & self.ones
        return stored << self.value_shift

    def insert(self, field_value: int) -> int:
        """The entry bits that hold ``field_value``; raises ValueError if it does not fit."""
        low = field_value & ((1 << self.value_shift) - 1)
        stored = field_value >> self.value_shift
        if field_value < 0 or low or stored > self.ones:
            raise ValueError(self.fit_hint())
        if self.inverted:
            stored = ~stored & self.ones
        return stored << self.lsb

    def fit_hint(self) -> str:
        top = self.ones << self.value_shift
        step = f" in steps of {1 << self.value_shift:#x}" if self.value_shift else ""
        return f"{self.name} takes 0 to {top:#x}{step} ({self.width} bits)"

    def bit_range(self) -> str:
        return str(self.lsb) if self.width == 1 else f"{self.msb}-{self.lsb}"


@dataclass(frozen=True)
class Layout:
    """One format's fields; every bit owned exactly once, aliases inside their owners."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    _by_name: dict[str, Field] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_name: dict[str, Field] = {}
        owner_of_bit: list[str | None] = [None] * ENTRY_BITS
        for f in self.fields:
            if f.name in by_name:
                raise LayoutError(f"{self.name}: field {f.name!r} is declared twice")
            by_name[f.name] = f
            if f.width < 1 or f.lsb < 0:
                raise LayoutError(f"{self.name}: field {f.name!r} has no bits")
            if f.msb >= ENTRY_BITS:
                raise LayoutError(
                    f"{self.name}: field {f.name!r} ends at bit {f.msb + 1}, past the 64-bit entry"
                )
            if f.alias_of is not None:
                continue
            for bit in range(f.lsb, f.msb + 1):
                if owner_of_bit[bit] is not None:
                    raise LayoutError(
                        f"{self.name}: bit {bit} belongs to both {owner_of_bit[bit]!r} and {f.name!r}"
                    )
                owner_of_bit[bit] = f.name
        for bit, owner in enumerate(owner_of_bit):
            if owner is None:
                raise LayoutError(f"{self.name}: bit {bit} belongs to no field")
        for f in self.fields:
            if f.alias_of is None:
                continue
            target = by_name.get(f.alias_of)
            if target is None or target.alias_of is not None:
                raise LayoutError(f"{self.name}: alias {f.name!r} names no owning field {f.alias_of!r}")
            if f.mask & ~target.mask:
                raise LayoutError(f"{self.name}: alias {f.name!r} reaches outside {target.name!r}")
            if f.inverted != target.inverted:
                raise LayoutError(f"{self.name}: alias {f.name!r} must share {target.name!r}'s inversion")
        object.__setattr__(self, "_by_name", by_name)

    def __getitem__(self, name: str) -> Field:
        return self._by_name[name]

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Field | None:
        return self._by_name.get(name)

    @property
    def owners(self) -> tuple[Field, ...]:
        """The fields that own bits, most significant first (diagram order)."""
        return tuple(sorted((f for f in self.fields if f.alias_of is None), key=lambda f: -f.lsb))

    @property
    def aliases(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.alias_of is not None)

    def field_at(self, bit: int) -> Field:
        for f in self.fields:
            if f.alias_of is None and f.lsb <= bit <= f.msb:
                return f
        raise LayoutError(f"{self.name}: bit {bit} belongs to no field")  # unreachable once built

    def set_flags(self, fields: Iterable[tuple[str, int]]) -> tuple[str, ...]:
        """The one-bit fields among decoded ``fields`` that are set, in layout order."""
        return tuple(name for name, v in fields if v and self._by_name[name].is_flag)

    def decode(self, value: int) -> dict[str, int]:
        return {f.name: f.extract(value) for f in self.fields}

    def encode(self, values: dict[str, int], base: int = 0) -> int:
        """Write ``values`` over ``base``: owners first, then aliases on top.

        Raises KeyError for a name the layout lacks, ValueError naming the field
        when a value does not fit or two given fields disagree about the same bits.
        """
        unknown = sorted(set(values) - set(self._by_name))
        if unknown:
            raise KeyError(unknown[0])
        result = base
        for f in self.fields:
            if f.alias_of is None and f.name in values:
                result = (result & ~f.mask) | f.insert(values[f.name])
        for f in self.aliases:
            if f.name in values:
                result = (result & ~f.mask) | f.insert(values[f.name])
        for name, wanted in values.items():
            got = self._by_name[name].extract(result)
            if got != wanted:
                raise ValueError(
                    f"{name}={wanted:#x} disagrees with another field given (those bits give {got:#x})"
                )
        return result
