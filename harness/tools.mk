# Host tools of the harness, built by `make all` (the root Makefile does
# `-include harness/tools.mk` and builds $(TOOLS)). Host compiler, host
# libc: these run on the machine that runs QEMU, never in the guest.

TOOL_CC     := gcc
TOOL_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -I. -MMD -MP

# flood: the UDP flood generator (harness/flood/flood.c; used by
# harness/flood.py; its pure parts are unit-tested by
# tests/unit/test_flood_*.c).
FLOOD_SRCS := harness/flood/flood.c harness/flood/frame.c harness/flood/pace.c
FLOOD_OBJS := $(patsubst %.c,$(BUILD)/tools/%.o,$(FLOOD_SRCS))

$(BUILD)/tools/%.o: %.c
	@mkdir -p $(dir $@)
	$(TOOL_CC) $(TOOL_CFLAGS) -c $< -o $@

$(BUILD)/flood: $(FLOOD_OBJS)
	$(TOOL_CC) $(TOOL_CFLAGS) $^ -o $@

-include $(FLOOD_OBJS:.o=.d)

TOOLS += $(BUILD)/flood
