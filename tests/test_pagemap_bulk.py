"""The bulk paths agree with the per-record decoder: numpy chunks, NDJSON/JSON/CSV lines, summary, runs."""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import replace
from typing import Any
from unittest.mock import patch

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ptetool import pagemap as pm
from ptetool.kernel import Model
from ptetool.pagemap import chunks
from ptetool.render import pagemap_views as views
from tests.models import ERA_VERSIONS, OPTION_SETS, model

U64 = st.integers(min_value=0, max_value=(1 << 64) - 1)
FRAME = st.one_of(
    st.just(0), st.integers(1, 31), st.integers(0, (1 << 55) - 1), st.integers(0, (1 << 40) - 1),
    st.builds(lambda t, off: t | off << 5, st.integers(0, 31), st.integers(0, 7)),
    st.builds(lambda t, off: t | off << 5, st.integers(0, 31), st.integers(0, (1 << 36) - 1)),
)
# Mostly the shapes the kernel writes (flag bits over a frame), some noise.
RECORD = st.one_of(U64, st.builds(lambda f9, frame: f9 << 55 | frame, st.integers(0, 511), FRAME))
MODELS = st.builds(model, st.sampled_from(ERA_VERSIONS), st.sampled_from(OPTION_SETS), st.booleans())
SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@settings(max_examples=2000, deadline=None)
@given(value=U64, m=MODELS, zeroed_rule=st.booleans())
def test_decode_then_encode_fields_gives_every_value_back(value: int, m: Model, zeroed_rule: bool) -> None:
    e = pm.decode_record(value, pm.rules_for(m), zeroed_rule)
    assert pm.encode_fields(e.field_values, m) == value


def scalar(values: list[int], rules: pm.Rules, zeroed_rule: bool) -> tuple[list[int], list[int], list[int]]:
    entries = [pm.decode_record(v, rules, zeroed_rule) for v in values]
    return [v >> 55 for v in values], [pm.CODE[e.cls] for e in entries], [e.pmask for e in entries]


@settings(SETTINGS, max_examples=300)
@given(values=st.lists(RECORD, min_size=1, max_size=300), m=MODELS, arch=st.sampled_from(["x86_64", "generic"]),
       zeroed_rule=st.booleans())
def test_numpy_chunks_equal_the_per_record_decoder(values: list[int], m: Model, arch: str, zeroed_rule: bool) -> None:
    rules = pm.rules_for(m, arch)
    flags9, cls, pmask = pm.decode_chunk(np.array(values, dtype=np.uint64), rules, zeroed_rule)
    assert (flags9.tolist(), cls.tolist(), pmask.tolist()) == scalar(values, rules, zeroed_rule)


@settings(SETTINGS, max_examples=200)
@given(runs=st.lists(st.tuples(RECORD, st.integers(1, 40)), min_size=1, max_size=12), m=MODELS,
       zeroed_rule=st.booleans())
def test_numpy_chunks_of_runs_equal_the_per_record_decoder(runs: list[tuple[int, int]], m: Model,
                                                           zeroed_rule: bool) -> None:
    """Runs of one swap entry are decoded once per run (key_chunk's shortcut): same answers."""
    rules = pm.rules_for(m)
    values = [v for v, k in runs for _ in range(k)]
    flags9, cls, pmask = pm.decode_chunk(np.array(values, dtype=np.uint64), rules, zeroed_rule)
    assert (flags9.tolist(), cls.tolist(), pmask.tolist()) == scalar(values, rules, zeroed_rule)


# Progressions that start at or step across every edge the keys have: frame 0, the frame limits of
# the modelled physical widths, the 2^55 flag boundary, 2^64; steps that keep or change the swap type.
EDGES = st.sampled_from([0, 1, 31, 32, (1 << 34) - 2, (1 << 40) - 2, (1 << 46) - 2, (1 << 55) - 3, (1 << 64) - 3])
STEPS = st.one_of(st.sampled_from([0, 0, 1, 32, 64, 1 << 5 << 20, 1 << 40, 1 << 55, 1 << 62, 1 << 63]),
                  st.integers(1, 1 << 12), U64).flatmap(lambda step: st.sampled_from([step, -step]))
PROGRESSION = st.tuples(st.one_of(RECORD, st.builds(lambda f9, edge: (f9 << 55) + edge, st.integers(0, 511), EDGES)),
                        STEPS, st.integers(1, 40))


@settings(SETTINGS, max_examples=400)
@given(progressions=st.lists(PROGRESSION, min_size=1, max_size=10), m=MODELS, zeroed_rule=st.booleans())
def test_numpy_chunks_keyed_by_progressions_equal_the_per_record_decoder(
        progressions: list[tuple[int, int, int]], m: Model, zeroed_rule: bool) -> None:
    """key_chunk takes a progression's key from its ends: the same answers as record by record,
    and the same runs from its heads as from every record."""
    rules = pm.rules_for(m)
    values = [(start + step * i) % (1 << 64) for start, step, length in progressions for i in range(length)]
    raw = np.array(values, dtype=np.uint64)
    # every chunk by progressions, however many it has (the shortcut itself, not its fallback)
    with patch.object(chunks, "PROGRESSIONS_FROM", 0), patch.object(chunks, "_RECORDS_PER_HEAD", 0):
        flags9, cls, pmask = pm.decode_chunk(raw, rules, zeroed_rule)
        keyed = pm.key_chunk(raw, rules, zeroed_rule)
    assert keyed.heads is not None or len(values) < 2
    assert (flags9.tolist(), cls.tolist(), pmask.tolist()) == scalar(values, rules, zeroed_rule)
    index = np.arange(len(values), dtype=np.int64)
    gapped = index + (index >= len(values) // 2)
    vma = (index >= len(values) // 3).astype(np.int32)
    for idx, v in ((index, None), (gapped, None), (index, vma)):
        assert pm.run_starts(keyed.key, idx, v, keyed.heads).tolist() == pm.run_starts(keyed.key, idx, v).tolist()


def by_progressions(values: list[int], m: Model) -> None:
    """decode_chunk of ``values`` by progressions (however many) equals the per-record decoder."""
    rules = pm.rules_for(m)
    with patch.object(chunks, "PROGRESSIONS_FROM", 0), patch.object(chunks, "_RECORDS_PER_HEAD", 0):
        keyed = pm.key_chunk(np.array(values, dtype=np.uint64), rules, True)
        flags9, cls, pmask = pm.decode_chunk(np.array(values, dtype=np.uint64), rules, True)
    assert keyed.heads is not None
    assert (flags9.tolist(), cls.tolist(), pmask.tolist()) == scalar(values, rules, True)


def test_a_progression_of_markers_is_keyed_record_by_record() -> None:
    """Offsets 1, 2, 3 of a uffd-wp-flagged marker: the ends are valid (uffd_wp; uffd_wp|poisoned), the
    middle (poisoned alone) is not. A marker's offset is flags, not a number."""
    m = model((6, 18))
    marker = pm.SWAP_TYPE_MASK  # 31: the marker type of this model
    assert pm.rules_for(m).type_codes[marker] == pm.CODE["pte_marker"]
    block = [1 << 62 | 1 << 57 | offset << 5 | marker for offset in (1, 2, 3)] + [0] * 30
    by_progressions(block * 40, m)


def test_a_progression_that_passes_2_to_the_64_is_keyed_record_by_record() -> None:
    """1,024 records, step 2^54 - 1: the last lands in the first's flag block, the others do not."""
    step, first = (1 << 54) - 1, 1 << 63 | ((1 << 55) - 1)
    values = [(first + step * i) % (1 << 64) for i in range(1024)]
    assert values[0] >> 55 == values[-1] >> 55 and len({v >> 55 for v in values}) > 1
    by_progressions(values, model((6, 18)))


def test_the_pipeline_runs_from_progression_heads(tmp_path: Any) -> None:
    """A dump of one consecutive stretch, no mappings: run starts come from the heads alone."""
    rules = pm.rules_for(model((6, 18), OPTION_SETS[-1]))
    present, swap = 1 << 63 | 1 << 61, 1 << 62 | 1
    values = ([present | 0x1000 + i for i in range(3000)] + [0] * 2000 + [swap | (7 + i) << 5 for i in range(1500)]
              + [present | 5] * 700 + [1 << 62 | 1 << 58 | 31 | 4 << 5] * 900)
    source = pm.StreamSource(io.BytesIO(np.array(values, dtype="<u8").tobytes()), "dump", 0x7F00_0000_0000, 4096,
                             None, None)
    got: list[pm.Run] = []
    builder = pm.SummaryBuilder(4096, lambda runs: got.extend(runs))
    for batch in pm.batches(source, rules, False):
        assert batch._starts is not None and batch.vma is None
        builder.feed(batch)
    builder.finish()
    expect = naive_runs(values, list(range(len(values))), [-1] * len(values), rules, False)
    assert [(r.start // 4096 - 0x7F00_0000_0000 // 4096, r.pages, r.cls, r.flags9, r.vma_id) for r in got] == expect
    assert len(expect) == 5


def test_a_chunk_of_long_progressions_is_keyed_by_their_ends() -> None:
    """Consecutive frames, a none range and a swapped range: a head per progression, not per record."""
    rules = pm.rules_for(model((6, 18), OPTION_SETS[-1]))
    present, swap = 1 << 63 | 1 << 61, 1 << 62 | 1
    values = ([present | 0x1000 + i for i in range(3000)] + [0] * 3000 + [swap | (7 + i) << 5 for i in range(3000)]
              + [1 << 62 | 1 << 58 | 31 | 4 << 5] * 3000)  # a guard region (a marker)
    raw = np.array(values, dtype=np.uint64)
    keyed = pm.key_chunk(raw, rules, False)
    assert keyed.heads is not None and keyed.heads.tolist() == [0, 3000, 3001, 6000, 6001, 9000, 9001]
    assert [pm.CLASSES[c] for c in pm.decode_chunk(raw, rules, False)[1][[0, 2999, 3000, 6000, 8999, 9000]]] == [
        "present", "present", "none", "swap", "swap", "pte_marker"]


def test_numpy_chunks_on_every_flag_combination() -> None:
    frames = [0, 1, 5, 31, 31 | 1 << 5, 31 | 4 << 5, 31 | 8 << 5, 24 | 7 << 5, 3, 3 | 1 << 37, 1 << 34, 1 << 40]
    values = [f9 << 55 | frame for f9 in range(512) for frame in frames]
    for version in ((4, 0), (5, 19), (6, 1), (6, 13), (6, 18)):
        for enabled in (OPTION_SETS[0], OPTION_SETS[-1]):
            rules = pm.rules_for(model(version, enabled))
            for zeroed_rule in (False, True):
                flags9, cls, pmask = pm.decode_chunk(np.array(values, dtype=np.uint64), rules, zeroed_rule)
                assert (flags9.tolist(), cls.tolist(), pmask.tolist()) == scalar(values, rules, zeroed_rule)


# --- lines ------------------------------------------------------------------------------------------

VMAS = pm.parse_maps("7f0000000000-7f0000010000 rw-p 00000000 00:00 0\n"
                     "7f0000010000-7f0000020000 r--s 00000000 00:05 3  /memfd:a,b \"q\" (deleted)\n")


def batch_of(values: list[int], rules: pm.Rules, zeroed_rule: bool, vma: list[int] | None = None,
             kpf: list[int] | None = None, first: int = 7) -> pm.Batch:
    raw = np.array(values, dtype=np.uint64)
    keyed = pm.key_chunk(raw, rules, zeroed_rule)
    index = np.arange(first, first + len(values), dtype=np.int64)
    vmas = np.array(vma, dtype=np.int32) if vma is not None else None
    batch = pm.Batch(raw, index, vmas, keyed.key, keyed.swap_idx, keyed.swap_pm, 4096, 0x7F00_0000_0000,
                     pm.key_tables(rules, zeroed_rule))
    if kpf is not None:
        batch.kpf = np.array(kpf, dtype=np.uint64)
    return batch


def bulk(fmt: str, batches: list[pm.Batch], rules: pm.Rules, zeroed_rule: bool, labelled: bool,
         with_kpf: bool = False) -> str:
    out: list[bytes] = []
    totals: list[int] = []

    def sink(pieces: list[bytes], sizes: list[int] | None) -> None:
        out.extend(pieces)
        if sizes is not None:
            assert sizes == [sum(map(len, pieces[i: i + 1020])) for i in range(0, len(pieces), 1020)]
            totals.extend(sizes)

    writer = pm.LineWriter(fmt, rules, VMAS if labelled else None, labelled, zeroed_rule, sink, with_kpf)
    writer.start()
    for b in batches:
        writer.feed(b)
    writer.finish()
    return b"".join(out).decode()


def slow(fmt: str, batches: list[pm.Batch], rules: pm.Rules, zeroed_rule: bool, labelled: bool,
         with_kpf: bool = False) -> str:
    writer = pm.LineWriter(fmt, rules, VMAS if labelled else None, labelled, zeroed_rule, lambda p, s: None, with_kpf)
    lines = []
    for b in batches:
        for r, (value, index) in enumerate(zip(b.raw.tolist(), b.index.tolist(), strict=True)):
            entry = pm.decode_record(value, rules, zeroed_rule)
            kpf = int(b.kpf[r]) if b.kpf is not None else None
            lines.append(writer.line(entry, index, 0x7F00_0000_0000 + index * 4096, b.vma_at(r), kpf,
                                     full_model=not lines and fmt != "csv"))  # the first states the model
    if fmt == "csv":
        return pm.csv_header(with_kpf) + "".join(lines)
    if fmt == "json":
        return "[" + ",\n".join(lines) + ("\n]\n" if lines else "]\n")
    return "".join(lines)


@SETTINGS
@given(values=st.lists(RECORD, min_size=1, max_size=120), m=MODELS, zeroed_rule=st.booleans(),
       fmt=st.sampled_from(["ndjson", "json", "csv"]), labelled=st.booleans(), data=st.data())
def test_bulk_lines_equal_the_slow_path(values: list[int], m: Model, zeroed_rule: bool, fmt: str, labelled: bool,
                                        data: Any) -> None:
    rules = pm.rules_for(m)
    n = len(values)
    vma = data.draw(st.lists(st.integers(-1, 1), min_size=n, max_size=n)) if labelled else None
    with_kpf = data.draw(st.booleans())
    kpf = data.draw(st.lists(st.sampled_from([pm.KPF_MISSING, 0, 1 << 12 | 1 << 5, 1 << 24, 1 << 50]),
                             min_size=n, max_size=n)) if with_kpf else None
    cut = data.draw(st.integers(0, n))
    batches = [batch_of(values[:cut], rules, zeroed_rule, vma and vma[:cut], kpf and kpf[:cut]),
               batch_of(values[cut:], rules, zeroed_rule, vma and vma[cut:], kpf and kpf[cut:], first=7 + cut)]
    batches = [b for b in batches if len(b)]
    fast = bulk(fmt, batches, rules, zeroed_rule, labelled, with_kpf)
    assert fast == slow(fmt, batches, rules, zeroed_rule, labelled, with_kpf)


@SETTINGS
@given(runs=st.lists(st.tuples(RECORD, st.integers(1, 60)), min_size=1, max_size=8), m=MODELS,
       zeroed_rule=st.booleans(), fmt=st.sampled_from(["ndjson", "json", "csv"]), labelled=st.booleans(),
       first=st.sampled_from([0, 7, 9_990, 99_999_950]))
def test_long_stretches_laid_out_as_blocks_equal_the_slow_path(
        runs: list[tuple[int, int]], m: Model, zeroed_rule: bool, fmt: str, labelled: bool, first: int) -> None:
    """Runs of one record shape take the block path (index lengths change inside some of them)."""
    rules = pm.rules_for(m)
    values = [v for v, k in runs for _ in range(k)]
    vma = [i % 2 for i, (_, k) in enumerate(runs) for _ in range(k)] if labelled else None
    batches = [batch_of(values, rules, zeroed_rule, vma, first=first)]
    taken: list[int] = []
    original = pm.LineWriter._feed_stretches

    def spy(self: pm.LineWriter, batch: pm.Batch, *args: Any) -> None:
        taken.append(len(batch))
        original(self, batch, *args)

    with patch.object(pm.LineWriter, "_feed_stretches", spy):
        fast = bulk(fmt, batches, rules, zeroed_rule, labelled)
    assert fast == slow(fmt, batches, rules, zeroed_rule, labelled)
    if len(values) >= 64 and len(runs) <= 2:
        assert taken  # long runs went through the block path


def test_lines_are_valid_json_and_csv() -> None:
    rules = pm.rules_for(model((6, 18)))
    values = [0, 0x8100_0000_001A_D106, 0x4400_0000_0000_009F, 0x4200_0000_0000_003F, 1 << 63 | 1 << 62 | 1,
              1 << 63 | 1 << 59 | 9]
    batches = [batch_of(values, rules, True, [0, 0, 1, 1, -1, 1])]
    records = json.loads(bulk("json", batches, rules, True, True))
    assert [r["class"] for r in records] == ["none", "present", "pte_marker", "pte_marker", "invalid", "invalid"]
    assert records[2]["vma"]["name"] == '/memfd:a,b "q" (deleted)' and records[4]["vma"] is None
    assert records[1]["vaddr"] == "0x00007f0000008000" and records[1]["index"] == 8
    for line, record in zip(bulk("ndjson", batches, rules, True, True).splitlines(), records, strict=True):
        assert json.loads(line) == record
    rows = list(csv.DictReader(io.StringIO(bulk("csv", batches, rules, True, True))))
    assert [r["class"] for r in rows] == [r["class"] for r in records]
    assert rows[1]["pfn"] == str(0x1AD106) and rows[2]["marker"] == "guard"
    assert rows[2]["vma_name"].endswith("(deleted)")
    assert json.loads(bulk("json", [], rules, True, True)) == []


def test_a_filtered_batch_keeps_its_swap_records() -> None:
    rules = pm.rules_for(model((6, 18)))
    values = [0, 0x4400_0000_0000_009F, 1 << 63 | 5, 0x4200_0000_0000_003F, 0x4000_0000_0000_0141]
    b = batch_of(values, rules, False)
    kept = b.take(np.flatnonzero(pm.filter_mask(b.flags9, b.cls, b.pm, pm.parse_filters(["pte_marker,swap"]))))
    assert kept.raw.tolist() == [values[1], values[3], values[4]] and kept.index.tolist() == [8, 10, 11]
    assert kept.cls.tolist() == [pm.PTE_MARKER, pm.PTE_MARKER, pm.SWAP]
    assert bulk("ndjson", [kept], rules, False, False) == slow("ndjson", [kept], rules, False, False)


def test_filters_match_the_per_record_test() -> None:
    rules = pm.rules_for(model((6, 18)))
    values = [0, 1 << 55, 0x4400_0000_0000_009F, 1 << 63 | 1 << 57 | 5, 0x4200_0000_0000_003F, 1 << 63, 7]
    b = batch_of(values, rules, True)
    for option in (["uffd_wp,pte_marker"], ["pte_marker", "uffd_wp"], ["zeroed"], ["problems"], ["none,invalid"],
                   ["soft_dirty"], ["present", "uffd_wp"]):
        groups = pm.parse_filters(option)
        fast = pm.filter_mask(b.flags9, b.cls, b.pm, groups).tolist()
        assert fast == [entry_matches(pm.decode_record(v, rules, True), groups) for v in values], option


def entry_matches(entry: pm.Entry, groups: tuple[frozenset[str], ...]) -> bool:
    """--filter the obvious way, one decoded record at a time: the oracle for filter_mask."""
    def hit(name: str) -> bool:
        if name in pm.CODE:
            return entry.cls == name
        if name in pm.FLAG_FILTERS:
            return bool(entry.value >> (pm.FLAG_LSB + pm.FLAG_FILTERS[name]) & 1)
        return entry.zeroed if name == "zeroed" else bool(entry.pmask & pm.OTHER_MASK)

    return all(any(hit(name) for name in names) for names in groups)


# --- summary and runs -------------------------------------------------------------------------------

def naive_runs(values: list[int], index: list[int], vma: list[int], rules: pm.Rules,
               zeroed_rule: bool) -> list[tuple[int, int, str, int, int]]:
    """(first index, pages, class, flags, vma) the obvious way."""
    runs: list[list[Any]] = []
    for v, i, m in zip(values, index, vma, strict=True):
        e = pm.decode_record(v, rules, zeroed_rule)
        key = (e.cls, v >> 55, m)
        if runs and runs[-1][2:] == list(key) and runs[-1][0] + runs[-1][1] == i:
            runs[-1][1] += 1
        else:
            runs.append([i, 1, *key])
    return [(a, b, c, d, e) for a, b, c, d, e in runs]


@SETTINGS
@given(values=st.lists(st.one_of(st.sampled_from([0, 1 << 55, 1 << 63 | 5, 1 << 63 | 6, 1 << 63,
                                                  0x4400_0000_0000_009F, 0x4000_0000_0000_0141, 0x4000_0000_0000_0121,
                                                  1 << 63 | 1 << 62, 3, 1 << 62, 1 << 62 | 1 << 61]), RECORD),
                       min_size=1, max_size=200),
       data=st.data(), zeroed_rule=st.booleans())
def test_summary_counts_and_runs(values: list[int], data: Any, zeroed_rule: bool) -> None:
    rules = pm.rules_for(model((6, 18)))
    n = len(values)
    vma = data.draw(st.lists(st.integers(-1, 2), min_size=n, max_size=n))
    gaps = data.draw(st.lists(st.integers(1, 2), min_size=n, max_size=n))
    index = np.cumsum(gaps).tolist()
    cuts = sorted(set(data.draw(st.lists(st.integers(0, n), max_size=3))) | {0, n})
    got: list[pm.Run] = []
    builder = pm.SummaryBuilder(4096, lambda runs: got.extend(runs))
    for a, b in itertools.pairwise(cuts):
        if a == b:
            continue
        batch = batch_of(values[a:b], rules, zeroed_rule, vma[a:b])
        batch.index = np.array(index[a:b], dtype=np.int64)
        builder.feed(batch)
    summary = builder.finish()
    expect = naive_runs(values, index, vma, rules, zeroed_rule)
    assert [(r.start // 4096 - 0x7F00_0000_0000 // 4096, r.pages, r.cls, r.flags9, r.vma_id) for r in got] == expect
    assert summary.runs == len(expect)
    entries = [pm.decode_record(v, rules, zeroed_rule) for v in values]
    for v in set(vma):
        counts = dict(summary.per_vma)[v]
        mine = [e for e, m in zip(entries, vma, strict=True) if m == v]
        assert counts.pages == len(mine)
        assert counts.classes == [sum(e.cls == c for e in mine) for c in pm.CLASSES]
        assert counts.flags == [sum(e.value >> (55 + b) & 1 for e in mine) for b in range(9)]
        assert counts.zeroed == sum(e.zeroed for e in mine)
        assert counts.problems == sum(bool(e.pmask & ~pm.ZEROED_MASK) for e in mine)
    assert summary.total.pages == n
    # a small --pid read counts the same one record at a time, without numpy
    records = [pm.Record(i, 0x7F00_0000_0000 + i * 4096, v, m, e)
               for i, v, m, e in zip(index, values, vma, entries, strict=True)]
    assert pm.plain_summary(records, True) == (summary, got)
    assert pm.plain_summary(records, False)[0] == replace(summary, runs=0)


@SETTINGS
@given(rows=st.lists(st.tuples(st.integers(0, (1 << 47) - 1), st.integers(1, 10**10),
                               st.integers(0, len(pm.CLASSES) * 512 - 1), RECORD, st.integers(-1, 1)),
                     min_size=1, max_size=60),
       zeroed_rule=st.booleans(), labelled=st.booleans())
def test_run_lines_equal_the_slow_layout(rows: list[tuple[int, int, int, int, int]], zeroed_rule: bool,
                                         labelled: bool) -> None:
    rules = pm.rules_for(model((6, 18)))
    # A run's code is what its first record decodes to: its class and its flag bits 55-63.
    rows = [(start, pages, pm.CODE[pm.decode_record(first, rules, zeroed_rule).cls] << 9 | first >> pm.FLAG_LSB,
             first, vma) for start, pages, _code, first, vma in rows]
    runs = pm.Runs(*(np.array(col, dtype=t) for col, t in zip(
        zip(*rows, strict=True), (np.uint64, np.int64, np.intp, np.uint64, np.int32), strict=True)))
    formatter = views.RunFormatter(rules, zeroed_rule, VMAS if labelled else None, 4096)
    width = max(9, len(str(int(runs.pages.max()))))
    first = formatter.lines(runs)
    assert first.decode().splitlines() == [formatter.line(r, width) for r in runs]
    assert formatter.lines(runs) == first  # its codes laid out now, as for a dump's later blocks


@pytest.mark.parametrize("fmt", ["ndjson", "json", "csv"])
def test_a_batch_larger_than_a_slice_is_laid_out_in_slices_alike(fmt: str) -> None:
    rules = pm.rules_for(model((6, 18)))
    pattern = [0x8100_0000_0000_1234, 0, 0x4200_0000_0000_003F, 0x4400_0000_0000_009F, 1 << 62 | 0x141, 1 << 55]
    values = [pattern[i * 7 % len(pattern)] + (i if i % len(pattern) == 0 else 0) for i in range(2 * 8192 + 5)]
    b = batch_of(values, rules, True)
    assert len(b) > pm.LineWriter.SLICE
    assert bulk(fmt, [b], rules, True, False) == slow(fmt, [b], rules, True, False)
