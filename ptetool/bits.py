"""The one place that maps kernel bit numbers to bitstring's MSB-first indices.

bitstring 5 counts from the most significant bit: kernel bit n of a 64-bit
entry is index 63 - n. Everything else in ptetool speaks kernel bit numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ptetool.layout import ENTRY_BITS

if TYPE_CHECKING:
    from bitstring import Bits


def bit_view(value: int) -> Bits:
    """The 64-bit entry as an immutable bitstring (imported lazily: it is slow to load)."""
    from bitstring import Bits

    return Bits(uint=value, length=ENTRY_BITS)


def index_of(kernel_bit: int) -> int:
    return ENTRY_BITS - 1 - kernel_bit


def bits_of(view: Bits, msb: int, lsb: int) -> str:
    """Kernel bits msb..lsb (inclusive, msb >= lsb) as a '0'/'1' string, most significant first."""
    return str(view[index_of(msb) : index_of(lsb) + 1].bin)
