/*
 * Host test of kernel/mm/heap.c. The pmm is replaced by a fake that hands
 * out page-aligned host memory (addresses stand in for physical ones, as
 * phys_to_virt() is the identity) with a page budget, so exhaustion and
 * the return of empty chunks can be observed.
 */
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include "check.h"
#include "kernel/mm/heap.c"

static int warnings;
void warn_slowpath(const char *file, int line, const char *cond) { warnings++; }
void printk(int level, const char *fmt, ...) { (void)level; (void)fmt; }
void panic(const char *fmt, ...) { fprintf(stderr, "panic: %s\n", fmt); abort(); }

/* ---- fake pmm ---- */
static uint64_t budget_pages = ~0ull, outstanding_pages, contig_calls;
uint64_t phys_alloc_contig(size_t pages, size_t align)
{
	contig_calls++;
	if (pages > budget_pages - outstanding_pages)
		return 0;
	void *p = aligned_alloc(PAGE_SIZE, pages * PAGE_SIZE);
	if (!p)
		return 0;
	memset(p, 0, pages * PAGE_SIZE);
	outstanding_pages += pages;
	return (uint64_t)(uintptr_t)p;
}
void phys_free_contig(uint64_t pa, size_t pages)
{
	outstanding_pages -= pages;
	free((void *)(uintptr_t)pa);
}

static void test_basic(void)
{
	struct heap_stats s;
	void *a = kmalloc(1), *b = kmalloc(0), *c = kmalloc(100);
	CHECK(a && b && c);
	CHECK((uintptr_t)a % 16 == 0 && (uintptr_t)b % 16 == 0 && (uintptr_t)c % 16 == 0);
	CHECK(a != b && b != c);
	memset(c, 0xff, 100);
	kfree(c);
	unsigned char *z = kzalloc(100);  /* likely the same block: must be zeroed */
	int nz = 0;
	for (int i = 0; i < 100; i++)
		nz |= z[i];
	CHECK(!nz);
	heap_get_stats(&s);
	CHECK_EQ_U(s.allocs, 4);
	CHECK_EQ_U(s.frees, 1);
	CHECK(s.bytes_in_use >= 1 + 0 + 100);
	kfree(a);
	kfree(b);
	kfree(z);
	kfree(NULL);
	heap_get_stats(&s);
	CHECK_EQ_U(s.bytes_in_use, 0);
	CHECK_EQ_U(s.frees, 4);
	CHECK_EQ_U(heap_check(), 0);
}

static void test_aligned(void)
{
	void *p[13];
	for (int i = 0; i <= 12; i++) {
		size_t al = (size_t)1 << i;
		p[i] = kmalloc_aligned(100 + i * 7, al);
		CHECK(p[i] && (uintptr_t)p[i] % (al < 16 ? 16 : al) == 0);
		memset(p[i], i, 100 + i * 7);
	}
	CHECK_EQ_U(heap_check(), 0);
	for (int i = 0; i <= 12; i++)
		kfree(p[i]);
	CHECK(kmalloc_aligned(10, 3) == NULL);
	CHECK(kmalloc_aligned(10, 2 * PAGE_SIZE) == NULL);
	CHECK(kmalloc((size_t)3 << 30) == NULL);
	CHECK_EQ_U(heap_check(), 0);
}

/* Neighbours merge both ways: after freeing in any order, one block again
 * spans the chunk, so a near-chunk-sized request needs no new chunk. */
static void test_coalesce(void)
{
	struct heap_stats s0, s;
	heap_get_stats(&s0);
	uint64_t calls = contig_calls;
	void *a = kmalloc(1000), *b = kmalloc(1000), *c = kmalloc(1000), *d = kmalloc(1000);
	kfree(b);
	kfree(a);   /* merges with b above */
	kfree(d);   /* merges with the free tail */
	kfree(c);   /* merges both ways */
	CHECK_EQ_U(heap_check(), 0);
	void *big = kmalloc(HEAP_CHUNK_MIN - sizeof(struct chunk) - sizeof(struct blk));
	CHECK(big != NULL);
	CHECK_EQ_U(contig_calls, calls); /* served from the existing chunk */
	kfree(big);
	heap_get_stats(&s);
	CHECK_EQ_U(s.bytes_reserved, s0.bytes_reserved);
}

static void test_bad_frees(void)
{
	struct heap_stats s0, s;
	int local;
	char *p = kmalloc(64), *q = kmalloc(64);
	heap_get_stats(&s0);
	int w0 = warnings;
	kfree(p);
	kfree(p);                 /* double free */
	kfree(q + 16);            /* interior pointer */
	kfree(q + 1);             /* misaligned */
	kfree(&local);            /* not heap memory at all */
	kfree((void *)0x1000);
	heap_get_stats(&s);
	CHECK_EQ_U(s.bad_frees - s0.bad_frees, 5);
	CHECK_EQ_U(warnings - w0, 5);
	CHECK_EQ_U(s.frees - s0.frees, 1);
	CHECK_EQ_U(heap_check(), 0);
	/* the heap still works and q is intact */
	kfree(q);
	char *r = kmalloc(64);
	CHECK(r != NULL);
	kfree(r);
	/* a pointer freed long ago, whose header a merge swallowed, is still
	 * recognised as a double free */
	char *x = kmalloc(64), *y = kmalloc(64);
	kfree(y);
	kfree(x);                 /* y's header is now inside x's free block */
	int w1 = warnings;
	kfree(y);
	CHECK_EQ_U(warnings - w1, 1);
	CHECK_EQ_U(heap_check(), 0);
}

/* Big blocks get their own chunk, which goes back when freed; the last
 * chunk is kept. */
static void test_chunks(void)
{
	struct heap_stats s0, s;
	heap_get_stats(&s0);
	uint64_t out0 = outstanding_pages;
	void *big = kmalloc(1 << 20);
	CHECK(big != NULL);
	CHECK(outstanding_pages >= out0 + 256);
	memset(big, 1, 1 << 20);
	kfree(big);
	CHECK_EQ_U(outstanding_pages, out0);
	heap_get_stats(&s);
	CHECK_EQ_U(s.bytes_reserved, s0.bytes_reserved);
	CHECK_EQ_U(heap_check(), 0);
}

static void test_exhaustion(void)
{
	struct heap_stats s0, s;
	void *p[64];
	int n = 0;
	heap_get_stats(&s0);
	budget_pages = outstanding_pages + 32; /* two more 64 KiB chunks */
	while (n < 64 && (p[n] = kmalloc(8000)) != NULL)
		n++;
	CHECK(n > 8 && n < 64);
	heap_get_stats(&s);
	CHECK_EQ_U(s.failures - s0.failures, 1);
	CHECK(kmalloc(1 << 20) == NULL);
	CHECK_EQ_U(heap_check(), 0);
	for (int i = 0; i < n; i++)
		kfree(p[i]);
	budget_pages = ~0ull;
	CHECK_EQ_U(heap_check(), 0);
	heap_get_stats(&s);
	CHECK_EQ_U(s.bytes_in_use, 0);
}

/* Random alloc/free with a pattern per block: any overlap or corruption
 * breaks a pattern; the structure is checked as it goes. */
static void test_stress(void)
{
	enum { SLOTS = 512, ROUNDS = 200000 };
	static unsigned char *ptr[SLOTS];
	static size_t len[SLOTS], al[SLOTS];
	uint64_t x = 0x243f6a8885a308d3ull;
	unsigned long corrupt = 0, misaligned = 0, failed = 0, inconsistent = 0;
	struct heap_stats s;

#define RND() (x ^= x << 13, x ^= x >> 7, x ^= x << 17, x)
	for (unsigned long it = 0; it < ROUNDS; it++) {
		unsigned i = RND() % SLOTS;
		if (ptr[i]) {
			for (size_t k = 0; k < len[i]; k++)
				if (ptr[i][k] != (unsigned char)(i * 31 + k)) { corrupt++; break; }
			kfree(ptr[i]);
			ptr[i] = NULL;
		} else {
			unsigned r = RND() % 100;
			len[i] = r < 70 ? RND() % 128 : r < 95 ? RND() % 4096 : RND() % 100000;
			al[i] = RND() % 10 == 0 ? (size_t)1 << (5 + RND() % 8) : 16;
			ptr[i] = al[i] > 16 ? kmalloc_aligned(len[i], al[i]) : kmalloc(len[i]);
			if (!ptr[i]) { failed++; continue; }
			if ((uintptr_t)ptr[i] % al[i])
				misaligned++;
			for (size_t k = 0; k < len[i]; k++)
				ptr[i][k] = (unsigned char)(i * 31 + k);
		}
		if (it % 10000 == 0 && heap_check())
			inconsistent++;
	}
	for (unsigned i = 0; i < SLOTS; i++)
		kfree(ptr[i]);
#undef RND
	CHECK_EQ_U(corrupt, 0);
	CHECK_EQ_U(misaligned, 0);
	CHECK_EQ_U(failed, 0);
	CHECK_EQ_U(inconsistent, 0);
	CHECK_EQ_U(heap_check(), 0);
	heap_get_stats(&s);
	CHECK_EQ_U(s.bytes_in_use, 0);
	CHECK_EQ_U(s.allocs, s.frees);
	CHECK_EQ_U(nr_chunks, 1);          /* everything returned but one chunk */
	CHECK_EQ_U(s.bytes_reserved, outstanding_pages * PAGE_SIZE);
}

int main(void)
{
	test_basic();
	test_aligned();
	test_coalesce();
	test_bad_frees();
	test_chunks();
	test_exhaustion();
	test_stress();
	return check_summary("test_heap");
}
