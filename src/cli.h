/* The cyberpact binary: one cmd_<name>() per subcommand, table in main.c. */
#ifndef CYBERPACT_CLI_H
#define CYBERPACT_CLI_H

#include <stdio.h>

#include "cyberpact/base.h"

/* Exit codes shared by subcommands. */
enum {
	CP_EXIT_OK = 0,
	CP_EXIT_FAIL = 1,  /* the command ran; the answer is "no" (invalid, no match) */
	CP_EXIT_ERROR = 2, /* could not run: usage, unreadable input, out of memory */
};

int cmd_validate(int argc, char **argv);
int cmd_pattern(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_partner(int argc, char **argv);
int cmd_agreement(int argc, char **argv);

/*
 * Read a whole file (or stdin for "-") of at most max_len bytes into *out (cp_free it).
 * Returns CP_ENOTFOUND/CP_EIO with errno set, or CP_ETOOBIG.
 */
enum cp_err cp_cli_read_file(const char *path, size_t max_len, char **out, size_t *len);

#endif
