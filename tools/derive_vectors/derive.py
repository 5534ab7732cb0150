#!/usr/bin/env python3
"""Derive x86_64 page-table test vectors from a real kernel tree.

Every number this script writes was produced by the kernel's own header code
(include/linux/swapops.h, include/linux/swap.h, arch/x86/include/asm/...),
compiled by gcc through the kernel's own Kbuild with that tree's flags and a
chosen configuration.  Nothing is computed by hand formulas here.

How it works
------------
1. ``make O=BUILD x86_64_defconfig``; ``scripts/config`` applies the options of
   the chosen config spec (see CONFIG_SPECS); ``make olddefconfig``; the script
   checks that every requested option really has the requested value, then
   runs ``make modules_prepare``.
2. It writes ``vec.c`` (from ``vec_template.c`` beside this file) holding one
   ``noinline`` function per vector or constant, e.g.
   ``u64 dv_0007(void) { return (u64)(pte_val(swp_entry_to_pte(swp_entry(1, 0x1234)))); }``
   and builds it with ``make -C BUILD M=WORK/mod vec.o`` (out-of-tree module
   object, kernel flags: -mcmodel=kernel, return thunks, ...).
3. ``objdump -dr vec.o`` tells, per function, whether gcc folded it to a
   constant or whether it reads runtime kernel state (``__supported_pte_mask``,
   ``swap_migration_ad_supported``, the LA57 capability bit in
   ``boot_cpu_data``, ...).  Functions that read any other runtime state are
   dropped (listed in provenance).
4. ``vec.o`` is linked statically (non-PIE, so the kernel's 32-bit
   sign-extended relocations fit) with a small userspace harness
   (``harness_template.c``) that defines those runtime variables, and is run
   once per runtime *profile* (``default``: 4-level paging, migration A/D bits
   supported, no shadow stacks; ``la57``: 5-level paging; ``noad``: A/D bits
   unsupported; ``shstk``: CPU with shadow stacks).  The printed numbers are what the compiled kernel code returned.  For folded
   functions the value must be equal in every profile and equal to the
   immediate in the disassembly; the script checks both.
5. The JSON (format below) goes to
   ``OUT/x86_64-<kernelversion>-<config>.json``.

Usage
-----
::

    apt-get install linux-source-6.12 bc flex bison libelf-dev libssl-dev
    tar xf /usr/src/linux-source-6.12.tar.xz -C /tmp/k
    python3 tools/derive_vectors/derive.py --tree /tmp/k/linux-source-6.12 \\
        --config allon --work /tmp/vectors-work \\
        --out tests/data/kernel_vectors

``--config`` is one of the names in CONFIG_SPECS (``allon``, ``debian``,
``minimal``, ``nomarker``); repeat the run for each one wanted.
``--tree-label`` overrides the provenance "tree" string (default: detected
from the Debian package ``linux-source-X.Y`` when the path looks like one).
The kernel tree is only read (all build output goes to ``--work``); no kernel
source text is copied into this repository.

Output format
-------------
``{"provenance": {...}, "constants": {NAME: int}, "vectors": [{"id", "kind",
"expr", "value", "inputs"}]}``.  64-bit results are "0x" + 16 lowercase hex
digits; predicates are 0/1 (the C expression is wrapped in ``!!``);
``swp_decode`` values are ``{"type": N, "offset": N}``.  Vectors whose value
depends on runtime state carry ``inputs["runtime"]`` (the profile) and, when a
non-default profile gives a different value, an extra vector whose id ends in
``@<profile>``.  Constants that depend on runtime state hold their ``default``
profile value; ``provenance["runtime_dependent_constants"]`` lists the value
per profile.
"""

import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import common  # noqa: E402
from common import Item, h64, run  # noqa: E402

# ---------------------------------------------------------------------------
# Config specs.  "set" is applied with scripts/config on top of
# x86_64_defconfig ("y" = enable, "n" = disable), then olddefconfig.
# "expect" lists options whose final value must match ("n" = not set/absent).
# ---------------------------------------------------------------------------
_BASE_ON = ["SWAP", "CHECKPOINT_RESTORE", "USERFAULTFD", "TRANSPARENT_HUGEPAGE",
            "NUMA", "NUMA_BALANCING", "MIGRATION"]
_DEV_ON = ["MEMORY_HOTPLUG", "MEMORY_HOTREMOVE", "SPARSEMEM_VMEMMAP",
           "ZONE_DEVICE", "DEVICE_PRIVATE"]

CONFIG_SPECS = {
    # everything that changes the swap-type numbering or swap PTE bits on
    "allon": {
        "set": {**{k: "y" for k in _BASE_ON + _DEV_ON},
                "X86_MCE": "y", "MEMORY_FAILURE": "y",
                "MEM_SOFT_DIRTY": "y", "PTE_MARKER_UFFD_WP": "y"},
        "expect": {"MIGRATION": "y", "MEMORY_FAILURE": "y",
                   "DEVICE_PRIVATE": "y", "MEM_SOFT_DIRTY": "y",
                   "USERFAULTFD": "y", "PTE_MARKER_UFFD_WP": "y",
                   "TRANSPARENT_HUGEPAGE": "y", "NUMA_BALANCING": "y"},
    },
    # like Debian's amd64 config: no DEVICE_PRIVATE, memory-failure on
    "debian": {
        "set": {**{k: "y" for k in _BASE_ON},
                "X86_MCE": "y", "MEMORY_FAILURE": "y",
                "DEVICE_PRIVATE": "n", "MEM_SOFT_DIRTY": "y",
                "PTE_MARKER_UFFD_WP": "y"},
        "expect": {"MIGRATION": "y", "MEMORY_FAILURE": "y",
                   "DEVICE_PRIVATE": "n", "MEM_SOFT_DIRTY": "y",
                   "USERFAULTFD": "y", "PTE_MARKER_UFFD_WP": "y",
                   "TRANSPARENT_HUGEPAGE": "y", "NUMA_BALANCING": "y"},
    },
    # a typical minimal kernel: migration only, no memory-failure, no
    # device-private, no soft-dirty (uffd-wp markers still on)
    "minimal": {
        "set": {**{k: "y" for k in _BASE_ON},
                "MEMORY_FAILURE": "n", "DEVICE_PRIVATE": "n",
                "ZONE_DEVICE": "n", "MEM_SOFT_DIRTY": "n",
                "PTE_MARKER_UFFD_WP": "y"},
        "expect": {"MIGRATION": "y", "MEMORY_FAILURE": "n",
                   "DEVICE_PRIVATE": "n", "MEM_SOFT_DIRTY": "n",
                   "USERFAULTFD": "y", "PTE_MARKER_UFFD_WP": "y",
                   "TRANSPARENT_HUGEPAGE": "y", "NUMA_BALANCING": "y"},
    },
    # allon without PTE_MARKER_UFFD_WP (on 6.0/6.1 this drops CONFIG_PTE_MARKER)
    "nomarker": {
        "set": {**{k: "y" for k in _BASE_ON + _DEV_ON},
                "X86_MCE": "y", "MEMORY_FAILURE": "y",
                "MEM_SOFT_DIRTY": "y", "PTE_MARKER_UFFD_WP": "n"},
        "expect": {"MIGRATION": "y", "MEMORY_FAILURE": "y",
                   "DEVICE_PRIVATE": "y", "MEM_SOFT_DIRTY": "y",
                   "USERFAULTFD": "y", "PTE_MARKER_UFFD_WP": "n",
                   "TRANSPARENT_HUGEPAGE": "y", "NUMA_BALANCING": "y"},
    },
}

# Options recorded in provenance (value "n" when not set or absent).
RECORDED_OPTIONS = [
    "SWAP", "MIGRATION", "X86_MCE", "MEMORY_FAILURE", "ZONE_DEVICE",
    "DEVICE_PRIVATE", "ARCH_HAS_PTE_DEVMAP", "HAVE_ARCH_SOFT_DIRTY",
    "MEM_SOFT_DIRTY", "USERFAULTFD", "HAVE_ARCH_USERFAULTFD_WP", "PTE_MARKER",
    "PTE_MARKER_UFFD_WP", "TRANSPARENT_HUGEPAGE", "ARCH_ENABLE_THP_MIGRATION",
    "NUMA_BALANCING", "X86_5LEVEL", "PGTABLE_LEVELS", "DYNAMIC_PHYSICAL_MASK",
    "AMD_MEM_ENCRYPT", "X86_USER_SHADOW_STACK",
    "X86_INTEL_MEMORY_PROTECTION_KEYS", "PAGE_TABLE_ISOLATION",
    "MITIGATION_PAGE_TABLE_ISOLATION", "DEBUG_VM", "HUGETLB_PAGE",
]

# Runtime profiles the harness runs every function under.
PROFILES = [
    ("default", {"la57": False, "ad_supported": True, "shstk": False}),
    ("la57", {"la57": True, "ad_supported": True, "shstk": False}),
    ("noad", {"la57": False, "ad_supported": False, "shstk": False}),
    ("shstk", {"la57": False, "ad_supported": True, "shstk": True}),
]

# Runtime kernel variables the harness may define, with the value used.
# (name -> (C type, value or profile key, explanation))
KNOWN_RUNTIME = {
    "__supported_pte_mask": ("u64", 0xFFFFFFFFFFFFFFFF,
                             "~0: arch/x86/mm/init_64.c default, NX-capable CPU"),
    "__default_kernel_pte_mask": ("u64", 0xFFFFFFFFFFFFFFFF,
                                  "~0: default; PTI at runtime would clear _PAGE_GLOBAL"),
    "physical_mask": ("u64", (1 << 52) - 1,
                      "(1<<52)-1: no memory-encryption bit"),
    "sme_me_mask": ("u64", 0, "0: no AMD SME"),
    "swap_migration_ad_supported": ("u8", "ad_supported",
                                    "per profile (set by swapfile_init on real kernels)"),
    "__pgtable_l5_enabled": ("u32", "la57", "per profile"),
    "boot_cpu_data": ("blob", None,
                      "all zero except X86_FEATURE_LA57 and X86_FEATURE_SHSTK, set per profile"),
}
IGNORED_SYMS = {"__x86_return_thunk", "__fentry__"}

# ---------------------------------------------------------------------------
# Vector catalogue
# ---------------------------------------------------------------------------
OFFSETS = [0, 1, 0x1234, (1 << 50) - 1, 0xDEADBEEF]
DECODE_PTES = [0x4, 0x0FFFFFFFFFDB9600, 0xFFFFFFFFFFFFFC00, 0x07FFFFFFFFFFFE04,
               0x07FFFFFFFFFFFE00, 0x07FFFFFFFFFFFE0E, 0x2, 0xFFFFFFFFFFFFF600,
               0xC7FFE7FFCA5DF200, 0xE7FFE7FFCA5DF200, 0x8000000000000000,
               0xFFFFFFFFFFFFFFFE]
PRED_PTES = [0x0, 0x20, 0x40, 0x60, 0x4, 0x100, 0x101, 0x1, 0x2, 0x80,
             0x120, 0x160, 0x8000000000000000, 0x0FFFFFFFFFDB9600,
             0xFFFFFFFFFFFFFC00, 0x8000000123456067, 0x0400000123456025,
             0x000FFFFEDCBA9120]
PTE_PREDS = ["pte_none", "pte_present", "pte_protnone", "is_swap_pte",
             "pte_dirty", "pte_write", "pte_young", "pte_special",
             "pte_uffd_wp", "pte_soft_dirty", "pte_swp_soft_dirty",
             "pte_swp_uffd_wp", "pte_swp_exclusive", "pte_exec", "pte_devmap",
             "pte_flags_pkey", "is_pte_marker"]
PMD_PREDS = ["pmd_none", "pmd_present", "pmd_trans_huge", "pmd_protnone",
             "is_pmd_migration_entry", "pmd_leaf", "pmd_large", "pmd_devmap",
             "pmd_swp_soft_dirty", "pmd_swp_uffd_wp", "pmd_dirty", "pmd_write"]
PFN_PTES = [0x0, 0x60, 0x100, 0x8000000123456067, 0x000FFFFEDCBA9120,
            0x0000000123456120, 0x0FFFFFFFFFDB9600, 0x8000000000000000,
            0xFFFFFFFFFFFFF600]
PFN_PMDS = [0x0, 0x80000000002000E7, 0x00000000002000E7, 0x00000000002000E6,
            0x000FFFFFFFC001A0, 0x800FFFFFFFC000A6, 0x00000000002001E0,
            0x84000000002008A5]


HDRS = [*common.GENERIC_HDRS, "arch/x86/include/asm/pgtable.h",
        "arch/x86/include/asm/pgtable_64.h",
        "arch/x86/include/asm/pgtable_types.h"]


def macro_names(tree, relpath, pattern):
    """Names of object-like #defines matching pattern (names only)."""
    out = []
    p = os.path.join(tree, relpath)
    if not os.path.exists(p):
        return out
    rx = re.compile(r"^\s*#\s*define\s+(%s)(?=\s|$)" % pattern)
    with open(p, errors="replace") as fh:
        for line in fh:
            m = rx.match(line)
            if m and m.group(1) not in out:
                out.append(m.group(1))
    return out


def build_catalogue(tree):
    has = lambda ident: common.tree_has(tree, ident, HDRS)  # noqa: E731
    items = []

    # ---- constants ---------------------------------------------------------
    const_names = macro_names(tree, "arch/x86/include/asm/pgtable_types.h",
                              r"_PAGE_BIT_[A-Z0-9_]+")
    const_names += macro_names(tree, "arch/x86/include/asm/pgtable_types.h",
                               r"_H?PAGE_[A-Z0-9_]+")
    const_names += ["_PAGE_SWP_SOFT_DIRTY", "_PAGE_SWP_UFFD_WP", "_PAGE_SWP_EXCLUSIVE", "SWP_TYPE_BITS", "SWP_OFFSET_FIRST_BIT", "SWP_OFFSET_SHIFT", "MAX_SWAPFILES_SHIFT", "MAX_SWAPFILES", "SWP_TYPE_SHIFT", "SWP_OFFSET_MASK", "BITS_PER_XA_VALUE", "SWP_DEVICE_NUM", "SWP_MIGRATION_NUM", "SWP_HWPOISON_NUM", "SWP_PTE_MARKER_NUM", "SWP_SWAPIN_ERROR_NUM", *common.SPECIAL_TYPES, "PTE_MARKER_UFFD_WP", "PTE_MARKER_SWAPIN_ERROR", "PTE_MARKER_POISONED", "PTE_MARKER_GUARD", "PTE_MARKER_MASK", "SWP_PFN_BITS", "SWP_PFN_MASK", "SWP_MIG_YOUNG_BIT", "SWP_MIG_DIRTY_BIT", "SWP_MIG_TOTAL_BITS", "SWP_MIG_YOUNG", "SWP_MIG_DIRTY", "MAX_PHYSMEM_BITS", "__PHYSICAL_MASK_SHIFT", "__PHYSICAL_MASK", "__VIRTUAL_MASK_SHIFT", "PAGE_SHIFT", "PMD_SHIFT", "PUD_SHIFT", "P4D_SHIFT", "PGDIR_SHIFT", "PTRS_PER_PTE", "PTRS_PER_PMD", "PTRS_PER_PUD", "PTE_PFN_MASK", "PTE_FLAGS_MASK", "PHYSICAL_PAGE_MASK", "PHYSICAL_PMD_PAGE_MASK", "PHYSICAL_PUD_PAGE_MASK", "HPAGE_PMD_ORDER"]
    items += common.const_items(const_names, [
        "PAGE_NONE", "PAGE_SHARED", "PAGE_SHARED_EXEC", "PAGE_COPY",
        "PAGE_COPY_EXEC", "PAGE_COPY_NOEXEC", "PAGE_READONLY",
        "PAGE_READONLY_EXEC", "PAGE_KERNEL", "PAGE_KERNEL_RO",
        "PAGE_KERNEL_EXEC", "PAGE_KERNEL_LARGE", "PAGE_KERNEL_NOCACHE"])

    # ---- swap PTEs ---------------------------------------------------------
    types = [("0", None), ("1", None), ("2", None),
             ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1")]
    types += [(t, t) for t in common.SPECIAL_TYPES]

    items += common.swp_pte_items(types, OFFSETS)
    items += common.swp_flag_items(has, [
        ("0", None, 0), ("1", None, 0x1234),
        ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1", (1 << 50) - 1),
        ("SWP_MIGRATION_READ", "SWP_MIGRATION_READ", common.PFN)])
    items += common.swp_decode_items(DECODE_PTES)

    for texpr, tname, off in [("0", None, 0), ("1", None, 0x1234),
                              ("2", None, 0xDEADBEEF),
                              ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1",
                               (1 << 50) - 1),
                              ("31", None, (1 << 58) - 1),
                              ("SWP_PTE_MARKER", "SWP_PTE_MARKER", 1),
                              ("SWP_MIGRATION_WRITE", "SWP_MIGRATION_WRITE",
                               common.PFN)]:
        items.append(Item("swp_entry_val", "swp_entry_val/{t}/o%#x" % off,
                          "swp_entry(%s, %#x).val" % (texpr, off),
                          guard=common.type_guard(tname), inputs={"offset": off},
                          post=common.swp_post(tname, texpr)))

    # ---- PTE markers -------------------------------------------------------
    items += common.marker_items(has)

    # ---- migration, device private / exclusive, hwpoison -------------------
    items += common.pfn_entry_items(has)

    # ---- present / PROT_NONE PTEs ------------------------------------------
    mkwrite = common.mkwrite_name(has)
    present = [
        ("PAGE_SHARED", []), ("PAGE_READONLY", []), ("PAGE_COPY", []),
        ("PAGE_SHARED_EXEC", []), ("PAGE_KERNEL", []),
        *common.dirty_write_sequences(mkwrite),
        ("PAGE_SHARED", ["pte_mkold"]),
        ("PAGE_SHARED", ["pte_mkspecial"]),
        ("PAGE_SHARED", ["pte_mksoft_dirty"]),
        ("PAGE_SHARED", ["pte_mkuffd_wp"]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_mkuffd_wp"]),
        ("PAGE_SHARED", ["pte_mkdevmap"]),
        ("PAGE_SHARED", ["pte_mkexec"]),
        ("PAGE_SHARED_EXEC", ["pte_exprotect"]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_modify(PAGE_NONE)"]),
        ("PAGE_SHARED", ["pte_modify(PAGE_NONE)"]),
        ("PAGE_SHARED", ["pte_modify(PAGE_NONE)", "pte_modify(PAGE_SHARED)"]),
    ]
    items += common.present_items(has, present, lambda prot, ops: common.ifdef(prot))
    items += common.pte_pfn_items(PFN_PTES)

    # ---- PMDs --------------------------------------------------------------
    pmds = [
        ("pfn_pmd(0x200, PAGE_KERNEL_LARGE)", {"pfn": 0x200, "ops": ["pfn_pmd(PAGE_KERNEL_LARGE)"]}, None),
        ("pfn_pmd(0x200, PAGE_SHARED)", {"pfn": 0x200, "ops": ["pfn_pmd(PAGE_SHARED)"]}, None),
        ("pmd_mkhuge(pfn_pmd(0x200, PAGE_SHARED))", {"pfn": 0x200, "ops": ["pfn_pmd(PAGE_SHARED)", "pmd_mkhuge"]}, None),
        ("pmd_mkinvalid(pmd_mkhuge(pfn_pmd(0x200, PAGE_SHARED)))", {"pfn": 0x200, "ops": ["pfn_pmd(PAGE_SHARED)", "pmd_mkhuge", "pmd_mkinvalid"]}, None),
        ("pmd_mkinvalid(pfn_pmd(0x200, PAGE_KERNEL_LARGE))", {"pfn": 0x200, "ops": ["pfn_pmd(PAGE_KERNEL_LARGE)", "pmd_mkinvalid"]}, None),
        ("pmd_mkhuge(pfn_pmd(0x200, PAGE_NONE))", {"pfn": 0x200, "ops": ["pfn_pmd(PAGE_NONE)", "pmd_mkhuge"]}, None),
        ("pmd_mkhuge(pmd_mkdirty(pmd_wrprotect(pfn_pmd(0x200, PAGE_SHARED))))", {"pfn": 0x200, "ops": ["pfn_pmd(PAGE_SHARED)", "pmd_wrprotect", "pmd_mkdirty", "pmd_mkhuge"]}, None),
        ("swp_entry_to_pmd(swp_entry(1, 0x1234))", {"ops": ["swp_entry(1, 0x1234)", "swp_entry_to_pmd"]}, "swp_entry_to_pmd"),
        ("pmd_swp_mksoft_dirty(swp_entry_to_pmd(swp_entry(1, 0x1234)))", {"ops": ["swp_entry(1, 0x1234)", "swp_entry_to_pmd", "pmd_swp_mksoft_dirty"]}, "pmd_swp_mksoft_dirty"),
        ("pmd_swp_mkuffd_wp(swp_entry_to_pmd(swp_entry(1, 0x1234)))", {"ops": ["swp_entry(1, 0x1234)", "swp_entry_to_pmd", "pmd_swp_mkuffd_wp"]}, "pmd_swp_mkuffd_wp"),
        ("swp_entry_to_pmd(make_writable_migration_entry(0x1ad000))", {"pfn": 0x1AD000, "ops": ["make_writable_migration_entry", "swp_entry_to_pmd"]}, "swp_entry_to_pmd"),
    ]
    for e, inp, need in pmds:
        if need and not has(need):
            continue
        items += common.pmd_items(e, common.pmd_guard(e), dict(inp), inp)
    for v in PFN_PMDS:
        items.append(Item("pmd", "pmd_pfn/%s" % h64(v),
                          "pmd_pfn(__pmd(%s))" % h64(v),
                          inputs={"pmd": h64(v), "ops": [], "result": "pmd_pfn"},
                          c_expr="pmd_pfn(__pmd(%sULL))" % h64(v)))

    # ---- predicates --------------------------------------------------------
    for pred in PTE_PREDS:
        if not has(pred):
            continue
        for v in PRED_PTES:
            if pred != "pte_flags_pkey":
                items.append(common.raw_predicate(pred, "pte", v))
                continue
            e = "pte_flags_pkey(%s)" % h64(v)
            items.append(Item("predicate", "predicate/%s/%s" % (pred, h64(v)),
                              e, inputs={"pred": pred, "pte": h64(v)},
                              result="int",
                              c_expr=e.replace(h64(v), h64(v) + "ULL")))
    for pred in PMD_PREDS:
        if not has(pred):
            continue
        g = "defined(CONFIG_ARCH_ENABLE_THP_MIGRATION)" \
            if pred == "is_pmd_migration_entry" else None
        for v in [*PFN_PMDS, 1152921504604460544, 1152921504604460546]:
            items.append(common.raw_predicate(pred, "pmd", v, guard=g))
    return items


# ---------------------------------------------------------------------------
# Build steps
# ---------------------------------------------------------------------------
def configure(tree, build, spec, log):
    os.makedirs(build, exist_ok=True)
    run(["make", "-s", "O=" + build, "x86_64_defconfig"], cwd=tree, log=log)
    common.set_options(tree, build, spec["set"], log)
    run(["make", "-s", "O=" + build, "olddefconfig"], cwd=tree, log=log)
    cfg = common.read_config(os.path.join(build, ".config"))
    bad = {k: (v, cfg.get(k, "n")) for k, v in spec["expect"].items()
           if cfg.get(k, "n") != v}
    if bad:
        raise SystemExit("config options not as requested (want, got): %r" % bad)
    run(["make", "-s", "-j%d" % (os.cpu_count() or 2), "O=" + build,
         "modules_prepare"], cwd=tree, log=log)
    return cfg


def parse_objdump(text):
    """function -> {"syms": set, "insns": [str]} from objdump -dr output."""
    funcs = {}
    cur = None
    for line in text.splitlines():
        m = re.match(r"^[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            cur = funcs.setdefault(m.group(1), {"syms": set(), "insns": []})
            continue
        if cur is None:
            continue
        m = re.match(r"^\s+[0-9a-f]+: (R_X86_64_\w+)\s+([^\s+-]+)", line)
        if m:
            cur["syms"].add(m.group(2))
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(.*)$", line)
        if m:
            cur["insns"].append(m.group(1).strip())
    return funcs


def folded_immediate(insns):
    """Value of a function body that is one load-immediate, else None."""
    body = [i for i in insns if not (
        i.startswith("nop") or i.startswith("endbr64") or i.startswith("xchg   %ax,%ax")
        or i.startswith("data16") or i.startswith("cs nop") or i.startswith("int3")
        or re.match(r"^(jmp|ret)\b", i) or i.startswith("ret"))]
    if len(body) != 1:
        return None
    i = body[0]
    m = re.match(r"^movabs \$0x([0-9a-f]+),%rax$", i)
    if m:
        return int(m.group(1), 16)
    m = re.match(r"^mov\s+\$0x([0-9a-f]+),%eax$", i)
    if m:
        return int(m.group(1), 16)
    m = re.match(r"^mov\s+\$(-?)0x([0-9a-f]+),%rax$", i)
    if m:
        v = int(m.group(2), 16)
        return (-v if m.group(1) else v) & 0xFFFFFFFFFFFFFFFF
    if re.match(r"^xor\s+%eax,%eax$", i):
        return 0
    m = re.match(r"^or\s+\$0xffffffffffffffff,%rax$", i)
    if m:
        return 0xFFFFFFFFFFFFFFFF
    return None


def classify(sym_set):
    deps = set()
    for s in sym_set:
        if s in IGNORED_SYMS or s.startswith(".rodata") or \
           s.startswith("__x86_indirect_thunk"):
            continue
        if s == ".altinstr_aux":
            deps.add("boot_cpu_data")
            continue
        deps.add(s)
    return deps


def write_harness(items, undefined, path, skip=()):
    rs = []
    for s in sorted(undefined):
        rs.append("unsigned char %s[65536] __attribute__((aligned(4096)));" % s)
    rs.append("static void dv_apply_profile(int la57, int ad_supported)\n{")
    rs.append("\t(void)la57; (void)ad_supported;")
    for s in sorted(undefined):
        ctype, val, _ = KNOWN_RUNTIME[s]
        if ctype == "blob":
            continue
        val = "(" + val + ")" if isinstance(val, str) else "%#xULL" % val
        ct = {"u64": "unsigned long long", "u32": "unsigned int",
              "u8": "unsigned char"}[ctype]
        rs.append("\t{ %s v = %s; dv_store(%s, &v, sizeof(v)); }" % (ct, val, s))
    rs.append("}")
    prof = ['\t{ "%s", %d, %d, %d },' % (n, p["la57"], p["ad_supported"],
                                        p["shstk"])
            for n, p in PROFILES]
    common.write_harness_c("harness_template.c", path, items, skip, {
        "RUNTIME_SYMBOLS": "static void dv_store(void *sym, const void *val, size_t len);\n"
                           + "\n".join(rs),
        "PROFILES": "\n".join(prof)})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--config", required=True, choices=sorted(CONFIG_SPECS))
    common.add_common_args(ap)
    args = ap.parse_args()

    tree = os.path.abspath(args.tree)
    kver = run(["make", "-s", "kernelversion"], cwd=tree).strip()
    tag = "%s-%s" % (kver, args.config)
    build, moddir, log = common.work_dirs(args.work, tag)
    spec = CONFIG_SPECS[args.config]

    cfg = configure(tree, build, spec, log)
    items = build_catalogue(tree)
    common.write_vec_c(items, moddir, "vec_template.c")
    run(["make", "-s", "-C", build, "M=" + moddir, "vec.o"], log=log)
    vec_o = os.path.join(moddir, "vec.o")

    dis = run(["objdump", "-dr", "--no-show-raw-insn", vec_o])
    funcs = parse_objdump(dis)
    nm_u = run(["nm", "-u", vec_o]).split()
    undefined = {s for s in nm_u if s != "U" and s not in IGNORED_SYMS}
    unknown = sorted(undefined - set(KNOWN_RUNTIME))
    # functions touching unknown runtime symbols are dropped
    dropped = []
    for it in items:
        for fn in (it.fn, it.fn2):
            if fn in funcs and (classify(funcs[fn]["syms"]) - set(KNOWN_RUNTIME)):
                dropped.append((it, sorted(classify(funcs[fn]["syms"]))))
    if unknown:
        # give unknown data symbols a zero-filled definition so that the link
        # succeeds; their users are dropped above and never reported.
        KNOWN_RUNTIME.update({s: ("blob", None, "unknown, user dropped")
                              for s in unknown})
    harness_c = os.path.join(moddir, "harness.c")
    write_harness(items, undefined, harness_c,
                  skip={fn for it, _ in dropped for fn in (it.fn, it.fn2)})
    exe = os.path.join(moddir, "harness")
    run(["gcc", "-O1", "-static", "-no-pie", "-fno-pie", "-o", exe, harness_c,
         vec_o, "-Wl,-z,noexecstack"], log=log)
    out = run([exe])
    m = re.search(r"^sizeof_boot_cpu_data (\d+)$", out, re.M)
    if not m or int(m.group(1)) > 65536:
        raise SystemExit("boot_cpu_data larger than the harness stub")
    results = common.parse_run(out.splitlines())

    dropped_ids = {id(it) for it, _ in dropped}
    stats = common.new_stats()

    def value_of(fn):
        """(default value, {profile: value}, deps) for a function."""
        vals = results[fn]
        deps = classify(funcs[fn]["syms"])
        if not deps:
            common.check_folded(fn, vals, lambda: folded_immediate(funcs[fn]["insns"]),
                         stats)
        else:
            stats["functions_reading_runtime_state"] += 1
        return vals["default"], vals, deps

    present = [it for it in items if it.fn in results and id(it) not in dropped_ids]
    consts, rt_consts, vectors, runtime_deps = common.collect(
        present, value_of, PROFILES, lambda _name, prof: dict(prof))

    ids = [v["id"] for v in vectors]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise SystemExit("duplicate ids: %r" % sorted(dup))

    label, pkg = common.debian_label(tree, kver)
    conf = {"CONFIG_" + k: cfg.get(k, "n") for k in RECORDED_OPTIONS}
    prov = {
        "tree": args.tree_label or label,
        "kernelversion": kver,
        "config": conf,
        "config_name": args.config,
        "config_base": "x86_64_defconfig + scripts/config: " + " ".join(
            "%s=%s" % kv for kv in spec["set"].items()),
        "compiler": cfg.get("CC_VERSION_TEXT", "gcc"),
        "method": ("Each value is returned by a noinline function compiled "
                   "from the tree's own headers by its Kbuild (out-of-tree "
                   "module object), statically linked into a userspace harness "
                   "that supplies the listed runtime variables, and run; "
                   "folded functions were also checked against the immediate "
                   "in objdump -d."),
        "generated_by": "tools/derive_vectors/derive.py",
        "runtime": {
            "profiles": {n: p for n, p in PROFILES},
            "variables": {s: KNOWN_RUNTIME[s][2] for s in sorted(undefined)
                          if s in KNOWN_RUNTIME},
            "note": ("pgtable_l5_enabled() is a runtime CPU test on x86_64 "
                     "with CONFIG_X86_5LEVEL, so SWP_PFN_BITS / MAX_PHYSMEM_BITS"
                     " and the migration young/dirty bit positions depend on it"),
        },
        "runtime_dependent_constants": rt_consts,
        "runtime_dependent_vectors": runtime_deps,
        "stats": stats,
        "dropped": {it.key: deps for it, deps in dropped},
    }
    dest = common.write_doc(args.out, "x86_64-%s.json" % tag, prov, pkg, consts,
                     vectors)
    print("wrote %s: %d constants, %d vectors (%d folded, %d immediates "
          "checked, %d runtime-dependent, %d dropped)"
          % (dest, len(consts), len(vectors),
             stats["functions_folded_to_constants"],
             stats["folded_immediates_checked"],
             stats["functions_reading_runtime_state"], len(dropped)))


if __name__ == "__main__":
    main()
