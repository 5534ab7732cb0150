"""ptetool against values the kernel's own header code computed (tools/derive_vectors).

Each JSON file under tests/data/kernel_vectors names the tree, config and
compiler it came from. Every vector must decode to what the kernel meant and
encode back to the same bits.
"""

from __future__ import annotations

from typing import Any

import pytest

from ptetool.arch import generic, x86_64
from ptetool.decoder import decode
from ptetool.encoder import encode
from ptetool.swaptypes import marker_bits, swap_types
from tests.kernel_vectors import VectorFile, as_int, load_all

FILES = load_all()
# Kernel runtime state ptetool's model does not express: migration A/D bits
# switched off (swap_migration_ad_supported() false) and shadow stacks (only
# pte_write() changes). Vectors computed under those profiles are skipped by name.


def modelled(vector: dict[str, Any]) -> bool:
    runtime = vector["inputs"].get("runtime") or {}
    return runtime.get("ad_supported", True) and not runtime.get("shstk", False)


def test_vector_files_exist() -> None:
    assert len(FILES) >= 8
    assert {f.provenance["kernelversion"][:4] for f in FILES} >= {"6.1.", "6.12"}


@pytest.fixture(params=FILES, ids=lambda f: f.name)
def vf(request: pytest.FixtureRequest) -> VectorFile:
    return request.param  # type: ignore[no-any-return]


SWAP_CONSTANTS = {
    "SWP_HWPOISON": "hwpoison", "SWP_MIGRATION_READ": "migration_read",
    "SWP_MIGRATION_READ_EXCLUSIVE": "migration_read_exclusive", "SWP_MIGRATION_WRITE": "migration_write",
    "SWP_DEVICE_WRITE": "device_write", "SWP_DEVICE_READ": "device_read",
    "SWP_DEVICE_EXCLUSIVE_WRITE": "device_exclusive_write", "SWP_DEVICE_EXCLUSIVE_READ": "device_exclusive_read",
    "SWP_DEVICE_EXCLUSIVE": "device_exclusive", "SWP_PTE_MARKER": "pte_marker", "SWP_SWAPIN_ERROR": "swapin_error",
}


def test_swap_type_numbering(vf: VectorFile) -> None:
    model = vf.model()
    types = swap_types(model)
    assert types.max_swapfiles == vf.constants["MAX_SWAPFILES"]
    checked = 0
    for const, name in SWAP_CONSTANTS.items():
        if const in vf.constants:
            assert types.number_of(name) == vf.constants[const], const
            checked += 1
        else:
            assert types.number_of(name) is None, f"{const} does not exist in {vf.name}"
    assert checked >= 1


X86_BITS = {  # kernel constant -> (form, level, field) whose lsb must equal it
    "_PAGE_BIT_PRESENT": ("present", "pte", "present"), "_PAGE_BIT_RW": ("present", "pte", "rw"),
    "_PAGE_BIT_USER": ("present", "pte", "user"), "_PAGE_BIT_PWT": ("present", "pte", "pwt"),
    "_PAGE_BIT_PCD": ("present", "pte", "pcd"), "_PAGE_BIT_ACCESSED": ("present", "pte", "accessed"),
    "_PAGE_BIT_DIRTY": ("present", "pte", "dirty"), "_PAGE_BIT_PAT": ("present", "pte", "pat"),
    "_PAGE_BIT_PSE": ("present", "pmd", "pse"), "_PAGE_BIT_GLOBAL": ("present", "pte", "global"),
    "_PAGE_BIT_SPECIAL": ("present", "pte", "special"), "_PAGE_BIT_UFFD_WP": ("present", "pte", "uffd_wp"),
    "_PAGE_BIT_SOFT_DIRTY": ("present", "pte", "soft_dirty"), "_PAGE_BIT_PAT_LARGE": ("present", "pmd", "pat_large"),
    "_PAGE_BIT_DEVMAP": ("present", "pte", "devmap"), "_PAGE_BIT_SAVED_DIRTY": ("present", "pte", "saved_dirty"),
    "_PAGE_BIT_PKEY_BIT0": ("present", "pte", "pkey"), "_PAGE_BIT_NX": ("present", "pte", "nx"),
    "_PAGE_BIT_PROTNONE": ("protnone", "pte", "protnone"),
}
CONFIG_OFF_NAMES = {"soft_dirty": "softw3", "uffd_wp": "softw2"}
X86_MASKS = {  # kernel mask constant -> (form, level, field) whose derived mask must equal it
    "_PAGE_SWP_SOFT_DIRTY": ("swap", "pte", "swp_soft_dirty"), "_PAGE_SWP_UFFD_WP": ("swap", "pte", "swp_uffd_wp"),
    "_PAGE_SWP_EXCLUSIVE": ("swap", "pte", "swp_exclusive"), "PTE_PFN_MASK": ("present", "pte", "pfn"),
    "PHYSICAL_PMD_PAGE_MASK": ("present", "pmd", "pfn"), "PHYSICAL_PUD_PAGE_MASK": ("present", "pud", "pfn"),
    "_PAGE_PKEY_MASK": ("present", "pte", "pkey"),
}


def test_x86_bit_numbers_and_masks(vf: VectorFile) -> None:
    model = vf.model()
    checked = 0
    for const, (form, level, name) in X86_BITS.items():
        if const in vf.constants:
            lay = x86_64.layout(form, level, model)
            # The bit number exists whatever the config; the name ptetool gives it follows the config.
            name = name if name in lay else CONFIG_OFF_NAMES.get(name, name)
            assert name in lay, f"{const}: no field {name} in {lay.name}"
            assert lay[name].lsb == vf.constants[const], const
            checked += 1
    for const, (form, level, name) in X86_MASKS.items():
        if const in vf.constants:
            lay = x86_64.layout(form, level, model)
            if vf.constants[const] == 0:  # the kernel defines the mask as 0 when the option is off
                assert name not in lay, const
            else:
                assert lay[name].mask == vf.constants[const], const
            checked += 1
    swap = x86_64.layout("swap", "pte", model)
    assert swap["swp_type"].width == vf.constants["SWP_TYPE_BITS"]
    assert swap["swp_offset"].lsb == vf.constants["SWP_OFFSET_FIRST_BIT"]
    assert swap["swp_type"].lsb == 64 - vf.constants["SWP_TYPE_BITS"]
    assert vf.constants["_PAGE_KNL_ERRATUM_MASK"] == x86_64.KNL_ERRATUM_MASK
    assert generic.layout("swap", "pte", model)["swp_type"].lsb == vf.constants["SWP_TYPE_SHIFT"]
    assert model.swp_pfn_bits == vf.constants["SWP_PFN_BITS"]
    assert checked >= 20


def test_marker_bits(vf: VectorFile) -> None:
    model = vf.model()
    ours = {m.name: 1 << m.bit for m in marker_bits(model)}
    theirs = {k.removeprefix("PTE_MARKER_").lower(): v for k, v in vf.constants.items()
              if k.startswith("PTE_MARKER_") and k != "PTE_MARKER_MASK"}
    assert ours == theirs
    assert sum(ours.values()) == vf.constants["PTE_MARKER_MASK"]


def _check_roundtrip(value: int, level: str, vf: VectorFile, runtime: dict[str, Any] | None = None,
                     arch: str = "x86_64") -> Any:
    model = vf.model(runtime)
    d = decode(value, arch, level, model)
    assert encode(d.cls, d.field_values, arch, level, model).value == value
    return d


KIND_CLASS = {"migration_pte": "migration", "device_private_pte": "device_private",
              "device_exclusive_pte": "device_exclusive", "hwpoison_pte": "hwpoison"}


def test_entry_vectors(vf: VectorFile) -> None:
    counts: dict[str, int] = {}
    types = swap_types(vf.model())
    for v in vf.vectors:
        kind, inputs = v["kind"], v["inputs"]
        if not modelled(v) or kind in ("predicate", "pmd", "pte_pfn"):
            continue
        counts[kind] = counts.get(kind, 0) + 1
        if kind == "swp_decode":
            d = decode(as_int(inputs["pte"]), "x86_64", "pte", vf.model())
            if d.swap is not None:
                assert (d.swap.type, d.swap.offset) == (v["value"]["type"], v["value"]["offset"]), v["id"]
            continue
        value = as_int(v["value"])
        if kind == "swp_entry_val":
            d = _check_roundtrip(value, "pte", vf, arch="generic")
            if value:
                assert d.swap is not None and (d.swap.type, d.swap.offset) == (inputs["type"], inputs["offset"])
            continue
        d = _check_roundtrip(value, "pte", vf, inputs.get("runtime"))
        fields = d.field_values
        if kind in ("swp_pte", "swp_pte_flags") and d.cls == "none":
            # swp_entry(0, 2^50-1) inverts to an all-zero PTE: the kernel too reads it as pte_none.
            assert (inputs["type"], inputs["offset"]) == (0, (1 << 50) - 1) and not inputs.get("flags"), v["id"]
        elif kind in ("swp_pte", "swp_pte_flags"):
            assert d.swap is not None and (d.swap.type, d.swap.offset) == (inputs["type"], inputs["offset"]), v["id"]
            assert d.swap.type_name == types.names[inputs["type"]]
            # Without its config option a pte_swp_mk*() helper is a no-op, and ptetool has no such field.
            flags = [f"swp_{f}" for f in inputs.get("flags", []) if f"swp_{f}" in fields]
            for flag in flags:
                assert fields[flag] == 1, v["id"]
            if d.cls != "uffd_wp_special":
                made = encode(d.cls, {"swp_type": inputs["type"], "swp_offset": inputs["offset"],
                                      **dict.fromkeys(flags, 1)}, "x86_64", "pte", vf.model()).value
                assert made == value, v["id"]
        elif kind == "marker_pte":
            assert d.cls == "pte_marker" and list(d.marker or ()) == inputs["bits"], v["id"]
            assert encode("pte_marker", {f"marker_{b}": 1 for b in inputs["bits"]}, "x86_64", "pte",
                          vf.model()).value == value
        elif kind in KIND_CLASS:
            assert d.cls == KIND_CLASS[kind], v["id"]
            assert fields["pfn"] == inputs["pfn"], v["id"]
            if "which" in inputs and d.swap:
                assert d.swap.type_name.endswith(inputs["which"]), v["id"]
            if kind == "migration_pte":
                assert fields["mig_young"] == inputs["young"] and fields["mig_dirty"] == inputs["dirty"], v["id"]
            assert not d.problems, (v["id"], d.problems)
        elif kind == "present_pte":
            assert d.cls in ("present", "protnone") and fields["pfn"] == inputs["pfn"], v["id"]
        elif kind == "protnone_pte":
            assert d.cls == "protnone" and fields["pfn"] == inputs["pfn"], v["id"]
        else:
            raise AssertionError(f"unknown vector kind {kind}")
    assert counts.get("swp_pte", 0) >= 40 and counts.get("migration_pte", 0) >= 6, counts


def test_pfn_vectors(vf: VectorFile) -> None:
    """pte_pfn and pmd_pfn agree with ptetool's pfn wherever the class has a frame."""
    checked = 0
    for v in vf.vectors:
        inputs = v["inputs"]
        if v["kind"] == "pte_pfn":
            d = _check_roundtrip(as_int(inputs["pte"]), "pte", vf)
        elif v["kind"] == "pmd" and inputs.get("result") == "pmd_pfn" and "pmd" in inputs:
            d = _check_roundtrip(as_int(inputs["pmd"]), "pmd", vf)
        else:
            continue
        if d.cls in ("present", "protnone"):
            assert d.field_values["pfn"] == as_int(v["value"]), v["id"]
            checked += 1
    assert checked >= 6


def test_pmd_vectors(vf: VectorFile) -> None:
    checked = 0
    for v in vf.vectors:
        if v["kind"] != "pmd" or "result" in v["inputs"] or not modelled(v):
            continue
        d = _check_roundtrip(as_int(v["value"]), "pmd", vf, v["inputs"].get("runtime"))
        ops = v["inputs"]["ops"]
        if "pmd_mkinvalid" in ops or "pfn_pmd(PAGE_NONE)" in ops:
            assert d.cls == "protnone", v["id"]
        elif any(op.startswith("swp_entry(") for op in ops):
            assert d.cls == "swap", v["id"]
        elif any("migration" in op for op in ops):
            assert d.cls == "migration" and d.field_values["pfn"] == v["inputs"]["pfn"], v["id"]
        else:
            assert d.cls == "present", v["id"]
        if "pfn" in v["inputs"] and d.cls in ("present", "protnone"):
            assert d.field_values["pfn"] == v["inputs"]["pfn"], v["id"]
        checked += 1
    assert checked >= 8


PTE_PREDICATES = {
    "pte_none": lambda d: d.cls == "none",
    "pte_present": lambda d: d.cls in ("present", "protnone"),
    "pte_protnone": lambda d: d.cls == "protnone",
    "is_swap_pte": lambda d: d.swap is not None,
    "is_pte_marker": lambda d: d.cls == "pte_marker",
}
PMD_PREDICATES = {
    "pmd_none": lambda d: d.cls == "none",
    "pmd_present": lambda d: d.cls in ("present", "protnone"),
    "is_pmd_migration_entry": lambda d: d.cls == "migration",
}


def test_predicates(vf: VectorFile) -> None:
    """The kernel's own predicates agree with ptetool's class on every value they were run on."""
    checked = 0
    for v in vf.vectors:
        if v["kind"] != "predicate":
            continue
        pred, inputs = v["inputs"]["pred"], v["inputs"]
        if pred in PTE_PREDICATES and "pte" in inputs:
            d = decode(as_int(inputs["pte"]), "x86_64", "pte", vf.model())
            assert PTE_PREDICATES[pred](d) == bool(v["value"]), (v["id"], d.cls)
        elif pred in PMD_PREDICATES and "pmd" in inputs:
            d = decode(as_int(inputs["pmd"]), "x86_64", "pmd", vf.model())
            assert PMD_PREDICATES[pred](d) == bool(v["value"]), (v["id"], d.cls)
        elif pred in ("pte_swp_uffd_wp", "pte_swp_soft_dirty", "pte_swp_exclusive") and "pte" in inputs:
            d = decode(as_int(inputs["pte"]), "x86_64", "pte", vf.model())
            name = "swp_" + pred.removeprefix("pte_swp_")
            if d.swap is None or name not in d.field_values:
                continue  # the kernel ran the helper on a value that holds no such swap bit: nothing to compare
            assert d.field_values[name] == v["value"], v["id"]
        elif pred in ("pte_special", "pte_uffd_wp", "pte_soft_dirty", "pte_devmap", "pte_young") and "pte" in inputs:
            d = decode(as_int(inputs["pte"]), "x86_64", "pte", vf.model())
            name = {"pte_young": "accessed"}.get(pred, pred.removeprefix("pte_"))
            if d.cls != "present" or name not in d.field_values:
                continue  # a bit this model's present layout does not have
            assert d.field_values[name] == v["value"], v["id"]
        else:
            continue
        checked += 1  # only vectors an assertion above compared
    assert checked >= 60
