"""Numbers as text with numpy: a matrix of hex or decimal digits, a row per value.

The bulk writers and the summary's runs list lay out lines from these.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ptetool.pagemap.arrays import U8, U64

HEX_WIDTH = 18  # "0x" and 16 digits
DEC_WIDTH = 20  # 2**64 - 1 has 20 digits


def hex_matrix(values: U64) -> U8:
    """'0x' and 16 lowercase hex digits per value: (n, 18) bytes."""
    import numpy as np

    n = len(values)
    out = np.empty((n, HEX_WIDTH), dtype=np.uint8)
    out[:, 0], out[:, 1] = ord("0"), ord("x")
    octets = values.astype(">u8").view(np.uint8).astype(np.uint16).reshape(n, 8)
    digits = (octets >> 4 | (octets & 15) << 8).view(np.uint8).reshape(n, 16)  # high nibble first
    digits += ord("0")
    digits += (digits > ord("9")) * np.uint8(ord("a") - ord("9") - 1)
    out[:, 2:] = digits
    return out


@lru_cache(maxsize=1)
def _dec4() -> Any:
    """'0000' to '9999' as one uint32 each."""
    import numpy as np

    return np.frombuffer(b"".join(b"%04d" % i for i in range(10000)), dtype=np.uint32)


@lru_cache(maxsize=1)
def _pow10() -> Any:
    import numpy as np

    return np.array([10**k for k in range(1, DEC_WIDTH)], dtype=np.uint64)


def dec_lengths(values: U64) -> Any:
    """How many decimal digits each value has (uint8)."""
    import numpy as np

    lengths = np.ones(len(values), dtype=np.uint8)
    if len(values):
        top = len(str(int(values.max())))
        for power in _pow10()[: top - 1]:
            lengths += values >= power
    return lengths


def dec_matrix(values: U64, longest: int) -> U8:
    """Right-aligned decimal digits, (n, 20) bytes (only the last ``longest`` columns are filled)."""
    import numpy as np

    n = len(values)
    out = np.empty((n, DEC_WIDTH // 4), dtype=np.uint32)
    rest = values.copy()
    table = _dec4()
    for g in range(-(-longest // 4)):
        quotient = rest // np.uint64(10000)
        np.take(table, (rest - quotient * np.uint64(10000)).astype(np.intp), out=out[:, DEC_WIDTH // 4 - 1 - g])
        rest = quotient
    return out.view(np.uint8)
