/* shell.c - line editor and command dispatch for the serial shell. */
#include <stdarg.h>
#include "kernel/shell.h"
#include "kernel/registry.h"
#include "kernel/printk.h"
#include "kernel/serial.h"
#include "kernel/errno.h"
#include "kernel/lib/string.h"
#include "kernel/lib/printf.h"

#define LINE_MAX 256

void shell_error(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	kprintf("error: %s\n", buf);
}

static const struct shell_cmd *find_cmd(const char *name)
{
	for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

/* Splits line into words and runs the command the first one names; the
 * command's -errno is reported with its usage line. Shell task. */
static int shell_exec(char *line)
{
	char *argv[SHELL_MAX_ARGS + 1];
	int argc = 0;
	char *s = line, *w;

	while ((w = next_word(&s))) {
		if (argc == SHELL_MAX_ARGS) {
			shell_error("too many words (at most %d)", SHELL_MAX_ARGS);
			return -E2BIG;
		}
		argv[argc++] = w;
	}
	argv[argc] = NULL;
	if (argc == 0)
		return 0;

	const struct shell_cmd *c = find_cmd(argv[0]);
	if (!c) {
		shell_error("unknown command '%s' (try 'help')", argv[0]);
		return -ENOENT;
	}
	int err = c->fn(argc, argv);
	if (err < 0)
		shell_error("%s: %s; usage: %s %s", c->name, strerror(err), c->name, c->usage);
	return err;
}

/* Reads one line with echo and backspace; returns its length. */
static int read_line(char *buf, int max)
{
	int n = 0;
	for (;;) {
		int c = serial_getc();
		if (c < 0) {
			shell_wait_input();
			continue;
		}
		if (c == '\r' || c == '\n') {
			kputs("\n");
			buf[n] = 0;
			return n;
		}
		if (c == 0x7f || c == '\b') {
			if (n > 0) {
				n--;
				kputs("\b \b");
			}
			continue;
		}
		if (c == 0x03) { /* Ctrl-C: drop the line */
			kputs("^C\n");
			n = 0;
			buf[0] = 0;
			return 0;
		}
		if (c < 0x20 || c > 0x7e)
			continue;
		if (n < max - 1) {
			buf[n++] = (char)c;
			char e[2] = { (char)c, 0 };
			kputs(e);
		}
	}
}

void shell_run(void)
{
	char line[LINE_MAX];
	for (;;) {
		kputs(SHELL_PROMPT);
		read_line(line, sizeof(line));
		shell_exec(line);
	}
}

/* ---- built-in commands ------------------------------------------------ */

static int cmd_help(int argc, char **argv)
{
	if (argc > 1) {
		const struct shell_cmd *c = find_cmd(argv[1]);
		if (!c) {
			shell_error("help: no command '%s'", argv[1]);
			return 0;
		}
		kprintf("%s %s\n  %s\n", c->name, c->usage, c->help);
		return 0;
	}
	for (const struct shell_cmd *c = __shell_cmds_start; c < __shell_cmds_end; c++)
		kprintf("  %-10s %-24s %s\n", c->name, c->usage, c->help);
	return 0;
}
SHELL_CMD("help", cmd_help, "[command]", "list commands, or describe one");

static int cmd_params(int argc, char **argv)
{
	for (const struct kparam *p = __params_start; p < __params_end; p++)
		kprintf("  %-12s %s\n", p->key, p->help);
	return 0;
}
SHELL_CMD("params", cmd_params, "", "list the kernel command-line keys");

static int cmd_echo(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		kprintf("%s%s", argv[i], i + 1 < argc ? " " : "");
	kputs("\n");
	return 0;
}
SHELL_CMD("echo", cmd_echo, "[words...]", "print the words");

static int cmd_dmesg(int argc, char **argv)
{
	static char buf[32768];
	size_t n = printk_dump(buf, sizeof(buf));
	serial_write(buf, n);
	return 0;
}
SHELL_CMD("dmesg", cmd_dmesg, "", "print the kernel log ring");
