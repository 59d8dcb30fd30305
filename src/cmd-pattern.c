/* cyberpact pattern: check STIX patterns (and print them in canonical form). */
#include <getopt.h>

#include "cli.h"
#include "cyberpact/pattern.h"
#include "common.h"

static const char usage_text[] =
	"usage: cyberpact pattern check [--canonical] [--quiet] ['PATTERN' ...]\n"
	"\n"
	"Check STIX 2.1 patterns (spec section 9). With no PATTERN arguments, reads one\n"
	"pattern per line from standard input (empty lines and lines starting with '#'\n"
	"are skipped). Prints, for each pattern:\n"
	"  ok                                   (or its canonical form with --canonical)\n"
	"  error [code] column C: message       and the pattern with a caret under column C\n"
	"\n"
	"  --canonical   print the canonical form of each valid pattern instead of 'ok'\n"
	"  --quiet, -q   print only errors\n"
	"  --help, -h    show this help\n"
	"\n"
	"exit status: 0 all patterns valid, 1 some invalid, 2 usage or input error.\n";

struct opts {
	bool canonical, quiet;
};

/* Print the pattern with a caret under the (code point) column of a finding. */
static void show_caret(const char *text, size_t len, unsigned line, unsigned column)
{
	size_t i = 0, start;
	unsigned l = 1;

	while (l < line && i < len) {
		if (text[i++] == '\n')
			l++;
	}
	start = i;
	while (i < len && text[i] != '\n' && text[i] != '\r')
		i++;
	printf("  %.*s\n  ", (int)(i - start), text + start);
	for (unsigned c = 1; c < column; c++)
		putchar(' ');
	puts("^");
}

static int check_one(const struct opts *o, const char *text, size_t len, const char *label)
{
	struct cp_pattern *p = NULL;
	struct cp_diag d;
	enum cp_err err;
	int rc = CP_EXIT_OK;

	cp_diag_init(&d);
	err = cp_pattern_parse(text, len, &p, &d);
	for (size_t i = 0; i < d.count; i++) {
		const struct cp_finding *f = &d.items[i];
		if (o->quiet && f->severity != CP_SEV_ERROR)
			continue;
		if (f->line > 1)
			printf("%s%s [%s] line %u, column %u: %s\n", label,
			       cp_severity_name(f->severity), f->code, f->line, f->column,
			       f->message);
		else
			printf("%s%s [%s] column %u: %s\n", label, cp_severity_name(f->severity),
			       f->code, f->column, f->message);
		show_caret(text, len, f->line, f->column);
	}
	if (err == CP_ENOMEM) {
		fprintf(stderr, "cyberpact pattern: out of memory\n");
		rc = CP_EXIT_ERROR;
	} else if (err) {
		rc = CP_EXIT_FAIL;
	} else if (o->canonical) {
		struct cp_buf b = CP_BUF_INIT(0);
		if (cp_pattern_print(p, &b) == CP_OK)
			printf("%s%s\n", label, b.ptr);
		else
			rc = CP_EXIT_ERROR;
		cp_buf_release(&b);
	} else if (!o->quiet) {
		printf("%sok\n", label);
	}
	cp_pattern_free(p);
	cp_diag_release(&d);
	return rc;
}

static int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"canonical", no_argument, NULL, 'c'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct opts o = {false, false};
	int c, worst = CP_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o.canonical = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CP_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return CP_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		for (int i = optind; i < argc; i++) {
			int rc = check_one(&o, argv[i], strlen(argv[i]), "");
			if (rc > worst)
				worst = rc;
		}
		return worst;
	}
	{
		char *line = NULL;
		size_t cap = 0;
		ssize_t n;
		unsigned long lineno = 0;
		char label[64];

		while ((n = getline(&line, &cap, stdin)) >= 0) {
			int rc;
			lineno++;
			while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
				line[--n] = '\0';
			if (n == 0 || line[0] == '#')
				continue;
			snprintf(label, sizeof(label), "%lu: ", lineno);
			rc = check_one(&o, line, (size_t)n, label);
			if (rc > worst)
				worst = rc;
		}
		free(line);
		if (ferror(stdin)) {
			fprintf(stderr, "cyberpact pattern: cannot read standard input: %s\n",
				strerror(errno));
			return CP_EXIT_ERROR;
		}
	}
	return worst;
}

int cmd_pattern(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_ERROR : CP_EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	fprintf(stderr, "cyberpact pattern: unknown subcommand '%s'\n", argv[1]);
	fputs(usage_text, stderr);
	return CP_EXIT_ERROR;
}
