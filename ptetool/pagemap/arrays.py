"""The numpy array types of the bulk path, for annotations only: numpy is imported by the bulk functions alone."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    U64 = npt.NDArray[np.uint64]
    I64 = npt.NDArray[np.int64]
    U32 = npt.NDArray[np.uint32]
    U8 = npt.NDArray[np.uint8]
    IP = npt.NDArray[np.intp]
