// SPDX-License-Identifier: GPL-2.0
/*
 * Template for tools/derive_vectors/derive_cross.py (arm64, riscv64).
 * derive_cross.py copies this file to its scratch directory and replaces the
 * VECTOR_FUNCTIONS marker below with one small non-inlined function per
 * vector or constant.  The file is compiled by the kernel's own Kbuild
 * (make -C BUILD ARCH=... CROSS_COMPILE=... M=DIR vec.o), so every value
 * comes from the kernel headers of that tree and config, compiled with that
 * tree's flags for the target architecture.
 *
 * No kernel source text lives here: only calls of the kernel's helpers.
 */
#include <linux/types.h>
#include <linux/bitops.h>
#include <linux/mm.h>
#include <linux/swap.h>
#include <linux/swapops.h>
#include <linux/huge_mm.h>
#include <linux/pgtable.h>

/* @@VECTOR_FUNCTIONS@@ */
