"""The Python API: decode and encode entries, kernel models, pagemap dumps and kernel logs.

Everything the commands do, without click or a terminal; ``ptetool`` re-exports these names.
The model defaults to the running kernel's, as the commands' does; pass one to read a value
as another kernel would.

>>> import ptetool
>>> m = ptetool.Model.for_kernel("6.13")
>>> d = ptetool.decode(0xFFFFFFFFFFFFFC00, model=m)
>>> d.cls, d.marker, d.swap.type_name
('pte_marker', ('uffd_wp',), 'pte_marker')
>>> hex(ptetool.encode("pte_marker", {"marker_guard": 1}, model=m))
'0xfffffffffffff600'
>>> ptetool.decode("pmd:1f3b4067", model=m).level
'pmd'
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import IO, TYPE_CHECKING, Any, BinaryIO, cast

from ptetool.decoder import Decoded
from ptetool.kernel import Model

if TYPE_CHECKING:
    import numpy as np

    from ptetool.pagemap import Batch, Entry
    from ptetool.scan.scanner import Finding


class PtetoolWarning(UserWarning):
    """Something the commands say on stderr: a built value reads as another class, say."""


@lru_cache(maxsize=1)
def _running() -> Model:
    return Model.running()


def decode(value: int | str, *, arch: str = "x86_64", level: str = "pte", model: Model | None = None) -> Decoded:
    """Decode one raw entry: an int, or text as the kernel prints it ("8000000123456067", "pte:400000000000000").

    A ``pmd:``/``pud:``/... prefix sets the level. Never raises for a 64-bit value; a value over
    64 bits or text that is no number raises ptetool.errors.UsageError.
    """
    from ptetool.decoder import decode as decode_value
    from ptetool.values import parse_value, split_level

    if isinstance(value, str):
        named, text = split_level(value)
        level, value = named or level, parse_value(text)
    return decode_value(value, arch, level, model or _running())


def encode(cls: str, fields: Mapping[str, int] | None = None, *, arch: str = "x86_64", level: str = "pte",
           model: Model | None = None) -> int:
    """The raw entry of class ``cls`` with ``fields`` set (the rest 0, but what the class needs).

    Warns (PtetoolWarning) where the value reads back as another class, as `ptetool encode` does.
    """
    from ptetool.encoder import encode as encode_value

    result = encode_value(cls, dict(fields or {}), arch, level, model or _running())
    for text in result.warnings:
        warnings.warn(text, PtetoolWarning, stacklevel=2)
    return result.value


# --- /proc/PID/pagemap ------------------------------------------------------------------------------

@dataclass(frozen=True)
class PageRecord:
    """One pagemap record: where it is and what it decodes to."""

    index: int
    vaddr: int
    entry: Entry

    @property
    def cls(self) -> str:
        return self.entry.cls

    def to_json(self) -> dict[str, Any]:
        """The record `ptetool pagemap --format ndjson` prints for it (without mappings)."""
        from ptetool.pagemap import to_pagemap_record

        return dict(to_pagemap_record(self.entry, self.index, self.vaddr, None, False))


PagemapSource = str | os.PathLike[str] | bytes | IO[bytes]


def read_pagemap_batches(source: PagemapSource, *, vaddr: int = 0, model: Model | None = None,
                         page_size: int = 4096, zeroed: bool = True) -> Iterator[Batch]:
    """Decoded records of a pagemap dump (a path, bytes or a binary file), a numpy-backed batch at a time:
    ``batch.raw``, ``batch.index``, ``batch.vaddrs()``, ``batch.cls`` (codes into ptetool.pagemap.CLASSES).

    ``zeroed``: read a record with bits 0-54 all 0 as hidden by a reader without CAP_SYS_ADMIN.
    """
    import io

    from ptetool import pagemap as pm

    rules = pm.rules_for(model or _running())
    stream: BinaryIO
    if isinstance(source, bytes):
        stream = io.BytesIO(source)
        name = "bytes"
    elif isinstance(source, (str, os.PathLike)):
        stream, name = open(source, "rb"), os.fspath(source)  # noqa: SIM115 - closed below
    else:
        stream, name = cast(BinaryIO, source), str(getattr(source, "name", "stream"))
    try:
        yield from pm.batches(pm.StreamSource(stream, name, vaddr, page_size, None, None), rules, zeroed)
    finally:
        if stream is not source:
            stream.close()


def read_pagemap(source: PagemapSource, *, vaddr: int = 0, model: Model | None = None, page_size: int = 4096,
                 zeroed: bool = True) -> Iterator[PageRecord]:
    """Each record of a pagemap dump, decoded: ``record.cls``, ``record.entry``, ``record.to_json()``.

    >>> import ptetool, struct
    >>> m = ptetool.Model.for_kernel("6.12")
    >>> dump = struct.pack("<2Q", 0x8100000000001234, 0x420000000000003F)
    >>> [(hex(r.vaddr), r.cls, r.entry.marker) for r in ptetool.read_pagemap(dump, vaddr=0x7F0000000000, model=m)]
    [('0x7f0000000000', 'present', None), ('0x7f0000001000', 'pte_marker', ('uffd_wp',))]
    """
    from ptetool import pagemap as pm

    rules = pm.rules_for(model or _running())
    for batch in read_pagemap_batches(source, vaddr=vaddr, model=model, page_size=page_size, zeroed=zeroed):
        for raw, index, where in zip(batch.raw.tolist(), batch.index.tolist(), batch.vaddrs().tolist(), strict=True):
            yield PageRecord(index, where, pm.decode_record(raw, rules, zeroed))


def classify_pagemap(raw: np.ndarray[Any, Any] | Iterable[int], *, model: Model | None = None,
                     zeroed: bool = True) -> np.ndarray[Any, Any]:
    """The class code of every record of a uint64 array at once (names: ptetool.pagemap.CLASSES)."""
    import numpy as np

    from ptetool import pagemap as pm

    values = np.asarray(raw if isinstance(raw, np.ndarray) else list(raw), dtype=np.uint64)
    _flags, cls, _problems = pm.decode_chunk(values, pm.rules_for(model or _running()), zeroed)
    return cls


# --- kernel logs ------------------------------------------------------------------------------------

LogSource = str | bytes | os.PathLike[str] | IO[bytes] | IO[str] | Iterable[str] | Iterable[bytes]


def scan_log(source: LogSource, *, kernel: str | None = None, kconfig: str | None = None, arch: str | None = None,
             l1tf: bool | None = None) -> Iterator[Finding]:
    """Every page-table value in kernel log text: a str or bytes of text, a path (os.PathLike), an open
    file or any iterable of lines. Each finding has ``.decoded`` (or ``.why_not``) and ``.to_json()``.

    >>> import ptetool
    >>> log = "swap_info_get: Bad swap offset entry 1ffffffffffff\\n" \\
    ...       "BUG: Bad page map in process gdbus  pte:400000000000000 pmd:a9ed2067\\n" \\
    ...       "CPU: 2 PID: 21057 Comm: gdbus Tainted: G    B      OE     4.18.8-200.fc28.x86_64 #1\\n"
    >>> [(f.name, f.decoded.cls, f.decoded.model.swap_l1tf) for f in ptetool.scan_log(log)]
    [('swp_entry', 'swap', True), ('pte', 'swap', True), ('pmd', 'present', True)]
    """
    from ptetool.scan import Options, read_lines
    from ptetool.scan import scan_log as scan

    lines: Iterable[str] | Iterable[bytes]
    if isinstance(source, (str, bytes)):
        lines = source.splitlines()
    elif isinstance(source, os.PathLike):
        lines = read_lines(os.fspath(source))
    else:
        lines = source
    yield from scan(lines, Options(kernel=kernel, kconfig=kconfig, arch=arch, l1tf=l1tf))
