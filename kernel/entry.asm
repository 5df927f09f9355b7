; entry.asm - first kernel instructions after the UEFI loader.
;
; Entered with rdi = struct bootinfo * (include/boot/bootinfo.h), IF=0,
; long mode, UEFI's identity page tables and UEFI's stack. We move to our
; own boot stack at once (UEFI's may be in memory we are about to reuse),
; clear rbp so backtraces end here, and call kmain(bootinfo), which never
; returns.
bits 64
section .text.entry
global _start
extern kmain

_start:
	cli
	cld
	lea rsp, [rel boot_stack_top]
	xor ebp, ebp
	call kmain
.hang:
	cli
	hlt
	jmp .hang

section .bss
align 4096
global boot_stack_bottom, boot_stack_top
boot_stack_bottom:
	resb 16384
boot_stack_top:
