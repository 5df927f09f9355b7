/*
 * registry.h - link-time registration, so kernel/ never names a driver or a
 * protocol: a subsystem declares its init function, command-line keys,
 * shell commands and stats sections with these macros, and the linker
 * gathers each kind into one array (see kernel.ld).
 *
 *   INITCALL(level, fn)              int fn(void); 0 or -errno
 *   KPARAM(key, fn, help)            int fn(const char *value); 0 or -errno
 *   SHELL_CMD(name, fn, usage, help) int fn(int argc, char **argv)
 *   STATS_SECTION(name, fn)          void fn(struct json *j): writes members
 *
 * Initcall levels run in order: 1 core (after memory, interrupts, timer),
 * 2 bus (PCI), 3 net core, 4 devices, 5 protocols, 9 late.
 *
 * Contexts the registered functions run in:
 *   initcalls      kmain's run_initcalls(): boot task context, IF=1, once
 *   KPARAM setters cmdline_parse(), before mm_init(): IF=0, nothing may be
 *                  allocated - validate and store only (cmdline.h); a
 *                  subsystem's shell command may call its own setters later
 *   shell commands the shell task (task context, IF=1, may sleep)
 *   stats sections `stats`, from the shell task
 */
#ifndef KERNEL_REGISTRY_H
#define KERNEL_REGISTRY_H

struct json;

struct initcall {
	int (*fn)(void);
	const char *name;
};

struct kparam {
	const char *key;
	int (*set)(const char *value);
	const char *help;
};

struct shell_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;
	const char *help;
};

struct stats_section {
	const char *name;
	void (*fn)(struct json *j);
};

#define __REG_USED __attribute__((used, aligned(8)))

#define INITCALL(level, f) \
	static const struct initcall __initcall_##f \
	__attribute__((section(".initcall." #level))) __REG_USED = { f, #f }

#define KPARAM(k, f, h) \
	static const struct kparam __kparam_##f \
	__attribute__((section(".kparams"))) __REG_USED = { k, f, h }

#define SHELL_CMD(n, f, u, h) \
	static const struct shell_cmd __shell_cmd_##f \
	__attribute__((section(".shell_cmds"))) __REG_USED = { n, f, u, h }

#define STATS_SECTION(n, f) \
	static const struct stats_section __stats_##f \
	__attribute__((section(".kstats"))) __REG_USED = { n, f }

extern const struct initcall __initcalls_start[], __initcalls_end[];
extern const struct kparam __params_start[], __params_end[];
extern const struct shell_cmd __shell_cmds_start[], __shell_cmds_end[];
extern const struct stats_section __stats_start[], __stats_end[];

#endif
