// SPDX-License-Identifier: GPL-2.0
/*
 * Template for tools/derive_vectors/derive.py.  derive.py copies this file to
 * its scratch directory and replaces the VECTOR_FUNCTIONS marker below with
 * one small non-inlined function per vector.  The file is compiled by the
 * kernel's own Kbuild (make -C BUILD M=DIR vec.o), so every value comes from
 * the kernel headers of that tree and config, compiled with that tree's flags.
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
#include <asm/processor.h>
#include <asm/cpufeature.h>

/*
 * Runtime-state helper, called by the userspace harness before each
 * profile: set or clear one CPU capability bit in the boot_cpu_data that the
 * harness provides.  Kernel code that tests the capability at run time
 * (e.g. pgtable_l5_enabled() for MAX_PHYSMEM_BITS, hence SWP_PFN_BITS, or
 * the shadow-stack test in pte_write()) then sees it.
 */
static void dv_cap(int bit, int on)
{
	if (on)
		__set_bit(bit, (unsigned long *)boot_cpu_data.x86_capability);
	else
		__clear_bit(bit, (unsigned long *)boot_cpu_data.x86_capability);
}

void dv_set_caps(int la57, int shstk);
void dv_set_caps(int la57, int shstk)
{
#ifdef X86_FEATURE_LA57
	dv_cap(X86_FEATURE_LA57, la57);
#endif
#ifdef X86_FEATURE_SHSTK
	dv_cap(X86_FEATURE_SHSTK, shstk);
#endif
}

u64 dv_sizeof_boot_cpu_data(void);
u64 dv_sizeof_boot_cpu_data(void)
{
	return sizeof(boot_cpu_data);
}

/* @@VECTOR_FUNCTIONS@@ */
