"""Decode and classify a raw 64-bit entry (encoder.py builds one back from its fields).

The class is what the kernel's own predicates make of the value for the
chosen model (pte_none, pte_present, the swap-type numbering, is_pte_marker);
oddities the kernel ignores become ``problems``, never a different class.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, NamedTuple

from ptetool.arch import x86_64
from ptetool.arch.common import offset_used_bits
from ptetool.errors import UsageError
from ptetool.kernel import Model
from ptetool.layout import ENTRY_MASK, Field, FieldValues, Layout
from ptetool.reading import Reading
from ptetool.swaptypes import CLASS_OF_TYPE, SwapInfo, marker_bits, swap_types

if TYPE_CHECKING:
    from rich.console import RenderableType

# Each arch's module, imported on first use: a decode on one arch loads no other.
ARCHES: dict[str, str] = {name: f"ptetool.arch.{name}" for name in ("x86_64", "arm64", "riscv64", "generic")}
ARCH_ALIASES = {"aarch64": "arm64", "amd64": "x86_64"}
LEVELS = ("pte", "pmd", "pud", "p4d", "pgd")
CLASSES = (
    "none", "present", "protnone", "uffd_wp_special", "swap", "pte_marker", "migration",
    "device_private", "device_exclusive", "hwpoison", "swapin_error", "pte_file", "invalid",
)
# The seed's UFFD_WP_SWP_PTE_SPECIAL on x86_64: __pte(_PAGE_SWP_UFFD_WP).
X86_UFFD_WP_SPECIAL = 1 << 2
# union swap_header's info.last_page is a __u32 (include/linux/swap.h 6.12) and
# read_swap_header() caps the area at it (mm/swapfile.c 6.12): no swap area has a
# page at offset 2^32 or above, and page 0 is the header (swap_map[0] = SWAP_MAP_BAD).
SWAP_HEADER_OFFSET_LIMIT = 1 << 32


class Rule(NamedTuple):
    """One of the seed's four rules for the special PTE, evaluated for a value."""

    rule: str
    holds: bool
    why: str


@dataclass(frozen=True)
class Decoded(Reading):
    """One decoded entry: immutable; ``to_json()`` is exactly the record the CLI prints.

    >>> from ptetool.kernel import Model
    >>> d = decode(0x4, model=Model(version=(6, 12)))
    >>> d.cls, d.fields["swp_uffd_wp"], d.flags
    ('uffd_wp_special', 1, ('swp_uffd_wp',))
    >>> str(d)
    '0x0000000000000004 uffd_wp_special type=0(swapfile) offset=0x3ffffffffffff swp_uffd_wp [1 problem]'
    """

    arch: str
    level: str
    notes: tuple[str, ...]
    rules: tuple[Rule, ...] | None
    model: Model

    def to_json(self) -> dict[str, Any]:
        """The SPEC record, as `ptetool decode --format ndjson` prints it (a JSON-ready dict)."""
        from ptetool.record import decode_record

        return decode_record(self)

    def __str__(self) -> str:
        """The brief line, as `ptetool decode --format brief` prints it."""
        from ptetool.render.text import brief

        return brief(self)

    def __rich__(self) -> RenderableType:
        """The bit diagram with its field table: `rich.print(ptetool.decoder(v))` draws it."""
        from ptetool.render.views import decode_view

        return decode_view(self)


@cache
def arch_module(arch: str) -> ModuleType:
    if arch not in ARCHES:
        raise UsageError(f"--arch {arch!r}: choose from {', '.join(ARCHES)}")
    import importlib

    return importlib.import_module(ARCHES[arch])


def phys_width(arch: str, model: Model) -> int:
    """Physical address bits a frame may use: x86_64's CPU width (or --phys-bits), else MAX_PHYSMEM_BITS."""
    return model.phys_bits if arch == "x86_64" else int(arch_module(arch).swp_pfn_bits(model)) + 12


def check_value(value: int) -> None:
    if not 0 <= value <= ENTRY_MASK:
        raise UsageError(f"{value:#x} does not fit in 64 bits")


def _swap_class(value: int, level: str, model: Model, mod: ModuleType) -> tuple[str, SwapInfo]:
    base = mod.layout("swap", level, model)
    swp_type, offset = base["swp_type"].extract(value), base["swp_offset"].extract(value)
    type_name = swap_types(model).names[swp_type]
    return CLASS_OF_TYPE[type_name], SwapInfo(swp_type, offset, type_name)


def classify(value: int, arch: str, level: str, model: Model) -> tuple[str, str, SwapInfo | None]:
    """(class, layout form, swap info) for ``value``."""
    mod = arch_module(arch)
    form: str = mod.form_of(value, level, model)
    if form == "none":
        return "none", form, None
    if form in ("present", "table"):
        return "present", form, None
    if form == "protnone":
        return "protnone", form, None
    if form == "bad_table":
        return "invalid", form, None
    if form == "file":
        return "pte_file", form, None
    cls, swap = _swap_class(value, level, model, mod)
    if arch == "x86_64" and value == X86_UFFD_WP_SPECIAL and x86_64.has_uffd_wp(model):
        cls = "uffd_wp_special"
    return cls, form, swap


def layout_for(cls: str, form: str, arch: str, level: str, model: Model, type_name: str = "") -> Layout:
    return arch_module(arch).layout(form, level, model, cls, type_name)  # type: ignore[no-any-return]


def decode(value: int, arch: str = "x86_64", level: str = "pte", model: Model | None = None) -> Decoded:
    """Decode one raw entry. Never raises for a 64-bit value."""
    check_value(value)
    model = model or Model()
    cls, form, swap = classify(value, arch, level, model)
    lay = layout_for(cls, form, arch, level, model, swap.type_name if swap else "")
    fields = lay.decode(value)
    marker = _marker_names(fields, model) if cls == "pte_marker" else None
    problems = _problems(value, cls, form, lay, fields, swap, model, arch, level)
    notes = _notes(value, cls, form, arch, level, model, marker)
    rules = seed_rules(value, arch, level, model) if form in ("swap", "none") and (
        cls != "none" or arch == "generic") else None
    return Decoded(
        value=value, cls=cls, arch=arch, level=level, layout=lay, fields=FieldValues(fields.items()),
        swap=swap, marker=marker, problems=tuple(problems), notes=tuple(notes), rules=rules, model=model,
    )


def other_reading(d: Decoded) -> Decoded | None:
    """The same value under the other x86 swap layout, where the model cannot tell which applies."""
    if d.arch != "x86_64" or not d.model.l1tf_ambiguous or d.cls in ("none", "present"):
        return None
    return decode(d.value, d.arch, d.level, replace(d.model, l1tf=not d.model.swap_l1tf))


def _marker_names(fields: dict[str, int], model: Model) -> tuple[str, ...]:
    return tuple(m.name for m in marker_bits(model) if fields.get(f"marker_{m.name}"))


def _set_bits_problem(f: Field, value: int) -> str:
    what = f"bit {f.lsb}" if f.width == 1 else f"bits {f.bit_range()}"
    return f"{f.name} ({what}) is {f.extract(value):#x}, not 0: {f.doc}"


def _problems(
    value: int, cls: str, form: str, lay: Layout, fields: dict[str, int], swap: SwapInfo | None,
    model: Model, arch: str, level: str,
) -> list[str]:
    problems = [_set_bits_problem(f, value) for f in lay.owners[::-1] if f.zero_expected and f.extract(value)]
    problems += arch_module(arch).form_problems(value, form, level, model)
    width = phys_width(arch, model)
    if "pfn" in fields and fields["pfn"] >> (width - 12):
        problems.append(
            f"pfn {fields['pfn']:#x} lies beyond the {width}-bit physical address width"
            + (" (or carries a memory-encryption bit, AMD SME / Intel TDX)" if arch == "x86_64" else "")
        )
    if "saved_dirty" in fields and fields["saved_dirty"] and fields.get("rw"):
        problems.append("saved_dirty is set on a writable entry: pte_mkwrite() moves it back to dirty "
                        "(arch/x86/mm/pgtable.c 6.12); only pte_mkwrite_novma() leaves it")
    if (form == "protnone" and arch == "x86_64" and not value >> x86_64.BIT_PROTNONE & 1
            and not (value >> x86_64.BIT_NUMA & 1 and x86_64.has_numa_bit9(model))):
        problems.append(f"PROTNONE (bit 8) is clear but PSE is set: a huge {level} invalidated by "
                        f"{level}_mkinvalid() (a THP split), not PROT_NONE")
    if form == "bad_table":
        problems.append(f"PRESENT (bit 0) is clear in a non-empty {level} entry: {level}_bad() is true, and "
                        f"the kernel reports 'bad {level}' and clears it ({level}_clear_bad); no {level} holds "
                        "a swap entry")
    if form == "protnone" and arch == "x86_64" and "pse" in fields and not fields["pse"]:
        problems.append("PSE (bit 7) is clear: a PROT_NONE PMD or PUD is always a huge leaf")
    if swap is None:
        return problems
    types = swap_types(model)
    if cls == "uffd_wp_special":
        problems.append(
            "the seed's UFFD_WP_SWP_PTE_SPECIAL existed only in the 2021 uffd-wp shmem series (v1-v5) and was "
            "never merged; mainline 5.19 and later use PTE markers, and there these bits read as swap type 0, "
            f"offset {swap.offset:#x} with swp_uffd_wp: no swap area is that large"
        )
    elif cls == "swap":
        if swap.offset >= SWAP_HEADER_OFFSET_LIMIT:
            problems.append(
                f"swap offset {swap.offset:#x} is beyond any swap area: a swap header's last_page is 32 bits "
                "(mm/swapfile.c read_swap_header)"
            )
        elif swap.offset == 0:
            problems.append("swap offset 0 is the swap header page; no swapped-out page is stored there")
    elif cls == "pte_marker":
        known = 0
        for m in marker_bits(model):
            known |= 1 << m.bit
        if swap.offset == 0:
            problems.append("empty PTE marker: no marker bit is set (the fault handler WARNs and returns SIGBUS)")
        if swap.offset & ~known:
            problems.append(
                f"marker offset {swap.offset:#x} sets bits that kernel {model.label} does not define "
                f"(PTE_MARKER_MASK {known:#x}); pte_marker_get() drops them"
            )
    pfn_bits = arch_module(arch).swp_pfn_bits(model)
    used = offset_used_bits(cls, model, lay["swp_offset"].width, pfn_bits)
    if used is not None and swap.offset >> used:
        young_dirty = ", plus young/dirty" if used > pfn_bits else ""
        problems.append(
            f"swap offset {swap.offset:#x} sets bits above the {used} that a {cls} entry uses "
            f"(SWP_PFN_BITS {pfn_bits}{young_dirty})"
        )
    if swap.type >= types.max_swapfiles and swap.type_name == "swapfile":
        problems.append(f"swap type {swap.type} is at or above MAX_SWAPFILES {types.max_swapfiles} "
                        "and is no special type")
    return problems


def _notes(value: int, cls: str, form: str, arch: str, level: str, model: Model,
           marker: tuple[str, ...] | None = None) -> list[str]:
    notes: list[str] = []
    if cls == "none" and value:
        notes.append("accessed/dirty set in an empty entry: the Knights Landing erratum can do that, "
                     "and pte_none() ignores both bits")
    if cls == "pte_marker" and marker and "uffd_wp" in marker and arch != "generic" and not (
            arch_module(arch).has_uffd_wp(model)):
        notes.append(f"{arch} kernel {model.label} has no uffd-wp (HAVE_ARCH_USERFAULTFD_WP), so it never "
                     "installs a uffd_wp marker: PTE_MARKER_UFFD_WP is defined on every arch, used only there")
    if cls == "none" and arch == "generic":
        notes.append("without CONFIG_HAVE_ARCH_USERFAULTFD_WP the seed's special PTE is __pte(0) "
                     "(asm-generic/pgtable_uffd.h), the same value as pte_none")
    if form == "protnone" and arch == "x86_64" and x86_64.l1tf(model):
        notes.append("the frame number of a not-present entry is stored inverted (L1TF); pfn is shown un-inverted")
    if (form == "present" and arch == "x86_64" and model.version >= x86_64.SHADOW_STACK
            and value & 0x42 == 0x40):
        notes.append("Write=0 with Dirty=1 is how the CPU marks a shadow-stack page; the kernel keeps "
                     "other read-only pages' dirty state in saved_dirty (6.6 on)")
    if form == "swap" and arch == "x86_64" and x86_64.l1tf(model):
        notes.append("the swap offset is stored inverted (L1TF); swp_offset is shown un-inverted")
    if arch == "x86_64" and value == X86_UFFD_WP_SPECIAL and not x86_64.has_uffd_wp(model):
        notes.append("this model has no uffd-wp, where the seed's special PTE would be __pte(0)")
    if form in ("swap", "protnone") and arch == "x86_64" and model.l1tf_ambiguous:
        notes.append("stable kernels from August 2018 on may carry the 4.19 (L1TF) swap layout: "
                     "the version alone does not tell (--l1tf or --no-l1tf, or a full release, decides)")
    return notes


def seed_rules(value: int, arch: str, level: str, model: Model) -> tuple[Rule, ...]:
    """The seed patch's four rules for its special PTE, evaluated for ``value``."""
    mod = arch_module(arch)
    none = bool(mod.pte_none(value, model))
    if arch == "x86_64":
        present = bool(value & ((1 << x86_64.BIT_PRESENT) | (1 << x86_64.BIT_PROTNONE)))
        present_why = "bit 0 (PRESENT) or bit 8 (PROTNONE) is set" if present else "bits 0 and 8 are clear"
        uffd = x86_64.has_uffd_wp(model) and bool(value & X86_UFFD_WP_SPECIAL)
        uffd_why = ("bit 2 (_PAGE_SWP_UFFD_WP) is set" if uffd else
                    "bit 2 is clear" if x86_64.has_uffd_wp(model) else "this model has no uffd-wp bits")
        none_why = (f"{value:#x} & ~0x60 = {value & ~x86_64.KNL_ERRATUM_MASK & ENTRY_MASK:#x}"
                    + (" (A/D ignored)" if x86_64.knl_erratum(model) else ""))
    elif arch != "generic":
        form = mod.form_of(value, level, model)
        present = form in ("present", "protnone", "table")
        present_why = f"pte_present() reads it as {form}"
        swap_layout = mod.layout("swap", level, model)
        uffd_field = swap_layout.get("swp_uffd_wp")
        uffd = form == "swap" and uffd_field is not None and bool(uffd_field.extract(value))
        uffd_why = ("this model has no uffd-wp bits" if uffd_field is None else
                    f"bit {uffd_field.lsb} ({mod.SWP_UFFD_WP}) is set" if uffd else f"bit {uffd_field.lsb} is clear")
        none_why = f"{value:#x} {'=' if value == 0 else '!='} 0"
    else:
        present, present_why = False, "a generic swp_entry_t is never present"
        uffd, uffd_why = False, "asm-generic pgtable_uffd.h: pte_swp_uffd_wp() is always 0"
        none_why = f"{value:#x} {'=' if value == 0 else '!='} 0"
    valid_swap = False
    valid_why = "pte_none or present: no swap entry at all"
    if not none and not present:
        cls, swap = _swap_class(value, level, model, mod)
        valid_swap = cls == "swap" and 0 < swap.offset < SWAP_HEADER_OFFSET_LIMIT
        if cls != "swap":
            valid_why = f"swap type {swap.type} is {swap.type_name}, not a swap file"
        elif not valid_swap:
            valid_why = f"type {swap.type}, offset {swap.offset:#x}: no swap area holds that page"
        else:
            valid_why = f"type {swap.type}, offset {swap.offset:#x} can be a real swapped-out page"
    return (
        Rule("pte_none() == false", not none, none_why),
        Rule("pte_present() == false", not present, present_why),
        Rule("pte_swp_uffd_wp() == true", uffd, uffd_why),
        Rule("not a valid swap entry", not valid_swap, valid_why),
    )
