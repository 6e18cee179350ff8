/* cmd.h --- esck's subcommand table entry, exit status bits and CLI helpers */
#ifndef ESCK_CLI_CMD_H
#define ESCK_CLI_CMD_H

#include <stdint.h>

/*
 * Exit status is an API: a bitmask, as fsck(8), defined here once and
 * documented in esck(8) EXIT STATUS.  A command ORs the bits that apply.
 */
enum esck_exit {
	ESCK_EXIT_OK		= 0,	/* consistent, nothing to report */
	ESCK_EXIT_CORRECTED	= 1,	/* problems found and corrected */
	ESCK_EXIT_PROBLEMS	= 4,	/* problems found and left */
	ESCK_EXIT_OPERATIONAL	= 8,	/* cannot open, I/O error, op failed */
	ESCK_EXIT_USAGE		= 16,	/* usage or script syntax error */
	ESCK_EXIT_INTERRUPTED	= 32,	/* stopped by SIGINT or SIGTERM */
	ESCK_EXIT_INTERNAL	= 128,	/* a bug: an invariant did not hold */
};

/* What a command needs from the image; read-only is the default. */
enum esck_cmd_flags {
	ESCK_CMD_RW		= 1u << 0,	/* may open the image read-write */
};

/*
 * One subcommand.  fn gets argv[0] = "esck NAME" (so getopt_long()'s own
 * messages name the command) and runs its own option parsing; "-h" and
 * "--help" print usage to stdout and return ESCK_EXIT_OK.  fn returns an
 * exit status and never calls exit().
 */
struct esck_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *usage;	/* synopsis, the same text as the man page's */
	const char *summary;	/* one line for "esck --help", lower case */
	unsigned int flags;	/* enum esck_cmd_flags */
};

/* The subcommands, one per cli/cmd-NAME.c, in the order of esck(8). */

#define CMD_INSPECT_USAGE \
	"esck inspect [-fmq] [--json] [--cache-limit=N|SIZE] [-i INO|PATH]... IMAGE"
int cmd_inspect(int argc, char **argv);

#define CMD_REPLAY_TRUNCATE_USAGE					\
	"esck replay-truncate [-nf] [-z FILE] [--verify=range|full|end]\n"	\
	"       [--json] [--fail-alloc=SPEC] [--es-policy=nofail|legacy]\n"	\
	"       IMAGE [SCRIPT|-]"
int cmd_replay_truncate(int argc, char **argv);

/*
 * Print "PROG: MESSAGE" and "Try 'PROG --help' for more information." on
 * stderr and return ESCK_EXIT_USAGE.  PROG is "esck" or "esck NAME".
 */
int cmd_usage_error(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * heap.c: make the next bytes of malloc()ed memory present in one call
 * (glibc on Linux; elsewhere nothing): a command that knows roughly what
 * it will allocate saves a page fault per page of it.
 */
void cmd_heap_reserve(uint64_t bytes);

#endif /* ESCK_CLI_CMD_H */
