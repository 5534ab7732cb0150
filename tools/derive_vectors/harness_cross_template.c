/*
 * Freestanding userspace harness template for
 * tools/derive_vectors/derive_cross.py (arm64 and riscv64).
 *
 * It is linked statically (-nostdlib, no C library needed for the target)
 * with the vec.o that the kernel's Kbuild compiled for the target
 * architecture, and run under qemu-user.  It defines the few runtime
 * variables that kernel inline helpers read (their values are chosen per
 * "profile" and recorded in the JSON provenance), calls every vector
 * function and prints, through the write system call,
 *     <profile> <function> 0x<16 hex digits>
 * Markers replaced by derive_cross.py: RUNTIME_SYMBOLS, EXTERNS, TABLE,
 * PROFILES, APPLY_PROFILE.
 */
typedef unsigned long long u64;
typedef unsigned long size_t;

/* The syscall instruction and its registers (number, arguments/result). */
#if defined(__aarch64__)
#define DV_SYSCALL_INSN "svc #0"
#define DV_REG_NR "x8"
#define DV_REG_A0 "x0"
#define DV_REG_A1 "x1"
#define DV_REG_A2 "x2"
#elif defined(__riscv)
#define DV_SYSCALL_INSN "ecall"
#define DV_REG_NR "a7"
#define DV_REG_A0 "a0"
#define DV_REG_A1 "a1"
#define DV_REG_A2 "a2"
#else
#error "unsupported target"
#endif
/* the asm-generic numbers, used by both */
#define DV_NR_WRITE 64
#define DV_NR_EXIT_GROUP 94

static long dv_syscall3(long nr, long a, long b, long c)
{
	register long r_nr __asm__(DV_REG_NR) = nr;
	register long r_a0 __asm__(DV_REG_A0) = a;
	register long r_a1 __asm__(DV_REG_A1) = b;
	register long r_a2 __asm__(DV_REG_A2) = c;
	__asm__ volatile(DV_SYSCALL_INSN : "+r"(r_a0) : "r"(r_nr), "r"(r_a1), "r"(r_a2) : "memory");
	return r_a0;
}

/* The compiler may emit calls to these for struct copies / zeroing. */
void *memcpy(void *d, const void *s, size_t n);
void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *dp = d;
	const unsigned char *sp = s;

	while (n--)
		*dp++ = *sp++;
	return d;
}
void *memset(void *d, int c, size_t n);
void *memset(void *d, int c, size_t n)
{
	unsigned char *dp = d;

	while (n--)
		*dp++ = (unsigned char)c;
	return d;
}

static void dv_puts(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	dv_syscall3(DV_NR_WRITE, 1, (long)s, (long)n);
}

static void dv_line(const char *prof, const char *fn, u64 v)
{
	char buf[19];
	int i;

	buf[0] = '0';
	buf[1] = 'x';
	for (i = 0; i < 16; i++)
		buf[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 0xf];
	buf[18] = 0;
	dv_puts(prof);
	dv_puts(" ");
	dv_puts(fn);
	dv_puts(" ");
	dv_puts(buf);
	dv_puts("\n");
}

static void dv_store(void *sym, const void *val, size_t len)
{
	memcpy(sym, val, len);
}

/* @@RUNTIME_SYMBOLS@@ */

/* @@EXTERNS@@ */

struct dv_fn {
	const char *name;
	u64 (*fn)(void);
};

static const struct dv_fn dv_table[] = {
/* @@TABLE@@ */
	{ 0, 0 }
};

static const char *const dv_profiles[] = {
/* @@PROFILES@@ */
	0
};

static void dv_apply_profile(int idx)
{
	(void)idx;
/* @@APPLY_PROFILE@@ */
}

void dv_main(void);
void dv_main(void)
{
	const struct dv_fn *f;
	int p;

	for (p = 0; dv_profiles[p]; p++) {
		dv_apply_profile(p);
		for (f = dv_table; f->name; f++) {
			if (!f->fn)
				continue;	/* guarded out in this tree/config */
			dv_puts("S ");
			dv_puts(f->name);
			dv_puts("\n");
			dv_line(dv_profiles[p], f->name, f->fn());
		}
	}
	(void)dv_store;
	dv_syscall3(DV_NR_EXIT_GROUP, 0, 0, 0);
}

/* Entry point: set up nothing but a call into C (the stack is valid). */
#if defined(__aarch64__)
__asm__(".text\n.globl _start\n_start:\n\tmov x29, #0\n\tbl dv_main\n1:\tb 1b\n");
#else
__asm__(".text\n.globl _start\n_start:\n\t.option push\n\t.option norelax\n"
	"\tla gp, __global_pointer$\n\t.option pop\n\tcall dv_main\n1:\tj 1b\n");
#endif
