/*
 * heap.c - kmalloc/kfree: first fit over a free list, boundary tags for
 * coalescing, chunks of physically contiguous pages from the pmm.
 *
 * Layout of a chunk (HEAP_CHUNK_MIN bytes or more, from phys_alloc_contig):
 *
 *   [struct chunk 32 B][blk hdr 16 B | payload ...][blk hdr | payload] ...
 *
 * Every block starts with a 16-byte header (struct blk) holding its size,
 * the size of the block before it (0 for the first one), a check word
 * derived from its own address and its state (USED or FREE), so payloads
 * stay 16-byte aligned, neighbours can be merged in O(1) both ways, and a
 * kfree() of something that is not a live block is recognised:
 *   - pointer outside every chunk or misaligned: out-of-range free;
 *   - check word wrong: not a block start (interior pointer, garbage);
 *   - state FREE: double free (headers swallowed by a merge keep FREE).
 * Such frees are reported with WARN and ignored.
 *
 * Because chunks are physically contiguous, a block never straddles a
 * physical discontinuity: virt_to_phys(p) .. +size is one DMA-able run.
 * A chunk that becomes entirely free is returned to the pmm, except the
 * last one kept so small churn does not hit the page allocator.
 *
 * Locking: interrupts off around list manipulation (uniprocessor), so any
 * context may allocate; the pmm is called with interrupts off too, which
 * it allows.
 */
#include "kernel/mm/heap.h"
#include "kernel/mm/pmm.h"
#include "kernel/panic.h"
#include "kernel/printk.h"
#include "kernel/lib/string.h"

#ifdef HOST_TEST
static inline uint64_t heap_lock(void) { return 0; }
static inline void heap_unlock(uint64_t f) { (void)f; }
#else
#include "kernel/irqflags.h"
static inline uint64_t heap_lock(void) { return local_irq_save(); }
static inline void heap_unlock(uint64_t f) { local_irq_restore(f); }
#endif

#define HEAP_CHUNK_MIN   (64 * 1024ull)
#define HEAP_MAX_REQUEST (1ull << 30)      /* block sizes fit in 32 bits */
#define CHUNK_MAGIC      0x4b4e484350414548ull /* "HEAPCHNK" */
#define BLK_MAGIC        0x9e3779b9u
#define BLK_USED         0x44455355u /* "USED" */
#define BLK_FREE         0x45455246u /* "FREE" */

struct blk {
	uint32_t size;      /* whole block incl. header, multiple of 16 */
	uint32_t prev_size; /* size of the block just below, 0 if first */
	uint32_t check;     /* BLK_MAGIC ^ (address >> 4) */
	uint32_t state;     /* BLK_USED or BLK_FREE */
};
_Static_assert(sizeof(struct blk) == 16, "header keeps payloads 16-aligned");

/* Links of a free block live in its payload. */
struct free_links {
	struct blk *next, *prev;
};
#define MIN_BLOCK (sizeof(struct blk) + sizeof(struct free_links))

struct chunk {
	uint64_t magic;
	uint64_t size;      /* bytes incl. this header */
	struct chunk *next;
	uint64_t pad;
};
_Static_assert(sizeof(struct chunk) % 16 == 0, "first block 16-aligned");

static struct chunk *chunks;
static unsigned nr_chunks;
static struct blk *free_head;
static struct heap_stats hs;

static inline uint32_t blk_check(const struct blk *b)
{
	return BLK_MAGIC ^ (uint32_t)((uintptr_t)b >> 4);
}
static inline struct free_links *links(struct blk *b) { return (struct free_links *)(b + 1); }
static inline char *chunk_end(const struct chunk *c) { return (char *)c + c->size; }
static inline struct blk *chunk_first(struct chunk *c) { return (struct blk *)(c + 1); }

static struct chunk *chunk_of(const void *p)
{
	for (struct chunk *c = chunks; c; c = c->next)
		if ((const char *)p >= (const char *)chunk_first(c) && (const char *)p < chunk_end(c))
			return c;
	return NULL;
}

static struct blk *blk_next(struct chunk *c, struct blk *b)
{
	char *n = (char *)b + b->size;
	return n < chunk_end(c) ? (struct blk *)n : NULL;
}

static void list_push(struct blk *b)
{
	b->state = BLK_FREE;
	links(b)->prev = NULL;
	links(b)->next = free_head;
	if (free_head)
		links(free_head)->prev = b;
	free_head = b;
}

static void list_del(struct blk *b)
{
	struct free_links *l = links(b);
	if (l->prev)
		links(l->prev)->next = l->next;
	else
		free_head = l->next;
	if (l->next)
		links(l->next)->prev = l->prev;
}

static void blk_init(struct blk *b, uint32_t size, uint32_t prev_size)
{
	b->size = size;
	b->prev_size = prev_size;
	b->check = blk_check(b);
}

/*
 * Cuts block b at `off` bytes: b keeps the first `off` bytes, the rest
 * becomes a block of its own (returned), and the block after it learns
 * its new neighbour's size. Neither part is put on the free list; b must
 * be off it. Lock held.
 */
static struct blk *blk_split(struct chunk *c, struct blk *b, uint32_t off)
{
	struct blk *rest = (struct blk *)((char *)b + off);
	blk_init(rest, b->size - off, off);
	b->size = off;
	struct blk *n = blk_next(c, rest);
	if (n)
		n->prev_size = rest->size;
	return rest;
}

/* Trims block b (already off the list) to `size` bytes; the rest, if big
 * enough to be a block, becomes a free block. */
static void split_tail(struct chunk *c, struct blk *b, uint32_t size)
{
	if (b->size - size < MIN_BLOCK)
		return;
	list_push(blk_split(c, b, size));
}

/*
 * Offset from b at which a block whose payload is `align`-aligned can
 * start: 0 or at least MIN_BLOCK (the lead-in becomes a free block).
 */
static uint64_t lead_for(struct blk *b, size_t align)
{
	uintptr_t pay = (uintptr_t)(b + 1);
	uintptr_t want = (pay + align - 1) & ~(uintptr_t)(align - 1);

	while (want != pay && want - pay < MIN_BLOCK)
		want += align;
	return want - pay;
}

/* Finds and carves a block of `need` bytes with an `align`-aligned
 * payload. Lock held. */
static struct blk *take(uint32_t need, size_t align)
{
	for (struct blk *b = free_head; b; b = links(b)->next) {
		uint64_t lead = align > 16 ? lead_for(b, align) : 0;
		if (lead + need > b->size)
			continue;
		struct chunk *c = chunk_of(b);
		list_del(b);
		if (lead) {
			/* b keeps the lead-in and stays free; the block
			 * we hand out starts `lead` bytes in. */
			struct blk *nb = blk_split(c, b, (uint32_t)lead);
			list_push(b);
			b = nb;
		}
		split_tail(c, b, need);
		b->state = BLK_USED;
		return b;
	}
	return NULL;
}

/* Adds a chunk big enough for a `need`-byte block at `align`. Lock held;
 * the pmm may be called with interrupts off. */
static bool grow(uint32_t need, size_t align)
{
	uint64_t bytes = sizeof(struct chunk) + need + (align > 16 ? align + MIN_BLOCK : 0);
	if (bytes < HEAP_CHUNK_MIN)
		bytes = HEAP_CHUNK_MIN;
	bytes = PAGE_ALIGN_UP(bytes);
	if (bytes - sizeof(struct chunk) > UINT32_MAX - PAGE_SIZE)
		return false;
	uint64_t pa = phys_alloc_contig(bytes / PAGE_SIZE, PAGE_SIZE);
	if (!pa)
		return false;
	struct chunk *c = phys_to_virt(pa);
	c->magic = CHUNK_MAGIC;
	c->size = bytes;
	c->next = chunks;
	chunks = c;
	nr_chunks++;
	hs.bytes_reserved += bytes;
	struct blk *b = chunk_first(c);
	blk_init(b, (uint32_t)(bytes - sizeof(struct chunk)), 0);
	list_push(b);
	return true;
}

static void release_chunk(struct chunk *c)
{
	struct chunk **pp = &chunks;
	while (*pp != c)
		pp = &(*pp)->next;
	*pp = c->next;
	nr_chunks--;
	hs.bytes_reserved -= c->size;
	c->magic = 0;
	phys_free_contig(virt_to_phys(c), c->size / PAGE_SIZE);
}

void *kmalloc_aligned(size_t size, size_t align)
{
	struct blk *b;
	uint32_t need;
	uint64_t f;

	if ((align & (align - 1)) || align > PAGE_SIZE || size > HEAP_MAX_REQUEST) {
		f = heap_lock();
		hs.failures++;
		heap_unlock(f);
		return NULL;
	}
	if (align < KMALLOC_ALIGN)
		align = KMALLOC_ALIGN;
	need = (uint32_t)(((size + 15) & ~(size_t)15) + sizeof(struct blk));
	if (need < MIN_BLOCK)
		need = MIN_BLOCK;
	f = heap_lock();
	b = take(need, align);
	if (!b && grow(need, align))
		b = take(need, align);
	if (b) {
		hs.allocs++;
		hs.bytes_in_use += b->size - sizeof(struct blk);
	} else {
		hs.failures++;
	}
	heap_unlock(f);
	return b ? b + 1 : NULL;
}

void *kmalloc(size_t size)
{
	return kmalloc_aligned(size, KMALLOC_ALIGN);
}

void *kzalloc(size_t size)
{
	void *p = kmalloc(size);
	if (p)
		memset(p, 0, size);
	return p;
}

void kfree(void *p)
{
	const char *why = NULL;
	struct chunk *c;
	struct blk *b;
	uint64_t f;

	if (!p)
		return;
	f = heap_lock();
	b = (struct blk *)p - 1;
	c = ((uintptr_t)p & 15) ? NULL : chunk_of(b);
	if (!c)
		why = "pointer not in the heap";
	else if (b->check != blk_check(b))
		why = "not the start of a block";
	else if (b->state == BLK_FREE)
		why = "double free";
	else if (b->state != BLK_USED || (char *)b + b->size > chunk_end(c))
		why = "corrupt block header";
	if (why) {
		hs.bad_frees++;
		heap_unlock(f);
		pr_warn("heap: bad kfree(%p): %s", p, why);
		WARN_ON(why != NULL); /* backtrace: who freed it */
		return;
	}
	hs.frees++;
	hs.bytes_in_use -= b->size - sizeof(struct blk);

	/* merge with the block above, then with the one below */
	struct blk *n = blk_next(c, b);
	if (n && n->state == BLK_FREE) {
		list_del(n);
		b->size += n->size;
	}
	if (b->prev_size) {
		struct blk *prev = (struct blk *)((char *)b - b->prev_size);
		if (prev->state == BLK_FREE) {
			list_del(prev);
			prev->size += b->size;
			b->state = BLK_FREE; /* a later kfree(p) is seen as double */
			b = prev;
		}
	}
	n = blk_next(c, b);
	if (n)
		n->prev_size = b->size;
	if (b == chunk_first(c) && !n && nr_chunks > 1) {
		b->state = BLK_FREE;
		release_chunk(c);
	} else {
		list_push(b);
	}
	heap_unlock(f);
}

void heap_get_stats(struct heap_stats *out)
{
	uint64_t f = heap_lock();
	*out = hs;
	heap_unlock(f);
}

/* Walks every chunk checking headers and links; returns the number of
 * inconsistencies found (0 when healthy). For tests and `memtest heap`.
 * Lock taken inside; bounded by the heap's size. */
unsigned heap_check(void)
{
	unsigned bad = 0;
	uint64_t f = heap_lock();

	for (struct chunk *c = chunks; c; c = c->next) {
		uint32_t prev = 0;
		if (c->magic != CHUNK_MAGIC)
			bad++;
		for (struct blk *b = chunk_first(c); b; b = blk_next(c, b)) {
			if (b->check != blk_check(b) || b->prev_size != prev ||
			    (b->state != BLK_USED && b->state != BLK_FREE) ||
			    b->size < MIN_BLOCK || (b->size & 15) ||
			    (char *)b + b->size > chunk_end(c)) {
				bad++;
				break;
			}
			/* two free neighbours should have been merged */
			if (b->state == BLK_FREE && prev && ((struct blk *)((char *)b - prev))->state == BLK_FREE)
				bad++;
			prev = b->size;
		}
	}
	for (struct blk *b = free_head; b; b = links(b)->next)
		if (b->state != BLK_FREE || !chunk_of(b))
			bad++;
	heap_unlock(f);
	return bad;
}

#ifndef HOST_TEST
void heap_init(void)
{
	uint64_t f = heap_lock();
	bool ok = grow(MIN_BLOCK, KMALLOC_ALIGN);
	heap_unlock(f);
	if (!ok)
		panic("heap: no memory for the first chunk");
	pr_info("heap: first chunk %llu KiB", HEAP_CHUNK_MIN / 1024);
}
#endif
