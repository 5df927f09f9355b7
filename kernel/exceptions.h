/*
 * exceptions.h - what kernel/exceptions.c offers besides handling vectors
 * 0-31: the name table, the last occurrence of each vector, the demand
 * area and the single-step helper used by the `fault` shell command.
 *
 * Which exceptions the kernel survives (everything else in kernel mode is
 * reported and panics):
 *   #DB  trap  single-step or ICEBP: reported, execution continues
 *   #BP  trap  int3: reported, continues at the saved RIP (after int3)
 *   #PF  fault not-present page in the demand area: mapped, the same
 *              instruction is retried
 *   #PF/#GP/#SS/#AC fault at an instruction listed in the exception
 *              table (extable.h): continues at its fixup
 */
#ifndef KERNEL_EXCEPTIONS_H
#define KERNEL_EXCEPTIONS_H

#include <stdint.h>
#include <stdbool.h>

enum exception_class { EXC_FAULT, EXC_TRAP, EXC_ABORT, EXC_INTERRUPT, EXC_RESERVED };

/* "#PF", "Page Fault", its class; "--"/"Reserved" for unused vectors. */
const char *exception_mnemonic(unsigned vector);
const char *exception_name(unsigned vector);
enum exception_class exception_class_of(unsigned vector);

/* Page-fault error code bits, SDM vol 3A 4.7, figure 4-12. */
#define PF_ERR_P     (1u << 0)   /* 0: not present; 1: protection violation */
#define PF_ERR_W     (1u << 1)   /* write access */
#define PF_ERR_U     (1u << 2)   /* CPL 3 */
#define PF_ERR_RSVD  (1u << 3)   /* reserved bit set in a paging entry */
#define PF_ERR_I     (1u << 4)   /* instruction fetch */
#define PF_ERR_PK    (1u << 5)   /* protection key */

/* The most recent occurrence of a vector (0..31), for reports and tests. */
struct exception_record {
	uint64_t count;
	uint64_t rip, rsp, rflags, error_code, cr2;
	unsigned preempt_count;
};
void exception_last(unsigned vector, struct exception_record *out);

/*
 * The demand area: EXC_DEMAND_PAGES pages at EXC_DEMAND_BASE (vmm.h's
 * VMM_DEMAND_BASE) that are not mapped until first touched. The #PF
 * handler maps a fresh page filled with demand_pattern(address of each
 * 8-byte word) and returns, so the faulting instruction runs again and
 * reads the pattern.
 */
#define EXC_DEMAND_PAGES 64
uint64_t exception_demand_base(void);
static inline uint64_t demand_pattern(uint64_t va)
{
	return va ^ 0x6e6170696c616221ull;   /* "napilab!" */
}
/* Faults the handler fixed by mapping a page (each retried once). */
uint64_t exception_demand_faults(void);
/* RIP of the last fixed demand fault (the instruction that was retried). */
uint64_t exception_demand_last_rip(void);

/*
 * Single-step: the next `steps` #DB single-step traps record their saved
 * RIP; the last of them clears RFLAGS.TF in the saved frame so stepping
 * ends. Arm, then set TF yourself (pushfq/or/popfq). Task context, IF as
 * you like (an interrupt gate clears TF for the handler it enters).
 */
#define EXC_MAX_STEPS 8
void exception_single_step_arm(unsigned steps);
/* Copies the recorded RIPs (oldest first); returns how many. */
unsigned exception_single_step_rips(uint64_t *out, unsigned max);

#endif
