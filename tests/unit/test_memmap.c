/*
 * Host test of kernel/mm/memmap.c: synthetic UEFI memory maps, including a
 * descriptor stride larger than the struct (as real firmware uses), the
 * kernel image inside a usable range, tiny and unaligned ranges, overlaps,
 * corrupt descriptors and table overflow.
 */
#include <string.h>
#include <stdint.h>
#include <stdlib.h>
#include "check.h"
/* kernel/errno.h declares the kernel's strerror(), which clashes with libc's */
#define strerror kernel_strerror
#include "kernel/mm/memmap.c"
#undef strerror

#define KiB 1024ull
#define MiB (1024ull * 1024)
#define PG  4096ull

/* A map with a configurable stride; the bytes between descriptors are
 * filled with garbage to catch code that assumes sizeof(desc). */
struct fake_map {
	unsigned char buf[64 * 1024];
	size_t stride, size;
};

static void map_init(struct fake_map *m, size_t stride)
{
	memset(m->buf, 0xee, sizeof(m->buf));
	m->stride = stride;
	m->size = 0;
}

static void add(struct fake_map *m, uint32_t type, uint64_t start, uint64_t pages)
{
	struct boot_mmap_desc d = { .type = type, .phys_start = start,
				    .virt_start = 0, .num_pages = pages, .attribute = 0xf };
	memcpy(m->buf + m->size, &d, sizeof(d));
	m->size += m->stride;
}

static int build(struct memmap *mm, struct fake_map *m, uint64_t ks, uint64_t ke)
{
	return memmap_build(mm, m->buf, m->size, m->stride, ks, ke);
}

static int has_range(const struct mem_range *t, unsigned n, uint64_t s, uint64_t e)
{
	for (unsigned i = 0; i < n; i++)
		if (t[i].start == s && t[i].end == e)
			return 1;
	return 0;
}

static int sorted_disjoint(const struct mem_range *t, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (t[i].start >= t[i].end || (t[i].start | t[i].end) % PG)
			return 0;
		if (i && t[i - 1].end >= t[i].start) /* touching should have merged */
			return 0;
	}
	return 1;
}

static struct memmap mm; /* big: keep off the stack */

/* A map shaped like OVMF's with -m 512M, stride 48. */
static void test_ovmf_like(void)
{
	static struct fake_map m;
	map_init(&m, 48);
	add(&m, BOOT_MEM_BOOT_SERVICES_CODE, 0, 1);            /* page 0 */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x1000, 0x9f);           /* below 640K */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x100000, 0x700);        /* 1M..8M */
	add(&m, BOOT_MEM_ACPI_NVS, 0x800000, 8);
	add(&m, BOOT_MEM_CONVENTIONAL, 0x808000, 3);
	add(&m, BOOT_MEM_ACPI_NVS, 0x80b000, 1);
	add(&m, BOOT_MEM_CONVENTIONAL, 0x80c000, 4);
	add(&m, BOOT_MEM_ACPI_NVS, 0x810000, 0xf0);
	add(&m, BOOT_MEM_BOOT_SERVICES_DATA, 0x900000, 0x700);  /* 9M..16M */
	add(&m, BOOT_MEM_BOOT_SERVICES_DATA, 0x1000000, 0x100); /* kernel lands here */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x1100000, 0x1000);      /* 17M..33M */
	add(&m, BOOT_MEM_LOADER_DATA, 0x2100000, 0x10);
	add(&m, BOOT_MEM_RUNTIME_SERVICES_DATA, 0x2110000, 0x10);
	add(&m, BOOT_MEM_RESERVED, 0xb0000000, 0x10000);        /* not RAM */
	add(&m, BOOT_MEM_MMIO, 0xffc00000, 0x400);

	CHECK_EQ_U(build(&mm, &m, 0x1000000, 0x102e000), 0);
	CHECK_EQ_U(mm.nr_desc, 15);
	CHECK_EQ_U(mm.nr_overflow, 0);
	CHECK(sorted_disjoint(mm.usable, mm.nr_usable));
	CHECK(sorted_disjoint(mm.deferred, mm.nr_deferred));
	CHECK(sorted_disjoint(mm.ram, mm.nr_ram));
	CHECK(sorted_disjoint(mm.acpi, mm.nr_acpi));

	/* first MiB gone (both the page-0 BS code and the <640K range) */
	CHECK(mm.usable[0].start == 0x100000);
	/* 9M..16M BS data, then the kernel hole, then 16M+0x2e000.. merged
	 * with the conventional range after it */
	CHECK(has_range(mm.usable, mm.nr_usable, 0x100000, 0x800000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x808000, 0x80b000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x80c000, 0x810000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x900000, 0x1000000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x102e000, 0x2100000));
	CHECK_EQ_U(mm.nr_usable, 5);
	CHECK(has_range(mm.deferred, mm.nr_deferred, 0x900000, 0x1000000));
	CHECK(has_range(mm.deferred, mm.nr_deferred, 0x102e000, 0x1100000));
	CHECK_EQ_U(mm.nr_deferred, 2);
	CHECK_EQ_U(mm.usable_bytes, 0x700000 + 0x3000 + 0x4000 + 0x700000 + (0x2100000 - 0x102e000));
	CHECK_EQ_U(mm.deferred_bytes, 0x700000 + (0x1100000 - 0x102e000));

	/* RAM: everything but reserved and MMIO, ACPI split out */
	CHECK_EQ_U(mm.total_bytes, (1 + 0x9f + 0x700 + 8 + 3 + 1 + 4 + 0xf0 + 0x700 + 0x100 +
				    0x1000 + 0x10 + 0x10) * PG);
	CHECK_EQ_U(mm.ram_top, 0x2120000);
	CHECK(has_range(mm.ram, mm.nr_ram, 0, 0xa0000));
	CHECK(has_range(mm.ram, mm.nr_ram, 0x900000, 0x2120000));
	CHECK(has_range(mm.acpi, mm.nr_acpi, 0x800000, 0x808000));
	CHECK(has_range(mm.acpi, mm.nr_acpi, 0x810000, 0x900000));
	CHECK_EQ_U(mm.nr_acpi, 3);
	/* nothing usable is outside RAM or inside ACPI */
	for (unsigned i = 0; i < mm.nr_usable; i++) {
		int in_ram = 0;
		for (unsigned k = 0; k < mm.nr_ram; k++)
			if (mm.usable[i].start >= mm.ram[k].start && mm.usable[i].end <= mm.ram[k].end)
				in_ram = 1;
		CHECK(in_ram);
		for (unsigned k = 0; k < mm.nr_acpi; k++)
			CHECK(mm.usable[i].end <= mm.acpi[k].start || mm.usable[i].start >= mm.acpi[k].end);
	}
}

/* Unsorted input, overlapping and duplicate descriptors, tiny ranges. */
static void test_messy(void)
{
	static struct fake_map m;
	map_init(&m, 40); /* the minimum stride */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x3000000, 0x100);
	add(&m, BOOT_MEM_CONVENTIONAL, 0x2000000, 0x1000);  /* overlaps the first */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x2000000, 0x10);    /* duplicate start */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x5000000, 1);       /* one page */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x5001000, 1);       /* touches it: merged */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x6000800, 1);       /* unaligned: less than a page left */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x7000800, 3);       /* unaligned: 2 whole pages */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x8000000, 0);       /* empty */
	add(&m, BOOT_MEM_CONVENTIONAL, 0xfffffffffffff000ull, 2); /* wraps: corrupt */
	add(&m, BOOT_MEM_CONVENTIONAL, 0x9000000, 0x10);
	add(&m, BOOT_MEM_ACPI_RECLAIM, 0x9008000, 1);       /* ACPI inside RAM: ACPI wins */

	CHECK_EQ_U(build(&mm, &m, 0, 0), 0);
	CHECK(sorted_disjoint(mm.usable, mm.nr_usable));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x2000000, 0x3100000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x5000000, 0x5002000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x7001000, 0x7003000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x9000000, 0x9008000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x9009000, 0x9010000));
	CHECK_EQ_U(mm.nr_usable, 5);
	CHECK_EQ_U(mm.nr_deferred, 0);
	CHECK(has_range(mm.acpi, mm.nr_acpi, 0x9008000, 0x9009000));
	CHECK(!has_range(mm.ram, mm.nr_ram, 0x9000000, 0x9010000));
	CHECK_EQ_U(mm.ram_top, 0x9010000);
}

/* The kernel image at the start, middle, end of, or across ranges. */
static void test_kernel_carve(void)
{
	static struct fake_map m;
	map_init(&m, 56);
	add(&m, BOOT_MEM_CONVENTIONAL, 0x1000000, 0x100);  /* 16M..17M */
	add(&m, BOOT_MEM_BOOT_SERVICES_DATA, 0x1100000, 0x100);
	add(&m, BOOT_MEM_CONVENTIONAL, 0x2000000, 0x100);

	/* unaligned image bounds round outward; it spans two descriptors */
	CHECK_EQ_U(build(&mm, &m, 0x10ff800, 0x1100001), 0);
	CHECK(has_range(mm.usable, mm.nr_usable, 0x1000000, 0x10ff000));
	CHECK(has_range(mm.usable, mm.nr_usable, 0x1101000, 0x1200000));
	CHECK(has_range(mm.deferred, mm.nr_deferred, 0x1101000, 0x1200000));
	CHECK_EQ_U(mm.nr_usable, 3);

	/* image covering a whole range removes it */
	CHECK_EQ_U(build(&mm, &m, 0x2000000, 0x2100000), 0);
	CHECK(has_range(mm.usable, mm.nr_usable, 0x1000000, 0x1200000));
	CHECK_EQ_U(mm.nr_usable, 1);
	/* RAM (for the identity map) still includes the image */
	CHECK(has_range(mm.ram, mm.nr_ram, 0x2000000, 0x2100000));
}

static void test_errors_and_overflow(void)
{
	static struct fake_map m;
	map_init(&m, 48);
	add(&m, BOOT_MEM_CONVENTIONAL, 0x200000, 1);
	CHECK_EQ_U(memmap_build(&mm, m.buf, m.size, 32, 0, 0), (unsigned long long)-EINVAL);
	/* a trailing partial descriptor is ignored */
	CHECK_EQ_U(memmap_build(&mm, m.buf, m.size + 20, 48, 0, 0), 0);
	CHECK_EQ_U(mm.nr_desc, 1);
	/* an empty map gives nothing, not garbage */
	CHECK_EQ_U(memmap_build(&mm, m.buf, 0, 48, 0, 0), 0);
	CHECK_EQ_U(mm.nr_usable + mm.nr_ram + mm.usable_bytes, 0);

	/* more separate ranges than the table holds: counted, not overrun */
	map_init(&m, 48);
	for (unsigned i = 0; i < MEMMAP_MAX_RANGES + 10; i++)
		add(&m, BOOT_MEM_CONVENTIONAL, 0x10000000 + i * 0x10000ull, 1);
	CHECK_EQ_U(build(&mm, &m, 0, 0), 0);
	CHECK_EQ_U(mm.nr_usable, MEMMAP_MAX_RANGES);
	CHECK(mm.nr_overflow >= 10);
	CHECK(sorted_disjoint(mm.usable, mm.nr_usable));
}

static void test_names(void)
{
	CHECK_STR(memmap_type_name(BOOT_MEM_CONVENTIONAL), "Conventional");
	CHECK_STR(memmap_type_name(BOOT_MEM_ACPI_NVS), "ACPINVS");
	CHECK_STR(memmap_type_name(99), "Unknown");
}

int main(void)
{
	test_ovmf_like();
	test_messy();
	test_kernel_carve();
	test_errors_and_overflow();
	test_names();
	return check_summary("test_memmap");
}
