/* esck.c --- esck(8): global options, subcommand dispatch and exit status */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "esck.h"
#include "cmd.h"

/*
 * The subcommands, looked up by exact name (no prefixes: scripts must not
 * break when a command is added).  To add one: write cli/cmd-NAME.c with
 * cmd_NAME(), declare it in cmd.h, list the file in cli/Makemodule.am and
 * add a line here, in the order of esck(8).  Keep the NULL entry last.
 */
static const struct esck_cmd commands[] = {
	{ .name = "inspect", .fn = cmd_inspect, .usage = CMD_INSPECT_USAGE,
	  .summary = "check the extent trees and block maps of an image" },
	{ .name = "replay-truncate", .fn = cmd_replay_truncate,
	  .usage = CMD_REPLAY_TRUNCATE_USAGE, .flags = ESCK_CMD_RW,
	  .summary = "apply a truncate/punch script to the cache and the image" },
	{ .name = NULL },
};

static char progname[] = "esck";

static const struct esck_cmd *find_cmd(const char *name)
{
	const struct esck_cmd *cmd;

	for (cmd = commands; cmd->name; cmd++)
		if (strcmp(cmd->name, name) == 0)
			return cmd;
	return NULL;
}

static void usage(void)
{
	const struct esck_cmd *cmd;

	fputs("Usage: esck [-hV]\n"
	      "       esck COMMAND [ARG...]\n"
	      "       esck help COMMAND\n"
	      "\n"
	      "Inspect and check ext4 filesystem images offline, without mounting them.\n",
	      stdout);
	if (commands[0].name) {
		fputs("\nCommands:\n", stdout);
		for (cmd = commands; cmd->name; cmd++)
			printf("  %-20s %s\n", cmd->name, cmd->summary);
	}
	fputs("\n"
	      "Options:\n"
	      "  -h, --help           show this help and exit\n"
	      "  -V, --version        print the version and exit\n"
	      "\n"
	      "'esck help COMMAND' shows the options of one command.  The exit status\n"
	      "is a bitmask; esck(8) documents every bit.\n",
	      stdout);
}

static int try_help(const char *prog)
{
	fprintf(stderr, "Try '%s --help' for more information.\n", prog);
	return ESCK_EXIT_USAGE;
}

int cmd_usage_error(const char *prog, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return try_help(prog);
}

static int unknown_command(const char *name)
{
	return cmd_usage_error(progname, "unknown command '%s'", name);
}

/* Run CMD on argv[0..argc), argv[0] being its name. */
static int run_cmd(const struct esck_cmd *cmd, int argc, char **argv)
{
	static char cmdprog[64];

	snprintf(cmdprog, sizeof(cmdprog), "%s %s", progname, cmd->name);
	argv[0] = cmdprog;
	/* glibc: 0 reinitializes getopt fully for a new argument vector. */
	optind = 0;
	return cmd->fn(argc, argv);
}

/* "esck help [COMMAND]": the same as "esck COMMAND --help". */
static int help_cmd(int argc, char **argv)
{
	static char help_opt[] = "--help";
	const struct esck_cmd *cmd;
	char *help_argv[3];

	if (argc < 2 || strcmp(argv[1], "help") == 0 ||
	    strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage();
		return ESCK_EXIT_OK;
	}
	if (argc > 2)
		return cmd_usage_error(progname, "too many arguments to 'help'");
	cmd = find_cmd(argv[1]);
	if (!cmd)
		return unknown_command(argv[1]);
	help_argv[0] = argv[1];
	help_argv[1] = help_opt;
	help_argv[2] = NULL;
	return run_cmd(cmd, 2, help_argv);
}

/*
 * Flush stdout at the end: a full disk or a closed pipe must not go
 * unnoticed by a script (util-linux's close_stdout()).  Returns STATUS with
 * ESCK_EXIT_OPERATIONAL added on a write error.
 */
static int close_stdout(int status)
{
	int failed = ferror(stdout);

	errno = 0;
	if (fclose(stdout) != 0)
		failed = 1;
	if (failed) {
		com_err(progname, errno ? errno : EIO,
			"while writing to standard output");
		status |= ESCK_EXIT_OPERATIONAL;
	}
	return status;
}

static int dispatch(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help",	no_argument,	NULL,	'h' },
		{ "version",	no_argument,	NULL,	'V' },
		{ NULL,		0,		NULL,	0 },
	};
	const struct esck_cmd *cmd;
	int c;

	/* "+": stop at the command name; its options are its own. */
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			return ESCK_EXIT_OK;
		case 'V':
			printf("%s %s\n", PACKAGE_NAME, PACKAGE_VERSION);
			return ESCK_EXIT_OK;
		default:	/* getopt_long() printed the first line */
			return try_help(progname);
		}
	}
	if (optind >= argc)
		return cmd_usage_error(progname, "no command given");

	argc -= optind;
	argv += optind;
	if (strcmp(argv[0], "help") == 0)
		return help_cmd(argc, argv);
	cmd = find_cmd(argv[0]);
	if (!cmd)
		return unknown_command(argv[0]);
	return run_cmd(cmd, argc, argv);
}

int main(int argc, char **argv)
{
	errcode_t retval;
	int status = ESCK_EXIT_OK;

	if (argc < 1)
		return ESCK_EXIT_USAGE;
	argv[0] = progname;	/* getopt_long()'s messages say "esck: " */

	retval = add_error_table(&et_esck_error_table);
	if (retval)
		goto out_report;
	retval = add_error_table(&et_ext2_error_table);
	if (retval)
		goto out_remove_esck;

	status = dispatch(argc, argv);

	remove_error_table(&et_ext2_error_table);
out_remove_esck:
	remove_error_table(&et_esck_error_table);
out_report:
	if (retval) {
		com_err(progname, retval, "while registering error tables");
		status = ESCK_EXIT_OPERATIONAL;
	}
	return close_stdout(status);
}
