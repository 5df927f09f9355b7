/*
 * shell.h - the serial shell on COM1, for people and for the harness.
 * Commands are registered with SHELL_CMD() (kernel/registry.h). A command
 * returns 0, or -errno after printing nothing: the shell then prints
 * "error: <name>: <reason>" and the usage line. Commands run in task
 * context with interrupts enabled and may sleep.
 *
 * Protocol the harness relies on: input is echoed; after a command's output
 * the shell prints the prompt "napilab> " with no newline after it.
 */
#ifndef KERNEL_SHELL_H
#define KERNEL_SHELL_H

#define SHELL_PROMPT "napilab> "
#define SHELL_MAX_ARGS 16

/* Reads and runs commands forever. Task context. */
__attribute__((noreturn)) void shell_run(void);
/* Called by the shell while it waits for input (kernel/console_irq.c):
 * sleeps until the UART's interrupt, or spins while that interrupt is not
 * set up. Task context, IF=1. */
void shell_wait_input(void);

/* "error: ..." reply in the format the harness matches. */
void shell_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
