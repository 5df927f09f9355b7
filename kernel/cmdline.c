/* cmdline.c - kernel command-line parsing; see cmdline.h. */
#include "kernel/cmdline.h"
#include "kernel/registry.h"
#include "kernel/printk.h"
#include "kernel/errno.h"
#include "kernel/lib/string.h"
#include "kernel/lib/printf.h"

char kernel_cmdline[1024];
unsigned int cmdline_errors;

const char *strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0: return "success";
	case EPERM: return "not permitted";
	case ENOENT: return "not found";
	case EIO: return "I/O error";
	case E2BIG: return "too many arguments";
	case ENOMEM: return "out of memory";
	case EFAULT: return "bad address";
	case EBUSY: return "busy";
	case EEXIST: return "already exists";
	case ENODEV: return "no such device";
	case EINVAL: return "invalid argument";
	case ENOSPC: return "no space";
	case ERANGE: return "out of range";
	case ENOSYS: return "not implemented";
	case ENOTSUP: return "not supported";
	case ETIMEDOUT: return "timed out";
	default: return "unknown error";
	}
}

int kparam_uint(const char *value, unsigned long min, unsigned long max, unsigned long *out)
{
	uint64_t v;
	if (!parse_u64(value, &v) || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static const struct kparam *find_param(const char *key)
{
	for (const struct kparam *p = __params_start; p < __params_end; p++)
		if (!strcmp(p->key, key))
			return p;
	return NULL;
}

static void apply(char *word)
{
	char *eq = strchr(word, '=');
	const char *value = "";
	if (eq) {
		*eq = 0;
		value = eq + 1;
	}
	const struct kparam *p = find_param(word);
	if (!p) {
		cmdline_errors++;
		pr_warn("cmdline: unknown key '%s' ignored (the shell's `params` lists the keys)", word);
		return;
	}
	int err = p->set(value);
	if (err) {
		cmdline_errors++;
		pr_warn("cmdline: %s=%s rejected: %s (%s)", word, value, strerror(err), p->help);
	}
}

void cmdline_parse(const char *line)
{
	char buf[sizeof(kernel_cmdline)];
	strlcpy(kernel_cmdline, line, sizeof(kernel_cmdline));
	strlcpy(buf, line, sizeof(buf));

	char *s = buf, *w;
	while ((w = next_word(&s)))
		apply(w);
}

static int set_loglevel(const char *v)
{
	unsigned long n;
	int err = kparam_uint(v, 0, 7, &n);
	if (!err)
		console_loglevel = (int)n;
	return err;
}
KPARAM("loglevel", set_loglevel, "console log level 0-7 (default 6)");
