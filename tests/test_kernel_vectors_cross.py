"""arm64 and riscv64 against values their kernels' own header code computed (issue #11).

tools/derive_vectors/derive_cross.py built each tree's headers with its Kbuild for the arch (cross
gcc, defconfig plus the mm options), ran the functions under qemu-user and wrote every result with
its provenance. Every vector must decode to what the kernel meant and encode back to the same bits.
riscv64 vectors were computed with the alternatives unpatched: a CPU without Svnapot or Svpbmt.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ptetool.decoder import Decoded, arch_module, classify, decode
from ptetool.encoder import encode
from ptetool.swaptypes import marker_bits, swap_types
from tests.kernel_vectors import VectorFile, as_int, load_all
from tests.test_kernel_vectors import SWAP_CONSTANTS

FILES = [f for arch in ("arm64", "riscv64") for f in load_all(arch)]


def test_vector_files_exist() -> None:
    names = {f.name for f in FILES}
    assert {"arm64-6.1.192-defconfig", "arm64-6.12.117-defconfig",
            "riscv64-6.1.192-defconfig", "riscv64-6.12.117-defconfig"} <= names


@pytest.fixture(params=FILES, ids=lambda f: f.name)
def vf(request: pytest.FixtureRequest) -> VectorFile:
    return request.param  # type: ignore[no-any-return]


def arch_of(vf: VectorFile) -> str:
    return str(vf.provenance["arch"])


def kind(vf: VectorFile, name: str) -> list[dict[str, Any]]:
    return [v for v in vf.vectors if v["kind"] == name]


def fallback(vf: VectorFile, helper: str) -> bool:
    """The arch lacks ``helper``: the generic one returns the entry unchanged."""
    return helper in vf.provenance.get("generic_fallback_helpers", [])


def test_swap_type_numbering(vf: VectorFile) -> None:
    types = swap_types(vf.model())
    assert types.max_swapfiles == vf.constants["MAX_SWAPFILES"]
    for const, name in SWAP_CONSTANTS.items():
        if const in vf.constants:
            assert types.number_of(name) == vf.constants[const], const


def test_swap_layout_constants(vf: VectorFile) -> None:
    model, arch = vf.model(), arch_of(vf)
    swap = arch_module(arch).layout("swap", "pte", model)
    c = vf.constants
    assert (swap["swp_type"].lsb, swap["swp_type"].width) == (c["__SWP_TYPE_SHIFT"], c["__SWP_TYPE_BITS"])
    assert swap["swp_offset"].lsb == c["__SWP_OFFSET_SHIFT"]
    if "MAX_PHYSMEM_BITS" in c:  # SPARSEMEM; FLATMEM (riscv 6.1 defconfig) is not modelled, see riscv64.swp_pfn_bits
        assert arch_module(arch).swp_pfn_bits(model) == c["SWP_PFN_BITS"]
    exclusive = c.get("PTE_SWP_EXCLUSIVE", c.get("_PAGE_SWP_EXCLUSIVE"))
    if exclusive and not fallback(vf, "pte_swp_mkexclusive"):
        assert swap["swp_exclusive"].mask == exclusive
    else:
        assert "swp_exclusive" not in swap
    if c.get("PTE_SWP_UFFD_WP") and arch_module(arch).has_uffd_wp(model):
        assert swap["swp_uffd_wp"].mask == c["PTE_SWP_UFFD_WP"]


def test_swap_entries(vf: VectorFile) -> None:
    model, arch = vf.model(), arch_of(vf)
    names = swap_types(model).names
    checked = 0
    for v in kind(vf, "swp_pte"):
        value, t, offset = as_int(v["value"]), v["inputs"]["type"], v["inputs"]["offset"]
        d = decode(value, arch, "pte", model)
        if value == 0:
            assert d.cls == "none", v["id"]
            continue
        assert d.swap is not None and (d.swap.type, d.swap.type_name) == (t, names[t]), v["id"]
        assert d.swap.offset == offset, v["id"]
        assert encode(d.cls, d.field_values, arch, "pte", model).value == value, v["id"]
        checked += 1
    assert checked >= 20


def test_swap_decode_of_every_swap_shaped_value(vf: VectorFile) -> None:
    """swp_type()/swp_offset() of pte_to_swp_entry(), wherever the value is a swap-format entry to us."""
    model, arch = vf.model(), arch_of(vf)
    checked = 0
    for v in kind(vf, "swp_decode"):
        raw = as_int(v["inputs"]["pte"])
        _cls, form, swap = classify(raw, arch, "pte", model)
        if form != "swap":
            continue
        assert swap is not None and (swap.type, swap.offset) == (v["value"]["type"], v["value"]["offset"]), v["id"]
        checked += 1
    assert checked >= 30


def test_swap_flags(vf: VectorFile) -> None:
    model, arch = vf.model(), arch_of(vf)
    checked = 0
    for v in kind(vf, "swp_pte_flags"):
        value, flags = as_int(v["value"]), v["inputs"]["flags"]
        d = decode(value, arch, "pte", model)
        if value:
            assert encode(d.cls, d.field_values, arch, "pte", model).value == value, v["id"]
        for flag in flags:
            if fallback(vf, f"pte_swp_mk{flag}"):  # the generic helper: no bit for it on this arch
                assert not d.fields.get(f"swp_{flag}"), (v["id"], flag)
            else:
                assert d.fields[f"swp_{flag}"] == 1, (v["id"], flag)
                checked += 1
    assert checked or all(fallback(vf, f"pte_swp_mk{f}") for f in ("exclusive", "uffd_wp", "soft_dirty"))


def test_markers(vf: VectorFile) -> None:
    model, arch = vf.model(), arch_of(vf)
    markers = kind(vf, "marker_pte")
    if not vf.constants.get("PTE_MARKER_UFFD_WP") or not markers:
        pytest.skip(f"{vf.name}: no PTE markers in this tree and config")
    known = {m.name for m in marker_bits(model)}
    for v in markers:
        d = decode(as_int(v["value"]), arch, "pte", model)
        wanted = tuple(b if b != "swapin_error" or "swapin_error" in known else "poisoned" for b in v["inputs"]["bits"])
        assert (d.cls, d.marker) == ("pte_marker", wanted), v["id"]


@pytest.mark.parametrize(("kind_name", "cls"), [
    ("migration_pte", "migration"), ("device_private_pte", "device_private"),
    ("device_exclusive_pte", "device_exclusive"), ("hwpoison_pte", "hwpoison"),
])
def test_pfn_entries(vf: VectorFile, kind_name: str, cls: str) -> None:
    model, arch = vf.model(), arch_of(vf)
    vectors = [v for v in kind(vf, kind_name) if v["inputs"].get("runtime", {}).get("swap_migration_ad_supported", 1)]
    if not vectors:
        pytest.skip(f"{vf.name}: the config has no {cls} entries")
    for v in vectors:
        d = decode(as_int(v["value"]), arch, "pte", model)
        assert d.cls == cls and d.fields["pfn"] == v["inputs"]["pfn"], v["id"]
        if "MAX_PHYSMEM_BITS" not in vf.constants:
            continue  # FLATMEM: young/dirty sit higher than the SPARSEMEM kernel ptetool models
        if cls == "migration":
            young_dirty = (d.fields["mig_young"], d.fields["mig_dirty"])
            assert young_dirty == (v["inputs"]["young"], v["inputs"]["dirty"]), v["id"]
        assert not d.problems, (v["id"], d.problems)


def test_present_and_protnone_entries(vf: VectorFile) -> None:
    model, arch = vf.model(), arch_of(vf)
    for v in kind(vf, "present_pte") + kind(vf, "protnone_pte"):
        value = as_int(v["value"])
        d = decode(value, arch, "pte", model)
        assert d.cls in ("present", "protnone"), v["id"]
        assert d.fields["pfn"] == v["inputs"]["pfn"], v["id"]
        assert encode(d.cls, d.field_values, arch, "pte", model).value == value, v["id"]
    for v in kind(vf, "protnone_pte"):
        assert decode(as_int(v["value"]), arch, "pte", model).cls == "protnone", v["id"]


def _protnone(d: Decoded) -> bool:
    """pte_protnone(): the PROT_NONE encoding, and only with NUMA balancing (else the generic 0)."""
    return (d.cls == "protnone" and d.model.has("CONFIG_NUMA_BALANCING")
            and not any("not PROT_NONE" in p or "pte_protnone() is false" in p for p in d.problems))


def _flag(*names: str) -> Callable[[Decoded], bool]:
    return lambda d: any(d.fields.get(n, 0) for n in names)


# The kernel's predicates, as ptetool's reading of the same value (None: not asked of this reading).
PREDICATES: dict[str, dict[str, Callable[[Decoded], bool | None]]] = {
    "common": {
        "pte_none": lambda d: d.cls == "none",
        "pmd_none": lambda d: d.cls == "none",
        "pte_present": lambda d: d.cls in ("present", "protnone"),
        "pmd_present": lambda d: d.cls in ("present", "protnone"),
        "pud_present": lambda d: d.cls in ("present", "protnone"),
        "is_swap_pte": lambda d: d.cls not in ("none", "present", "protnone"),
        "is_pte_marker": lambda d: d.cls == "pte_marker",
        "is_pmd_migration_entry": lambda d: d.cls == "migration",
        "pte_soft_dirty": _flag("soft_dirty"),
        "pte_protnone": lambda d: _protnone(d),
        "pmd_protnone": lambda d: _protnone(d),
        "pte_swp_exclusive": lambda d: bool(d.fields.get("swp_exclusive")) if d.swap else None,
        "pte_swp_uffd_wp": lambda d: bool(d.fields.get("swp_uffd_wp")) if d.swap else None,
        "pte_swp_soft_dirty": lambda d: bool(d.fields.get("swp_soft_dirty")) if d.swap else None,
    },
    "arm64": {
        "pmd_table": lambda d: d.layout.name.endswith(" table"),
        "pte_valid": _flag("valid"), "pmd_valid": _flag("valid"), "pte_young": _flag("af"),
        "pmd_young": _flag("af"), "pte_special": _flag("special"), "pte_devmap": _flag("devmap"),
        "pte_uffd_wp": _flag("uffd_wp"), "pte_user": _flag("user"), "pte_cont": _flag("cont"),
        "pte_write": _flag("dbm"), "pmd_write": _flag("dbm"), "pte_present_invalid": _flag("present_invalid"),
        "pte_dirty": lambda d: bool(d.fields.get("dirty") or (d.fields.get("dbm") and not d.fields.get("rdonly"))),
    },
    "riscv64": {
        "pte_young": _flag("a"), "pmd_young": _flag("a"), "pte_dirty": _flag("d"), "pmd_dirty": _flag("d"),
        "pte_write": _flag("w"), "pmd_write": _flag("w"), "pte_exec": _flag("x"), "pte_user": _flag("u"),
        "pte_special": _flag("special"), "pte_devmap": _flag("devmap"), "pte_napot": _flag("napot"),
    },
}
# Flag predicates read bits the kernel only means for a present entry.
PRESENT_ONLY = ("young", "dirty", "write", "special", "devmap", "uffd_wp", "user", "cont", "exec", "napot", "valid")


def test_kernel_predicates(vf: VectorFile) -> None:
    model, arch = vf.model(), arch_of(vf)
    table = {**PREDICATES["common"], **PREDICATES[arch]}
    checked = 0
    for v in kind(vf, "predicate"):
        pred = v["inputs"]["pred"]
        if pred not in table:
            continue
        level = next(lv for lv in ("pte", "pmd", "pud") if lv in v["inputs"])
        raw = as_int(v["inputs"][level])
        d = decode(raw, arch, level, model)
        leaf = d.cls in ("present", "protnone") and not d.layout.name.endswith(" table")
        if pred.split("_", 1)[1] in PRESENT_ONLY and not leaf:
            continue
        ours = table[pred](d)
        if ours is None:
            continue
        assert ours == bool(v["value"]), (v["id"], d.cls, d.flags)
        checked += 1
    assert checked >= 300
