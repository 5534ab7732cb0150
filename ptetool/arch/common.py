"""Pieces shared by the arch tables: version conditions and swap-offset views."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from ptetool.kernel import Model, Version
from ptetool.layout import Family, Field, Layout, Source
from ptetool.swaptypes import PFN_TYPE_CLASSES, SWAPOPS_H, marker_bits

Feature = Callable[[Model], bool]


class When(NamedTuple):
    """The kernels (and model features) in which a field definition holds."""

    since: Version | None = None
    until: Version | None = None  # the first version without it
    needs: Feature | None = None
    unless: Feature | None = None

    def holds(self, model: Model) -> bool:
        return (
            (self.since is None or model.version >= self.since)
            and (self.until is None or model.version < self.until)
            and (self.needs is None or self.needs(model))
            and (self.unless is None or not self.unless(model))
        )


ALWAYS = When()
FieldDef = tuple[Field, When]


def select(name: str, doc: str, defs: Iterable[FieldDef], model: Model) -> Layout:
    """The layout of the definitions that hold for ``model``; Layout validates coverage."""
    return Layout(name=name, doc=doc, fields=tuple(f for f, when in defs if when.holds(model)))


def migration_ad_supported(model: Model) -> bool:
    """Young/dirty kept in migration entries (swapops.h 6.1 on, swap_migration_ad_supported).

    The kernel also needs the maximum swap file size to reach 2^(SWP_PFN_BITS+2)
    pages, which holds unless an L1TF mitigation shrinks it; ptetool assumes it does.
    """
    return model.version >= (6, 1)


def offset_views(offset: Field, cls: str, type_name: str, model: Model,
                 swp_pfn_bits: int | None = None) -> tuple[Field, ...]:
    """Aliases over a swap offset: the PFN (and young/dirty) of PFN entries, the marker bits.

    ``swp_pfn_bits`` is the arch's MAX_PHYSMEM_BITS - PAGE_SHIFT (default: x86_64's, from the model).
    """
    swp_pfn_bits = model.swp_pfn_bits if swp_pfn_bits is None else swp_pfn_bits

    def view(name: str, bit: int, width: int, doc: str, source: Source, family: Family) -> Field:
        return offset._replace(
            name=name, lsb=offset.lsb + bit, width=width, doc=doc, source=source,
            family=family, alias_of=offset.name, value_shift=0, zero_expected=False,
        )

    if cls == "pte_marker":
        return tuple(
            view(f"marker_{m.name}", m.bit, 1, m.doc, m.source, Family.MARKER) for m in marker_bits(model)
        )
    if cls not in PFN_TYPE_CLASSES:
        return ()
    pfn_bits = min(swp_pfn_bits, offset.width)
    views = [
        view("pfn", 0, pfn_bits, "page frame number kept in the swap offset (SWP_PFN_BITS = "
             f"MAX_PHYSMEM_BITS - PAGE_SHIFT = {swp_pfn_bits})", Source(SWAPOPS_H, "6.12"), Family.FRAME)
    ]
    if cls == "migration" and migration_ad_supported(model) and pfn_bits + 2 <= offset.width:
        views.append(view("mig_young", pfn_bits, 1, "SWP_MIG_YOUNG_BIT: the page was young when migration began",
                          Source(SWAPOPS_H, "6.1"), Family.SWAP_FLAG))
        views.append(view("mig_dirty", pfn_bits + 1, 1, "SWP_MIG_DIRTY_BIT: the page was dirty when migration began",
                          Source(SWAPOPS_H, "6.1"), Family.SWAP_FLAG))
    return tuple(views)


def swap_layout(name: str, doc: str, defs: Iterable[FieldDef], model: Model, cls: str, type_name: str,
                swp_pfn_bits: int) -> Layout:
    """A swap-format layout with the views its class reads over the offset (pfn, markers)."""
    base = select(name, doc, defs, model)
    return with_views(base, offset_views(base["swp_offset"], cls, type_name, model, swp_pfn_bits), cls)


def with_views(layout: Layout, views: tuple[Field, ...], suffix: str) -> Layout:
    if not views:
        return layout
    return Layout(name=f"{layout.name} {suffix}", doc=layout.doc, fields=layout.fields + views)


def offset_used_bits(cls: str, model: Model, offset_width: int, swp_pfn_bits: int) -> int | None:
    """How many low offset bits a PFN entry may use; None where the whole offset is meaningful."""
    if cls not in PFN_TYPE_CLASSES:
        return None
    used = min(swp_pfn_bits, offset_width)
    if cls == "migration" and migration_ad_supported(model):
        used = min(used + 2, offset_width)
    return used
