/*
 * bootinfo.h - the one structure the UEFI loader hands to the kernel.
 *
 * This is the only header efi/ and kernel/ share. The loader fills it in
 * memory of type EfiLoaderData, calls ExitBootServices, and jumps to the
 * kernel's ELF entry point with:
 *
 *   rdi = physical address of struct bootinfo (identity-mapped)
 *   interrupts disabled (IF=0), long mode, UEFI's identity page tables,
 *   the loader's own stack (the kernel switches to its own at once).
 *
 * Everything is plain fixed-width data: both sides are built by the same
 * compiler but with different ABIs (ms_abi inside EFI, sysv in the kernel),
 * so no pointers to functions and no implicit padding.
 */
#ifndef BOOT_BOOTINFO_H
#define BOOT_BOOTINFO_H

#include <stdint.h>

#define BOOTINFO_MAGIC   0x4f464e49544f4f42ull /* "BOOTINFO" little-endian */
#define BOOTINFO_VERSION 1
#define BOOTINFO_CMDLINE_MAX 1024

/*
 * One entry of the UEFI memory map, as UEFI lays it out (UEFI 2.9, 7.2
 * EFI_BOOT_SERVICES.GetMemoryMap). Entries are desc_size bytes apart, which
 * may be larger than this struct: always step by bootinfo.mmap_desc_size.
 */
struct boot_mmap_desc {
	uint32_t type;       /* EFI_MEMORY_TYPE, see BOOT_MEM_* */
	uint32_t pad;
	uint64_t phys_start;
	uint64_t virt_start;
	uint64_t num_pages;  /* 4 KiB pages */
	uint64_t attribute;
};

/* EFI_MEMORY_TYPE values the kernel cares about (UEFI 2.9, table 7-5). */
enum boot_mem_type {
	BOOT_MEM_RESERVED = 0,
	BOOT_MEM_LOADER_CODE = 1,
	BOOT_MEM_LOADER_DATA = 2,
	BOOT_MEM_BOOT_SERVICES_CODE = 3,
	BOOT_MEM_BOOT_SERVICES_DATA = 4,
	BOOT_MEM_RUNTIME_SERVICES_CODE = 5,
	BOOT_MEM_RUNTIME_SERVICES_DATA = 6,
	BOOT_MEM_CONVENTIONAL = 7,
	BOOT_MEM_UNUSABLE = 8,
	BOOT_MEM_ACPI_RECLAIM = 9,
	BOOT_MEM_ACPI_NVS = 10,
	BOOT_MEM_MMIO = 11,
	BOOT_MEM_MMIO_PORT = 12,
	BOOT_MEM_PAL_CODE = 13,
	BOOT_MEM_PERSISTENT = 14,
};

struct bootinfo {
	uint64_t magic;          /* BOOTINFO_MAGIC */
	uint32_t version;        /* BOOTINFO_VERSION */
	uint32_t size;           /* sizeof(struct bootinfo) as the loader saw it */

	/* Memory map as returned by the final GetMemoryMap() before
	 * ExitBootServices(); lives in EfiLoaderData memory. */
	uint64_t mmap_phys;      /* address of the first descriptor */
	uint64_t mmap_size;      /* bytes */
	uint64_t mmap_desc_size; /* stride between descriptors */
	uint32_t mmap_desc_version;
	uint32_t pad0;

	/* ACPI RSDP from the EFI configuration table: the 2.0 GUID if present,
	 * else 1.0; 0 if neither. */
	uint64_t acpi_rsdp_phys;
	uint32_t acpi_rsdp_revision; /* 0 = ACPI 1.0 RSDP, 2 = XSDT present */
	uint32_t pad1;

	/* Where the loader put the kernel image (lowest and one past highest
	 * byte of all PT_LOAD segments, page aligned). */
	uint64_t kernel_phys_start;
	uint64_t kernel_phys_end;

	/* TSC read just before ExitBootServices, for boot-time accounting. */
	uint64_t loader_tsc;

	/* Contents of \cmdline.txt on the ESP, NUL-terminated, newlines turned
	 * into spaces; empty if the file is absent. */
	char cmdline[BOOTINFO_CMDLINE_MAX];
};

_Static_assert(sizeof(struct boot_mmap_desc) == 40, "UEFI memory descriptor layout");
_Static_assert(sizeof(struct bootinfo) == 88 + BOOTINFO_CMDLINE_MAX, "bootinfo layout");

#endif
