/*
 * memtest.c - the `memtest` shell command: checks of the memory manager
 * that the scenarios in tests/scenarios/test_memory.py drive and parse.
 * Every subcommand prints one result line "memtest <what>: ... ok" or an
 * error, so a regression shows as a failed assertion, not a hang.
 *
 *   memtest wx              walk every mapping: count W+X pages (must be
 *                           0), print the PTE flags of a text, a rodata and
 *                           a data address
 *   memtest pages N         allocate N pages, pattern-check, free them
 *   memtest contig N ALIGN  one physically contiguous run, alignment check
 *   memtest heap N          N random kmalloc/kfree with pattern checks and
 *                           a full heap_check()
 *   memtest badfree         a double kfree and a bad phys_free_page must
 *                           be refused and counted
 *   memtest ioremap         the same MMIO range twice gives one window
 *   memtest stack           a fresh kstack has a guard page below it
 *
 * Task context (shell).
 */
#include "kernel/mm/pmm.h"
#include "kernel/mm/vmm.h"
#include "kernel/mm/heap.h"
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "kernel/cpu.h"
#include "kernel/lib/string.h"
/* probe_read_u64/probe_write_u64 from the exception code; without them the
 * wx test only walks the tables (and says so: the scenario then fails). */
#if __has_include("kernel/extable.h")
#include "kernel/extable.h"
#define HAVE_PROBES 1
#endif

extern char __text_start[], __rodata_start[], __data_start[];

/* PTE bits, as in vmm.c (SDM Vol. 3A 4.5). */
#define PTE_W  (1ull << 1)
#define PTE_NX (1ull << 63)

struct wx_count {
	uint64_t mapped_4k; /* mapped memory in 4 KiB units */
	uint64_t wx_4k;     /* of which writable and executable */
	uint64_t w_4k, x_4k;
	uint64_t first_wx;
};

static void count_wx(uint64_t va, uint64_t pte, int level, bool w, bool x, void *arg)
{
	struct wx_count *c = arg;
	uint64_t n = level == 1 ? 1 : level == 2 ? 512 : 512 * 512;

	c->mapped_4k += n;
	if (w)
		c->w_4k += n;
	if (x)
		c->x_4k += n;
	if (w && x) {
		if (!c->wx_4k)
			c->first_wx = va;
		c->wx_4k += n;
	}
}

/* "RWX"-style string of a mapping's effective rights (leaf bits only: the
 * kernel's upper levels are always P|RW without XD). */
static const char *rights(uint64_t va, char *buf)
{
	uint64_t pte;
	int level;

	if (!vmm_lookup(va, &pte, &level))
		return "unmapped";
	buf[0] = 'R';
	buf[1] = (pte & PTE_W) ? 'W' : '-';
	buf[2] = (pte & PTE_NX) ? '-' : 'X';
	buf[3] = 0;
	return buf;
}

#ifdef HAVE_PROBES
/*
 * Writes back the value already there, through the fault-tolerant probe:
 * the memory is unchanged whether or not the write is (wrongly) allowed.
 * Returns "ok" if the write went through, "fault" if it faulted.
 */
static const char *try_write(void *addr)
{
	uint64_t v;

	if (probe_read_u64(addr, &v))
		return "unreadable";
	return probe_write_u64(addr, v) ? "fault" : "ok";
}

static const char *try_read(const void *addr)
{
	uint64_t v;
	return probe_read_u64(addr, &v) ? "fault" : "ok";
}

/*
 * One `ret` in a writable data page. Calling it must fault on the
 * instruction fetch (NX). The exception table has an entry whose
 * "instruction" is the buffer itself, so the #PF handler resumes at the
 * fixup, which drops the return address the call pushed.
 */
__attribute__((aligned(16))) uint8_t memtest_nx_buf[16] = { 0xc3 };

static const char *try_exec_data(void)
{
	int err = 0;

	__asm__ volatile(
		"	call *%[fn]\n"
		"2:\n\t"
		/* drop the return address the call pushed */
		_ASM_FIXUP_EFAULT("addq $8, %%rsp\n\t")
		_ASM_EXTABLE(memtest_nx_buf, 3b)
		: [err] "+r"(err)
		: [fn] "r"(memtest_nx_buf), [efault] "i"(-EFAULT)
		: "memory", "cc");
	return err ? "fault" : "ok";
}
#endif

static int memtest_wx(void)
{
	struct wx_count c = {0};
	char b1[4], b2[4], b3[4];
	uint64_t efer = rdmsr(MSR_EFER), cr0 = read_cr0();

	vmm_walk(count_wx, &c);
	kprintf("memtest wx: text=%s rodata=%s data=%s nxe=%d wp=%d mapped_pages=%lu writable_pages=%lu exec_pages=%lu wx_pages=%lu\n",
		rights((uint64_t)__text_start, b1), rights((uint64_t)__rodata_start, b2),
		rights((uint64_t)__data_start, b3), !!(efer & EFER_NXE),
		!!(cr0 & (1ull << 16)), c.mapped_4k, c.w_4k, c.x_4k, c.wx_4k);
	if (c.wx_4k) {
		shell_error("memtest wx: %lu W+X pages, first at 0x%lx", c.wx_4k, c.first_wx);
		return 0;
	}
#ifdef HAVE_PROBES
	/* What the CPU actually does, not just what the tables say. */
	static uint64_t data_word;
	const char *tw = try_write(__text_start), *rw = try_write(__rodata_start);
	const char *dw = try_write(&data_word), *dx = try_exec_data();
	const char *nr = try_read((void *)8);
	kprintf("memtest wx: probes text_write=%s rodata_write=%s data_write=%s data_exec=%s null_read=%s\n",
		tw, rw, dw, dx, nr);
	if (strcmp(tw, "fault") || strcmp(rw, "fault") || strcmp(dw, "ok") ||
	    strcmp(dx, "fault") || strcmp(nr, "fault")) {
		shell_error("memtest wx: the CPU does not enforce the mapping rights");
		return 0;
	}
#else
	kprintf("memtest wx: probes unavailable (no kernel/extable.h)\n");
#endif
	kprintf("memtest wx: ok\n");
	return 0;
}

static uint64_t pattern(uint64_t pa, unsigned i)
{
	return pa * 0x9e3779b97f4a7c15ull ^ i;
}

static int memtest_pages(unsigned long n)
{
	static uint64_t pages[1024];
	unsigned long got = 0, bad = 0;

	if (n == 0 || n > 1024)
		return -EINVAL;
	for (; got < n; got++) {
		pages[got] = phys_alloc_page();
		if (!pages[got])
			break;
		uint64_t *p = phys_to_virt(pages[got]);
		for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
			if (p[i])
				bad++; /* must come zeroed */
		for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
			p[i] = pattern(pages[got], i);
	}
	for (unsigned long k = 0; k < got; k++) {
		uint64_t *p = phys_to_virt(pages[k]);
		for (unsigned i = 0; i < PAGE_SIZE / 8; i++)
			if (p[i] != pattern(pages[k], i))
				bad++;
		for (unsigned long m = k + 1; m < got; m++)
			if (pages[m] == pages[k])
				bad++; /* handed out twice */
	}
	for (unsigned long k = 0; k < got; k++)
		phys_free_page(pages[k]);
	if (got < n || bad) {
		shell_error("memtest pages: got %lu of %lu, %lu bad words", got, n, bad);
		return 0;
	}
	kprintf("memtest pages: %lu allocated, checked and freed: ok\n", n);
	return 0;
}

static int memtest_contig(unsigned long n, unsigned long align)
{
	uint64_t pa = phys_alloc_contig(n, align);

	if (!pa) {
		shell_error("memtest contig: no run of %lu pages aligned to %lu", n, align);
		return 0;
	}
	if (align >= PAGE_SIZE && (pa & (align - 1))) {
		shell_error("memtest contig: 0x%lx not aligned to %lu", pa, align);
		phys_free_contig(pa, n);
		return 0;
	}
	memset(phys_to_virt(pa), 0xa5, n * PAGE_SIZE); /* all of it is ours and mapped */
	phys_free_contig(pa, n);
	kprintf("memtest contig: %lu pages at 0x%lx aligned %lu: ok\n", n, pa, align);
	return 0;
}

/* xorshift64: reproducible pseudo-random sizes and orders. */
static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static int memtest_heap(unsigned long n)
{
	enum { SLOTS = 256 };
	static unsigned char *ptr[SLOTS];
	static size_t len[SLOTS];
	unsigned long bad = 0, fails = 0;

	for (unsigned long it = 0; it < n; it++) {
		unsigned s = rnd() % SLOTS;
		if (ptr[s]) {
			for (size_t i = 0; i < len[s]; i++)
				if (ptr[s][i] != (unsigned char)(s + i))
					{ bad++; break; }
			kfree(ptr[s]);
			ptr[s] = NULL;
			continue;
		}
		len[s] = rnd() % 4 == 0 ? rnd() % 20000 : rnd() % 300;
		size_t align = rnd() % 8 == 0 ? (size_t)1 << (4 + rnd() % 9) : 16;
		ptr[s] = align > 16 ? kmalloc_aligned(len[s], align) : kmalloc(len[s]);
		if (!ptr[s]) {
			fails++;
			continue;
		}
		if ((uintptr_t)ptr[s] & (align - 1))
			bad++;
		for (size_t i = 0; i < len[s]; i++)
			ptr[s][i] = (unsigned char)(s + i);
	}
	for (unsigned s = 0; s < SLOTS; s++) {
		kfree(ptr[s]);
		ptr[s] = NULL;
	}
	unsigned inconsistent = heap_check();
	if (bad || fails || inconsistent) {
		shell_error("memtest heap: %lu corrupted, %lu failed, %u inconsistent", bad, fails,
			    inconsistent);
		return 0;
	}
	kprintf("memtest heap: %lu operations: ok\n", n);
	return 0;
}

static int memtest_badfree(void)
{
	struct heap_stats h0, h1;
	struct pmm_stats p0, p1;
	void *p = kmalloc(64);
	uint64_t pa = phys_alloc_page();

	if (!p || !pa)
		return -ENOMEM;
	heap_get_stats(&h0);
	pmm_get_stats(&p0);
	kfree(p);
	kfree(p);                       /* double free: refused */
	kfree((char *)p + 16);          /* not a block start: refused */
	phys_free_page(pa);
	phys_free_page(pa);             /* double free: refused */
	phys_free_page(PAGE_SIZE);      /* page 1 is never allocator RAM */
	heap_get_stats(&h1);
	pmm_get_stats(&p1);
	kprintf("memtest badfree: heap_bad_frees=+%lu page_bad_frees=+%lu\n",
		h1.bad_frees - h0.bad_frees, p1.bad_frees - p0.bad_frees);
	if (h1.bad_frees - h0.bad_frees != 2 || p1.bad_frees - p0.bad_frees != 2 ||
	    heap_check()) {
		shell_error("memtest badfree: bad frees not all caught");
		return 0;
	}
	kprintf("memtest badfree: ok\n");
	return 0;
}

static int memtest_ioremap(void)
{
	/* The LAPIC's default base (SDM Vol. 3A 11.4.1): MMIO on every PC. */
	volatile uint32_t *a = ioremap(0xfee00000, 0x1000);
	volatile uint32_t *b = ioremap(0xfee00020, 4);
	uint64_t pte = 0;

	if (!a || (uintptr_t)b != (uintptr_t)a + 0x20 || !vmm_lookup((uint64_t)a, &pte, NULL) ||
	    !(pte & (1ull << 4)) || !(pte & (1ull << 3)) || !(pte & PTE_NX)) {
		shell_error("memtest ioremap: %p %p pte 0x%lx", a, b, pte);
		return 0;
	}
	/*
	 * A 4 MiB window (mapped, never touched: no device access happens)
	 * in the PCI hole below the IOAPIC: its aligned part must use 2 MiB
	 * pages, uncached and not executable like the rest.
	 */
	uint64_t big_pa = 0xfc000000 - 0x3000;
	uint8_t *big = ioremap(big_pa, 4 << 20);
	int level = 0;
	uint64_t aligned = (uint64_t)big + 0x3000; /* phys 0xfc000000 */
	if (!big || ((uint64_t)big & 0x1fffff) != ((big_pa) & 0x1fffff) ||
	    !vmm_lookup(aligned, &pte, &level) || level != 2 ||
	    !(pte & (1ull << 4)) || !(pte & (1ull << 3)) || !(pte & PTE_NX) ||
	    !vmm_lookup((uint64_t)big, NULL, &level) || level != 1) {
		shell_error("memtest ioremap: large window %p level %d pte 0x%lx", big, level, pte);
		return 0;
	}
	/* LAPIC version register (offset 0x30): low byte 0x1x for an APIC */
	kprintf("memtest ioremap: window %p, same window for a sub-range, UC, lapic version 0x%x; 4 MiB window %p with 2 MiB pages: ok\n",
		a, a[0x30 / 4], big);
	return 0;
}

static int memtest_stack(void)
{
	const size_t sz = 16384;
	uint8_t *top = kstack_alloc(sz);
	uint64_t lowest = (uint64_t)top - sz;
	bool ok = ((uint64_t)top & 15) == 0 &&
		  vmm_lookup((uint64_t)top - 8, NULL, NULL) &&
		  vmm_lookup(lowest, NULL, NULL) &&
		  !vmm_is_guard_page(lowest) &&
		  vmm_is_guard_page(lowest - 1) &&
		  !vmm_lookup(lowest - 1, NULL, NULL);

	top[-1] = 0x5a; /* writable */
	kstack_free(top, sz);
	ok = ok && !vmm_lookup((uint64_t)top - 8, NULL, NULL);
	if (!ok) {
		shell_error("memtest stack: top %p: guard page missing or stack not mapped", top);
		return 0;
	}
	kprintf("memtest stack: top %p, guard at 0x%lx: ok\n", top, (unsigned long)(lowest - PAGE_SIZE));
	return 0;
}

static int cmd_memtest(int argc, char **argv)
{
	uint64_t a = 0, b = 0;

	if (argc < 2)
		return -EINVAL;
	if (argc > 2 && !parse_u64(argv[2], &a))
		return -EINVAL;
	if (argc > 3 && !parse_u64(argv[3], &b))
		return -EINVAL;
	if (!strcmp(argv[1], "wx") && argc == 2)
		return memtest_wx();
	if (!strcmp(argv[1], "pages") && argc == 3)
		return memtest_pages(a);
	if (!strcmp(argv[1], "contig") && argc == 4 && a && a <= 4096 && b <= (1u << 30) &&
	    !(b & (b - 1)))
		return memtest_contig(a, b);
	if (!strcmp(argv[1], "heap") && argc == 3 && a && a <= 1000000)
		return memtest_heap(a);
	if (!strcmp(argv[1], "badfree") && argc == 2)
		return memtest_badfree();
	if (!strcmp(argv[1], "ioremap") && argc == 2)
		return memtest_ioremap();
	if (!strcmp(argv[1], "stack") && argc == 2)
		return memtest_stack();
	return -EINVAL;
}
SHELL_CMD("memtest", cmd_memtest,
	  "wx | pages N | contig N ALIGN | heap N | badfree | ioremap | stack",
	  "memory manager self-tests (W^X walk, allocators, guard pages)");
