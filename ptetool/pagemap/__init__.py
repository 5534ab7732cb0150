"""/proc/PID/pagemap: the record layout, decode and classify, and the bulk machinery.

One 64-bit little-endian record per virtual page, written by ``pte_to_pagemap_entry()`` (and its
PMD and hugetlb siblings) in fs/proc/task_mmu.c. A record is either PFN-shaped (bits 0-54 a page
frame number) or, with PM_SWAP, swap-shaped (bits 0-4 the swap type, 5-54 the offset); the swap
type is read with the kernel model's swap-type numbering (:mod:`ptetool.swaptypes`), so a real
swapped page, a PTE marker and a migration entry are told apart.

Two decoders agree bit for bit: :func:`decode_record` (one value, immutable :class:`Entry`) and
:func:`decode_chunk` (numpy, a chunk at a time: class and problem codes per record). Both read the
same :class:`Rules` and problem table, and the chunk decoder's tables are filled by the per-record
classifier itself. The bulk formats (NDJSON, JSON, CSV, summary) never call the per-record decoder
per record: lines are assembled from pieces precomputed per record shape (the slow path's own line
with placeholders), and the summary is counted with numpy. Input is read and keyed a chunk ahead
on a second thread.

The modules, each depending only on those above it:

- :mod:`.layout`: the record's bits and fields, the classes, the packed encodings, :class:`Rules`;
- :mod:`.classify`: the problem table and one record's decode (:class:`Entry`);
- :mod:`.maps`: /proc/PID/maps, --vma and --range, and a live process's state;
- :mod:`.sources`: a dump or a live process as pieces of raw records, and /proc/kpageflags;
- :mod:`.chunks`: the numpy keys and tables, and :class:`Batch`;
- :mod:`.pipeline`: --filter, and source to decoded, filtered batches;
- :mod:`.digits`: numbers as numpy matrices of hex and decimal digits;
- :mod:`.writers`: CSV, NDJSON and JSON lines (and the JSON record of one :class:`Entry`);
- :mod:`.summary`: counts and runs;
- :mod:`.plain`: small reads decoded one record at a time, without numpy.

:mod:`.writers` and :mod:`.plain` load when one of their names is first used (a summary needs neither).

The package is pure: no click, no rich, nothing printed (output goes to a ``sink`` the caller
passes), no process-wide setting changed (the command calls :func:`tune_allocator`). numpy is
imported inside the bulk functions only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ptetool.kernel import Model
from ptetool.pagemap.chunks import (
    KEYS,
    PFN_KEYS,
    Batch,
    Keyed,
    KeyTables,
    decode_chunk,
    key_chunk,
    key_tables,
    run_starts,
)
from ptetool.pagemap.classify import (
    ASSUMED_MASK,
    INVALID_MASK,
    OTHER_MASK,
    PROBLEMS,
    SLOW_MASK,
    ZEROED_MASK,
    ZEROED_NOTE,
    Entry,
    P,
    Problem,
    decode_record,
)
from ptetool.pagemap.digits import dec_lengths, dec_matrix, hex_matrix
from ptetool.pagemap.layout import (
    BIT_FILE,
    BIT_GUARD_REGION,
    BIT_MMAP_EXCLUSIVE,
    BIT_PRESENT,
    BIT_SOFT_DIRTY,
    BIT_SWAP,
    BIT_UFFD_WP,
    CLASS_SHIFT,
    CLASSES,
    CODE,
    CODES,
    FLAG_LSB,
    FLAG_POS,
    FLAGS9_BITS,
    FLAGS9_MASK,
    FLAGS9_VALUES,
    INVALID,
    MIGRATION,
    NONE,
    PAGEMAP,
    PM_PFRAME_BITS,
    PM_PFRAME_MASK,
    PRESENT,
    PTE_MARKER,
    RECORD_BYTES,
    SWAP,
    SWAP_TYPE_MASK,
    TASK_MMU,
    Rules,
    encode_fields,
    pfn_layout,
    rules_for,
    swap_layout,
)
from ptetool.pagemap.maps import (
    ANON,
    ProcState,
    Vma,
    has_cap_sys_admin,
    parse_maps,
    parse_range,
    proc_state,
    read_proc_maps,
    select_vmas,
    why_no_memory,
)
from ptetool.pagemap.pipeline import (
    FLAG_FILTERS,
    Stats,
    batches,
    filter_mask,
    filter_names,
    parse_filters,
    read_ahead,
    tune_allocator,
)
from ptetool.pagemap.session import Opened, Request, open_source
from ptetool.pagemap.sources import (
    CHUNK_RECORDS,
    KPF_MISSING,
    KPF_NAMES,
    SUMMARY_CHUNK_RECORDS,
    Kpageflags,
    PidSource,
    Piece,
    StreamSource,
    kpf_names,
)
from ptetool.pagemap.summary import Counts, Run, Runs, Summary, SummaryBuilder
from ptetool.swaptypes import SwapInfo

if TYPE_CHECKING:
    from ptetool.pagemap.plain import PLAIN_LIMIT, PLAIN_SUMMARY_LIMIT, Record, plain_records, plain_summary
    from ptetool.pagemap.writers import (
        CSV_COLUMNS,
        LineWriter,
        csv_cells,
        csv_header,
        csv_line,
        to_pagemap_record,
    )

# The line writers (json, re) and the plain reader load when first named: a summary needs neither.
_LAZY = {
    **dict.fromkeys(("PLAIN_LIMIT", "PLAIN_SUMMARY_LIMIT", "Record", "plain_records", "plain_summary"),
                    "ptetool.pagemap.plain"),
    **dict.fromkeys(("CSV_COLUMNS", "LineWriter", "csv_cells", "csv_header", "csv_line", "to_pagemap_record"),
                    "ptetool.pagemap.writers"),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


__all__ = [
    "ANON",
    "ASSUMED_MASK",
    "BIT_FILE",
    "BIT_GUARD_REGION",
    "BIT_MMAP_EXCLUSIVE",
    "BIT_PRESENT",
    "BIT_SOFT_DIRTY",
    "BIT_SWAP",
    "BIT_UFFD_WP",
    "CHUNK_RECORDS",
    "CLASSES",
    "CLASS_SHIFT",
    "CODE",
    "CODES",
    "CSV_COLUMNS",
    "FLAGS9_BITS",
    "FLAGS9_MASK",
    "FLAGS9_VALUES",
    "FLAG_FILTERS",
    "FLAG_LSB",
    "FLAG_POS",
    "INVALID",
    "INVALID_MASK",
    "KEYS",
    "KPF_MISSING",
    "KPF_NAMES",
    "MIGRATION",
    "NONE",
    "OTHER_MASK",
    "PAGEMAP",
    "PFN_KEYS",
    "PLAIN_LIMIT",
    "PLAIN_SUMMARY_LIMIT",
    "PM_PFRAME_BITS",
    "PM_PFRAME_MASK",
    "PRESENT",
    "PROBLEMS",
    "PTE_MARKER",
    "RECORD_BYTES",
    "SLOW_MASK",
    "SUMMARY_CHUNK_RECORDS",
    "SWAP",
    "SWAP_TYPE_MASK",
    "TASK_MMU",
    "ZEROED_MASK",
    "ZEROED_NOTE",
    "Batch",
    "Counts",
    "Entry",
    "KeyTables",
    "Keyed",
    "Kpageflags",
    "LineWriter",
    "Model",
    "Opened",
    "P",
    "PidSource",
    "Piece",
    "Problem",
    "ProcState",
    "Record",
    "Request",
    "Rules",
    "Run",
    "Runs",
    "Stats",
    "StreamSource",
    "Summary",
    "SummaryBuilder",
    "SwapInfo",
    "Vma",
    "batches",
    "csv_cells",
    "csv_header",
    "csv_line",
    "dec_lengths",
    "dec_matrix",
    "decode_chunk",
    "decode_record",
    "encode_fields",
    "filter_mask",
    "filter_names",
    "has_cap_sys_admin",
    "hex_matrix",
    "key_chunk",
    "key_tables",
    "kpf_names",
    "open_source",
    "parse_filters",
    "parse_maps",
    "parse_range",
    "pfn_layout",
    "plain_records",
    "plain_summary",
    "proc_state",
    "read_ahead",
    "read_proc_maps",
    "rules_for",
    "run_starts",
    "select_vmas",
    "swap_layout",
    "to_pagemap_record",
    "tune_allocator",
    "why_no_memory",
]
