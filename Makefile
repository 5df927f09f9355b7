# napilab - top-level build.
#
#   make            build build/esp/ (BOOTX64.EFI, kernel.elf) and the host tools
#   make run        boot it in QEMU (TCG, OVMF, serial on this terminal)
#   make debug      boot halted with QEMU's gdb stub, gdb attached
#   make test       host unit tests, then the pytest scenarios that boot it
#   make flood      the flood lab (see README)
#
# Every target that needs Debian packages first runs scripts/deps.sh, which
# installs only what is missing (as root), so a fresh machine needs nothing
# else.

SHELL    := /bin/bash
BUILD    := build
ESP      := $(BUILD)/esp
PY       := /usr/bin/python3
CMDLINE  ?=
NIC      ?= e1000
MODE     ?=

.PHONY: all deps run debug test unit scenarios fuzz flood bench report clean
all: $(ESP)/EFI/BOOT/BOOTX64.EFI $(ESP)/kernel.elf tools

deps:
	@bash scripts/deps.sh

$(BUILD)/.deps: scripts/deps.sh
	@bash scripts/deps.sh
	@mkdir -p $(BUILD) && touch $@

# ---------------------------------------------------------------- kernel
KCC      := gcc
KCFLAGS  := -std=gnu11 -O2 -g -Wall -Wextra -Werror -Wno-unused-parameter \
            -ffreestanding -fno-stack-protector -fno-stack-check -fno-pic \
            -fno-pie -mno-red-zone -mgeneral-regs-only \
            -fno-omit-frame-pointer -fno-strict-aliasing -fno-common \
            -Iinclude -I. -MMD -MP
KLDFLAGS := -nostdlib -static -no-pie -z max-page-size=0x1000 \
            -T kernel/kernel.ld -Wl,--build-id=none -Wl,-z,noexecstack
KDIRS    := kernel kernel/lib kernel/mm kernel/arch kernel/sched kernel/user drivers/pci drivers/e1000 net
KSRCS    := $(foreach d,$(KDIRS),$(wildcard $(d)/*.c))
KASMS    := $(foreach d,$(KDIRS),$(wildcard $(d)/*.asm))
KOBJS    := $(patsubst %.c,$(BUILD)/k/%.o,$(KSRCS)) \
            $(patsubst %.asm,$(BUILD)/k/%.asm.o,$(KASMS))

$(BUILD)/k/%.o: %.c $(BUILD)/.deps
	@mkdir -p $(dir $@)
	$(KCC) $(KCFLAGS) -c $< -o $@

# The .d names the files an .asm %includes (nasm 2.16's -MD, given while
# assembling, leaves them out: hence a separate -M pass).
$(BUILD)/k/%.asm.o: %.asm $(BUILD)/.deps
	@mkdir -p $(dir $@)
	@nasm -Iinclude/ -Ikernel/ -M -MT $@ -MF $(@:.o=.d) -MP $<
	nasm -f elf64 -g -F dwarf -Iinclude/ -Ikernel/ $< -o $@

$(BUILD)/kernel.elf: $(KOBJS) kernel/kernel.ld
	$(KCC) $(KCFLAGS) $(KLDFLAGS) $(KOBJS) -o $@ -lgcc

$(ESP)/kernel.elf: $(BUILD)/kernel.elf
	@mkdir -p $(ESP)
	cp $< $@

-include $(KOBJS:.o=.d)

# ---------------------------------------------------------------- loader
-include efi/efi.mk

# ---------------------------------------------------------------- host tools
TOOLS :=
-include harness/tools.mk
tools: $(TOOLS)

# ---------------------------------------------------------------- running
# cmdline.txt is rewritten only when CMDLINE is given on the command line.
.PHONY: cmdline
cmdline:
	@mkdir -p $(ESP)
	@if [ -n "$(CMDLINE)" ]; then printf '%s\n' "$(CMDLINE)" > $(ESP)/cmdline.txt; fi

run: all cmdline
	$(PY) -m harness.run --nic $(NIC) $(if $(MODE),--mode $(MODE))

debug: all cmdline
	$(PY) -m harness.run --nic $(NIC) --gdb

# ---------------------------------------------------------------- the lab
# make flood [BUDGETS=1,4,16,64,300] [RATES=20000,...,max] [MODE=level]
#            [NIC=e1000] [DURATION=3] [REPEATS=1]
LAB_ARGS = $(if $(BUDGETS),--budgets $(BUDGETS)) $(if $(RATES),--rates $(RATES)) \
           $(if $(MODE),--mode $(MODE)) $(if $(filter command line,$(origin NIC)),--nic $(NIC)) \
           $(if $(DURATION),--duration $(DURATION)) $(if $(REPEATS),--repeats $(REPEATS))

flood: all
	$(PY) -m harness.lab flood $(LAB_ARGS)

bench: all
	$(PY) -m harness.lab bench $(LAB_ARGS)

report: all
	$(PY) -m harness.lab report $(LAB_ARGS)

# ---------------------------------------------------------------- tests
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
HCFLAGS   := -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Iinclude -I. \
             -Itests/unit -DHOST_TEST -fsanitize=address,undefined -fno-omit-frame-pointer -MMD -MP

$(BUILD)/unit/%: tests/unit/%.c $(BUILD)/.deps $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	gcc $(HCFLAGS) $< -o $@

# Runs every unit test even after a failure, then fails if any did.
-include $(UNIT_BINS:=.d)

unit: $(UNIT_BINS)
	@fail=0; for t in $(UNIT_BINS); do $$t || { echo "FAILED: $$t"; fail=1; }; done; exit $$fail

# A bounded libFuzzer run over net/'s receive path (FUZZ_TIME seconds).
fuzz: $(BUILD)/.deps
	@set -o pipefail; bash tests/fuzz/run.sh 2>&1 | tail -n 12

scenarios: all
	$(PY) -m pytest tests/scenarios $(PYTEST_ARGS)

test: all unit fuzz
	$(PY) -m pytest tests/scenarios $(PYTEST_ARGS)

clean:
	rm -rf $(BUILD)
