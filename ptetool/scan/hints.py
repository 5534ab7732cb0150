"""Why the kernel may have complained about a value: labelled guesses, never stated as fact."""

from __future__ import annotations

from functools import lru_cache

from ptetool.arch import x86_64
from ptetool.decoder import SWAP_HEADER_OFFSET_LIMIT, Decoded, arch_module, decode, phys_width
from ptetool.kernel import Model
from ptetool.layout import ENTRY_BITS
from ptetool.swaptypes import swap_types

# What mm/swapfile.c (_swap_info_get and its predecessors) checked before printing each message.
SWAP_COMPLAINTS = {
    "Bad swap file entry": "the kernel found no swap area of type {type} in use (swap_info[type] is missing "
                           "or not SWP_USED): a stale or corrupt entry, or one that outlived swapoff",
    "Bad swap offset entry": "the kernel found offset {offset:#x} at or past the end of swap area {type} "
                             "(offset >= si->max)",
    "Unused swap file entry": "the kernel found swap area {type} but not in use for this entry: it outlived "
                              "swapoff",
    "Unused swap offset entry": "the kernel found slot {offset:#x} of swap area {type} already free (swap_map "
                                "count 0): a stale pte or a double free",
}
# How many single-bit-flip explanations to offer at most.
MAX_FLIPS = 3


def _clean(d: Decoded) -> bool:
    """An entry the kernel writes in normal operation: empty, a sane mapping, or a plausible swap slot."""
    if d.problems:
        return False
    if d.cls in ("none", "present", "protnone", "pte_marker", "migration"):
        return True
    return d.cls == "swap" and d.swap is not None and 0 < d.swap.offset < SWAP_HEADER_OFFSET_LIMIT


def hints_for(d: Decoded, message: str, ram_end: tuple[int, int] | None = None) -> tuple[str, ...]:
    """Short labelled guesses for a value the kernel reported as bad (``message`` is "context" for the
    tables printed above it); ``ram_end`` is the first pfn past the RAM the log's e820 map reports,
    and the line that says so."""
    hints: list[str] = []
    fields = d.field_values
    width = phys_width(d.arch, d.model)
    if "pfn" in fields and fields["pfn"] >> (width - 12):
        hints.append(f"likely corruption: pfn {fields['pfn']:#x} lies beyond the {width}-bit physical "
                     "address width, so no RAM can be behind it")
    elif ram_end is not None and d.cls == "present" and fields.get("pfn", 0) >= ram_end[0]:
        special = " (the entry is special, so a device mapping is plausible)" if fields.get("special") else ""
        hints.append(f"possible: pfn {fields['pfn']:#x} lies past the last RAM the log reports (line {ram_end[1]}: "
                     f"RAM ends before pfn {ram_end[0]:#x}): not RAM, so only a device mapping could be "
                     f"there{special}")
    if d.swap is not None and d.cls == "swap":
        types = swap_types(d.model)
        if d.swap.type >= types.max_swapfiles:
            hints.append(f"not a valid swap entry: type {d.swap.type} is beyond MAX_SWAPFILES "
                         f"{types.max_swapfiles} and no special type")
        elif d.swap.offset == 0 or d.swap.offset >= SWAP_HEADER_OFFSET_LIMIT:
            hints.append(f"not a valid swap entry: offset {d.swap.offset:#x} is "
                         + ("the swap header page" if d.swap.offset == 0 else "at or beyond 2^32, past any swap area"))
        elif message in SWAP_COMPLAINTS:
            hints.append(SWAP_COMPLAINTS[message].format(type=d.swap.type, offset=d.swap.offset))
        elif message in ("bad_swap_entry", "bad_page_map"):
            hints.append(f"possible: swap type {d.swap.type} was not an active swap area at the time "
                         "(swapoff, or a stale entry), or the offset is past that area's end")
    if message == "bad_entry" and d.arch in ("arm64", "riscv64") and d.layout.name.endswith(" table"):
        hints.append(f"the printed value is a valid table pointer, which {d.arch}'s {d.level}_bad() accepts: the "
                     "entry likely changed between the check and the print (a race, or memory being overwritten)")
    if fields.get("dirty") and fields.get("saved_dirty") and d.model.version >= x86_64.SHADOW_STACK:
        hints.append("a combination the kernel never writes: dirty and saved_dirty both set (6.6 on, the kernel "
                     "moves one into the other)")
    if not _clean(d) or message == "bad_swap_entry":
        hints += _flips(d)
    elif message == "bad_page_map" and d.cls == "present" and not hints:
        hints.append("the entry itself reads as a sane mapping: the complaint is likely about the page it maps "
                     "(see the page: and flags: lines), or the mapping's mapcount")
    return tuple(hints)


def _flips(d: Decoded) -> list[str]:
    """Single bits whose flip would turn a clean entry into this one."""
    return list(_flips_of(d.value, d.arch, d.level, d.model))


@lru_cache(maxsize=4096)
def _flips_of(value: int, arch: str, level: str, model: Model) -> tuple[str, ...]:
    form_of = arch_module(arch).form_of
    to_none = [bit for bit in range(ENTRY_BITS) if form_of(value ^ (1 << bit), level, model) == "none"]
    if to_none:
        return tuple(_flip_text(value, bit, "none") for bit in to_none)
    found: list[str] = []
    for bit in range(ENTRY_BITS):
        other = decode(value ^ (1 << bit), arch, level, model)
        if _clean(other):
            if len(found) == MAX_FLIPS:
                return ()  # many clean neighbours and none empty: a flip explains nothing in particular
            found.append(_flip_text(value, bit, _describe(other)))
    return tuple(found)


def _flip_text(value: int, bit: int, other: str) -> str:
    return (f"possible single-bit flip: bit {bit} {'set' if value >> bit & 1 else 'cleared'} in "
            f"{value ^ (1 << bit):#018x} ({other}) gives this value")


def _describe(d: Decoded) -> str:
    if d.swap is not None:
        return f"{d.cls} type {d.swap.type} offset {d.swap.offset:#x}"
    if "pfn" in d.field_values and d.cls != "none":
        return f"{d.cls} pfn {d.field_values['pfn']:#x}"
    return d.cls
