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
import itertools
import json
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

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
PFN = 0x1AD106
SPECIAL_TYPES = ["SWP_HWPOISON", "SWP_MIGRATION_READ",
                 "SWP_MIGRATION_READ_EXCLUSIVE", "SWP_MIGRATION_WRITE",
                 "SWP_DEVICE_WRITE", "SWP_DEVICE_READ",
                 "SWP_DEVICE_EXCLUSIVE_WRITE", "SWP_DEVICE_EXCLUSIVE_READ",
                 "SWP_DEVICE_EXCLUSIVE", "SWP_PTE_MARKER", "SWP_SWAPIN_ERROR"]
SWP_FLAG_OPS = [("soft_dirty", "pte_swp_mksoft_dirty"),
                ("uffd_wp", "pte_swp_mkuffd_wp"),
                ("exclusive", "pte_swp_mkexclusive")]
MARKER_BITS = [("uffd_wp", "PTE_MARKER_UFFD_WP"),
               ("swapin_error", "PTE_MARKER_SWAPIN_ERROR"),
               ("poisoned", "PTE_MARKER_POISONED"),
               ("guard", "PTE_MARKER_GUARD")]
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


def h64(v):
    return "0x%016x" % (v & 0xFFFFFFFFFFFFFFFF)


class Item:
    """One compiled function: a constant or a vector."""

    def __init__(self, kind, key, expr, guard=None, inputs=None,
                 result="u64", post=None, c_expr=None):
        self.kind = kind          # "const" or a vector kind
        self.key = key            # constant name or vector id
        self.expr = expr          # expression shown in JSON
        self.c_expr = c_expr or expr
        self.guard = guard        # preprocessor condition or None
        self.inputs = inputs or {}
        self.result = result      # "u64", "bool", "int"
        self.post = post          # callback(item, consts) -> fill inputs
        self.fn = None
        self.fn2 = None           # second function (swp_decode offset)
        self.c_expr2 = None


def tree_has(tree, ident, files):
    pat = re.compile(r"\b%s\b" % re.escape(ident))
    for f in files:
        p = os.path.join(tree, f)
        if os.path.exists(p):
            with open(p, errors="replace") as fh:
                if pat.search(fh.read()):
                    return True
    return False


HDRS = ["include/linux/swapops.h", "include/linux/swap.h",
        "include/linux/pgtable.h", "include/linux/mm.h",
        "include/linux/huge_mm.h", "include/asm-generic/pgtable_uffd.h",
        "arch/x86/include/asm/pgtable.h", "arch/x86/include/asm/pgtable_64.h",
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


def ifdef(name):
    return "defined(%s)" % name


def build_catalogue(tree):
    has = lambda ident: tree_has(tree, ident, HDRS)  # noqa: E731
    items = []

    # ---- constants ---------------------------------------------------------
    const_names = macro_names(tree, "arch/x86/include/asm/pgtable_types.h",
                              r"_PAGE_BIT_[A-Z0-9_]+")
    const_names += macro_names(tree, "arch/x86/include/asm/pgtable_types.h",
                               r"_H?PAGE_[A-Z0-9_]+")
    const_names += ["_PAGE_SWP_SOFT_DIRTY", "_PAGE_SWP_UFFD_WP", "_PAGE_SWP_EXCLUSIVE", "SWP_TYPE_BITS", "SWP_OFFSET_FIRST_BIT", "SWP_OFFSET_SHIFT", "MAX_SWAPFILES_SHIFT", "MAX_SWAPFILES", "SWP_TYPE_SHIFT", "SWP_OFFSET_MASK", "BITS_PER_XA_VALUE", "SWP_DEVICE_NUM", "SWP_MIGRATION_NUM", "SWP_HWPOISON_NUM", "SWP_PTE_MARKER_NUM", "SWP_SWAPIN_ERROR_NUM", *SPECIAL_TYPES, "PTE_MARKER_UFFD_WP", "PTE_MARKER_SWAPIN_ERROR", "PTE_MARKER_POISONED", "PTE_MARKER_GUARD", "PTE_MARKER_MASK", "SWP_PFN_BITS", "SWP_PFN_MASK", "SWP_MIG_YOUNG_BIT", "SWP_MIG_DIRTY_BIT", "SWP_MIG_TOTAL_BITS", "SWP_MIG_YOUNG", "SWP_MIG_DIRTY", "MAX_PHYSMEM_BITS", "__PHYSICAL_MASK_SHIFT", "__PHYSICAL_MASK", "__VIRTUAL_MASK_SHIFT", "PAGE_SHIFT", "PMD_SHIFT", "PUD_SHIFT", "P4D_SHIFT", "PGDIR_SHIFT", "PTRS_PER_PTE", "PTRS_PER_PMD", "PTRS_PER_PUD", "PTE_PFN_MASK", "PTE_FLAGS_MASK", "PHYSICAL_PAGE_MASK", "PHYSICAL_PMD_PAGE_MASK", "PHYSICAL_PUD_PAGE_MASK", "HPAGE_PMD_ORDER"]
    seen = set()
    for n in const_names:
        if n in seen:
            continue
        seen.add(n)
        items.append(Item("const", n, n, guard=ifdef(n)))
    for n in ["PAGE_NONE", "PAGE_SHARED", "PAGE_SHARED_EXEC", "PAGE_COPY",
              "PAGE_COPY_EXEC", "PAGE_COPY_NOEXEC", "PAGE_READONLY",
              "PAGE_READONLY_EXEC", "PAGE_KERNEL", "PAGE_KERNEL_RO",
              "PAGE_KERNEL_EXEC", "PAGE_KERNEL_LARGE", "PAGE_KERNEL_NOCACHE"]:
        items.append(Item("const", "pgprot_val(%s)" % n,
                          "pgprot_val(%s)" % n, guard=ifdef(n)))
    items.append(Item(
        "const", "generic_max_swap_offset",
        "swp_offset(pte_to_swp_entry(swp_entry_to_pte(swp_entry(0, ~0UL))))"))

    # ---- swap PTEs ---------------------------------------------------------
    types = [("0", None), ("1", None), ("2", None),
             ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1")]
    types += [(t, t) for t in SPECIAL_TYPES]

    def type_guard(tname):
        if tname and tname.startswith("SWP_"):
            return ifdef(tname)
        return None

    def swp_post(tname, texpr):
        def post(it, consts):
            if tname is None:
                t = int(texpr)
            elif tname == "MAX_SWAPFILES-1":
                t = consts["MAX_SWAPFILES"] - 1
            else:
                t = consts[tname]
            it.inputs["type"] = t
            if tname:
                it.inputs["type_name"] = tname
            it.key = it.key.replace("{t}", "t%d" % t)
        return post

    for texpr, tname in types:
        for off in OFFSETS:
            e = "pte_val(swp_entry_to_pte(swp_entry(%s, %#x)))" % (texpr, off)
            items.append(Item("swp_pte", "swp_pte/{t}/o%#x" % off, e,
                              guard=type_guard(tname),
                              inputs={"offset": off},
                              post=swp_post(tname, texpr)))

    flag_ops = [(n, f) for n, f in SWP_FLAG_OPS if has(f)]
    flag_bases = [("0", None, 0), ("1", None, 0x1234),
                  ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1", (1 << 50) - 1),
                  ("SWP_MIGRATION_READ", "SWP_MIGRATION_READ", PFN)]
    for texpr, tname, off in flag_bases:
        for r in range(1, len(flag_ops) + 1):
            for combo in itertools.combinations(flag_ops, r):
                e = "swp_entry_to_pte(swp_entry(%s, %#x))" % (texpr, off)
                for _, f in combo:
                    e = "%s(%s)" % (f, e)
                e = "pte_val(%s)" % e
                names = [n for n, _ in combo]
                items.append(Item(
                    "swp_pte_flags",
                    "swp_pte_flags/{t}/o%#x/%s" % (off, "+".join(names)), e,
                    guard=type_guard(tname),
                    inputs={"offset": off, "flags": names},
                    post=swp_post(tname, texpr)))

    for v in DECODE_PTES:
        it = Item("swp_decode", "swp_decode/%s" % h64(v),
                  "swp_type/swp_offset(pte_to_swp_entry(__pte(%s)))" % h64(v),
                  inputs={"pte": h64(v)},
                  c_expr="swp_type(pte_to_swp_entry(__pte(%sULL)))" % h64(v))
        it.c_expr2 = "swp_offset(pte_to_swp_entry(__pte(%sULL)))" % h64(v)
        items.append(it)

    for texpr, tname, off in [("0", None, 0), ("1", None, 0x1234),
                              ("2", None, 0xDEADBEEF),
                              ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1",
                               (1 << 50) - 1),
                              ("31", None, (1 << 58) - 1),
                              ("SWP_PTE_MARKER", "SWP_PTE_MARKER", 1),
                              ("SWP_MIGRATION_WRITE", "SWP_MIGRATION_WRITE",
                               PFN)]:
        items.append(Item("swp_entry_val", "swp_entry_val/{t}/o%#x" % off,
                          "swp_entry(%s, %#x).val" % (texpr, off),
                          guard=type_guard(tname), inputs={"offset": off},
                          post=swp_post(tname, texpr)))

    # ---- PTE markers -------------------------------------------------------
    if has("make_pte_marker"):
        bits = [(n, m) for n, m in MARKER_BITS if has(m)]
        for r in range(1, len(bits) + 1):
            for combo in itertools.combinations(bits, r):
                names = [n for n, _ in combo]
                macros = [m for _, m in combo]
                e = "pte_val(make_pte_marker(%s))" % " | ".join(macros)
                # SWP_PTE_MARKER exists only when markers are compiled in
                # (always from 6.2, with CONFIG_PTE_MARKER before).
                guard = " && ".join(ifdef(m) for m in [*macros, "SWP_PTE_MARKER"])

                def mpost(it, consts, macros=macros):
                    it.inputs["mask"] = sum(consts[m] for m in macros)
                items.append(Item("marker_pte", "marker_pte/%s" % "+".join(names),
                                  e, guard=guard, inputs={"bits": names},
                                  post=mpost))

    # ---- migration ---------------------------------------------------------
    mig = [("read", "make_readable_migration_entry"),
           ("write", "make_writable_migration_entry"),
           ("read_exclusive", "make_readable_exclusive_migration_entry")]
    for which, fn in mig:
        if not has(fn):
            continue
        for young, dirty in [(False, False), (True, False), (False, True),
                             (True, True)]:
            if (young and not has("make_migration_entry_young")) or \
               (dirty and not has("make_migration_entry_dirty")):
                continue
            e = "%s(%#x)" % (fn, PFN)
            if young:
                e = "make_migration_entry_young(%s)" % e
            if dirty:
                e = "make_migration_entry_dirty(%s)" % e
            e = "pte_val(swp_entry_to_pte(%s))" % e
            items.append(Item(
                "migration_pte",
                "migration_pte/%s/pfn%#x/y%dd%d" % (which, PFN, young, dirty),
                e, guard="defined(CONFIG_MIGRATION)",
                inputs={"pfn": PFN, "which": which, "young": young,
                        "dirty": dirty}))

    # ---- device private / exclusive, hwpoison, swapin error ---------------
    for which, fn in [("read", "make_readable_device_private_entry"),
                      ("write", "make_writable_device_private_entry")]:
        if has(fn):
            items.append(Item(
                "device_private_pte",
                "device_private_pte/%s/pfn%#x" % (which, PFN),
                "pte_val(swp_entry_to_pte(%s(%#x)))" % (fn, PFN),
                guard="defined(CONFIG_DEVICE_PRIVATE)",
                inputs={"pfn": PFN, "which": which}))
    for which, fn in [("read", "make_readable_device_exclusive_entry"),
                      ("write", "make_writable_device_exclusive_entry"),
                      ("exclusive", "make_device_exclusive_entry")]:
        if has(fn):
            items.append(Item(
                "device_exclusive_pte",
                "device_exclusive_pte/%s/pfn%#x" % (which, PFN),
                "pte_val(swp_entry_to_pte(%s(%#x)))" % (fn, PFN),
                guard="defined(CONFIG_DEVICE_PRIVATE)",
                inputs={"pfn": PFN, "which": which}))
    items.append(Item("hwpoison_pte", "hwpoison_pte/pfn%#x" % PFN,
                      "pte_val(swp_entry_to_pte(swp_entry(SWP_HWPOISON, %#x)))"
                      % PFN, guard=ifdef("SWP_HWPOISON"),
                      inputs={"pfn": PFN}))

    # ---- present / PROT_NONE PTEs ------------------------------------------
    mkwrite = "pte_mkwrite_novma" if has("pte_mkwrite_novma") else "pte_mkwrite"
    P = 0x123456
    present = [
        ("PAGE_SHARED", []), ("PAGE_READONLY", []), ("PAGE_COPY", []),
        ("PAGE_SHARED_EXEC", []), ("PAGE_KERNEL", []),
        ("PAGE_SHARED", ["pte_mkyoung", "pte_mkdirty"]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_wrprotect"]),
        ("PAGE_SHARED", ["pte_wrprotect", "pte_mkdirty"]),
        ("PAGE_SHARED", ["pte_wrprotect", "pte_mkdirty", mkwrite]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_mkclean"]),
        ("PAGE_READONLY", ["pte_mkdirty"]),
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
    for prot, ops in present:
        if any(not has(re.sub(r"\(.*", "", o)) for o in ops):
            continue
        e = "pfn_pte(%#x, %s)" % (P, prot)
        for o in ops:
            m = re.match(r"(\w+)\((\w+)\)", o)
            e = "%s(%s, %s)" % (m.group(1), e, m.group(2)) if m else \
                "%s(%s)" % (o, e)
        e = "pte_val(%s)" % e
        kind = "present_pte"
        key = "present_pte/%s/%s" % (prot, "+".join(ops) or "-")
        items.append(Item(kind, key, e, guard=ifdef(prot),
                          inputs={"pfn": P, "prot": prot, "ops": ops}))
    for pfn in [P, PFN, 0, 0xFFFFFFFFF]:
        items.append(Item("protnone_pte", "protnone_pte/pfn%#x" % pfn,
                          "pte_val(pfn_pte(%#x, PAGE_NONE))" % pfn,
                          inputs={"pfn": pfn}))
    for v in PFN_PTES:
        items.append(Item("pte_pfn", "pte_pfn/%s" % h64(v),
                          "pte_pfn(__pte(%s))" % h64(v), inputs={"pte": h64(v)},
                          c_expr="pte_pfn(__pte(%sULL))" % h64(v)))

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
        guard = None
        if "migration" in e:
            guard = "defined(CONFIG_MIGRATION) && defined(CONFIG_ARCH_ENABLE_THP_MIGRATION)"
        elif "swp_entry_to_pmd" in e:
            guard = "defined(CONFIG_ARCH_ENABLE_THP_MIGRATION)"
        items.append(Item("pmd", "pmd/%s" % e.replace(" ", ""),
                          "pmd_val(%s)" % e, guard=guard, inputs=dict(inp)))
        items.append(Item("pmd", "pmd_pfn/%s" % e.replace(" ", ""),
                          "pmd_pfn(%s)" % e, guard=guard,
                          inputs=dict(inp, result="pmd_pfn")))
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
            if pred == "pte_flags_pkey":
                res, e = "int", "pte_flags_pkey(%s)" % h64(v)
            else:
                res, e = "bool", "!!%s(__pte(%s))" % (pred, h64(v))
            items.append(Item("predicate", "predicate/%s/%s" % (pred, h64(v)),
                              e, inputs={"pred": pred, "pte": h64(v)},
                              result=res,
                              c_expr=e.replace(h64(v), h64(v) + "ULL")))
    for pred in PMD_PREDS:
        if not has(pred):
            continue
        for v in [*PFN_PMDS, 1152921504604460544, 1152921504604460546]:
            e = "!!%s(__pmd(%s))" % (pred, h64(v))
            g = "defined(CONFIG_ARCH_ENABLE_THP_MIGRATION)" \
                if pred == "is_pmd_migration_entry" else None
            items.append(Item("predicate", "predicate/%s/%s" % (pred, h64(v)),
                              e, inputs={"pred": pred, "pmd": h64(v)},
                              result="bool", guard=g,
                              c_expr=e.replace(h64(v), h64(v) + "ULL")))
    return items


# ---------------------------------------------------------------------------
# Build steps
# ---------------------------------------------------------------------------
def run(cmd, cwd=None, log=None, check=True, capture=False):
    print("+ " + " ".join(cmd), file=sys.stderr)
    r = subprocess.run(cmd, cwd=cwd, text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if log:
        with open(log, "a") as fh:
            fh.write("$ %s\n%s\n" % (" ".join(cmd), r.stdout))
    if check and r.returncode != 0:
        sys.stderr.write(r.stdout[-6000:])
        raise SystemExit("command failed: %s" % " ".join(cmd))
    return r.stdout


def read_config(path):
    vals = {}
    with open(path) as fh:
        for line in fh:
            m = re.match(r"^CONFIG_(\w+)=(.*)$", line.strip())
            if m:
                vals[m.group(1)] = m.group(2).strip('"')
    return vals


def configure(tree, build, spec, log):
    os.makedirs(build, exist_ok=True)
    run(["make", "-s", "O=" + build, "x86_64_defconfig"], cwd=tree, log=log)
    args = ["scripts/config", "--file", os.path.join(build, ".config")]
    for opt, val in spec["set"].items():
        args += ["-e" if val == "y" else "-d", opt]
    run(args, cwd=tree, log=log)
    run(["make", "-s", "O=" + build, "olddefconfig"], cwd=tree, log=log)
    cfg = read_config(os.path.join(build, ".config"))
    bad = {k: (v, cfg.get(k, "n")) for k, v in spec["expect"].items()
           if cfg.get(k, "n") != v}
    if bad:
        raise SystemExit("config options not as requested (want, got): %r" % bad)
    run(["make", "-s", "-j%d" % (os.cpu_count() or 2), "O=" + build,
         "modules_prepare"], cwd=tree, log=log)
    return cfg


def func_name(i):
    return "dv_%04d" % i


def write_vec_c(items, moddir):
    fns = []
    n = 0
    for it in items:
        exprs = [("fn", it.c_expr)] + ([("fn2", it.c_expr2)] if it.c_expr2 else [])
        for attr, ce in exprs:
            name = func_name(n)
            n += 1
            setattr(it, attr, name)
            body = ["u64 %s(void);" % name,
                    "noinline u64 %s(void)" % name,
                    "{",
                    "\treturn (u64)(%s);" % ce,
                    "}"]
            if it.guard:
                body = ["#if %s" % it.guard, *body, "#endif"]
            fns.append("/* %s */\n%s\n" % (it.key.replace("*/", "* /"),
                                           "\n".join(body)))
    with open(os.path.join(HERE, "vec_template.c")) as fh:
        tpl = fh.read()
    src = tpl.replace("/* @@VECTOR_FUNCTIONS@@ */", "\n".join(fns))
    with open(os.path.join(moddir, "vec.c"), "w") as fh:
        fh.write(src)
    with open(os.path.join(moddir, "Kbuild"), "w") as fh:
        fh.write("obj-m := vec.o\n")
    return n


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
    with open(os.path.join(HERE, "harness_template.c")) as fh:
        tpl = fh.read()
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
    ext, tab = [], []
    for it in items:
        if id(it) in skip:
            continue
        for fn in (it.fn, it.fn2):
            if fn:
                ext.append("extern u64 %s(void) __attribute__((weak));" % fn)
                tab.append('\t{ "%s", %s },' % (fn, fn))
    prof = ['\t{ "%s", %d, %d, %d },' % (n, p["la57"], p["ad_supported"],
                                        p["shstk"])
            for n, p in PROFILES]
    src = tpl.replace("/* @@RUNTIME_SYMBOLS@@ */",
                      "static void dv_store(void *sym, const void *val, size_t len);\n"
                      + "\n".join(rs))
    src = src.replace("/* @@EXTERNS@@ */", "\n".join(ext))
    src = src.replace("/* @@TABLE@@ */", "\n".join(tab))
    src = src.replace("/* @@PROFILES@@ */", "\n".join(prof))
    with open(path, "w") as fh:
        fh.write(src)


def dump_json(doc):
    """Stable layout: provenance/constants indented, one vector per line."""
    parts = ['{"provenance": ' + json.dumps(doc["provenance"], indent=1),
             ' "constants": ' + json.dumps(doc["constants"], indent=1),
             ' "vectors": [\n' + ",\n".join(
                 "  " + json.dumps(v) for v in doc["vectors"]) + "\n ]"]
    return ",\n".join(parts) + "}\n"


def debian_label(tree, kver):
    base = os.path.basename(os.path.normpath(tree))
    m = re.match(r"linux-source-(\d+\.\d+)$", base)
    if not m:
        return "%s %s" % (base, kver), None
    pkg = "linux-source-" + m.group(1)
    try:
        pv = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg],
                            text=True, capture_output=True).stdout.strip()
    except OSError:
        pv = ""
    return "%s (Debian) %s" % (pkg, kver), ("%s %s" % (pkg, pv) if pv else None)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tree", required=True, help="unpacked kernel source tree")
    ap.add_argument("--config", required=True, choices=sorted(CONFIG_SPECS))
    ap.add_argument("--work", default="/tmp/vectors-work")
    ap.add_argument("--out", default=os.path.join(
        HERE, "..", "..", "tests", "data", "kernel_vectors"))
    ap.add_argument("--tree-label", default=None)
    args = ap.parse_args()

    tree = os.path.abspath(args.tree)
    kver = run(["make", "-s", "kernelversion"], cwd=tree).strip()
    tag = "%s-%s" % (kver, args.config)
    build = os.path.join(args.work, "build-" + tag)
    moddir = os.path.join(args.work, "mod-" + tag)
    log = os.path.join(args.work, "log-" + tag + ".txt")
    if os.path.exists(moddir):
        shutil.rmtree(moddir)
    os.makedirs(moddir)
    spec = CONFIG_SPECS[args.config]

    cfg = configure(tree, build, spec, log)
    items = build_catalogue(tree)
    write_vec_c(items, moddir)
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
                  skip={id(it) for it, _ in dropped})
    exe = os.path.join(moddir, "harness")
    run(["gcc", "-O1", "-static", "-no-pie", "-fno-pie", "-o", exe, harness_c,
         vec_o, "-Wl,-z,noexecstack"], log=log)
    out = run([exe])
    results = {}
    m = re.search(r"^sizeof_boot_cpu_data (\d+)$", out, re.M)
    if not m or int(m.group(1)) > 65536:
        raise SystemExit("boot_cpu_data larger than the harness stub")
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3:
            results.setdefault(parts[1], {})[parts[0]] = int(parts[2], 16)

    dropped_ids = {id(it) for it, _ in dropped}
    consts, rt_consts, vectors = {}, {}, []
    folded_checked = folded_total = runtime_fns = 0
    runtime_deps = {}

    def value_of(fn):
        """(default value, {profile: value}, deps) for a function."""
        nonlocal folded_checked, folded_total, runtime_fns
        vals = results[fn]
        deps = classify(funcs[fn]["syms"])
        if not deps:
            folded_total += 1
            if len(set(vals.values())) != 1:
                raise SystemExit("%s: no runtime deps but values differ" % fn)
            imm = folded_immediate(funcs[fn]["insns"])
            if imm is not None:
                if imm != vals["default"]:
                    raise SystemExit("%s: immediate %#x != run %#x"
                                     % (fn, imm, vals["default"]))
                folded_checked += 1
        else:
            runtime_fns += 1
        return vals["default"], vals, deps

    present = [it for it in items if it.fn in results and id(it) not in dropped_ids]
    # constants first (vectors' post() needs them)
    for it in present:
        if it.kind != "const":
            continue
        v, vals, deps = value_of(it.fn)
        consts[it.key] = v
        if deps:
            rt_consts[it.key] = {"depends_on": sorted(deps),
                                 **{p: vals[p] for p, _ in PROFILES}}
    for it in present:
        if it.kind == "const":
            continue
        if it.post:
            it.post(it, consts)
        v, vals, deps = value_of(it.fn)
        if it.kind == "swp_decode":
            _v2, vals2, deps2 = value_of(it.fn2)
            deps |= deps2
            vals = {p: {"type": vals[p], "offset": vals2[p]} for p in vals}
            fmt = lambda x: x  # noqa: E731
        elif it.result == "bool":
            fmt = lambda x: int(x)  # noqa: E731
        elif it.result == "int":
            fmt = lambda x: x  # noqa: E731
        else:
            fmt = h64
        inputs = dict(it.inputs)
        base = {"id": it.key, "kind": it.kind, "expr": it.expr}
        if deps:
            runtime_deps[it.key] = sorted(deps)
            for pname, prof in PROFILES:
                if pname != "default" and vals[pname] == vals["default"]:
                    continue
                vid = it.key if pname == "default" else it.key + "@" + pname
                vectors.append(dict(base, id=vid, value=fmt(vals[pname]),
                                    inputs=dict(inputs, runtime=dict(prof))))
        else:
            vectors.append(dict(base, value=fmt(vals["default"]), inputs=inputs))

    ids = [v["id"] for v in vectors]
    dup = {i for i in ids if ids.count(i) > 1}
    if dup:
        raise SystemExit("duplicate ids: %r" % sorted(dup))

    label, pkg = debian_label(tree, kver)
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
        "stats": {"functions_folded_to_constants": folded_total,
                  "folded_immediates_checked": folded_checked,
                  "functions_reading_runtime_state": runtime_fns},
        "dropped": {it.key: deps for it, deps in dropped},
    }
    if pkg:
        prov["debian_package"] = pkg
    doc = {"provenance": prov, "constants": consts, "vectors": vectors}
    os.makedirs(args.out, exist_ok=True)
    dest = os.path.join(args.out, "x86_64-%s.json" % tag)
    with open(dest, "w") as fh:
        fh.write(dump_json(doc))
    print("wrote %s: %d constants, %d vectors (%d folded, %d immediates "
          "checked, %d runtime-dependent, %d dropped)"
          % (dest, len(consts), len(vectors), folded_total, folded_checked,
             runtime_fns, len(dropped)))


if __name__ == "__main__":
    main()
