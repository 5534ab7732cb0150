"""ptetool: bit-exact encoder/decoder for Linux page-table entries.

>>> import ptetool
>>> ptetool.decode(0x4, model=ptetool.Model.for_kernel("6.12")).cls
'uffd_wp_special'

The API (see ptetool.api): decode, encode, Model (Model.for_kernel, Model.running), read_pagemap,
read_pagemap_batches, classify_pagemap, scan_log; their results Decoded, PageRecord and Finding.
The names load on first use, so `ptetool decode` at a shell pays only for what it runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:  # the names as mypy and editors see them; at run time __getattr__ loads them
    from ptetool.api import PageRecord as PageRecord
    from ptetool.api import PtetoolWarning as PtetoolWarning
    from ptetool.api import classify_pagemap as classify_pagemap
    from ptetool.api import decode as decode
    from ptetool.api import encode as encode
    from ptetool.api import read_pagemap as read_pagemap
    from ptetool.api import read_pagemap_batches as read_pagemap_batches
    from ptetool.api import scan_log as scan_log
    from ptetool.decoder import Decoded as Decoded
    from ptetool.errors import PtetoolError as PtetoolError
    from ptetool.errors import UsageError as UsageError
    from ptetool.errors import WorkError as WorkError
    from ptetool.kernel import Model as Model
    from ptetool.scan.scanner import Finding as Finding

_EXPORTS = {
    "decode": "ptetool.api", "encode": "ptetool.api", "read_pagemap": "ptetool.api",
    "read_pagemap_batches": "ptetool.api", "classify_pagemap": "ptetool.api", "scan_log": "ptetool.api",
    "PageRecord": "ptetool.api", "PtetoolWarning": "ptetool.api", "Decoded": "ptetool.decoder",
    "Model": "ptetool.kernel", "Finding": "ptetool.scan.scanner", "PtetoolError": "ptetool.errors",
    "UsageError": "ptetool.errors", "WorkError": "ptetool.errors",
}
__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str) -> Any:
    """Load an API name on first use (PEP 562)."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ptetool' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
