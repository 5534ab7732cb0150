/*
 * Userspace harness template for tools/derive_vectors/derive.py.
 *
 * It is linked (static, non-PIE, so the kernel's -mcmodel=kernel 32-bit
 * sign-extended relocations fit) with the vec.o that Kbuild compiled.  It
 * provides the few runtime variables that kernel inline helpers read
 * (their values are chosen per "profile" and recorded in the JSON
 * provenance), calls every vector function and prints
 *     <profile> <function> 0x<16 hex digits>
 * Markers replaced by derive.py: RUNTIME_SYMBOLS, EXTERNS, TABLE, PROFILES.
 */
#include <stdio.h>
#include <string.h>

typedef unsigned long long u64;

/* Return thunk used by the kernel's -mfunction-return=thunk-extern code. */
__asm__(".text\n"
	".globl __x86_return_thunk\n"
	"__x86_return_thunk:\n"
	"\tret\n"
	".globl __fentry__\n"
	"__fentry__:\n"
	"\tret\n");

/* @@RUNTIME_SYMBOLS@@ */

extern void dv_set_caps(int la57, int shstk);
extern u64 dv_sizeof_boot_cpu_data(void);

/* @@EXTERNS@@ */

struct dv_fn {
	const char *name;
	u64 (*fn)(void);
};

static const struct dv_fn dv_table[] = {
/* @@TABLE@@ */
	{ 0, 0 }
};

struct dv_profile {
	const char *name;
	int la57;
	int ad_supported;
	int shstk;
};

static const struct dv_profile dv_profiles[] = {
/* @@PROFILES@@ */
	{ 0, 0, 0, 0 }
};

static void dv_store(void *sym, const void *val, size_t len)
{
	memcpy(sym, val, len);
}

int main(void)
{
	const struct dv_profile *p;
	const struct dv_fn *f;

	printf("sizeof_boot_cpu_data %llu\n", dv_sizeof_boot_cpu_data());
	for (p = dv_profiles; p->name; p++) {
		dv_apply_profile(p->la57, p->ad_supported);
		dv_set_caps(p->la57, p->shstk);
		for (f = dv_table; f->name; f++) {
			if (!f->fn)
				continue;	/* guarded out in this tree/config */
			printf("%s %s 0x%016llx\n", p->name, f->name, f->fn());
		}
	}
	(void)dv_store;
	return 0;
}
