"""Vectorised decoding: a chunk of records keyed, classified and held as a :class:`Batch`.

A PFN-shaped record's class and problems depend only on its flag bits 55-63, whether bits 0-54
are 0, and whether the frame reaches past the physical address width. Those 11 bits are the
record's key, and tables over the key are filled by the per-record classifier itself. A
swap-shaped record also depends on its type and offset: those few are decoded as a subset,
and their key is PFN_KEYS + their code (class << CLASS_SHIFT | flags9), so that equal keys mean
equal class and flags. A chunk made of few arithmetic progressions (runs of one value, consecutive
frames or swap slots: what real dumps mostly are) is keyed from each progression's two ends.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from ptetool.pagemap.classify import INVALID_MASK, OTHER_MASK, ZEROED_MASK, P, _classify
from ptetool.pagemap.layout import (
    CLASS_SHIFT,
    CODES,
    FLAG_LSB,
    FLAG_POS,
    FLAGS9_BITS,
    FLAGS9_MASK,
    INVALID,
    MIGRATION,
    NONE,
    PM_PFRAME_MASK,
    PTE_MARKER,
    RECORD_BYTES,
    SHAPE9,
    SWAP,
    SWAP_AREA_PAGES_LIMIT,
    SWAP_OFFSET_MASK,
    SWAP_SHAPED9,
    SWAP_TYPE_MASK,
    Rules,
)
from ptetool.swaptypes import MAX_SWAPFILES_SHIFT

if TYPE_CHECKING:
    from ptetool.pagemap.arrays import I64, IP, U8, U32, U64


# A PFN-shaped record's key: flags9 | (bits 0-54 are 0) << KEY_ZERO | (the frame is beyond) << KEY_BEYOND.
KEY_ZERO = FLAGS9_BITS
KEY_BEYOND = KEY_ZERO + 1
PFN_KEYS = 1 << (KEY_BEYOND + 1)
KEYS = PFN_KEYS + CODES
# The record's last byte (little-endian) is bits 56-63: flags9 >> _TOP_SHIFT.
_TOP_SHIFT = (RECORD_BYTES - 1) * 8 - FLAG_LSB
# problems that follow from the flag bits alone, also for a swap-shaped record
_FLAG_ONLY = P["reserved"] | P["soft_dirty_off"] | P["uffd_off"]


@dataclass(frozen=True)
class KeyTables:
    """Per key: class, flag bits, problems (PFN-shaped keys), and code (class << CLASS_SHIFT | flags9)."""

    cls: Any
    flags9: Any
    pm: Any
    code: Any
    pfn_limit: int
    zeroed: Any  # per PFN-shaped key: 1 if the record is zeroed
    other: Any  # per PFN-shaped key: 1 if it has any other problem
    invalid: Any  # per key: 1 if the class is invalid


@lru_cache(maxsize=16)
def key_tables(rules: Rules, zeroed_rule: bool) -> KeyTables:
    import numpy as np

    cls = np.zeros(KEYS, dtype=np.uint8)
    flags9 = np.zeros(KEYS, dtype=np.intp)
    pm = np.zeros(KEYS, dtype=np.uint32)
    beyond = 1 << rules.pfn_limit_shift
    for key in range(PFN_KEYS):
        f9, zero, high = key & FLAGS9_MASK, key >> KEY_ZERO & 1, key >> KEY_BEYOND & 1
        if zero and high:  # a frame of 0 is never beyond the limit: no record has this key
            continue
        frame = 0 if zero else beyond if high else 1
        value = f9 << FLAG_LSB | frame
        if (f9 & SHAPE9) == SWAP_SHAPED9:  # decoded by type; the table keeps the flags-only problems
            bits, code = _classify(value | 1 << MAX_SWAPFILES_SHIFT, rules, False)[:2]
            bits &= _FLAG_ONLY
            code = NONE
        else:
            bits, code, _ = _classify(value, rules, zeroed_rule)
        cls[key], flags9[key], pm[key] = code, f9, bits
    for key in range(PFN_KEYS, KEYS):
        cls[key], flags9[key] = (key - PFN_KEYS) >> CLASS_SHIFT, (key - PFN_KEYS) & FLAGS9_MASK
    code_table = cls.astype(np.intp) << CLASS_SHIFT | flags9
    zeroed = ((pm[:PFN_KEYS] & np.uint32(ZEROED_MASK)) != 0).astype(np.int64)
    other = ((pm[:PFN_KEYS] & np.uint32(OTHER_MASK)) != 0).astype(np.int64)
    return KeyTables(cls, flags9, pm, code_table, beyond - 1, zeroed, other, (cls == INVALID).astype(np.int64))


@dataclass(frozen=True)
class Keyed:
    """A chunk's keys, and the class and problems of its swap-shaped records."""

    key: IP
    swap_idx: IP
    swap_pm: U32
    heads: IP | None = None  # where the key may change (keyed by progressions); None: at any record


# A chunk of few arithmetic progressions (a run of one value, consecutive frames, consecutive swap
# slots: records with equal steps between them) is keyed a progression at a time. Its first and last
# records having one key (and, swap-shaped, the same problems) means all of it has them, when its step
# is small: the records lie between those two in value, so they share bits 55-63, and every key
# bit (frame 0, frame beyond the limit) and every problem of a non-marker swap entry is a monotone
# function of the value (_decode_swap keeps it so). A marker's offset is a set of flags, not a number:
# markers are taken a progression at a time only when equal, as are swap entries whose step changes
# the type. Other progressions are keyed record by record.
PROGRESSIONS_FROM = 4096  # a shorter chunk is keyed record by record
_RECORDS_PER_HEAD = 8  # fewer records per progression (or record keyed alone) than this: record by record


def key_chunk(raw: U64, rules: Rules, zeroed_rule: bool) -> Keyed:
    if len(raw) >= PROGRESSIONS_FROM:
        keyed = _key_progressions(raw, rules, zeroed_rule)
        if keyed is not None:
            return keyed
    return _key_records(raw, rules, zeroed_rule)


def _key_progressions(raw: U64, rules: Rules, zeroed_rule: bool) -> Keyed | None:
    """The keys from the ends of each progression, or None when the chunk has too many."""
    import numpy as np

    n = len(raw)
    if n < 2:
        return None
    probe = raw[: n // 16 + 2]  # a chunk bent all through its first sixteenth is keyed record by record at once
    probe_step = probe[1:] - probe[:-1]
    if np.count_nonzero(probe_step[1:] != probe_step[:-1]) * _RECORDS_PER_HEAD > len(probe):
        return None
    step = raw[1:] - raw[:-1]  # wraps: a step down is a large uint64, its int64 view negative
    bent = step[1:] != step[:-1]  # where bent[b], record b + 2 starts a progression
    if np.count_nonzero(bent) * _RECORDS_PER_HEAD > n:
        return None
    bends = np.flatnonzero(bent)
    starts = np.concatenate(([0], bends + 2))
    lengths = np.diff(starts, append=n)
    firsts, lasts = raw[starts], raw[starts + lengths - 1]
    m = len(starts)
    ends_key, ends_pm = _key_and_pm(np.concatenate((firsts, lasts)), rules, zeroed_rule)
    key, pm = ends_key[:m], ends_pm[:m]
    steps = np.append(step, np.uint64(0))[starts].view(np.int64)
    # steps this small move a chunk's progression less than 2^63: if it passed 2^64 (or 0), its ends would
    # differ in bit 63, so in their keys
    limit = (1 << 63) // n
    short = (steps < limit) & (steps > -limit)
    swap_shaped = key >= PFN_KEYS
    type_codes, _pfn_types = _type_luts(rules)
    # a swap entry's offset read as a number: the step keeps the type, which is no marker
    offset_as_number = ((steps & SWAP_TYPE_MASK) == 0) & (
        type_codes[(firsts & np.uint64(SWAP_TYPE_MASK)).astype(np.intp)] != PTE_MARKER)
    whole = (lengths == 1) | ((key == ends_key[m:]) & (pm == ends_pm[m:]) & short
                              & (~swap_shaped | (steps == 0) | offset_as_number))
    heads, head_key, head_pm = starts, key, pm
    if not whole.all():  # the records of the others, each a head of its own
        count = np.where(whole, 1, lengths)
        total = int(count.sum())
        if total * _RECORDS_PER_HEAD > n:
            return None
        heads = np.repeat(starts - (np.cumsum(count) - count), count) + np.arange(total)
        alone = np.repeat(~whole, count)  # the heads keyed on their own; the others keep their ends' keys
        head_key, head_pm = np.repeat(key, count), np.repeat(pm, count)
        head_key[alone], head_pm[alone] = _key_and_pm(raw[heads[alone]], rules, zeroed_rule)
        lengths = np.diff(heads, append=n)
    swap_heads = np.flatnonzero(head_key >= PFN_KEYS)
    swap_lengths = lengths[swap_heads]
    swap_idx = (np.repeat(heads[swap_heads] - (np.cumsum(swap_lengths) - swap_lengths), swap_lengths)
                + np.arange(int(swap_lengths.sum())))
    return Keyed(np.repeat(head_key, lengths), swap_idx, np.repeat(head_pm[swap_heads], swap_lengths), heads)


def _key_and_pm(raw: U64, rules: Rules, zeroed_rule: bool) -> tuple[IP, U32]:
    """Each record's key and problems, keyed one by one."""
    keyed = _key_records(raw, rules, zeroed_rule)
    return keyed.key, problems(keyed.key, keyed.swap_idx, keyed.swap_pm, key_tables(rules, zeroed_rule))


def problems(key: IP, swap_idx: IP, swap_pm: U32, tables: KeyTables) -> U32:
    """Each record's problem mask: its key's, or a swap-shaped record's own."""
    pm = tables.pm[key]
    pm[swap_idx] = swap_pm
    return pm  # type: ignore[no-any-return]


def _key_records(raw: U64, rules: Rules, zeroed_rule: bool) -> Keyed:
    import numpy as np

    u = np.uint64
    tables = key_tables(rules, zeroed_rule)
    frame = raw & u(PM_PFRAME_MASK)
    keys = (raw >> u(FLAG_LSB)).view(np.int64)
    zero_high = (frame == 0).view(np.uint8)  # 8-bit temporaries: a quarter of the memory traffic
    zero_high |= (frame > u(tables.pfn_limit)).view(np.uint8) << (KEY_BEYOND - KEY_ZERO)
    keys |= zero_high.astype(np.int64) << KEY_ZERO
    top = raw.view(np.uint8)[RECORD_BYTES - 1::RECORD_BYTES]
    swap_idx = np.flatnonzero((top & (SHAPE9 >> _TOP_SHIFT)) == (SWAP_SHAPED9 >> _TOP_SHIFT))
    swap_pm = np.zeros(0, dtype=np.uint32)
    if len(swap_idx):
        f9 = keys[swap_idx] & FLAGS9_MASK
        swapped = raw[swap_idx]
        heads = np.flatnonzero(np.concatenate(([True], swapped[1:] != swapped[:-1])))
        if len(heads) * 2 <= len(swap_idx):  # runs of one entry (a swapped-out or guarded range): each once
            at = swap_idx[heads]
            head_cls, head_pm = _decode_swap(frame[at], f9[heads], tables.pm[f9[heads]], rules, zeroed_rule)
            lengths = np.diff(heads, append=len(swap_idx))
            swap_cls, swap_pm = np.repeat(head_cls, lengths), np.repeat(head_pm, lengths)
        else:
            swap_cls, swap_pm = _decode_swap(frame[swap_idx], f9, tables.pm[f9], rules, zeroed_rule)
        keys[swap_idx] = PFN_KEYS + (swap_cls.astype(np.int64) << CLASS_SHIFT | f9)
    return Keyed(keys.view(np.intp), swap_idx, swap_pm)


def decode_chunk(raw: U64, rules: Rules, zeroed_rule: bool) -> tuple[IP, U8, U32]:
    """(bits 55-63, class code, problem mask) of every record: equal to decode_record's, bit for bit."""
    keyed = key_chunk(raw, rules, zeroed_rule)
    tables = key_tables(rules, zeroed_rule)
    return tables.flags9[keyed.key], tables.cls[keyed.key], problems(keyed.key, keyed.swap_idx, keyed.swap_pm, tables)


def _decode_swap(frame: U64, flags9: IP, pm: U32, rules: Rules, zeroed_rule: bool) -> tuple[U8, U32]:
    """Class and problems of swap-shaped records (``pm`` holds their flag-only problems).

    For one type and flag bits, each problem of a non-marker entry must stay a monotone function of
    the offset (a threshold, or offset 0): key_chunk keys a progression of them by its two ends."""
    import numpy as np

    u = np.uint64
    type_codes, pfn_types = _type_luts(rules)
    stype = (frame & u(SWAP_TYPE_MASK)).astype(np.intp)
    offset = frame >> u(MAX_SWAPFILES_SHIFT)
    n = len(frame)
    no = np.zeros(n, dtype=bool)
    filep = (flags9 >> FLAG_POS["file"] & 1).astype(bool)
    guard = (flags9 >> FLAG_POS["guard_region"] & 1).astype(bool) if rules.guard_field else no
    uffd = (flags9 >> FLAG_POS["uffd_wp"] & 1).astype(bool) if rules.uffd_field else no
    excl = (flags9 >> FLAG_POS["mmap_exclusive"] & 1).astype(bool) if rules.excl_field else no
    zeroed = (frame == 0) if zeroed_rule else no
    tcode = type_codes[stype]
    pfnt = pfn_types[stype]
    pfnlike = np.where(zeroed, ~guard, pfnt)
    pm = pm.copy()

    def add(mask: Any, name: str) -> None:
        pm[mask] |= np.uint32(P[name])

    add(filep & ~pfnlike, "file_without_page")
    excl_ok = zeroed | rules.excl_migration_ok | (tcode != MIGRATION)
    add(excl & ~(pfnlike & rules.excl_swap_ok & excl_ok), "exclusive_without_page")
    is_marker = ~zeroed & (tcode == PTE_MARKER)
    marker_guard = is_marker & ((offset & u(rules.marker_guard)) != 0)
    add(guard & ~(zeroed | marker_guard), "guard_not_marker")
    if rules.guard_field:
        add(marker_guard & ~guard, "guard_missing")
    if rules.marker_uffd and rules.uffd_field:
        marker_uffd = is_marker & ((offset & u(rules.marker_uffd)) != 0)
        add(is_marker & uffd & ~marker_uffd, "marker_uffd_without_bit")
        add(marker_uffd & ~uffd, "marker_bit_without_uffd")
    add(zeroed & guard, "swap_zeroed_guard")
    add(zeroed & ~guard & filep, "swap_zeroed_file")
    add(zeroed & ~guard & ~filep & uffd, "swap_zeroed_uffd")
    add(zeroed & ~(guard | filep | uffd), "swap_zeroed")
    live = ~zeroed
    real = live & (tcode == SWAP)
    add(real & (offset == 0), "swap_header")
    add(real & (offset >= u(SWAP_AREA_PAGES_LIMIT)), "swap_beyond")
    add(is_marker & (offset == 0), "marker_empty")
    add(is_marker & ((offset & u(~rules.marker_known & SWAP_OFFSET_MASK)) != 0), "marker_unknown")
    add(live & pfnt & ((offset >> u(rules.swp_pfn_bits)) != 0), "pfn_entry_high")
    cls = np.where(zeroed, np.where(guard, PTE_MARKER, np.where(filep, MIGRATION, SWAP)), tcode).astype(np.uint8)
    cls[(pm & np.uint32(INVALID_MASK)) != 0] = INVALID
    return cls, pm


@lru_cache(maxsize=16)
def _type_luts(rules: Rules) -> tuple[Any, Any]:
    import numpy as np

    return np.array(rules.type_codes, dtype=np.uint8), np.array(rules.pfn_types, dtype=bool)


@dataclass
class Batch:
    """Decoded records of up to a chunk (after --filter): raw values, positions, mappings and keys.

    The page of record ``index`` is at ``vaddr_base + index * page_size``; ``vma`` is each
    record's mapping (-1: none), or None when the mappings are not known.
    """

    raw: U64
    index: I64
    vma: Any  # int32 array or None
    key: IP
    swap_idx: IP  # positions of the swap-shaped records in this batch
    swap_pm: U32
    page_size: int
    vaddr_base: int
    tables: KeyTables
    kpf: U64 | None = None
    _hist: Any = None
    _starts: Any = None

    def __len__(self) -> int:
        return len(self.raw)

    def vma_at(self, row: int) -> int:
        return -1 if self.vma is None else int(self.vma[row])

    @property
    def flags9(self) -> IP:
        return self.tables.flags9[self.key]  # type: ignore[no-any-return]

    @property
    def cls(self) -> U8:
        return self.tables.cls[self.key]  # type: ignore[no-any-return]

    @property
    def pm(self) -> U32:
        return problems(self.key, self.swap_idx, self.swap_pm, self.tables)

    @property
    def starts(self) -> IP:
        """Where each run begins: equal keys, consecutive indexes, one mapping."""
        if self._starts is None:
            self._starts = run_starts(self.key, self.index, self.vma)
        return self._starts  # type: ignore[no-any-return]

    @property
    def hist(self) -> IP:
        """How many records have each key (counted by runs: realistic records come in long runs)."""
        if self._hist is None:
            import numpy as np

            starts = self.starts
            lengths = np.diff(starts, append=len(self.key))
            self._hist = np.bincount(self.key[starts], weights=lengths, minlength=KEYS).astype(np.int64)
        return self._hist  # type: ignore[no-any-return]

    def count_zeroed(self) -> int:
        import numpy as np

        return int(self.hist[:PFN_KEYS] @ self.tables.zeroed) + int(
            np.count_nonzero(self.swap_pm & np.uint32(ZEROED_MASK)))

    def count_invalid(self) -> int:
        return int(self.hist @ self.tables.invalid)

    def vaddrs(self) -> U64:
        import numpy as np

        return self.index.astype(np.uint64) * np.uint64(self.page_size) + np.uint64(self.vaddr_base)

    def take(self, sel: IP) -> Batch:
        import numpy as np

        where = np.full(len(self.raw), -1, dtype=np.intp)
        where[self.swap_idx] = np.arange(len(self.swap_idx))
        picked = where[sel]
        keep = picked >= 0
        return replace(self, raw=self.raw[sel], index=self.index[sel], vma=None if self.vma is None else self.vma[sel],
                       key=self.key[sel], swap_idx=np.flatnonzero(keep), swap_pm=self.swap_pm[picked[keep]],
                       kpf=None if self.kpf is None else self.kpf[sel], _hist=None, _starts=None)


def run_starts(key: IP, index: I64, vma: Any, heads: IP | None = None) -> IP:
    """Where each run of records with equal keys, at consecutive indexes, in one mapping begins.

    ``heads``: the only records where the key may change (as :class:`Keyed` gives them), or None."""
    import numpy as np

    spread = len(index) and int(index[-1]) - int(index[0]) != len(index) - 1  # not one consecutive stretch
    if heads is not None:
        later = heads[1:]
        changed = later[key[later] != key[later - 1]]
        if not spread and vma is None:
            return np.concatenate((heads[:1], changed))
        change = np.zeros(len(key) - 1, dtype=bool)
        change[changed - 1] = True
    else:
        change = key[1:] != key[:-1]
    if spread:
        change |= index[1:] - index[:-1] != 1
    if vma is not None:
        change |= vma[1:] != vma[:-1]
    return np.flatnonzero(np.concatenate(([True], change)))
