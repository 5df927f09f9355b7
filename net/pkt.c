/*
 * pkt.c - the packet buffer pool (see pkt.h).
 *
 * Buffers are carved two to a 4 KiB page from the physical page allocator,
 * so each is 2048-byte aligned and physically contiguous without asking for
 * contiguous runs (which a fragmented map may not have). The metadata
 * (struct pkt) lives apart, in heap arrays (one per pkt_pool_init() or
 * pkt_pool_reserve() that grew the pool), so the device sees the whole
 * 2048 bytes. Pages and metadata are never returned: the pool lives as
 * long as the kernel.
 *
 * The free list is a LIFO stack: the most recently freed buffer, still warm
 * in the cache, is handed out next.
 */
#include "net/pkt.h"
#include "kernel/irqflags.h"
#include "kernel/errno.h"
#include "kernel/registry.h"
#include "kernel/printk.h"
#include "kernel/mm/pmm.h"
#include "kernel/mm/heap.h"

#define PKT_FREE_MAGIC 0x4652   /* "FR": on the free list */

static struct pkt *free_list;
static struct pkt *pool;
static struct pkt_pool_stats st;

/* Set by `pktpool=` (net/netctl.c) before initcalls run. */
unsigned int pkt_pool_size = 1024;

/*
 * Adds up to `count` buffers to the free list: one metadata array from the
 * heap, two buffers per page. Returns how many it added (fewer when memory
 * ran out; the rest of the array stays unused). Task context; the free
 * list and counters change with interrupts off, so the pool stays usable
 * meanwhile.
 */
static unsigned int add_buffers(unsigned int count, struct pkt **meta_out)
{
	struct pkt *meta = NULL;
	unsigned int made = 0;

	*meta_out = NULL;
	while (made < count) {       /* bounded by count */
		uint64_t pa = phys_alloc_page();
		if (!pa)
			break;
		if (!meta) {
			/* After the first page: with no memory at all nothing
			 * is allocated (the array would be unreachable). */
			meta = kzalloc(sizeof(*meta) * count);
			if (!meta) {
				phys_free_page(pa);
				break;
			}
			*meta_out = meta;
		}
		for (unsigned int half = 0; half < PAGE_SIZE / PKT_BUF_SIZE && made < count; half++) {
			struct pkt *p = &meta[made++];
			p->phys = pa + half * PKT_BUF_SIZE;
			p->data = phys_to_virt(p->phys);
			p->pool_flags = PKT_FREE_MAGIC;
			uint64_t flags = local_irq_save();
			p->index = st.total++;
			p->next = free_list;
			free_list = p;
			st.free++;
			local_irq_restore(flags);
		}
	}
	return made;
}

int pkt_pool_init(unsigned int count)
{
	if (pool || !count)
		return -EINVAL;
	unsigned int made = add_buffers(count, &pool);
	if (!pool)
		return -ENOMEM;
	st.min_free = st.free;
	if (made < count)
		return -ENOMEM;   /* what we have is usable; the caller reports it */
	return 0;
}

int pkt_pool_reserve(unsigned int want_free)
{
	struct pkt *meta;
	uint64_t flags = local_irq_save();
	unsigned int have = st.free;
	local_irq_restore(flags);

	if (have >= want_free)
		return 0;
	unsigned int need = want_free - have;
	if (add_buffers(need, &meta) < need)
		return -ENOMEM;
	return 0;
}

static inline struct pkt *pop_irqoff(void)
{
	struct pkt *p = free_list;
	if (!p)
		return NULL;
	free_list = p->next;
	p->next = NULL;
	p->pool_flags = 0;
	p->len = 0;
	p->dev = NULL;
	if (--st.free < st.min_free)
		st.min_free = st.free;
	st.allocs++;
	return p;
}

struct pkt *pkt_alloc(void)
{
	uint64_t flags = local_irq_save();
	struct pkt *p = pop_irqoff();
	if (!p)
		st.alloc_fail++;
	local_irq_restore(flags);
	return p;
}

unsigned int pkt_alloc_batch(struct pkt **out, unsigned int n)
{
	unsigned int i = 0;
	uint64_t flags = local_irq_save();
	for (; i < n; i++) {     /* bounded by n */
		out[i] = pop_irqoff();
		if (!out[i]) {
			st.alloc_fail++;
			break;
		}
	}
	local_irq_restore(flags);
	return i;
}

static inline void push_irqoff(struct pkt *p)
{
	if (p->pool_flags == PKT_FREE_MAGIC) {
		/* Already free: pushing it again would hand it out twice. */
		st.double_free++;
		return;
	}
	p->pool_flags = PKT_FREE_MAGIC;
	p->next = free_list;
	free_list = p;
	st.free++;
	st.frees++;
}

void pkt_free(struct pkt *p)
{
	if (!p)
		return;
	uint64_t flags = local_irq_save();
	push_irqoff(p);
	local_irq_restore(flags);
}

void pkt_free_chain(struct pkt *head)
{
	uint64_t flags = local_irq_save();
	while (head) {        /* bounded by the pool size */
		struct pkt *next = head->next;
		push_irqoff(head);
		head = next;
	}
	local_irq_restore(flags);
}

void pkt_pool_stats(struct pkt_pool_stats *out)
{
	uint64_t flags = local_irq_save();
	*out = st;
	local_irq_restore(flags);
}

static int pkt_init(void)
{
	int err = pkt_pool_init(pkt_pool_size);
	if (err)
		pr_err("net: packet pool: %u of %u buffers (%d)", st.total, pkt_pool_size, err);
	else
		pr_info("net: packet pool: %u buffers of %u bytes", st.total, PKT_BUF_SIZE);
	return err;
}
INITCALL(3, pkt_init);
