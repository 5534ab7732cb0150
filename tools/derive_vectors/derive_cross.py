#!/usr/bin/env python3
"""Derive arm64 (4 KiB pages) and riscv64 page-table test vectors from a real
kernel tree, cross-compiled.

This is the cross-architecture sibling of derive.py (x86_64).  Every number
it writes was produced by the kernel's own header code (include/linux/
swapops.h, include/linux/swap.h, arch/<arch>/include/asm/pgtable*.h, ...),
compiled by the cross gcc through the kernel's own Kbuild with that tree's
flags and a real configuration, and then executed.  Nothing is computed by
hand formulas here.

How it works
------------
1. ``make O=BUILD ARCH=<arch> CROSS_COMPILE=<prefix> defconfig``;
   ``scripts/config`` enables SWAP, USERFAULTFD, TRANSPARENT_HUGEPAGE,
   MIGRATION, MEMORY_FAILURE, MEMORY_HOTPLUG/HOTREMOVE, SPARSEMEM_VMEMMAP,
   ZONE_DEVICE, DEVICE_PRIVATE and PTE_MARKER_UFFD_WP, and on arm64 selects
   ARM64_4K_PAGES, ARM64_VA_BITS_48 and ARM64_PA_BITS_48 (disabling the
   16K/64K, VA_BITS_39/52 and PA_BITS_52 choices); ``make olddefconfig``.
   Options in REQUIRED must then really be ``y``; requested options that a
   tree/arch cannot provide (e.g. MEMORY_FAILURE on riscv, PTE_MARKER_UFFD_WP
   where HAVE_ARCH_USERFAULTFD_WP is missing) are listed in provenance
   (``config_unavailable``).  Then ``make modules_prepare``.
2. It writes ``vec.c`` (from ``vec_cross_template.c``) holding one
   ``noinline`` function per vector or constant and builds it with
   ``make -C BUILD ARCH=.. CROSS_COMPILE=.. M=WORK/mod vec.o``.
3. ``<prefix>objdump`` tells, per function, which external symbols it reads
   (relocations inside the function) and whether it contains a code-patching
   site: an entry of ``.altinstructions`` (arm64) / ``.alternative`` (riscv),
   ``__jump_table`` (static keys) or ``__bug_table`` (BUG()).  Functions that
   read runtime symbols not in KNOWN_RUNTIME are dropped.
4. ``vec.o`` is linked statically (``-nostdlib``) with a freestanding
   harness (``harness_cross_template.c``; no target C library needed) that
   defines the known runtime variables, and run under ``qemu-<arch>-static``
   once per runtime profile (arm64: ``default`` = arm64_use_ng_mappings false,
   ``ng`` = true; riscv64: ``default`` = Sv57 i.e. the kernel's initial
   pgtable_l4/l5_enabled values, ``sv48``, ``sv39``).  Code-patching sites are
   never patched: alternatives run their original instructions, which is the
   behaviour of a CPU that has none of the optional capabilities / ISA
   extensions / errata (e.g. riscv has_svnapot() false, no T-Head PMA fixup,
   riscv_page_mtmask() 0).  Those vectors are listed in
   ``provenance.runtime_dependent_vectors`` with the reason.  A function that
   kills the harness (e.g. BUG()) is dropped and listed under ``dropped``.
   For folded functions (no runtime reads, no patch sites) the value must be
   equal in every profile, and where the body is a plain load-immediate
   sequence (arm64 mov/movz/movk/movn/orr, riscv li/lui/addi(w)/slli/...)
   the immediate decoded from ``objdump -d`` must equal the run value.
5. The JSON goes to ``OUT/<arch>-<kernelversion>-defconfig.json``.

Usage
-----
::

    apt-get install linux-source-6.12 bc flex bison libelf-dev libssl-dev \\
        gcc-aarch64-linux-gnu gcc-riscv64-linux-gnu qemu-user-static
    tar xf /usr/src/linux-source-6.12.tar.xz -C /tmp/kx/6.12
    python3 tools/derive_vectors/derive_cross.py --arch arm64 \\
        --tree /tmp/kx/6.12/linux-source-6.12 --config defconfig \\
        --work /tmp/vectors-work --out tests/data/kernel_vectors
    python3 tools/derive_vectors/derive_cross.py --arch riscv64 ...

The kernel tree is only read (all build output goes to ``--work``); no kernel
source text is copied into this repository.

Output format
-------------
As derive.py: ``{"provenance": {...}, "constants": {NAME: int}, "vectors":
[{"id", "kind", "expr", "value", "inputs"}]}``; 64-bit results are "0x" + 16
lowercase hex digits, predicates 0/1, ``swp_decode`` values
``{"type": N, "offset": N}``.  Vectors whose value depends on a runtime
variable carry ``inputs["runtime"]`` and, when another profile gives a
different value, an extra vector whose id ends in ``@<profile>``.  Predicates
applied to a vector computed in the same run name it in ``inputs["of"]`` and
carry its value in ``inputs["pte"]`` / ``inputs["pmd"]``.
"""

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
MASK64 = 0xFFFFFFFFFFFFFFFF
sys.path.insert(0, HERE)
import common  # noqa: E402
from common import Item, run  # noqa: E402

ARCHES = {
    "arm64": {
        "karch": "arm64", "cross": "aarch64-linux-gnu-",
        "qemu": "qemu-aarch64-static", "label": "arm64",
        "set": {"ARM64_4K_PAGES": "y", "ARM64_16K_PAGES": "n",
                "ARM64_64K_PAGES": "n", "ARM64_VA_BITS_48": "y",
                "ARM64_VA_BITS_39": "n", "ARM64_VA_BITS_52": "n",
                "ARM64_PA_BITS_48": "y", "ARM64_PA_BITS_52": "n"},
        "required": ["ARM64_4K_PAGES", "ARM64_VA_BITS_48", "ARM64_PA_BITS_48"],
        "recorded": ["ARM64_4K_PAGES", "ARM64_VA_BITS_48", "ARM64_VA_BITS",
                     "ARM64_PA_BITS_48", "ARM64_PA_BITS", "ARM64_LPA2",
                     "ARM64_POE", "ARM64_BTI", "ARM64_BTI_KERNEL",
                     "UNMAP_KERNEL_AT_EL0", "ARM64_HW_AFDBM", "ARM64_MTE",
                     "ARM64_CONT_PTE_SHIFT"],
        "hdrs": ["arch/arm64/include/asm/pgtable.h",
                 "arch/arm64/include/asm/pgtable-prot.h",
                 "arch/arm64/include/asm/pgtable-hwdef.h"],
        "altsecs": [".altinstructions"],
        "harness_cflags": [],
    },
    "riscv64": {
        "karch": "riscv", "cross": "riscv64-linux-gnu-",
        "qemu": "qemu-riscv64-static", "label": "riscv64",
        "set": {},
        "required": ["64BIT"],
        "recorded": ["64BIT", "RISCV_ISA_SVPBMT", "RISCV_ISA_SVNAPOT",
                     "RISCV_ALTERNATIVE", "ERRATA_THEAD",
                     "ERRATA_THEAD_MAE", "ERRATA_THEAD_PBMT",
                     "RISCV_ISA_ZICBOM", "XIP_KERNEL"],
        "hdrs": ["arch/riscv/include/asm/pgtable.h",
                 "arch/riscv/include/asm/pgtable-64.h",
                 "arch/riscv/include/asm/pgtable-bits.h"],
        "altsecs": [".alternative"],
        # the kernel is built soft-float (lp64); the harness must match
        "harness_cflags": ["-march=rv64imac_zicsr_zifencei", "-mabi=lp64",
                           "-mcmodel=medany"],
    },
}

_GENERIC_ON = ["SWAP", "USERFAULTFD", "TRANSPARENT_HUGEPAGE", "MIGRATION",
               "MEMORY_FAILURE", "MEMORY_HOTPLUG", "MEMORY_HOTREMOVE",
               "SPARSEMEM_VMEMMAP", "ZONE_DEVICE", "DEVICE_PRIVATE",
               "PTE_MARKER_UFFD_WP"]
# must be "y" after olddefconfig on every arch/tree
_GENERIC_REQUIRED = ["SWAP", "USERFAULTFD", "TRANSPARENT_HUGEPAGE",
                     "MIGRATION"]
RECORDED_OPTIONS = [
    "SWAP", "MIGRATION", "MEMORY_FAILURE", "ZONE_DEVICE", "DEVICE_PRIVATE",
    "ARCH_HAS_PTE_DEVMAP", "HAVE_ARCH_SOFT_DIRTY", "MEM_SOFT_DIRTY",
    "USERFAULTFD", "HAVE_ARCH_USERFAULTFD_WP", "PTE_MARKER",
    "PTE_MARKER_UFFD_WP", "TRANSPARENT_HUGEPAGE", "ARCH_ENABLE_THP_MIGRATION",
    "NUMA_BALANCING", "PGTABLE_LEVELS", "DEBUG_VM", "HUGETLB_PAGE",
    "ARCH_HAS_PTE_SPECIAL", "PHYS_ADDR_T_64BIT",
]

# Runtime profiles and the runtime variables the harness defines.
# name -> (C type, {profile: value}, explanation)
PROFILES = {
    "arm64": [("default", {"arm64_use_ng_mappings": 0,
                           "swap_migration_ad_supported": 1}),
              ("ng", {"arm64_use_ng_mappings": 1,
                      "swap_migration_ad_supported": 1}),
              ("noad", {"arm64_use_ng_mappings": 0,
                        "swap_migration_ad_supported": 0})],
    "riscv64": [("default", {"pgtable_l4_enabled": 1, "pgtable_l5_enabled": 1,
                             "swap_migration_ad_supported": 1}),
                ("sv48", {"pgtable_l4_enabled": 1, "pgtable_l5_enabled": 0,
                          "swap_migration_ad_supported": 1}),
                ("sv39", {"pgtable_l4_enabled": 0, "pgtable_l5_enabled": 0,
                          "swap_migration_ad_supported": 1}),
                ("noad", {"pgtable_l4_enabled": 1, "pgtable_l5_enabled": 1,
                          "swap_migration_ad_supported": 0})],
}
_AD = ("u8", "per profile (set by swapfile_init on real kernels: true when "
       "SWP_MIG_TOTAL_BITS fit in the swap offset)")
KNOWN_RUNTIME = {
    "arm64": {
        "arm64_use_ng_mappings": (
            "u8", "per profile: PTE_MAYBE_NG in PROT_DEFAULT/PAGE_* is PTE_NG "
            "when true (kernel set it for KPTI / E0PD)"),
        "swap_migration_ad_supported": _AD,
    },
    "riscv64": {
        "pgtable_l4_enabled": (
            "u8", "per profile (default true: the kernel's initial value, "
            "kept on Sv57/Sv48 hardware)"),
        "pgtable_l5_enabled": (
            "u8", "per profile (default true: the kernel's initial value, "
            "kept on Sv57 hardware)"),
        "swap_migration_ad_supported": _AD,
    },
}

# Plain helpers the freestanding harness itself defines (not runtime state).
HARNESS_DEFINED = {"memcpy", "memset"}

# ---------------------------------------------------------------------------
# Vector catalogue
# ---------------------------------------------------------------------------
# "max": generic_max_swap_offset, read from the constants after the run
OFFSETS = [0, 1, 0x1234, 0x7FFFFFFFF, "max"]

GENERIC_CONSTS = [
    "PAGE_SHIFT", "PMD_SHIFT", "PUD_SHIFT", "P4D_SHIFT", "PGDIR_SHIFT",
    "PTRS_PER_PTE", "PTRS_PER_PMD", "PTRS_PER_PUD", "PTRS_PER_P4D",
    "PTRS_PER_PGD", "MAX_PHYSMEM_BITS", "HPAGE_PMD_ORDER",
    "MAX_SWAPFILES_SHIFT", "MAX_SWAPFILES", "SWP_TYPE_SHIFT",
    "SWP_OFFSET_MASK", "BITS_PER_XA_VALUE", "SWP_DEVICE_NUM",
    "SWP_MIGRATION_NUM", "SWP_HWPOISON_NUM", "SWP_PTE_MARKER_NUM",
    "SWP_SWAPIN_ERROR_NUM", *common.SPECIAL_TYPES, "PTE_MARKER_UFFD_WP",
    "PTE_MARKER_SWAPIN_ERROR", "PTE_MARKER_POISONED", "PTE_MARKER_GUARD",
    "PTE_MARKER_MASK", "SWP_PFN_BITS", "SWP_PFN_MASK", "SWP_MIG_YOUNG_BIT",
    "SWP_MIG_DIRTY_BIT", "SWP_MIG_TOTAL_BITS", "SWP_MIG_YOUNG",
    "SWP_MIG_DIRTY"]

ARCH_CONSTS = {
    "arm64": [
        "PTE_VALID", "PTE_TYPE_MASK", "PTE_TYPE_PAGE", "PTE_TABLE_BIT",
        "PTE_USER", "PTE_RDONLY", "PTE_SHARED", "PTE_AF", "PTE_NG", "PTE_GP",
        "PTE_DBM", "PTE_WRITE", "PTE_CONT", "PTE_PXN", "PTE_UXN",
        "PTE_DIRTY", "PTE_SPECIAL", "PTE_DEVMAP", "PTE_PROT_NONE",
        "PTE_PRESENT_INVALID", "PTE_UFFD_WP", "PTE_SWP_EXCLUSIVE",
        "PTE_SWP_UFFD_WP", "PTE_PO_IDX_0", "PTE_PO_IDX_1", "PTE_PO_IDX_2",
        "PTE_PO_IDX_MASK", "PTE_SWBITS_MASK", "PTE_ATTRINDX_MASK",
        "PMD_PRESENT_INVALID", "PTE_ADDR_LOW", "PTE_ADDR_HIGH",
        "PTE_ADDR_HIGH_SHIFT", "PTE_ADDR_MASK", "PHYS_MASK_SHIFT",
        "PHYS_MASK", "PMD_TYPE_MASK", "PMD_TYPE_TABLE", "PMD_TYPE_SECT",
        "PMD_TABLE_BIT", "PMD_SECT_VALID", "PMD_SECT_USER",
        "PMD_SECT_RDONLY", "PMD_SECT_S", "PMD_SECT_AF", "PMD_SECT_NG",
        "PMD_SECT_CONT", "PMD_SECT_PXN", "PMD_SECT_UXN", "PUD_TYPE_TABLE",
        "PUD_TABLE_BIT", "PUD_TYPE_MASK", "PUD_TYPE_SECT", "CONT_PTES",
        "CONT_PTE_SHIFT", "CONT_PMD_SHIFT", "__SWP_TYPE_SHIFT",
        "__SWP_TYPE_BITS", "__SWP_TYPE_MASK", "__SWP_OFFSET_SHIFT",
        "__SWP_OFFSET_BITS", "__SWP_OFFSET_MASK", "VA_BITS",
        "PROT_DEFAULT", "PROT_SECT_DEFAULT", "PROT_NORMAL",
        "_PROT_DEFAULT", "_PAGE_DEFAULT", "_PAGE_KERNEL", "_PAGE_SHARED",
        "_PAGE_READONLY", "MT_NORMAL", "MT_NORMAL_TAGGED", "MT_DEVICE_nGnRE"],
    "riscv64": [
        "_PAGE_PRESENT", "_PAGE_READ", "_PAGE_WRITE", "_PAGE_EXEC",
        "_PAGE_USER", "_PAGE_GLOBAL", "_PAGE_ACCESSED", "_PAGE_DIRTY",
        "_PAGE_SOFT", "_PAGE_SPECIAL", "_PAGE_DEVMAP", "_PAGE_TABLE",
        "_PAGE_PROT_NONE", "_PAGE_SWP_EXCLUSIVE", "_PAGE_SWP_SOFT_DIRTY",
        "_PAGE_SWP_UFFD_WP", "_PAGE_SOFT_DIRTY", "_PAGE_UFFD_WP",
        "_PAGE_PFN_SHIFT", "_PAGE_PFN_MASK", "_PAGE_LEAF",
        "_PAGE_CHG_MASK", "_PAGE_NAPOT_SHIFT", "_PAGE_NAPOT",
        "_PAGE_NOCACHE_SVPBMT", "_PAGE_IO_SVPBMT", "_PAGE_MTMASK_SVPBMT",
        "_PAGE_PMA_THEAD", "_PAGE_NOCACHE_THEAD", "_PAGE_IO_THEAD",
        "_PAGE_MTMASK_THEAD", "_PAGE_MTMASK", "_PAGE_NOCACHE", "_PAGE_IO",
        "_PAGE_BASE", "_PAGE_KERNEL", "_PAGE_ACCESSED_OFFSET",
        "__SWP_TYPE_SHIFT", "__SWP_TYPE_BITS", "__SWP_TYPE_MASK",
        "__SWP_OFFSET_SHIFT", "__SWP_OFFSET_MASK", "NAPOT_CONT_ORDER_BASE",
        "VA_BITS"],
}
ARCH_PGPROTS = {
    "arm64": ["PAGE_NONE", "PAGE_SHARED", "PAGE_SHARED_EXEC", "PAGE_READONLY",
              "PAGE_READONLY_EXEC", "PAGE_EXECONLY", "PAGE_COPY",
              "PAGE_COPY_EXEC", "PAGE_KERNEL", "PAGE_KERNEL_RO",
              "PAGE_KERNEL_ROX", "PAGE_KERNEL_EXEC", "PAGE_KERNEL_EXEC_CONT"],
    "riscv64": ["PAGE_NONE", "PAGE_READ", "PAGE_WRITE", "PAGE_EXEC",
                "PAGE_READ_EXEC", "PAGE_WRITE_EXEC", "PAGE_COPY",
                "PAGE_COPY_EXEC", "PAGE_SHARED", "PAGE_SHARED_EXEC",
                "PAGE_READONLY", "PAGE_READONLY_EXEC", "PAGE_KERNEL",
                "PAGE_KERNEL_READ", "PAGE_KERNEL_EXEC",
                "PAGE_KERNEL_READ_EXEC", "PAGE_TABLE", "PAGE_KERNEL_IO"],
}
PRESENT_PROTS = ["PAGE_NONE", "PAGE_SHARED", "PAGE_SHARED_EXEC",
                 "PAGE_READONLY", "PAGE_READONLY_EXEC", "PAGE_KERNEL",
                 "PAGE_KERNEL_EXEC", "PAGE_KERNEL_RO", "PAGE_EXECONLY",
                 "PAGE_COPY", "PAGE_READ", "PAGE_WRITE"]
DECODE_EXTRA = {
    "arm64": [0x4, 0x8, 0x80, 0x1F80, 0x17C0, 0xFFFFFFFFFFFFFFFF,
              0x40, 0x7C0, 0x1000, 0x3FFFFFFFFFFFF000, 0x0000000123456FC0,
              0x0800000000000000],
    "riscv64": [0x4, 0x8, 0x80, 0x1F80, 0x17C0, 0xFFFFFFFFFFFFFFFF,
                0x40, 0xF80, 0x1000, 0xFFFFFFFFFFFFF000, 0x0000000001234180,
                0x000000000091A0C0],
}
PRED_PTES = {
    "arm64": [0x0, 0x1, 0x2, 0x3, 0x4, 0x8, 0x40, 0x80, 0x400, 0x800, 0x803,
              0x403, 0xC03, 0x1000, 1 << 55, 1 << 56, 1 << 57, 1 << 58,
              1 << 59, 0x0008000000000800, 0x00E8000123456F43,
              0x0060000123456F43, 0x00E0000123456FC3, 0x0400000123456F40,
              0xFFFFFFFFFFFFFFFF],
    "riscv64": [0x0, 0x1, 0x2, 0x3, 0x4, 0x8, 0x10, 0x20, 0x21, 0x22, 0x40,
                0x41, 0x80, 0xC0, 0xC7, 0xD7, 0xDF, 0x100, 0x200, 0x301,
                0x1234180, 0x8000000000000000, 0x8000000000000001,
                0x00000000048D15CF, 0xFFFFFFFFFFFFFFFF],
}
PRED_PMDS = {
    "arm64": [0x0, 0x1, 0x2, 0x3, 0x800, 0x801, 0x803, 0x0000000000200F01,
              0x0000000000200F03, 0x0000000000200F00, 0x0400000000200F00,
              0x0800000000200F00, 0x0060000000200F41, 0x00E8000000200F40,
              0xFFFFFFFFFFFFFFFF],
    "riscv64": [0x0, 0x1, 0x3, 0x7, 0xCF, 0x20, 0x21, 0x22, 0xC0, 0x800001,
                0x00000000000800CF, 0x0000000000080021, 0x00000000000800C7,
                0xFFFFFFFFFFFFFFFF],
}
PTE_PREDS = ["pte_none", "pte_present", "pte_protnone", "is_swap_pte",
             "pte_valid", "pte_user", "pte_young", "pte_dirty", "pte_write",
             "pte_special", "pte_devmap", "pte_uffd_wp", "pte_soft_dirty",
             "pte_swp_exclusive", "pte_swp_uffd_wp", "pte_swp_soft_dirty",
             "pte_exec", "pte_cont", "pte_napot", "pte_huge", "pte_leaf",
             "is_pte_marker", "pte_present_invalid"]
PMD_PREDS = ["pmd_none", "pmd_present", "pmd_bad", "pmd_table", "pmd_sect",
             "pmd_leaf", "pmd_trans_huge", "pmd_protnone",
             "is_pmd_migration_entry", "pmd_valid", "pmd_write", "pmd_dirty",
             "pmd_young", "pmd_devmap", "pmd_present_invalid"]


def build_catalogue(arch, tree):
    hdrs = common.GENERIC_HDRS + ARCHES[arch]["hdrs"]
    has = lambda ident: common.tree_has(tree, ident, hdrs)  # noqa: E731
    items = []

    # ---- constants ---------------------------------------------------------
    items += common.const_items(ARCH_CONSTS[arch] + GENERIC_CONSTS, ARCH_PGPROTS[arch])

    # ---- swap PTEs ---------------------------------------------------------
    types = [("0", None), ("1", None), ("3", None), ("22", None),
             ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1"), ("31", None)]
    items += common.swp_pte_items(types, OFFSETS, late_offsets=True)
    items += common.swp_flag_items(has, [
        ("0", None, 0), ("1", None, 0x1234),
        ("(MAX_SWAPFILES - 1)", "MAX_SWAPFILES-1", "max"),
        ("SWP_MIGRATION_READ", "SWP_MIGRATION_READ", common.PFN)], late_offsets=True)
    items += common.swp_decode_items(list(DECODE_EXTRA[arch]) + [1 << b for b in range(64)])

    # ---- PTE markers -------------------------------------------------------
    items += common.marker_items(has)

    # ---- migration / device / hwpoison -------------------------------------
    items += common.pfn_entry_items(has)

    # ---- present / PROT_NONE PTEs ------------------------------------------
    mkwrite = common.mkwrite_name(has)
    present = [(p, []) for p in PRESENT_PROTS]
    present += [("PAGE_SHARED", [o]) for o in [
        "pte_mkdirty", "pte_mkyoung", "pte_mkold", "pte_mkclean",
        "pte_mkspecial", "pte_mkdevmap", "pte_mkuffd_wp", "pte_clear_uffd_wp",
        "pte_wrprotect", mkwrite, "pte_mksoft_dirty", "pte_mkcont",
        "pte_mkhuge", "pte_mkinvalid", "pte_mkexec", "pte_mkpresent",
        "pte_modify(PAGE_NONE)", "pte_modify(PAGE_READONLY)"]]
    present += [
        *common.dirty_write_sequences(mkwrite),
        ("PAGE_READONLY", [mkwrite]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_mkuffd_wp"]),
        ("PAGE_SHARED", ["pte_mkuffd_wp", "pte_wrprotect"]),
        ("PAGE_SHARED", ["pte_mkdirty", "pte_modify(PAGE_NONE)"]),
        ("PAGE_SHARED", ["pte_modify(PAGE_NONE)", "pte_modify(PAGE_SHARED)"]),
        ("PAGE_NONE", ["pte_mkyoung", "pte_mkdirty"]),
    ]

    def present_guard(prot, ops):
        prots = [prot, *re.findall(r"\((PAGE_\w+)\)", "".join(ops))]
        return " && ".join(common.ifdef(x) for x in dict.fromkeys(prots))
    items += common.present_items(has, present, present_guard)
    items += common.pte_pfn_items([
        0x0, 0xFFFFFFFFFFFFFFFF, 0x00E8000123456F43, 0x0000000123456FC3,
        0x00000000048D15CF, 0x80000000048D15CF, 0x0000000001234180,
        0x0400000000200F00, 0x7000000123456F43])

    # ---- PMDs / PUDs -------------------------------------------------------
    pmds = [
        ("pfn_pmd(0x200, PAGE_KERNEL)", ["pfn_pmd(PAGE_KERNEL)"], None),
        ("pmd_mkhuge(pfn_pmd(0x200, PAGE_KERNEL))", ["pfn_pmd(PAGE_KERNEL)", "pmd_mkhuge"], "pmd_mkhuge"),
        ("pmd_mkinvalid(pfn_pmd(0x200, PAGE_KERNEL))", ["pfn_pmd(PAGE_KERNEL)", "pmd_mkinvalid"], "pmd_mkinvalid"),
        ("pmd_mkinvalid(pmd_mkhuge(pfn_pmd(0x200, PAGE_KERNEL)))", ["pfn_pmd(PAGE_KERNEL)", "pmd_mkhuge", "pmd_mkinvalid"], "pmd_mkinvalid"),
        ("pfn_pmd(0x200, PAGE_SHARED)", ["pfn_pmd(PAGE_SHARED)"], None),
        ("pmd_mkhuge(pfn_pmd(0x200, PAGE_SHARED))", ["pfn_pmd(PAGE_SHARED)", "pmd_mkhuge"], "pmd_mkhuge"),
        ("pmd_mkinvalid(pmd_mkhuge(pfn_pmd(0x200, PAGE_SHARED)))", ["pfn_pmd(PAGE_SHARED)", "pmd_mkhuge", "pmd_mkinvalid"], "pmd_mkinvalid"),
        ("pmd_mkhuge(pfn_pmd(0x200, PAGE_NONE))", ["pfn_pmd(PAGE_NONE)", "pmd_mkhuge"], "pmd_mkhuge"),
        ("pmd_mkhuge(pmd_mkdirty(pmd_wrprotect(pfn_pmd(0x200, PAGE_SHARED))))", ["pfn_pmd(PAGE_SHARED)", "pmd_wrprotect", "pmd_mkdirty", "pmd_mkhuge"], "pmd_mkhuge"),
        ("swp_entry_to_pmd(swp_entry(1, 0x1234))", ["swp_entry(1, 0x1234)", "swp_entry_to_pmd"], "swp_entry_to_pmd"),
        ("swp_entry_to_pmd(make_writable_migration_entry(0x1ad000))", ["make_writable_migration_entry(0x1ad000)", "swp_entry_to_pmd"], "swp_entry_to_pmd"),
    ]
    pmd_keys = []
    for e, ops, need in pmds:
        if need and not has(need):
            continue
        pmd_keys.append("pmd/%s" % e.replace(" ", ""))
        items += common.pmd_items(e, common.pmd_guard(e), {"pfn": 0x200, "ops": ops},
                           {"ops": ops})
    puds = [("pfn_pud(0x40000, PAGE_KERNEL)", None),
            ("pud_mkhuge(pfn_pud(0x40000, PAGE_KERNEL))", "pud_mkhuge"),
            ("pfn_pud(0x40000, PAGE_SHARED)", None)]
    for e, need in puds:
        if not has("pfn_pud") or (need and not has(need)):
            continue
        items.append(Item("pud", "pud/%s" % e.replace(" ", ""),
                          "pud_val(%s)" % e, inputs={"pfn": 0x40000}))
        items.append(Item("pud", "pud_pfn/%s" % e.replace(" ", ""),
                          "pud_pfn(%s)" % e,
                          inputs={"pfn": 0x40000, "result": "pud_pfn"}))
        items.append(Item("predicate", "predicate/pud_present/%s" % e.replace(" ", ""),
                          "!!pud_present(%s)" % e, result="bool",
                          inputs={"pred": "pud_present", "of": "pud/%s" % e.replace(" ", "")}))

    # ---- predicates --------------------------------------------------------
    derived_ptes = [
        "swp_pte/t1/o0x1234", "swp_pte/t31/o0x1234", "swp_pte/t0/o0x0",
        "swp_pte_flags/t1/o0x1234/exclusive", "swp_pte_flags/t1/o0x1234/uffd_wp",
        "swp_pte_flags/t1/o0x1234/soft_dirty",
        "marker_pte/uffd_wp", "marker_pte/poisoned", "marker_pte/swapin_error",
        "migration_pte/write/pfn0x1ad106/y0d0",
        "migration_pte/read/pfn0x1ad106/y1d1",
        "device_private_pte/write/pfn0x1ad106",
        "device_exclusive_pte/write/pfn0x1ad106", "hwpoison_pte/pfn0x1ad106",
        "present_pte/PAGE_NONE/-", "present_pte/PAGE_SHARED/-",
        "present_pte/PAGE_READONLY/-", "present_pte/PAGE_KERNEL/-",
        "present_pte/PAGE_SHARED/pte_mkdirty",
        "present_pte/PAGE_SHARED/pte_wrprotect",
        "present_pte/PAGE_SHARED/pte_mkspecial",
        "present_pte/PAGE_SHARED/pte_mkdevmap",
        "present_pte/PAGE_SHARED/pte_mkuffd_wp",
        "present_pte/PAGE_SHARED/pte_modify(PAGE_NONE)",
        "present_pte/PAGE_SHARED/pte_mkinvalid"]
    by_key = {it.key: it for it in items}

    def item_for(key):
        """Catalogue item whose (post-processed) id is key, if any."""
        if key in by_key:
            return by_key[key]
        m = re.match(r"^(swp_pte(?:_flags)?)/t(\d+)/o(0x[0-9a-f]+)(/.*)?$", key)
        if m:
            k = "%s/{t}/{o}%s" % (m.group(1), m.group(4) or "")
            for it in items:
                if it.key == k and it.c_expr.find("swp_entry(%s, %sUL)"
                                                  % (m.group(2), m.group(3))) >= 0:
                    return it
        return None

    def pred_items(preds, raws, deriveds, kind_key):
        for pred in preds:
            if not has(pred):
                continue
            items.extend(common.raw_predicate(pred, kind_key, v) for v in raws)
            for key in deriveds:
                src = item_for(key)
                if src is None:
                    continue
                inner = src.c_expr[len(kind_key) + 5:-1]  # strip pte_val( )
                ce = "!!%s(%s)" % (pred, inner)
                it = Item("predicate", "predicate/%s/%s" % (pred, key),
                          "!!%s(%s)" % (pred, key), guard=src.guard,
                          inputs={"pred": pred, "of": key}, result="bool",
                          c_expr=ce)
                it.src = src
                items.append(it)

    pred_items(PTE_PREDS, PRED_PTES[arch], derived_ptes, "pte")
    pred_items(PMD_PREDS, PRED_PMDS[arch], pmd_keys, "pmd")
    return items


# ---------------------------------------------------------------------------
# Build steps
# ---------------------------------------------------------------------------
def kmake(tree, build, arch, *targets, log=None, extra=()):
    a = ARCHES[arch]
    return run(["make", "-s", "O=" + build, "ARCH=" + a["karch"],
                "CROSS_COMPILE=" + a["cross"], *extra, *targets],
               cwd=tree, log=log)


def configure(tree, build, arch, log):
    a = ARCHES[arch]
    os.makedirs(build, exist_ok=True)
    kmake(tree, build, arch, "defconfig", log=log)
    want = {**{k: "y" for k in _GENERIC_ON}, **a["set"]}
    common.set_options(tree, build, want, log)
    kmake(tree, build, arch, "olddefconfig", log=log)
    cfg = common.read_config(os.path.join(build, ".config"))
    bad = {k: cfg.get(k, "n") for k in _GENERIC_REQUIRED + a["required"]
           if cfg.get(k, "n") != "y"}
    bad.update({k: cfg.get(k, "n") for k, v in a["set"].items()
                if v == "n" and cfg.get(k, "n") != "n"})
    if bad:
        raise SystemExit("config options not as requested: %r" % bad)
    unavailable = sorted(k for k, v in want.items() if cfg.get(k, "n") != v)
    kmake(tree, build, arch, "modules_prepare", log=log,
          extra=["-j%d" % (os.cpu_count() or 2)])
    return cfg, want, unavailable


def read_symtab(readelf, vec_o):
    """name -> (section name, value, size, type) from readelf -sW / -SW."""
    secs = {}
    for line in run([readelf, "-SW", vec_o]).splitlines():
        m = re.match(r"^\s*\[\s*(\d+)\]\s+(\S+)", line)
        if m:
            secs[m.group(1)] = m.group(2)
    syms = {}
    for line in run([readelf, "-sW", vec_o]).splitlines():
        f = line.split()
        if len(f) >= 8 and f[0].endswith(":") and f[6].isdigit():
            syms.setdefault(f[7], (secs.get(f[6], f[6]), int(f[1], 16),
                                   int(f[2], 0), f[3]))
    return syms


def is_data_ref(sym):
    """Relocation targets that are not runtime state: local labels, sections
    (constant pools, the function's own text), absolute values."""
    return (sym.startswith(".L") or sym == "*ABS*" or
            sym.startswith((".text", ".rodata", ".srodata", ".data.rel.ro")))


def parse_objdump(text, funcnames, sizes=None):
    """function -> {"syms", "calls", "insns"} from objdump -dr output.
    Only ELF function symbols start a new function (objdump also prints
    local labels such as riscv's alternative labels as headers)."""
    funcs = {}
    cur = None
    for line in text.splitlines():
        m = re.match(r"^([0-9a-f]+) <([^>]+)>:$", line)
        if m:
            if m.group(2) in funcnames:
                cur = funcs.setdefault(m.group(2), {"syms": set(),
                                                    "calls": set(),
                                                    "insns": []})
                start = int(m.group(1), 16)
                end = start + (sizes or {}).get(m.group(2), 1 << 62)
            continue
        if cur is None:
            continue
        m = re.match(r"^\s+([0-9a-f]+):", line)
        if m and not start <= int(m.group(1), 16) < end:
            continue    # e.g. alternative replacement code placed after it
        m = re.match(r"^\s+[0-9a-f]+: (R_(?:AARCH64|RISCV)_\w+)\s+(\S+)", line)
        if m:
            sym = re.sub(r"[+-]0x[0-9a-f]+$", "", m.group(2))
            if sym in funcnames:
                cur["calls"].add(sym)
            elif not is_data_ref(sym):
                cur["syms"].add(sym)
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(.*)$", line)
        if m:
            cur["insns"].append(m.group(1).strip())
    return funcs


def patch_sites(objdump, vec_o, syms, secs):
    """function -> set of patch-site kinds found in the given sections."""
    out = {}
    funcs = [(n, s) for n, s in syms.items() if s[3] == "FUNC"]
    for sec, kind in secs:
        r = subprocess.run([objdump, "-r", "-j", sec, vec_o], text=True,
                           capture_output=True)
        for line in r.stdout.splitlines():
            m = re.match(r"^[0-9a-f]+ (R_\w+)\s+(\S+?)(?:([+-])0x([0-9a-f]+))?$",
                         line.strip())
            if not m or "SUB" in m.group(1):
                continue
            sym = m.group(2)
            add = int(m.group(4), 16) if m.group(4) else 0
            if m.group(3) == "-":
                add = -add
            if sym in syms:
                tsec, base = syms[sym][0], syms[sym][1]
            else:
                tsec, base = sym, 0
            addr = base + add
            for fn, (fsec, fval, fsize, _) in funcs:
                if fsec == tsec and fval <= addr < fval + max(fsize, 1):
                    out.setdefault(fn, set()).add(kind)
    return out


def close_over_calls(funcs, sites):
    """Add to every function the runtime symbols and patch sites of the
    local (same-object) functions it calls, transitively."""
    changed = True
    while changed:
        changed = False
        for fn, f in funcs.items():
            for c in list(f["calls"]):
                if c not in funcs:
                    continue
                add_s = funcs[c]["syms"] - f["syms"]
                add_c = funcs[c]["calls"] - f["calls"]
                add_p = sites.get(c, set()) - sites.get(fn, set())
                if add_s or add_c or add_p:
                    f["syms"] |= add_s
                    f["calls"] |= add_c
                    sites.setdefault(fn, set()).update(add_p)
                    changed = True


def folded_immediate(arch, insns):
    """Value of a body that only materialises an immediate in x0/a0."""
    regs = {}
    skip = ("nop", "paciasp", "autiasp", "bti", "hint", "ret", "c.nop")
    for raw in insns:
        cmt = r"\s+//.*$" if arch == "arm64" else r"\s+#.*$"
        i = re.sub(cmt, "", re.sub(r"\s+<.*>$", "", raw)).strip()
        parts = i.split(None, 1)
        if not parts:
            continue
        op = parts[0]
        args = [a.strip() for a in parts[1].split(",")] if len(parts) > 1 else []
        if op.startswith(skip) or op in ("ret", "jr", "c.jr") or \
           (op == "jalr" and args[:1] == ["zero"]):
            continue

        def imm(s):
            s = s.lstrip("#")
            return int(s, 0)
        try:
            if arch == "arm64":
                if op in ("mov", "movz") and len(args) >= 2:
                    if args[1] in regs:
                        regs[args[0].replace("w", "x")] = regs[args[1]]
                        continue
                    if args[1] in ("xzr", "wzr"):
                        regs[args[0].replace("w", "x")] = 0
                        continue
                    v = imm(args[1])
                    if len(args) == 3:
                        v <<= int(args[2].split("#")[1])
                    if args[0].startswith("w"):
                        v &= 0xFFFFFFFF
                    regs[args[0].replace("w", "x")] = v & 0xFFFFFFFFFFFFFFFF
                elif op == "movk":
                    sh = int(args[2].split("#")[1]) if len(args) == 3 else 0
                    r = args[0].replace("w", "x")
                    v = regs[r] & ~(0xFFFF << sh)
                    regs[r] = v | (imm(args[1]) << sh)
                elif op == "movn":
                    sh = int(args[2].split("#")[1]) if len(args) == 3 else 0
                    v = ~(imm(args[1]) << sh)
                    v &= 0xFFFFFFFF if args[0].startswith("w") else 0xFFFFFFFFFFFFFFFF
                    regs[args[0].replace("w", "x")] = v
                elif op == "orr" and args[1] in ("xzr", "wzr"):
                    regs[args[0].replace("w", "x")] = imm(args[2]) & (
                        0xFFFFFFFF if args[0].startswith("w") else 0xFFFFFFFFFFFFFFFF)
                else:
                    return None
            else:

                def sx32(v):
                    v &= 0xFFFFFFFF
                    return (v - (1 << 32)) & MASK64 if v & 0x80000000 else v
                def rv(r):
                    if r == "zero":
                        return 0
                    if r in regs:
                        return regs[r]
                    return imm(r) & MASK64      # binutils prints addi as add etc.
                op = op[2:] if op.startswith("c.") else op
                # frame-pointer prologue/epilogue
                if op in ("sd", "sw") or (args and args[0] in ("sp", "s0", "ra")):
                    continue
                if op == "li":
                    regs[args[0]] = imm(args[1]) & MASK64
                elif op == "lui":
                    regs[args[0]] = sx32(imm(args[1]) << 12)
                elif op == "addi":
                    regs[args[0]] = (rv(args[1]) + imm(args[2])) & MASK64
                elif op == "addiw":
                    regs[args[0]] = sx32(rv(args[1]) + imm(args[2]))
                elif op in ("slli", "sll"):
                    regs[args[0]] = (rv(args[1]) << rv(args[2])) & MASK64
                elif op in ("srli", "srl"):
                    regs[args[0]] = rv(args[1]) >> rv(args[2])
                elif op in ("addw", "sext.w"):
                    regs[args[0]] = sx32(rv(args[1]) + (rv(args[2]) if len(args) > 2 else 0))
                elif op == "ori":
                    regs[args[0]] = (rv(args[1]) | (imm(args[2]) & MASK64)) & MASK64
                elif op == "xori":
                    regs[args[0]] = (rv(args[1]) ^ (imm(args[2]) & MASK64)) & MASK64
                elif op == "not":
                    regs[args[0]] = ~rv(args[1]) & MASK64
                elif op == "neg":
                    regs[args[0]] = -rv(args[1]) & MASK64
                elif op == "mv":
                    regs[args[0]] = rv(args[1])
                elif op in ("add", "or", "xor", "and", "sub"):
                    a, b = rv(args[1]), rv(args[2])
                    regs[args[0]] = {"add": a + b, "or": a | b, "xor": a ^ b,
                                     "and": a & b, "sub": a - b}[op] & MASK64
                else:
                    return None
        except (KeyError, ValueError, IndexError):
            return None
    r = "x0" if arch == "arm64" else "a0"
    return regs.get(r)


def write_harness(arch, items, undefined, path, skip):
    known = KNOWN_RUNTIME[arch]
    rs = ["unsigned char %s[65536] __attribute__((aligned(4096)));" % s
          for s in sorted(undefined)]
    ap = []
    for idx, (_profile, vals) in enumerate(PROFILES[arch]):
        ap.append("\tif (idx == %d) {" % idx)
        for s in sorted(undefined):
            if s in known and s in vals:
                ct = {"u8": "unsigned char", "u32": "unsigned int",
                      "u64": "unsigned long long"}[known[s][0]]
                ap.append("\t\t{ %s v = %d; dv_store(%s, &v, sizeof(v)); }"
                          % (ct, vals[s], s))
        ap.append("\t}")
    common.write_harness_c("harness_cross_template.c", path, items, skip, {
        "RUNTIME_SYMBOLS": "\n".join(rs),
        "PROFILES": "\n".join('\t"%s",' % n for n, _ in PROFILES[arch]),
        "APPLY_PROFILE": "\n".join(ap)})


def main():
    t0 = time.time()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--arch", required=True, choices=sorted(ARCHES))
    ap.add_argument("--config", default="defconfig", choices=["defconfig"])
    common.add_common_args(ap)
    args = ap.parse_args()
    arch = args.arch
    A = ARCHES[arch]

    tree = os.path.abspath(args.tree)
    kver = run(["make", "-s", "kernelversion"], cwd=tree).strip()
    tag = "%s-%s-%s" % (A["label"], kver, args.config)
    build, moddir, log = common.work_dirs(os.path.abspath(args.work), tag)

    cfg, want, unavailable = configure(tree, build, arch, log)
    items = build_catalogue(arch, tree)
    # Compile; a function that does not compile in this tree (a helper the
    # header scan found but that is not usable here) is dropped and listed.
    dropped = {}
    no_compile = set()
    while True:
        common.write_vec_c(items, moddir, "vec_cross_template.c", no_compile)
        r = subprocess.run(["make", "-s", "-C", build, "ARCH=" + A["karch"],
                            "CROSS_COMPILE=" + A["cross"], "M=" + moddir,
                            "vec.o"], text=True, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT)
        with open(log, "a") as fh:
            fh.write(r.stdout)
        if r.returncode == 0:
            break
        bad = set(re.findall(r"In function .(dv_\d+).", r.stdout))
        if not bad - no_compile:
            sys.stderr.write(r.stdout[-6000:])
            raise SystemExit("vec.o does not compile")
        no_compile |= bad
        for it in items:
            for fn in (it.fn, it.fn2):
                if fn in bad:
                    m = re.search(r"In function .%s.:\n(?:.*\n)*?.*error: (.*)"
                                  % fn, r.stdout)
                    dropped[it.key] = ("does not compile in this tree/config: "
                                       + (m.group(1) if m else "?"))
    vec_o = os.path.join(moddir, "vec.o")
    objdump = A["cross"] + "objdump"

    syms = read_symtab(A["cross"] + "readelf", vec_o)
    funcnames = {n for n, v in syms.items() if v[3] == "FUNC"}
    funcs = parse_objdump(run([objdump, "-dr", "--no-show-raw-insn", vec_o]),
                          funcnames, {n: syms[n][2] for n in funcnames})
    sites = patch_sites(objdump, vec_o, syms,
                        [(s, "alternative") for s in A["altsecs"]] +
                        [("__jump_table", "static_key"), ("__bug_table", "BUG")])
    close_over_calls(funcs, sites)
    nm_u = run([A["cross"] + "nm", "-u", vec_o]).split()
    undefined = {s for s in nm_u if s != "U" and s not in HARNESS_DEFINED}
    known = KNOWN_RUNTIME[arch]

    skip = set()
    for it in items:
        for fn in (it.fn, it.fn2):
            if fn in funcs:
                bad = sorted(funcs[fn]["syms"] - set(known) - HARNESS_DEFINED)
                if bad:
                    dropped[it.key] = "reads unknown runtime symbols %s" % bad
                    skip.add(fn)
    harness_c = os.path.join(moddir, "harness.c")
    exe = os.path.join(moddir, "harness")
    # Run; a function that kills the harness is dropped and the run repeated.
    while True:
        write_harness(arch, items, undefined, harness_c, skip)
        run([A["cross"] + "gcc", "-O1", "-static", "-nostdlib", "-ffreestanding",
             "-fno-stack-protector", "-fno-pie", "-no-pie", *A["harness_cflags"],
             "-o", exe, harness_c, vec_o, "-Wl,-z,noexecstack"], log=log)
        r = subprocess.run([A["qemu"], exe], text=True, capture_output=True)
        lines = r.stdout.splitlines()
        if r.returncode == 0:
            break
        started = [ln.split()[1] for ln in lines if ln.startswith("S ")]
        if not started:
            raise SystemExit("harness failed: %s" % r.stderr[-2000:])
        bad = started[-1]
        skip.add(bad)
        for it in items:
            if bad in (it.fn, it.fn2):
                dropped[it.key] = ("terminated the harness (rc %d; e.g. BUG() "
                                   "or trap)" % r.returncode)
    results = common.parse_run(lines)

    profiles = PROFILES[arch]
    stats = dict(common.new_stats(), functions_with_unpatched_sites=0)

    def value_of(fn):
        vals = results[fn]
        deps = set(funcs[fn]["syms"]) - HARNESS_DEFINED | {"patch_site:" + k
                                         for k in sites.get(fn, ())}
        if not deps:
            common.check_folded(fn, vals,
                         lambda: folded_immediate(arch, funcs[fn]["insns"]), stats)
        else:
            if funcs[fn]["syms"]:
                stats["functions_reading_runtime_state"] += 1
            if sites.get(fn):
                stats["functions_with_unpatched_sites"] += 1
        return vals["default"], vals, deps

    present = [it for it in items if it.fn in results and it.key not in dropped
               and (it.fn2 is None or it.fn2 in results)]
    consts, rt_consts, vectors, runtime_deps = common.collect(
        present, value_of, profiles,
        lambda pname, pvals: dict(pvals, profile=pname))
    out_by_id = {}
    # predicates on derived values: record the operand value
    for v in vectors:
        out_by_id.setdefault(v["id"], v)
    for v in vectors:
        of = v["inputs"].get("of")
        if of:
            key = of + ("@" + v["id"].split("@")[1] if "@" in v["id"] else "")
            src = out_by_id.get(key) or out_by_id.get(of)
            if src is None:
                dropped[v["id"]] = "operand %s was not computed" % of
                v["drop"] = True
                continue
            if not src["id"].startswith(("pmd/", "pud/")):
                v["inputs"]["pte"] = src["value"]
            else:
                v["inputs"][src["id"].split("/")[0]] = src["value"]
            inner = re.sub(r"^p[tmu][ed]_val\((.*)\)$", r"\1", src["expr"])
            v["expr"] = v["expr"].replace(of, inner)
    # de-duplicate (e.g. type 22 == MAX_SWAPFILES-1)
    seen, uniq = {}, []
    for v in vectors:
        if v.pop("drop", False):
            continue
        if v["id"] in seen:
            if seen[v["id"]]["value"] != v["value"]:
                raise SystemExit("duplicate id with different values: %s" % v["id"])
            continue
        seen[v["id"]] = v
        uniq.append(v)
    vectors = uniq

    label, pkg = common.debian_label(tree, kver)
    conf = {"CONFIG_" + k: cfg.get(k, "n")
            for k in RECORDED_OPTIONS + A["recorded"] + list(want)}
    cc = run([A["cross"] + "gcc", "--version"]).splitlines()[0]
    prov = {
        "tree": args.tree_label or label,
        "kernelversion": kver,
        "arch": arch,
        "config": dict(sorted(conf.items())),
        "config_name": args.config,
        "config_base": "make ARCH=%s defconfig + scripts/config: %s" % (
            A["karch"], " ".join("%s=%s" % kv for kv in want.items())),
        "config_unavailable": {
            "CONFIG_" + k: "requested %s, got %s after olddefconfig "
            "(dependencies not available for this arch/tree)"
            % (want[k], cfg.get(k, "n")) for k in unavailable},
        "compiler": cfg.get("CC_VERSION_TEXT", cc),
        "method": ("Each value is returned by a noinline function compiled "
                   "from the tree's own headers by its Kbuild (out-of-tree "
                   "module object, ARCH=%s CROSS_COMPILE=%s), statically "
                   "linked into a freestanding userspace harness that "
                   "supplies the listed runtime variables, and run under %s; "
                   "folded functions were also checked against the immediate "
                   "decoded from objdump -d where the body is a plain "
                   "load-immediate sequence." % (A["karch"], A["cross"],
                                                 A["qemu"])),
        "generated_by": "tools/derive_vectors/derive_cross.py",
        "runtime": {
            "profiles": {n: p for n, p in profiles},
            "variables": {s: known[s][1] for s in sorted(undefined) if s in known},
            "unpatched_code": (
                "code-patching sites (alternatives, static keys) are left "
                "unpatched, so they run their original instructions: the "
                "behaviour of a CPU without any optional capability, ISA "
                "extension or erratum"),
        },
        "runtime_dependent_constants": rt_consts,
        "runtime_dependent_vectors": runtime_deps,
        "stats": stats,
        "dropped": dropped,
        "elapsed_seconds": round(time.time() - t0),
    }
    if arch == "arm64":
        prov["runtime"]["lpa2_is_enabled"] = (
            "compile-time false (CONFIG_ARM64_LPA2=%s)" % cfg.get("ARM64_LPA2", "n"))
        prov["runtime"]["page_size"] = "4 KiB (CONFIG_ARM64_4K_PAGES=y)"
        prov["arm64_va_pa"] = ("CONFIG_ARM64_VA_BITS_48=y (VA_BITS=%s), "
                               "CONFIG_ARM64_PA_BITS_48=y (PA_BITS=%s); "
                               "VA_BITS_39/52, PA_BITS_52 disabled"
                               % (cfg.get("ARM64_VA_BITS"), cfg.get("ARM64_PA_BITS")))
    else:
        prov["runtime"]["has_svnapot"] = (
            "false: riscv_has_extension_unlikely(SVNAPOT) is an alternative, "
            "left unpatched" if cfg.get("RISCV_ISA_SVNAPOT") == "y" else
            "false: CONFIG_RISCV_ISA_SVNAPOT not set / not in this tree")
        prov["runtime"]["svpbmt_thead"] = (
            "_PAGE_MTMASK/_PAGE_NOCACHE/_PAGE_IO and the T-Head PMA fixup in "
            "pfn_pte/pte_pfn are alternatives, left unpatched (no Svpbmt, no "
            "T-Head errata)")
    # Swap-PTE flag helpers that, in this tree/config, come from the generic
    # no-op fallbacks (arch does not implement them): their vectors show the
    # PTE unchanged.
    ahdrs = A["hdrs"]
    gate = {"pte_swp_mkexclusive": None,
            "pte_swp_mkuffd_wp": "HAVE_ARCH_USERFAULTFD_WP",
            "pte_swp_mksoft_dirty": "HAVE_ARCH_SOFT_DIRTY",
            "pte_mkuffd_wp": "HAVE_ARCH_USERFAULTFD_WP",
            "pte_mksoft_dirty": "HAVE_ARCH_SOFT_DIRTY"}
    prov["generic_fallback_helpers"] = sorted(
        f for f, opt in gate.items()
        if not common.tree_has(tree, f, ahdrs) or (opt and cfg.get(opt, "n") != "y"))
    dest = common.write_doc(args.out, "%s.json" % tag, prov, pkg, consts, vectors)
    print("wrote %s: %d constants, %d vectors (%d dropped) in %ds"
          % (dest, len(consts), len(vectors), len(dropped), time.time() - t0))


if __name__ == "__main__":
    main()
