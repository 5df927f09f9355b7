/*
 * power.h - ending the machine. Under QEMU with
 * `-device isa-debug-exit,iobase=0xf4,iosize=4`, writing X to port 0xf4
 * makes QEMU exit with status (X << 1) | 1 (hw/misc/debugexit.c), so
 * status 1 = clean power-off, 33 = panic; status 0 never comes from here
 * (QEMU ended some other way, e.g. a triple fault with -no-reboot).
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#define QEMU_EXIT_PORT     0xf4
#define EXIT_CODE_OK       0x00  /* QEMU status 1 */
#define EXIT_CODE_PANIC    0x10  /* QEMU status 33 */

/* Writes code to the debug-exit port; if QEMU lacks the device, tries ACPI
 * shutdown via the QEMU PM port, then halts forever. Any context. */
__attribute__((noreturn)) void machine_exit(unsigned int code);

#endif
