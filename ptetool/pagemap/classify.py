"""One pagemap record: its problems, its class, and the immutable :class:`Entry` decoded from it.

:func:`_classify` is the one statement of the rules: the per-record decoder reads it, and the
bulk path (:mod:`ptetool.pagemap.chunks`) fills its tables with it and vectorises the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from ptetool.errors import UsageError
from ptetool.layout import ENTRY_MASK, FieldValues
from ptetool.pagemap.layout import (
    BIT_FILE,
    BIT_GUARD_REGION,
    BIT_MMAP_EXCLUSIVE,
    BIT_PRESENT,
    BIT_SOFT_DIRTY,
    BIT_SWAP,
    BIT_UFFD_WP,
    CLASSES,
    INVALID,
    MIGRATION,
    NONE,
    PM_PFRAME_MASK,
    PRESENT,
    PTE_MARKER,
    SWAP,
    SWAP_AREA_PAGES_LIMIT,
    SWAP_TYPE_MASK,
    Rules,
    pfn_layout,
    swap_layout,
)
from ptetool.reading import Reading
from ptetool.swaptypes import CLASS_OF_TYPE, MAX_SWAPFILES_SHIFT, SwapInfo

# --- problems: one bit each; invalid ones make the class "invalid" --------------------------------

@dataclass(frozen=True)
class Problem:
    name: str
    invalid: bool
    slow: bool  # the message quotes the value, so bulk formats render the record one by one
    text: str


ZEROED_NOTE = "the reader lacked CAP_SYS_ADMIN"
_SWAP_ZEROED = f"swap type and offset zeroed: {ZEROED_NOTE}"
PROBLEMS: tuple[Problem, ...] = (
    Problem("present_and_swap", True, False, "present and swap are both set: pte_to_pagemap_entry() reports a "
            "pte as present or as a swap entry, never both"),
    Problem("reserved", True, True, "reserved bits"),
    Problem("frame_without_entry", True, True, "frame bits"),
    Problem("file_without_page", True, False, "file is set, but the record holds no page: PM_FILE comes only "
            "with a present page or a migration, device or hwpoison entry"),
    Problem("exclusive_without_page", True, False, "mmap_exclusive"),
    Problem("guard_not_marker", True, False, "guard_region is set, but the record is not a guard PTE marker: "
            "PM_GUARD_REGION comes only with a PTE marker whose guard bit is set"),
    Problem("guard_missing", True, False, "a guard PTE marker without guard_region: kernels from 6.15 set "
            "PM_GUARD_REGION for every guard marker"),
    Problem("marker_uffd_without_bit", True, False, "uffd_wp is set, but the PTE marker's uffd_wp bit is clear: "
            "for a marker PM_UFFD_WP is the marker bit (pte_marker_entry_uffd_wp)"),
    Problem("marker_bit_without_uffd", True, False, "the PTE marker's uffd_wp bit is set, but uffd_wp is clear: "
            "for a marker PM_UFFD_WP is the marker bit (pte_marker_entry_uffd_wp)"),
    Problem("pfn_zeroed", False, False, f"pfn zeroed: {ZEROED_NOTE}, so pagemap hid the page frame number"),
    Problem("swap_zeroed", False, False, f"{_SWAP_ZEROED}; class swap assumed (a migration, device or hwpoison "
            "entry of an anonymous page reads the same)"),
    Problem("swap_zeroed_guard", False, False, f"{_SWAP_ZEROED}; guard_region makes it a guard PTE marker"),
    Problem("swap_zeroed_file", False, False, f"{_SWAP_ZEROED}; file says the entry holds a page, so it is a "
            "migration (or device) entry, not a swapped-out page; class migration assumed"),
    Problem("swap_zeroed_uffd", False, False, f"{_SWAP_ZEROED}; a swapped-out page write-protected by userfaultfd "
            "and a uffd-wp PTE marker read the same; class swap assumed"),
    Problem("pfn_beyond", False, True, "pfn beyond the physical address width"),
    Problem("swap_header", False, False, "swap offset 0 is the swap header page; no swapped-out page is stored "
            "there"),
    Problem("swap_beyond", False, True, "swap offset beyond any swap area"),
    Problem("marker_empty", False, False, "empty PTE marker: no marker bit is set (the fault handler WARNs and "
            "returns SIGBUS)"),
    Problem("marker_unknown", False, True, "unknown marker bits"),
    Problem("pfn_entry_high", False, True, "offset above SWP_PFN_BITS"),
    Problem("hugetlb_uffd", False, False, "uffd_wp without present or swap: pagemap_hugetlb_range() reports a "
            "hugetlb page that is not present (a uffd-wp marker or a write-protected migration entry) this way, "
            "without PM_SWAP"),
    Problem("soft_dirty_off", False, False, "soft_dirty is set, but the model has no CONFIG_MEM_SOFT_DIRTY: check "
            "--kernel and --kconfig"),
    Problem("uffd_off", False, False, "uffd_wp is set, but the model has no uffd-wp "
            "(CONFIG_HAVE_ARCH_USERFAULTFD_WP): check --kernel and --kconfig"),
)
P: dict[str, int] = {p.name: 1 << i for i, p in enumerate(PROBLEMS)}
INVALID_MASK = sum(P[p.name] for p in PROBLEMS if p.invalid)
SLOW_MASK = sum(P[p.name] for p in PROBLEMS if p.slow)
ZEROED_MASK = sum(P[n] for n in ("pfn_zeroed", "swap_zeroed", "swap_zeroed_guard", "swap_zeroed_file",
                                  "swap_zeroed_uffd"))
# Hidden swap-format records whose class is a guess (a guard marker is certain: PM_GUARD_REGION says so).
ASSUMED_MASK = sum(P[n] for n in ("swap_zeroed", "swap_zeroed_file", "swap_zeroed_uffd"))
# Every problem but a hidden frame: what --filter problems and the "problems" counts mean.
OTHER_MASK = sum(P.values()) & ~ZEROED_MASK


def _problem_texts(value: int, pmask: int, rules: Rules, cls_of_type: str) -> list[str]:
    out: list[str] = []
    frame = value & PM_PFRAME_MASK
    offset = frame >> MAX_SWAPFILES_SHIFT
    for i, p in enumerate(PROBLEMS):
        if not pmask >> i & 1:
            continue
        if p.name == "reserved":
            for f in pfn_layout(rules.model).owners:
                if f.zero_expected and f.extract(value):
                    what = f"bit {f.lsb}" if f.width == 1 else f"bits {f.bit_range()}"
                    out.append(f"{f.name} ({what}) is {f.extract(value):#x}, not 0: kernel {rules.model.label} "
                               f"leaves it zero ({f.doc})")
        elif p.name == "frame_without_entry":
            out.append(f"bits 0-54 hold {frame:#x} in a record that is neither present nor swapped: the kernel "
                       "writes 0 there")
        elif p.name == "exclusive_without_page":
            where = ("a present page" if not rules.excl_swap_ok else
                     "a present page, or a device or hwpoison entry whose page is mapped once"
                     + (" (a migration entry too: before 5.17, 5.16.11, 5.15.25 and 5.10.102)"
                        if rules.excl_migration_ok else ""))
            kernel = rules.model.release or rules.model.label  # a stable release may have taken the change
            out.append(f"mmap_exclusive is set, but kernel {kernel} sets PM_MMAP_EXCLUSIVE only for "
                       f"{where}")
        elif p.name == "pfn_beyond":
            out.append(f"pfn {frame:#x} lies beyond the {rules.model.phys_bits}-bit physical address width")
        elif p.name == "swap_beyond":
            out.append(f"swap offset {offset:#x} is beyond any swap area: a swap header's last_page is 32 bits "
                       "(mm/swapfile.c read_swap_header)")
        elif p.name == "marker_unknown":
            out.append(f"marker offset {offset:#x} sets bits that kernel {rules.model.label} does not define "
                       f"(PTE_MARKER_MASK {rules.marker_known:#x}); pte_marker_get() drops them")
        elif p.name == "pfn_entry_high":
            out.append(f"swap offset {offset:#x} sets bits above SWP_PFN_BITS {rules.swp_pfn_bits}: pagemap "
                       f"reports a {cls_of_type} entry's PFN alone (swp_offset_pfn)")
        else:
            out.append(p.text)
    return out


# --- one record ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Entry(Reading):
    """One decoded pagemap record: immutable, everything the record formats need."""

    zeroed: bool
    pmask: int
    rules: Rules

    @property
    def pfn(self) -> int | None:
        """The page frame number the record gives, if any (None when zeroed or not a page)."""
        if self.zeroed:
            return None
        if self.cls == "present" or (self.swap is not None and "pfn" in self.layout):
            return self.field_values.get("pfn")
        return None


def decode_record(value: int, rules: Rules, zeroed_rule: bool = False) -> Entry:
    """Decode one record. Never raises for a 64-bit value.

    ``zeroed_rule``: a present or swap record whose bits 0-54 are all 0 was read
    without CAP_SYS_ADMIN (the frame is hidden, not 0).
    """
    if not 0 <= value <= ENTRY_MASK:
        raise UsageError(f"{value:#x} does not fit in 64 bits")
    pmask, code, stype = _classify(value, rules, zeroed_rule)
    frame = value & PM_PFRAME_MASK
    swap_shaped = bool(value >> BIT_SWAP & 1) and not value >> BIT_PRESENT & 1
    zeroed = bool(pmask & ZEROED_MASK)
    cls = CLASSES[code]
    type_name = rules.type_names[stype] if swap_shaped else ""
    lay = swap_layout(rules.model, type_name) if swap_shaped else pfn_layout(rules.model)
    fields = lay.decode(value)
    swap = None
    marker: tuple[str, ...] | None = None
    if swap_shaped and not zeroed:
        swap = SwapInfo(stype, frame >> MAX_SWAPFILES_SHIFT, type_name)
    if code == PTE_MARKER:
        if zeroed:  # inferred from the flags: PM_GUARD_REGION, and PM_UFFD_WP follows the marker bit
            marker = tuple(n for n, _ in rules.marker_names
                           if (n == "guard") or (n == "uffd_wp" and value >> BIT_UFFD_WP & 1))
        else:
            marker = tuple(n for n, mask in rules.marker_names if (frame >> MAX_SWAPFILES_SHIFT) & mask)
    problems = _problem_texts(value, pmask, rules, CLASS_OF_TYPE[type_name] if type_name else "")
    return Entry(value=value, cls=cls, layout=lay, fields=FieldValues(fields.items()), swap=swap, marker=marker,
                 problems=tuple(problems), zeroed=zeroed, pmask=pmask, rules=rules)


def _classify(value: int, rules: Rules, zeroed_rule: bool) -> tuple[int, int, int]:
    """(problem mask, class code, swap type) of one record: the rules decode_chunk vectorises."""
    present = value >> BIT_PRESENT & 1
    swapb = value >> BIT_SWAP & 1
    filep = value >> BIT_FILE & 1
    guard = rules.guard_field and value >> BIT_GUARD_REGION & 1
    uffd = rules.uffd_field and value >> BIT_UFFD_WP & 1
    excl = rules.excl_field and value >> BIT_MMAP_EXCLUSIVE & 1
    frame = value & PM_PFRAME_MASK
    swap_shaped = swapb and not present
    zeroed = zeroed_rule and frame == 0 and present != swapb
    stype = frame & SWAP_TYPE_MASK if swap_shaped else 0
    offset = frame >> MAX_SWAPFILES_SHIFT if swap_shaped else 0
    tcode = rules.type_codes[stype]
    pm = 0
    if present and swapb:
        pm |= P["present_and_swap"]
    if value & rules.reserved_mask:
        pm |= P["reserved"]
    if not present and not swapb and frame:
        pm |= P["frame_without_entry"]
    pfnlike = swap_shaped and (not guard if zeroed else rules.pfn_types[stype])
    if filep and not present and not pfnlike:
        pm |= P["file_without_page"]
    if excl and not present and not (pfnlike and rules.excl_swap_ok
                                     and (zeroed or rules.excl_migration_ok or tcode != MIGRATION)):
        pm |= P["exclusive_without_page"]
    is_marker = swap_shaped and not zeroed and tcode == PTE_MARKER
    marker_guard = is_marker and bool(offset & rules.marker_guard)
    if guard and not (swap_shaped and (zeroed or marker_guard)):
        pm |= P["guard_not_marker"]
    if rules.guard_field and marker_guard and not guard:
        pm |= P["guard_missing"]
    if is_marker and rules.marker_uffd and rules.uffd_field:
        marker_uffd = bool(offset & rules.marker_uffd)
        if uffd and not marker_uffd:
            pm |= P["marker_uffd_without_bit"]
        if marker_uffd and not uffd:
            pm |= P["marker_bit_without_uffd"]
    if present and not swapb:
        if zeroed:
            pm |= P["pfn_zeroed"]
        elif frame >> rules.pfn_limit_shift:
            pm |= P["pfn_beyond"]
    code = NONE
    if swap_shaped:
        if zeroed:
            if guard:
                pm |= P["swap_zeroed_guard"]
                code = PTE_MARKER
            elif filep:
                pm |= P["swap_zeroed_file"]
                code = MIGRATION
            elif uffd:
                pm |= P["swap_zeroed_uffd"]
                code = SWAP
            else:
                pm |= P["swap_zeroed"]
                code = SWAP
        else:
            code = tcode
            if tcode == SWAP:
                if offset == 0:
                    pm |= P["swap_header"]
                elif offset >= SWAP_AREA_PAGES_LIMIT:
                    pm |= P["swap_beyond"]
            elif tcode == PTE_MARKER:
                if offset == 0:
                    pm |= P["marker_empty"]
                if offset & ~rules.marker_known:
                    pm |= P["marker_unknown"]
            elif rules.pfn_types[stype] and offset >> rules.swp_pfn_bits:
                pm |= P["pfn_entry_high"]
    elif present:
        code = PRESENT
    if not present and not swapb and uffd:
        pm |= P["hugetlb_uffd"]
    if value >> BIT_SOFT_DIRTY & 1 and not rules.soft_dirty_possible:
        pm |= P["soft_dirty_off"]
    if uffd and not rules.uffd_possible:
        pm |= P["uffd_off"]
    if pm & INVALID_MASK:
        code = INVALID
    return pm, code, stype
