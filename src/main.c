/* cyberpact: the single binary; dispatches to one cmd-<name>.c per subcommand. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd cmds[] = {
	{"serve", cmd_serve, "run the node: TAXII 2.1 over HTTPS with an embedded store"},
	{"validate", cmd_validate, "validate STIX 2.1 bundles and objects"},
	{"pattern", cmd_pattern, "check and evaluate STIX patterns ('pattern check', 'pattern eval')"},
	{"audit", cmd_audit, "list and verify the audit trail ('audit', 'audit verify', 'audit head')"},
	{"partner", cmd_partner, "manage partners, credentials and agreements ('partner add', 'partner list', ...)"},
	{"sync", cmd_sync, "federation with peers: 'sync status', 'sync run [--peer P]'"},
	{"policy", cmd_policy, "dry-run the egress gate ('policy explain --partner P --object ID')"},
	{"agreement", cmd_agreement, "validate a partners file and explain its agreements ('agreement check')"},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: cyberpact <command> [options] [args]\n"
		     "       cyberpact --version\n\n"
		     "cyberpact stores, validates and shares STIX 2.1 threat intelligence\n"
		     "between allied nodes over TAXII 2.1.\n\ncommands:\n");
	for (size_t i = 0; i < CP_ARRAY_LEN(cmds); i++)
		fprintf(out, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(out, "\nrun 'cyberpact <command> --help' for a command's options.\n");
}

static void log_to_stderr(enum cp_log_level level, const char *module, const char *file,
			  int line, const char *msg, void *ctx)
{
	(void)ctx;
	if (level >= CP_LOG_DEBUG)
		fprintf(stderr, "cyberpact: %s: %s (%s:%d): %s\n", cp_log_level_name(level),
			module, file, line, msg);
	else
		fprintf(stderr, "cyberpact: %s: %s: %s\n", cp_log_level_name(level), module, msg);
}

int main(int argc, char **argv)
{
	const char *name;

	cp_log_set_handler(log_to_stderr, NULL, getenv("CYBERPACT_DEBUG") ? CP_LOG_DEBUG : CP_LOG_INFO);
	cp_json_use_cp_alloc();
	if (argc < 2) {
		usage(stderr);
		return CP_EXIT_ERROR;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0 || strcmp(name, "help") == 0) {
		if (argc > 2 && strcmp(name, "help") == 0) {
			char *help_argv[] = {argv[2], (char *)"--help", NULL};
			for (size_t i = 0; i < CP_ARRAY_LEN(cmds); i++)
				if (strcmp(cmds[i].name, argv[2]) == 0)
					return cmds[i].fn(2, help_argv);
		}
		usage(stdout);
		return CP_EXIT_OK;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		printf("cyberpact %s\n", CYBERPACT_VERSION);
		return CP_EXIT_OK;
	}
	for (size_t i = 0; i < CP_ARRAY_LEN(cmds); i++)
		if (strcmp(cmds[i].name, name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "cyberpact: '%s' is not a command; see 'cyberpact --help'\n", name);
	return CP_EXIT_ERROR;
}
