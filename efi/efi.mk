# efi/efi.mk - the UEFI loader, $(ESP)/EFI/BOOT/BOOTX64.EFI.
#
# Included by the root Makefile, which defines BUILD, ESP and the
# $(BUILD)/.deps stamp. Classic GNU-EFI build (Debian's gnu-efi 3.0.15):
# compile position-independent C, link a shared object with GNU-EFI's linker
# script and crt0 (which self-relocates and calls efi_main), then let objcopy
# turn that ELF into a PE32+ EFI application (subsystem 10).
#
# Variables are prefixed EFI_ so they cannot clash with the kernel's.

EFI_INC     := /usr/include/efi
EFI_LIB     := /usr/lib
EFI_LDS     := $(EFI_LIB)/elf_x86_64_efi.lds
EFI_CRT0    := $(EFI_LIB)/crt0-efi-x86_64.o
EFI_OUT     := $(BUILD)/efi

EFI_SRCS    := $(wildcard efi/*.c)
EFI_OBJS    := $(patsubst efi/%.c,$(EFI_OUT)/%.o,$(EFI_SRCS))

# -mno-red-zone: firmware interrupt handlers run on our stack.
# -fshort-wchar: L"" strings must be UTF-16 (CHAR16) for the firmware.
# GNU_EFI_USE_MS_ABI: declare firmware function pointers ms_abi so we call
# them directly, with the compiler checking arguments, instead of through
# uefi_call_wrapper(). Library (libefi) functions stay SysV either way.
EFI_CC      := gcc
EFI_CFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
               -fpic -ffreestanding -fno-stack-protector -fno-stack-check \
               -fshort-wchar -mno-red-zone -maccumulate-outgoing-args \
               -fno-strict-aliasing -fno-common \
               -DGNU_EFI_USE_MS_ABI \
               -I$(EFI_INC) -I$(EFI_INC)/x86_64 -Iinclude -MMD -MP
# --no-undefined: a shared link would otherwise accept a missing symbol and
# leave it to a dynamic loader that does not exist.
EFI_LDFLAGS := -nostdlib -shared -Bsymbolic -znocombreloc --no-undefined \
               -T $(EFI_LDS)
EFI_SECTIONS := .text .sdata .data .rodata .dynamic .dynsym \
                '.rel' '.rel.*' '.rela' '.rela.*' .reloc

$(EFI_OUT)/%.o: efi/%.c | $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(EFI_CC) $(EFI_CFLAGS) -c $< -o $@

# The intermediate ELF keeps its symbols and debug info, for gdb.
$(EFI_OUT)/loader.so: $(EFI_OBJS) $(EFI_LDS) $(EFI_CRT0)
	ld $(EFI_LDFLAGS) $(EFI_CRT0) $(EFI_OBJS) -o $@ -L$(EFI_LIB) -lgnuefi -lefi

$(ESP)/EFI/BOOT/BOOTX64.EFI: $(EFI_OUT)/loader.so
	@mkdir -p $(dir $@)
	objcopy $(addprefix -j ,$(EFI_SECTIONS)) --target efi-app-x86_64 \
		--subsystem=10 $< $@

-include $(EFI_OBJS:.o=.d)
