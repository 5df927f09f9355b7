/*
 * Host test of net/pkt.c: buffers are 2048-byte aligned with phys == data,
 * distinct, all handed out exactly once; an empty pool returns NULL and
 * counts; batch allocation; double free caught; the low-water mark; and
 * interrupts restored after every call.
 */
#include "net_shim.h"
#include "check.h"
#include "net/pkt.c"

#define N 64

static void test_pool(void)
{
	struct pkt *p[N + 1];
	CHECK_EQ_U(pkt_pool_init(N), 0);
	CHECK(pkt_pool_init(N) != 0);            /* once only */

	for (int i = 0; i < N; i++) {
		p[i] = pkt_alloc();
		CHECK(p[i] != NULL);
		if (!p[i])
			return;
		CHECK_EQ_U(p[i]->phys % PKT_BUF_SIZE, 0);
		CHECK(p[i]->data == (void *)(uintptr_t)p[i]->phys);
		CHECK_EQ_U(p[i]->len, 0);
		memset(p[i]->data, i, PKT_BUF_SIZE);  /* ASan: whole buffer ours */
	}
	/* all distinct and not overlapping */
	int overlap = 0;
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			if (p[i]->phys == p[j]->phys)
				overlap++;
	CHECK_EQ_U(overlap, 0);
	for (int i = 0; i < N; i++)
		CHECK_EQ_U(((uint8_t *)p[i]->data)[PKT_BUF_SIZE - 1], (uint8_t)i);

	p[N] = pkt_alloc();
	CHECK(p[N] == NULL);
	struct pkt_pool_stats s;
	pkt_pool_stats(&s);
	CHECK_EQ_U(s.alloc_fail, 1);
	CHECK_EQ_U(s.free, 0);
	CHECK_EQ_U(s.min_free, 0);

	pkt_free(p[3]);
	pkt_free(p[3]);                           /* double free: ignored */
	pkt_free(NULL);
	pkt_pool_stats(&s);
	CHECK_EQ_U(s.double_free, 1);
	CHECK_EQ_U(s.free, 1);
	struct pkt *q = pkt_alloc();
	CHECK(q == p[3]);                         /* LIFO: warm buffer first */
	CHECK(pkt_alloc() == NULL);               /* and only once */

	/* chain free and batch alloc */
	for (int i = 0; i < 10; i++)
		p[i]->next = i < 9 ? p[i + 1] : NULL;
	pkt_free_chain(p[0]);
	struct pkt *b[16];
	CHECK_EQ_U(pkt_alloc_batch(b, 16), 10);
	pkt_pool_stats(&s);
	CHECK_EQ_U(s.alloc_fail, 3);
	CHECK_EQ_U(s.free, 0);
	for (int i = 0; i < 10; i++)
		pkt_free(b[i]);
	for (int i = 10; i < N; i++)
		pkt_free(p[i]);
	pkt_pool_stats(&s);
	CHECK_EQ_U(s.free, N);
	CHECK_EQ_U(s.total, N);
	CHECK_EQ_U(s.allocs, s.frees);
	CHECK(shim_if);
	CHECK(shim_irq_saves > 0);
}

/* Growing the pool: new buffers are distinct from the old, indexes go
 * on, and a reserve already met adds nothing. */
static void test_reserve(void)
{
	struct pkt_pool_stats s0, s;
	pkt_pool_stats(&s0);
	CHECK_EQ_U(pkt_pool_reserve(s0.free), 0);     /* already there */
	pkt_pool_stats(&s);
	CHECK_EQ_U(s.total, s0.total);
	CHECK_EQ_U(pkt_pool_reserve(s0.free + 5), 0);  /* odd count: half a page */
	pkt_pool_stats(&s);
	CHECK_EQ_U(s.total, s0.total + 5);
	CHECK_EQ_U(s.free, s0.free + 5);

	struct pkt *p[N + 5];
	unsigned got = pkt_alloc_batch(p, N + 5);
	CHECK_EQ_U(got, N + 5);
	int dup = 0, idx_ok = 1;
	for (unsigned i = 0; i < got; i++) {
		memset(p[i]->data, 0x5a, PKT_BUF_SIZE);   /* ASan: whole buffer ours */
		if (p[i]->index >= got)
			idx_ok = 0;
		for (unsigned j = i + 1; j < got; j++)
			if (p[i]->phys == p[j]->phys || p[i]->index == p[j]->index)
				dup++;
	}
	CHECK_EQ_U(dup, 0);
	CHECK(idx_ok);
	for (unsigned i = 0; i < got; i++)
		pkt_free(p[i]);

	shim_pages_left = 0;                         /* out of memory */
	CHECK(pkt_pool_reserve(s.free + 10) == -ENOMEM);
	shim_pages_left = ~0ul;
	CHECK(shim_if);
}

int main(void)
{
	test_pool();
	test_reserve();
	return check_summary("test_net_pkt");
}
