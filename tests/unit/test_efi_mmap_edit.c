/*
 * test_efi_mmap_edit.c - host unit test of the loader's in-place memory map
 * retyping (efi/mmap_edit.c, compiled in as is), with the 48-byte
 * descriptors OVMF really uses, so the stride and the extra bytes matter.
 */
#include <string.h>

#include "check.h"
#include "efi/mmap_edit.c"

#define DS 48
#define PG 4096ull
#define MAXD 16

enum { BS_DATA = BOOT_MEM_BOOT_SERVICES_DATA, CONV = BOOT_MEM_CONVENTIONAL,
       LDATA = BOOT_MEM_LOADER_DATA, ACPI = BOOT_MEM_ACPI_NVS };

struct map {
	_Alignas(8) unsigned char b[MAXD * DS];
	uint64_t size;
};

static struct boot_mmap_desc *at(struct map *m, unsigned i)
{
	return (struct boot_mmap_desc *)(m->b + i * DS);
}

static void add(struct map *m, uint32_t type, uint64_t start, uint64_t pages)
{
	struct boot_mmap_desc *d = at(m, m->size / DS);

	memset(d, 0, DS);
	d->type = type;
	d->phys_start = start;
	d->num_pages = pages;
	d->attribute = 0xf;
	memset((unsigned char *)d + sizeof(*d), 0xa5, DS - sizeof(*d)); /* extra bytes */
	m->size += DS;
}

/* Entry i is [start, start + pages) of type, attributes and extra bytes kept. */
static int is(struct map *m, unsigned i, uint32_t type, uint64_t start, uint64_t pages)
{
	struct boot_mmap_desc *d = at(m, i);
	const unsigned char *x = (unsigned char *)d + sizeof(*d);

	for (unsigned k = 0; k < DS - sizeof(*d); k++)
		if (x[k] != 0xa5)
			return 0;
	return d->type == type && d->phys_start == start && d->num_pages == pages &&
	       d->attribute == 0xf;
}

int main(void)
{
	struct map m;

	/* The OVMF case: kernel pages in the middle of a BootServicesData run. */
	m = (struct map){ .size = 0 };
	add(&m, CONV, 0x100000, 0x700);
	add(&m, BS_DATA, 0x900000, 0xc00);
	add(&m, CONV, 0x1500000, 0x100);
	CHECK(mmap_set_type(m.b, &m.size, sizeof(m.b), DS, 0x1000000, 0x1004000, LDATA) == 0);
	CHECK_EQ_U(m.size, 5 * DS);
	CHECK(is(&m, 0, CONV, 0x100000, 0x700));
	CHECK(is(&m, 1, BS_DATA, 0x900000, 0x700));
	CHECK(is(&m, 2, LDATA, 0x1000000, 4));
	CHECK(is(&m, 3, BS_DATA, 0x1004000, 0x4fc));
	CHECK(is(&m, 4, CONV, 0x1500000, 0x100));

	/* A range over a boundary: tail of one descriptor, head of the next. */
	m = (struct map){ .size = 0 };
	add(&m, BS_DATA, 0x0, 0x10);
	add(&m, CONV, 0x10000, 0x10);
	CHECK(mmap_set_type(m.b, &m.size, sizeof(m.b), DS, 0xe000, 0x12000, LDATA) == 0);
	CHECK_EQ_U(m.size, 4 * DS);
	CHECK(is(&m, 0, BS_DATA, 0x0, 0xe));
	CHECK(is(&m, 1, LDATA, 0xe000, 2));
	CHECK(is(&m, 2, LDATA, 0x10000, 2));
	CHECK(is(&m, 3, CONV, 0x12000, 0xe));

	/* Exactly one whole descriptor: retyped, nothing split. */
	m = (struct map){ .size = 0 };
	add(&m, BS_DATA, 0x0, 0x10);
	CHECK(mmap_set_type(m.b, &m.size, sizeof(m.b), DS, 0x0, 0x10000, LDATA) == 0);
	CHECK_EQ_U(m.size, DS);
	CHECK(is(&m, 0, LDATA, 0x0, 0x10));

	/* Already the right type (pages allocated normally): untouched. */
	m = (struct map){ .size = 0 };
	add(&m, LDATA, 0x0, 0x10);
	CHECK(mmap_set_type(m.b, &m.size, sizeof(m.b), DS, 0x4000, 0x8000, LDATA) == 0);
	CHECK_EQ_U(m.size, DS);
	CHECK(is(&m, 0, LDATA, 0x0, 0x10));

	/* No room for the two splits: refused, map unchanged. */
	m = (struct map){ .size = 0 };
	add(&m, ACPI, 0x0, 0x1);
	add(&m, BS_DATA, 0x100000, 0x100);
	CHECK(mmap_set_type(m.b, &m.size, 3 * DS, DS, 0x110000, 0x111000, LDATA) == -1);
	CHECK_EQ_U(m.size, 2 * DS);
	CHECK(is(&m, 1, BS_DATA, 0x100000, 0x100));
	CHECK(mmap_set_type(m.b, &m.size, 4 * DS, DS, 0x110000, 0x111000, LDATA) == 0);
	CHECK(is(&m, 0, ACPI, 0x0, 0x1));
	CHECK(is(&m, 2, LDATA, 0x110000, 1));

	/* Bad arguments. */
	m = (struct map){ .size = 0 };
	add(&m, BS_DATA, 0x0, 0x10);
	CHECK(mmap_set_type(m.b, &m.size, sizeof(m.b), DS, 0x800, 0x2000, LDATA) == -1);
	CHECK(mmap_set_type(m.b, &m.size, sizeof(m.b), DS, 0x2000, 0x2000, LDATA) == -1);
	CHECK(mmap_set_type(m.b, &m.size, sizeof(m.b), 32, 0x0, 0x1000, LDATA) == -1);
	CHECK_EQ_U(m.size, DS);
	CHECK(is(&m, 0, BS_DATA, 0x0, 0x10));

	return check_summary("test_efi_mmap_edit");
}
