/*
 * loader.c - napilab's UEFI loader: BOOTX64.EFI.
 *
 * Reads \kernel.elf (and \cmdline.txt if present) from the volume it was
 * started from, places the kernel at the physical addresses it was linked
 * for, fills a struct bootinfo (include/boot/bootinfo.h), leaves boot
 * services and jumps to the kernel's entry point. The whole sequence is
 * boot() below; every step prints `efi: ` and returns to the firmware on
 * failure, up to the first ExitBootServices() call, after which the only
 * way to report anything is the serial port, by hand.
 */
#include <efi.h>
#include <efilib.h>
#include <stddef.h>

#include "boot/bootinfo.h"
#include "cmdline.h"
#include "elf_check.h"
#include "elf_load.h"
#include "fs.h"
#include "mmap_edit.h"
#include "util.h"

/* Larger than any kernel we build; bounds the pool allocation. */
#define KERNEL_FILE_MAX (64ull << 20)
/* Read at most this much of \cmdline.txt; the rest is reported as truncated. */
#define CMDLINE_FILE_MAX (64ull << 10)

/*
 * Room for this many more memory descriptors than GetMemoryMap() asked for:
 * allocating the map buffer itself splits a free region (up to two more
 * descriptors), and the firmware may add a few more before ExitBootServices
 * (timer events and the like). The buffer cannot grow once we have started
 * ExitBootServices, so the slack must cover every retry.
 */
#define MMAP_SLACK_DESCS 16
/* Pre-ExitBootServices attempts at sizing the map buffer. */
#define MMAP_ALLOC_ATTEMPTS 4
/*
 * ExitBootServices() fails with EFI_INVALID_PARAMETER when the memory map
 * changed after the GetMemoryMap() whose key we pass (an event or a timer
 * callback in the firmware can allocate at any time). UEFI 2.9, 7.4: get the
 * map again and retry. A handful of tries is plenty; more means something
 * keeps allocating and we would loop forever.
 */
#define EBS_MAX_ATTEMPTS 8

/* How long a failure stays on screen before we return to the firmware. */
#define FAIL_WAIT_100NS (10ull * 10 * 1000 * 1000)

/* Layouts the kernel reads must match what the firmware writes. */
_Static_assert(sizeof(EFI_MEMORY_DESCRIPTOR) == sizeof(struct boot_mmap_desc),
	       "EFI_MEMORY_DESCRIPTOR vs struct boot_mmap_desc");
_Static_assert(offsetof(EFI_MEMORY_DESCRIPTOR, PhysicalStart) ==
	       offsetof(struct boot_mmap_desc, phys_start), "phys_start offset");
_Static_assert(offsetof(EFI_MEMORY_DESCRIPTOR, NumberOfPages) ==
	       offsetof(struct boot_mmap_desc, num_pages), "num_pages offset");
_Static_assert((int)EfiConventionalMemory == (int)BOOT_MEM_CONVENTIONAL, "memory type numbering");
_Static_assert((int)EfiPalCode == (int)BOOT_MEM_PAL_CODE, "memory type numbering");

/* The kernel runs the SysV ABI; the loader calls it from ms_abi-aware code. */
typedef __attribute__((sysv_abi, noreturn)) void (*kernel_entry_fn)(struct bootinfo *);

/* ---------------------------------------------------------------- after ExitBootServices */

/*
 * Once ExitBootServices() has been called, even unsuccessfully, ConOut may no
 * longer work (the firmware is allowed to shut services down partway). COM1
 * is plain emulated 16550 hardware that the firmware has already set up, so
 * write to it directly.
 */
#define COM1_DATA 0x3f8
#define COM1_LSR  0x3fd
#define COM1_LSR_THRE 0x20 /* transmit holding register empty */

static inline void outb(UINT16 port, UINT8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline UINT8 inb(UINT16 port)
{
	UINT8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void raw_serial_putc(char c)
{
	/* Bounded: with no UART present, LSR reads 0xff and we never spin. */
	for (int i = 0; i < 100000 && !(inb(COM1_LSR) & COM1_LSR_THRE); i++)
		;
	outb(COM1_DATA, (UINT8)c);
}

static void raw_serial_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			raw_serial_putc('\r');
		raw_serial_putc(*s);
	}
}

static void raw_serial_puthex(UINT64 v)
{
	raw_serial_puts("0x");
	for (int shift = 60; shift >= 0; shift -= 4)
		raw_serial_putc("0123456789abcdef"[(v >> shift) & 0xf]);
}

static __attribute__((noreturn)) void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* A failure after the first ExitBootServices() call: report and stop. */
static __attribute__((noreturn)) void fatal_after_ebs(const char *what, EFI_STATUS st)
{
	raw_serial_puts("efi: ");
	raw_serial_puts(what);
	raw_serial_puts(" (status ");
	raw_serial_puthex(st);
	raw_serial_puts("); halted\n");
	halt_forever();
}

static inline UINT64 rdtsc(void)
{
	UINT32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((UINT64)hi << 32) | lo;
}

/* ---------------------------------------------------------------- steps */

static EFI_STATUS read_kernel(EFI_FILE_PROTOCOL *root, void **file, UINTN *len)
{
	UINT64 file_size;

	return fs_read_file(root, L"\\kernel.elf", KERNEL_FILE_MAX, 0, file, len, &file_size);
}

static EFI_STATUS check_kernel(const void *file, UINTN len, struct elf_image_info *info)
{
	enum elf_check_result r;
	unsigned bad = 0;

	r = elf_check(file, len, info, &bad);
	switch (r) {
	case ELF_OK:
		return EFI_SUCCESS;
	case ELF_ERR_FILESZ_GT_MEMSZ:
	case ELF_ERR_SEGMENT_OUT_OF_FILE:
	case ELF_ERR_SEGMENT_WRAPS:
	case ELF_ERR_NOT_IDENTITY:
	case ELF_ERR_SEGMENT_ORDER:
		Print(L"efi: kernel.elf: bad ELF: %a (program header %d)\n",
		      elf_check_strerror(r), bad);
		return EFI_LOAD_ERROR;
	default:
		Print(L"efi: kernel.elf: bad ELF: %a\n", elf_check_strerror(r));
		return EFI_LOAD_ERROR;
	}
}

/* Fills bi->cmdline from \cmdline.txt; a missing file leaves it empty. */
static EFI_STATUS read_cmdline(EFI_FILE_PROTOCOL *root, struct bootinfo *bi)
{
	void *buf;
	UINTN len;
	UINT64 file_size;
	int truncated;
	EFI_STATUS st;

	bi->cmdline[0] = '\0';
	st = fs_read_file(root, L"\\cmdline.txt", CMDLINE_FILE_MAX,
			  FS_OPTIONAL | FS_TRUNCATE, &buf, &len, &file_size);
	if (st == EFI_NOT_FOUND) {
		Print(L"efi: no \\cmdline.txt, empty command line\n");
		return EFI_SUCCESS;
	}
	if (EFI_ERROR(st))
		return st;

	cmdline_normalize(bi->cmdline, sizeof(bi->cmdline), buf, len, &truncated);
	util_free_pool(buf, L"cmdline.txt buffer");
	if (truncated || file_size > len)
		Print(L"efi: warning: \\cmdline.txt truncated to %d bytes\n",
		      (int)sizeof(bi->cmdline) - 1);
	Print(L"efi: cmdline \"%a\"\n", bi->cmdline);
	return EFI_SUCCESS;
}

/* bi->acpi_rsdp_*: the ACPI 2.0 RSDP if the firmware has one, else 1.0. */
static void find_acpi_rsdp(struct bootinfo *bi)
{
	static const char sig[8] = "RSD PTR ";
	EFI_GUID acpi20 = ACPI_20_TABLE_GUID;
	EFI_GUID acpi10 = ACPI_TABLE_GUID;
	const UINT8 *v1 = NULL, *v2 = NULL, *rsdp;
	EFI_CONFIGURATION_TABLE *t;
	UINTN i;

	for (i = 0; i < ST->NumberOfTableEntries; i++) {
		t = &ST->ConfigurationTable[i];
		if (CompareGuid(&t->VendorGuid, &acpi20) == 0 && !v2)
			v2 = t->VendorTable;
		else if (CompareGuid(&t->VendorGuid, &acpi10) == 0 && !v1)
			v1 = t->VendorTable;
	}
	rsdp = v2 ? v2 : v1;
	if (!rsdp) {
		Print(L"efi: warning: no ACPI RSDP in the EFI configuration table\n");
		return;
	}
	if (CompareMem(rsdp, sig, sizeof(sig)) != 0) {
		Print(L"efi: warning: ACPI %a table at 0x%lx lacks the RSDP signature; ignored\n",
		      v2 ? "2.0" : "1.0", (UINT64)(UINTN)rsdp);
		return;
	}
	bi->acpi_rsdp_phys = (UINT64)(UINTN)rsdp;
	bi->acpi_rsdp_revision = rsdp[15]; /* ACPI 6.4, 5.2.5.3: Revision */
	Print(L"efi: ACPI RSDP at 0x%lx, revision %d\n", bi->acpi_rsdp_phys,
	      bi->acpi_rsdp_revision);
}

struct mmap_buf {
	EFI_MEMORY_DESCRIPTOR *map;
	UINTN cap;          /* bytes allocated */
	UINTN size;         /* bytes filled by the last GetMemoryMap() */
	UINTN key;
	UINTN desc_size;
	UINT32 desc_version;
};

/*
 * Allocate the memory map buffer (EfiLoaderData: the kernel reads it) and
 * fill it once. Boot services are fully available here, so a map that grew
 * past our slack is simply sized again.
 */
static EFI_STATUS mmap_alloc(struct mmap_buf *m)
{
	EFI_STATUS st = EFI_BUFFER_TOO_SMALL;

	for (int attempt = 0; attempt < MMAP_ALLOC_ATTEMPTS; attempt++) {
		m->size = 0;
		st = BS->GetMemoryMap(&m->size, NULL, &m->key, &m->desc_size, &m->desc_version);
		if (st != EFI_BUFFER_TOO_SMALL) {
			Print(L"efi: GetMemoryMap did not report its size (%r)\n", st);
			return EFI_ERROR(st) ? st : EFI_DEVICE_ERROR;
		}
		m->cap = m->size + MMAP_SLACK_DESCS * m->desc_size;
		st = BS->AllocatePool(EfiLoaderData, m->cap, (void **)&m->map);
		if (EFI_ERROR(st)) {
			Print(L"efi: no memory for the memory map (%ld bytes) (%r)\n",
			      (UINT64)m->cap, st);
			return st;
		}
		m->size = m->cap;
		st = BS->GetMemoryMap(&m->size, m->map, &m->key, &m->desc_size, &m->desc_version);
		if (!EFI_ERROR(st))
			return EFI_SUCCESS;
		util_free_pool(m->map, L"memory map buffer");
		m->map = NULL;
		if (st != EFI_BUFFER_TOO_SMALL)
			break;
	}
	Print(L"efi: cannot get the memory map (%r)\n", st);
	return st;
}

/*
 * Leave boot services. @m holds a map fetched by mmap_alloc(); nothing may
 * allocate or free between that GetMemoryMap() and ExitBootServices() (no
 * Print either: console output may allocate), or the map key goes stale.
 * Returns only on success. Once ExitBootServices() has been called, even
 * unsuccessfully, GetMemoryMap() is the only boot service we may use
 * (UEFI 2.9, 7.4), so every failure is reported on the raw serial port and
 * halts: returning to the firmware is no longer possible.
 */
static void exit_boot_services(EFI_HANDLE image, struct mmap_buf *m, struct bootinfo *bi)
{
	EFI_STATUS st;

	for (int attempt = 1; ; attempt++) {
		bi->mmap_phys = (UINT64)(UINTN)m->map;
		bi->mmap_size = m->size;
		bi->mmap_desc_size = m->desc_size;
		bi->mmap_desc_version = m->desc_version;
		bi->loader_tsc = rdtsc();

		st = BS->ExitBootServices(image, m->key);
		if (st == EFI_SUCCESS)
			return;
		if (st != EFI_INVALID_PARAMETER)
			fatal_after_ebs("ExitBootServices failed", st);
		if (attempt == EBS_MAX_ATTEMPTS)
			fatal_after_ebs("ExitBootServices: memory map kept changing; gave up", st);

		/* The map changed under us: fetch it again, into the same buffer
		 * (no allocation is allowed any more; the slack is for this). */
		m->size = m->cap;
		st = BS->GetMemoryMap(&m->size, m->map, &m->key, &m->desc_size, &m->desc_version);
		if (EFI_ERROR(st))
			fatal_after_ebs("GetMemoryMap failed between ExitBootServices attempts", st);
	}
}

/* After ExitBootServices: retype the kernel's spans in the map we hand over. */
static void mark_kernel_in_map(const struct elf_loaded *l, const struct mmap_buf *m,
			       struct bootinfo *bi)
{
	for (unsigned i = 0; i < l->nspans; i++) {
		if (mmap_set_type(m->map, &bi->mmap_size, m->cap, m->desc_size,
				  l->span[i].start, l->span[i].end, BOOT_MEM_LOADER_DATA) != 0) {
			/* Not fatal: bootinfo.kernel_phys_* still say where it is. */
			raw_serial_puts("efi: warning: no room in the memory map to mark the "
					"kernel's pages as LoaderData\n");
			return;
		}
	}
}

/* Wait for a key or a timeout so a failure stays readable on screen. */
static void fail_wait(void)
{
	EFI_INPUT_KEY key;
	EFI_STATUS st;

	Print(L"efi: boot failed; returning to the firmware in 10 s (press a key to return now)\n");
	if (!ST->ConIn) {
		/* No console input at all: just wait. */
		st = BS->Stall(FAIL_WAIT_100NS / 10);
		if (EFI_ERROR(st))
			Print(L"efi: warning: cannot wait (%r)\n", st);
		return;
	}
	st = WaitForSingleEvent(ST->ConIn->WaitForKey, FAIL_WAIT_100NS);
	if (st == EFI_SUCCESS) {
		/* Consume the key so the firmware's menu does not see it. */
		st = ST->ConIn->ReadKeyStroke(ST->ConIn, &key);
		if (EFI_ERROR(st) && st != EFI_NOT_READY)
			Print(L"efi: warning: cannot read the key (%r)\n", st);
	} else if (st != EFI_TIMEOUT) {
		Print(L"efi: warning: cannot wait for a key (%r)\n", st);
	}
}

/* ---------------------------------------------------------------- the sequence */

/*
 * The boot, step by step. Returns only on failure before ExitBootServices,
 * with everything it had allocated given back; failures after it halt.
 */
static EFI_STATUS boot(EFI_HANDLE image)
{
	EFI_FILE_PROTOCOL *root;
	void *kfile;
	UINTN klen;
	struct elf_image_info kinfo;
	struct elf_loaded kloaded;
	struct bootinfo *bi;
	struct mmap_buf mm;
	kernel_entry_fn entry;
	EFI_STATUS st;

	/* 1. Banner. */
	Print(L"efi: napilab loader\n");

	/* 2. The kernel file, from the volume we were loaded from. */
	st = fs_open_boot_volume(image, &root);
	if (EFI_ERROR(st))
		return st;
	st = read_kernel(root, &kfile, &klen);
	if (EFI_ERROR(st))
		goto out_root;

	/* 3. Validate it completely before touching memory. */
	st = check_kernel(kfile, klen, &kinfo);
	if (EFI_ERROR(st))
		goto out_kfile;

	/* 4. Place its segments at their link addresses. */
	st = elf_load(kfile, &kinfo, &kloaded);
	if (EFI_ERROR(st))
		goto out_kfile;

	/* 5. The boot information, in memory the kernel may keep. */
	st = BS->AllocatePool(EfiLoaderData, sizeof(*bi), (void **)&bi);
	if (EFI_ERROR(st)) {
		Print(L"efi: no memory for struct bootinfo (%r)\n", st);
		goto out_unload;
	}
	SetMem(bi, sizeof(*bi), 0);
	bi->magic = BOOTINFO_MAGIC;
	bi->version = BOOTINFO_VERSION;
	bi->size = sizeof(*bi);
	bi->kernel_phys_start = kinfo.phys_start;
	bi->kernel_phys_end = kinfo.phys_end;
	st = read_cmdline(root, bi);
	if (EFI_ERROR(st))
		goto out_bi;
	find_acpi_rsdp(bi);

	/* The file copy and the volume are no longer needed. */
	util_free_pool(kfile, L"kernel.elf buffer");
	kfile = NULL;
	util_close_file(root, L"the boot volume");
	root = NULL;

	/* 6. Memory map, then leave boot services: no output after this line
	 * until the kernel's own. */
	Print(L"efi: exiting boot services, entering kernel at 0x%lx\n", kinfo.entry);
	st = mmap_alloc(&mm);
	if (EFI_ERROR(st))
		goto out_bi;
	exit_boot_services(image, &mm, bi);

	/* 7. Interrupts off (bootinfo.h): the firmware's handlers are not ours
	 * to run any more, and its timer must not fire into them. */
	__asm__ volatile("cli" ::: "memory");

	/* 8. If the kernel's pages were firmware memory, move it in now, and
	 * make the map say EfiLoaderData there as it would have otherwise. */
	if (elf_place_after_ebs(&kloaded))
		mark_kernel_in_map(&kloaded, &mm, bi);

	/* 9. Into the kernel. */
	entry = (kernel_entry_fn)(UINTN)kinfo.entry;
	entry(bi);

out_bi:
	util_free_pool(bi, L"bootinfo");
out_unload:
	elf_unload(&kloaded);
out_kfile:
	util_free_pool(kfile, L"kernel.elf buffer");
out_root:
	if (root)
		util_close_file(root, L"the boot volume");
	return st;
}

/*
 * Entry from GNU-EFI's crt0 (SysV ABI: crt0 converts from the firmware's
 * ms_abi call and applies our relocations first).
 */
EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *systab)
{
	EFI_STATUS st;

	InitializeLib(image, systab);
	st = boot(image);
	fail_wait();
	return st;
}
