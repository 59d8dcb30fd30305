/*
 * cyberpact pattern: check STIX patterns (and print them in canonical form), and
 * evaluate one against observed-data files.
 */
#include <getopt.h>
#include <jansson.h>

#include "cli.h"
#include "cyberpact/pattern.h"
#include "common.h"

static const char usage_text[] =
	"usage: cyberpact pattern check [--canonical] [--quiet] ['PATTERN' ...]\n"
	"       cyberpact pattern eval [--quiet] 'PATTERN' [FILE ...]\n"
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
	"exit status: 0 all patterns valid, 1 some invalid, 2 usage or input error.\n"
	"\n"
	"'cyberpact pattern eval --help' describes eval.\n";

static const char eval_usage_text[] =
	"usage: cyberpact pattern eval [--quiet] 'PATTERN' [FILE ...]\n"
	"\n"
	"Evaluate a STIX 2.1 pattern against the observed-data objects of the FILEs\n"
	"(bundles, JSON arrays of STIX objects, or single observed-data objects; '-' or\n"
	"no FILE reads standard input). object_refs are resolved within each file.\n"
	"Prints 'match' and then the id of each observed-data that bound the match, one\n"
	"per line, or 'no match'. docs/PATTERNS.md gives the exact semantics.\n"
	"\n"
	"  --quiet, -q   print nothing; the exit status tells\n"
	"  --help, -h    show this help\n"
	"\n"
	"exit status: 0 match, 1 no match, 2 error (invalid pattern, unreadable or invalid\n"
	"input, the evaluation work limit reached).\n";

struct opts {
	bool canonical, quiet;
};

/* Print the pattern with a caret under the (code point) column of a finding. */
static void show_caret_to(FILE *out, const char *text, size_t len, unsigned line,
			  unsigned column)
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
	fprintf(out, "  %.*s\n  ", (int)(i - start), text + start);
	for (unsigned c = 1; c < column; c++)
		fputc(' ', out);
	fputs("^\n", out);
}

static void show_caret(const char *text, size_t len, unsigned line, unsigned column)
{
	show_caret_to(stdout, text, len, line, column);
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

/* ------------------------------------------------------------------ eval */

static void print_pattern_findings(const struct cp_diag *d, const char *text, size_t len,
				   bool quiet)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		if (quiet && f->severity != CP_SEV_ERROR)
			continue;
		fprintf(stderr, "cyberpact pattern: %s [%s] line %u, column %u: %s\n",
			cp_severity_name(f->severity), f->code, f->line, f->column, f->message);
		show_caret_to(stderr, text, len, f->line, f->column);
	}
}

/* Load one file into set; returns an exit status (CP_EXIT_OK or CP_EXIT_ERROR). */
static int load_file(struct cp_pattern_obs_set *set, const char *path, bool quiet)
{
	const char *label = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char *text = NULL;
	size_t len = 0;
	json_t *doc = NULL;
	json_error_t jerr;
	struct cp_diag d;
	enum cp_err err;
	int rc = CP_EXIT_OK;

	cp_diag_init(&d);
	err = cp_cli_read_file(path, CP_LIMIT_DOC_BYTES, &text, &len);
	if (err) {
		fprintf(stderr, "cyberpact pattern: cannot read '%s': %s\n", label,
			err == CP_ETOOBIG ? "file is larger than the document limit"
					  : strerror(errno));
		return CP_EXIT_ERROR;
	}
	doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		fprintf(stderr, "cyberpact pattern: '%s' is not valid JSON: line %d, column %d: %s\n",
			label, jerr.line, jerr.column, jerr.text);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	err = cp_pattern_obs_set_add_json(set, doc, &d);
	for (size_t i = 0; i < d.count; i++) {
		const struct cp_finding *f = &d.items[i];
		if (quiet && f->severity != CP_SEV_ERROR)
			continue;
		fprintf(stderr, "cyberpact pattern: %s: %s [%s] at '%s': %s\n", label,
			cp_severity_name(f->severity), f->code, f->pointer, f->message);
	}
	if (err) {
		if (err != CP_EINVAL)
			fprintf(stderr, "cyberpact pattern: cannot load '%s': %s\n", label,
				cp_strerror(err));
		rc = CP_EXIT_ERROR;
	}
out:
	json_decref(doc);
	cp_free(text);
	cp_diag_release(&d);
	return rc;
}

static int cmd_eval(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cp_pattern *p = NULL;
	struct cp_pattern_obs_set *set = NULL;
	struct cp_pattern_match m = {false, 0, NULL};
	struct cp_diag d;
	const char *text;
	char *stdin_only[] = {(char *)"-"};
	char **files;
	int nfiles, c, rc = CP_EXIT_ERROR;
	bool quiet = false;
	enum cp_err err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "+qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(eval_usage_text, stdout);
			return CP_EXIT_OK;
		default:
			fputs(eval_usage_text, stderr);
			return CP_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		fputs(eval_usage_text, stderr);
		return CP_EXIT_ERROR;
	}
	text = argv[optind];
	files = optind + 1 < argc ? argv + optind + 1 : stdin_only;
	nfiles = optind + 1 < argc ? argc - optind - 1 : 1;
	cp_diag_init(&d);
	err = cp_pattern_parse(text, strlen(text), &p, &d);
	print_pattern_findings(&d, text, strlen(text), quiet);
	if (err) {
		if (err == CP_ENOMEM)
			fprintf(stderr, "cyberpact pattern: out of memory\n");
		else if (!d.count)
			fprintf(stderr, "cyberpact pattern: invalid pattern: %s\n", cp_strerror(err));
		goto out;
	}
	if (cp_pattern_obs_set_new(&set)) {
		fprintf(stderr, "cyberpact pattern: out of memory\n");
		goto out;
	}
	for (int i = 0; i < nfiles; i++)
		if (load_file(set, files[i], quiet) != CP_EXIT_OK)
			goto out;
	err = cp_pattern_eval(p, set, &m);
	if (err == CP_ETOOBIG) {
		fprintf(stderr, "cyberpact pattern: the evaluation reached its work limit "
				"(%u search steps, %u values; see docs/PATTERNS.md): no answer\n",
			CP_PATTERN_EVAL_MAX_STEPS, CP_PATTERN_EVAL_MAX_VISITS);
		goto out;
	}
	if (err) {
		fprintf(stderr, "cyberpact pattern: cannot evaluate: %s\n", cp_strerror(err));
		goto out;
	}
	if (m.is_match) {
		if (!quiet) {
			puts("match");
			for (size_t i = 0; i < m.count; i++)
				puts(cp_pattern_obs_set_id(set, m.obs[i]));
		}
		rc = CP_EXIT_OK;
	} else {
		if (!quiet)
			puts("no match");
		rc = CP_EXIT_FAIL;
	}
out:
	cp_pattern_match_release(&m);
	cp_pattern_obs_set_free(set);
	cp_pattern_free(p);
	cp_diag_release(&d);
	return rc;
}

int cmd_pattern(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage_text, argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_ERROR : CP_EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "eval") == 0)
		return cmd_eval(argc - 1, argv + 1);
	fprintf(stderr, "cyberpact pattern: unknown subcommand '%s'\n", argv[1]);
	fputs(usage_text, stderr);
	return CP_EXIT_ERROR;
}
