/*
 * Host test of kernel/mm/pmm.c over a fake arena: host memory whose
 * addresses stand in for physical ones (phys_to_virt() is the identity, as
 * in the kernel). The map is built by kernel/mm/memmap.c from synthetic
 * UEFI descriptors, so the two are tested together as pmm_init() uses them.
 */
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdarg.h>
#include <stdio.h>
#include "check.h"
#define strerror kernel_strerror /* kernel/errno.h vs libc */
#include "kernel/mm/memmap.c"
#include "kernel/mm/pmm.c"
#undef strerror

static int warnings;
void warn_slowpath(const char *file, int line, const char *cond) { warnings++; }
void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }
void panic(const char *fmt, ...) { fprintf(stderr, "panic: %s\n", fmt); abort(); }

#define MiB (1024ull * 1024)
#define ARENA (8 * MiB)

static unsigned char *arena;
static uint64_t A; /* arena base as a "physical" address */
static struct memmap mm;

struct desc_buf { unsigned char b[4096]; size_t n; };
static void add(struct desc_buf *d, uint32_t type, uint64_t start, uint64_t pages)
{
	struct boot_mmap_desc x = { .type = type, .phys_start = start, .num_pages = pages };
	memcpy(d->b + d->n, &x, sizeof(x));
	d->n += 48; /* firmware-like stride */
}

/*
 * Arena layout (pages): [0, 1024) conventional, [1024, 1536) boot-services
 * data (deferred), a hole [1536, 1600), [1600, 2048) conventional.
 */
#define Z1_PAGES 1536
#define DEF_START 1024
#define DEF_PAGES 512
#define Z2_START 1600
#define Z2_PAGES 448
static void setup(void)
{
	static struct desc_buf d;
	d.n = 0;
	add(&d, BOOT_MEM_CONVENTIONAL, A, 1024);
	add(&d, BOOT_MEM_BOOT_SERVICES_DATA, A + DEF_START * PAGE_SIZE, DEF_PAGES);
	add(&d, BOOT_MEM_CONVENTIONAL, A + Z2_START * PAGE_SIZE, Z2_PAGES);
	CHECK_EQ_U(memmap_build(&mm, d.b, d.n, 48, 0, 0), 0);
	memset(arena, 0x77, ARENA); /* the allocator must zero what it hands out */
	CHECK_EQ_U(pmm_init_ranges(&mm), 0);
}

static int in_arena(uint64_t pa)
{
	return pa >= A && pa < A + ARENA;
}

static uint64_t pages[4096];

static void test_init(void)
{
	struct pmm_stats s;
	setup();
	pmm_get_stats(&s);
	CHECK_EQ_U(s.total_pages, Z1_PAGES + Z2_PAGES);
	CHECK_EQ_U(s.reserved_pages, 1);      /* 1984 bits -> 248 bytes -> 1 page */
	CHECK_EQ_U(pmm_deferred_pages(), DEF_PAGES);
	CHECK_EQ_U(s.free_pages, Z1_PAGES + Z2_PAGES - 1 - DEF_PAGES);
	CHECK_EQ_U(pmm_zone_count(), 2);
	uint64_t zs, ze, zf;
	CHECK(pmm_zone_info(0, &zs, &ze, &zf));
	CHECK_EQ_U(zs, A);
	CHECK_EQ_U(ze, A + Z1_PAGES * PAGE_SIZE);
	CHECK(!pmm_zone_info(2, &zs, &ze, &zf));
}

/* Every free page exactly once, zeroed, never a deferred or bitmap page. */
static void test_exhaust(void)
{
	struct pmm_stats s0, s;
	unsigned n = 0, bad = 0, dup = 0;

	setup();
	pmm_get_stats(&s0);
	for (;;) {
		uint64_t pa = phys_alloc_page();
		if (!pa)
			break;
		if (n < 4096)
			pages[n] = pa;
		n++;
		uint64_t idx = (pa - A) / PAGE_SIZE;
		if (!in_arena(pa) || pa % PAGE_SIZE || (idx >= DEF_START && idx < Z2_START) ||
		    pa == bitmap_start)
			bad++;
		for (unsigned i = 0; i < PAGE_SIZE; i++)
			if (((unsigned char *)(uintptr_t)pa)[i]) { bad++; break; }
		memset((void *)(uintptr_t)pa, 0xab, PAGE_SIZE);
	}
	CHECK_EQ_U(n, s0.free_pages);
	CHECK_EQ_U(bad, 0);
	for (unsigned i = 0; i < n; i++)
		for (unsigned k = i + 1; k < n; k++)
			if (pages[i] == pages[k])
				dup++;
	CHECK_EQ_U(dup, 0);
	pmm_get_stats(&s);
	CHECK_EQ_U(s.free_pages, 0);
	CHECK_EQ_U(s.failures, 1);
	CHECK_EQ_U(s.allocs, n);
	CHECK_EQ_U(phys_alloc_contig(1, PAGE_SIZE), 0);
	pmm_get_stats(&s);
	CHECK_EQ_U(s.failures, 2);

	/* free everything; a freed page comes back zeroed */
	for (unsigned i = 0; i < n; i++)
		phys_free_page(pages[i]);
	pmm_get_stats(&s);
	CHECK_EQ_U(s.free_pages, s0.free_pages);
	CHECK_EQ_U(s.frees, n);
	uint64_t pa = phys_alloc_page();
	CHECK(pa != 0);
	CHECK(((unsigned char *)(uintptr_t)pa)[100] == 0);
	phys_free_page(pa);
}

static void test_bad_frees(void)
{
	struct pmm_stats s0, s;
	setup();
	uint64_t pa = phys_alloc_page();
	pmm_get_stats(&s0);
	int w0 = warnings;
	phys_free_page(pa);
	phys_free_page(pa);                            /* double */
	phys_free_page(pa + 8);                        /* unaligned */
	phys_free_page(A + ARENA + PAGE_SIZE);         /* outside all zones */
	phys_free_page(bitmap_start);                  /* the allocator's own */
	phys_free_page(A + (DEF_START + 3) * PAGE_SIZE); /* firmware's (deferred) page */
	phys_free_contig(A + (Z2_START + Z2_PAGES - 1) * PAGE_SIZE, 2); /* runs off the zone */
	pmm_get_stats(&s);
	CHECK_EQ_U(s.bad_frees - s0.bad_frees, 6);
	CHECK_EQ_U(warnings - w0, 6);
	CHECK_EQ_U(s.frees - s0.frees, 1);
	CHECK_EQ_U(s.free_pages, s0.free_pages + 1);
}

static void test_contig(void)
{
	struct pmm_stats s0, s;
	setup();
	pmm_get_stats(&s0);

	uint64_t a = phys_alloc_contig(16, 64 * 1024);
	CHECK(a && a % (64 * 1024) == 0 && in_arena(a));
	uint64_t b = phys_alloc_contig(300, 0);          /* align 0 = page */
	CHECK(b && in_arena(b));
	CHECK(b + 300 * PAGE_SIZE <= a || b >= a + 16 * PAGE_SIZE);
	/* zeroed */
	int nz = 0;
	for (size_t i = 0; i < 300 * PAGE_SIZE; i++)
		nz |= ((unsigned char *)(uintptr_t)b)[i];
	CHECK(!nz);
	/* no run larger than the biggest zone's free space */
	CHECK_EQ_U(phys_alloc_contig(Z1_PAGES, PAGE_SIZE), 0);
	CHECK_EQ_U(phys_alloc_contig(0, PAGE_SIZE), 0);
	CHECK_EQ_U(phys_alloc_contig(1, 3 * PAGE_SIZE), 0); /* not a power of two */
	phys_free_contig(a, 16);
	phys_free_contig(b, 300);
	pmm_get_stats(&s);
	CHECK_EQ_U(s.free_pages, s0.free_pages);
	CHECK_EQ_U(s.failures - s0.failures, 3);

	/* fragmentation: take all, free every other page: no 2-page run */
	unsigned n = 0;
	uint64_t pa;
	while ((pa = phys_alloc_page()) != 0)
		pages[n++] = pa;
	for (unsigned i = 0; i < n; i += 2)
		phys_free_page(pages[i]);
	CHECK_EQ_U(phys_alloc_contig(2, PAGE_SIZE), 0);
	/* ...until two neighbours are free again */
	unsigned k = 101; /* pages[100] free, pages[101] allocated */
	CHECK(pages[k] == pages[k - 1] + PAGE_SIZE);
	phys_free_page(pages[k]);
	CHECK_EQ_U(phys_alloc_contig(2, PAGE_SIZE), pages[k - 1]);
	phys_free_contig(pages[k - 1], 2);
	for (unsigned i = 1; i < n; i += 2)
		if (i != k)
			phys_free_page(pages[i]);
	pmm_get_stats(&s);
	CHECK_EQ_U(s.free_pages, s0.free_pages);

	/* large alignment: the run starts on the boundary even if the zone
	 * does not (the arena is 2 MiB aligned, zone 2 is not) */
	uint64_t c = phys_alloc_contig(8, 2 * MiB);
	CHECK(c && c % (2 * MiB) == 0);
	phys_free_contig(c, 8);
	uint64_t d = phys_alloc_contig(Z2_PAGES, PAGE_SIZE); /* exactly zone 2 */
	CHECK(d == 0 || in_arena(d)); /* zone 1 may serve it first: fine */
	if (d)
		phys_free_contig(d, Z2_PAGES);
}

static void test_release_deferred(void)
{
	struct pmm_stats s0, s;
	setup();
	pmm_get_stats(&s0);
	/* an address inside the deferred range keeps it */
	uint64_t keep = A + (DEF_START + 10) * PAGE_SIZE;
	CHECK_EQ_U(pmm_release_deferred(&keep, 1), 0);
	CHECK_EQ_U(pmm_deferred_pages(), DEF_PAGES);
	keep = 0x1234;
	CHECK_EQ_U(pmm_release_deferred(&keep, 1), DEF_PAGES);
	CHECK_EQ_U(pmm_deferred_pages(), 0);
	pmm_get_stats(&s);
	CHECK_EQ_U(s.free_pages, s0.free_pages + DEF_PAGES);
	/* now a 1536-page run (zone 1 minus its bitmap page) fits */
	uint64_t big = phys_alloc_contig(Z1_PAGES - 1, PAGE_SIZE);
	CHECK_EQ_U(big, A + PAGE_SIZE);
	phys_free_contig(big, Z1_PAGES - 1);
	CHECK_EQ_U(pmm_release_deferred(NULL, 0), 0); /* idempotent */
}

static void test_no_ram(void)
{
	struct memmap empty = {0};
	CHECK(pmm_init_ranges(&empty) != 0);
}

int main(void)
{
	arena = aligned_alloc(2 * MiB, ARENA);
	A = (uint64_t)(uintptr_t)arena;
	test_init();
	test_exhaust();
	test_bad_frees();
	test_contig();
	test_release_deferred();
	test_no_ram();
	free(arena);
	return check_summary("test_pmm");
}
