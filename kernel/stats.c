/*
 * stats.c - the shell's `stats`: one line of JSON made of every
 * STATS_SECTION in the kernel, each as an object under its name, plus
 * uptime. The harness parses this line; keep it one line.
 */
#include "kernel/registry.h"
#include "kernel/shell.h"
#include "kernel/printk.h"
#include "kernel/time.h"
#include "kernel/cmdline.h"
#include "kernel/errno.h"
#include "kernel/lib/json.h"
#include "kernel/lib/string.h"

static char stats_buf[32768];

static int cmd_stats(int argc, char **argv)
{
	struct json j;
	const char *only = argc > 1 ? argv[1] : NULL;

	json_init(&j, stats_buf, sizeof(stats_buf));
	json_obj_begin(&j, NULL);
	json_u64(&j, "uptime_ms", uptime_ns() / 1000000);
	json_u64(&j, "jiffies", jiffies);
	json_u64(&j, "hz", hz);
	json_u64(&j, "cmdline_errors", cmdline_errors);
	bool found = !only;
	for (const struct stats_section *s = __stats_start; s < __stats_end; s++) {
		if (only && strcmp(only, s->name))
			continue;
		found = true;
		json_obj_begin(&j, s->name);
		s->fn(&j);
		json_obj_end(&j);
	}
	json_obj_end(&j);
	if (!found) {
		shell_error("stats: no section '%s'", only);
		return 0;
	}
	if (j.overflow) {
		shell_error("stats: output larger than %zu bytes", sizeof(stats_buf));
		return 0;
	}
	kputs(stats_buf);
	kputs("\n");
	return 0;
}
SHELL_CMD("stats", cmd_stats, "[section]", "all counters as one line of JSON");
