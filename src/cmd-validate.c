/* cyberpact validate: check STIX 2.1 bundles and objects against the specification. */
#include <getopt.h>

#include "cli.h"
#include "cyberpact/stix.h"
#include "common.h"

static const char usage_text[] =
	"usage: cyberpact validate [--strict] [--json] [--quiet] [--no-sco-id] FILE|- ...\n"
	"\n"
	"Validate STIX 2.1 bundles, single objects or JSON arrays of objects against the\n"
	"STIX 2.1 specification. Prints one line per finding:\n"
	"  FILE: /json/pointer: error|warning [code]: message\n"
	"then a summary per file. '-' reads standard input.\n"
	"\n"
	"  --strict      treat warnings as errors\n"
	"  --json        print one JSON document with every file's findings instead\n"
	"  --quiet, -q   print only the summary lines\n"
	"  --no-sco-id   do not check deterministic (UUIDv5) ids of cyber-observables\n"
	"  --help, -h    show this help\n"
	"\n"
	"exit status: 0 all valid, 1 some file invalid, 2 some file could not be read.\n";

struct opts {
	bool strict, json, quiet;
	unsigned flags;
};

static size_t count_objects(const json_t *doc)
{
	const json_t *objs;

	if (json_is_array(doc))
		return json_array_size(doc);
	objs = json_object_get(doc, "objects");
	if (json_is_string(json_object_get(doc, "type")) &&
	    strcmp(json_string_value(json_object_get(doc, "type")), "bundle") == 0)
		return json_is_array(objs) ? json_array_size(objs) : 0;
	return 1;
}

static const char *sev_label(const struct opts *o, enum cp_severity sev)
{
	return o->strict ? "error" : cp_severity_name(sev);
}

static void print_text(const struct opts *o, const char *file, const struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		if (f->line)
			printf("%s:%u:%u: %s [%s]: %s\n", file, f->line, f->column,
			       sev_label(o, f->severity), f->code, f->message);
		else
			printf("%s: %s: %s [%s]: %s\n", file, f->pointer[0] ? f->pointer : "/",
			       sev_label(o, f->severity), f->code, f->message);
	}
	if (d->dropped)
		printf("%s: ... %zu more findings not shown\n", file, d->dropped);
}

static json_t *findings_json(const struct opts *o, const struct cp_diag *d)
{
	json_t *arr = json_array();

	for (size_t i = 0; arr && i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		json_t *j = json_pack("{s:s, s:s, s:s, s:s}", "severity", sev_label(o, f->severity),
				      "code", f->code, "pointer", f->pointer, "message", f->message);
		if (j && f->line) {
			json_object_set_new(j, "line", json_integer(f->line));
			json_object_set_new(j, "column", json_integer(f->column));
		}
		if (!j || json_array_append_new(arr, j)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* Validate one file; returns its exit status contribution (0, 1 or 2). */
static int validate_file(const struct opts *o, const char *path, json_t *report)
{
	const char *label = strcmp(path, "-") == 0 ? "<stdin>" : path;
	char *text = NULL;
	size_t len = 0, objects = 0, errors, warnings;
	json_t *doc = NULL, *entry;
	struct cp_diag d;
	enum cp_err err;
	int rc;

	cp_diag_init(&d);
	err = cp_cli_read_file(path, CP_LIMIT_DOC_BYTES, &text, &len);
	if (err) {
		fprintf(stderr, "cyberpact validate: cannot read '%s': %s\n", label,
			err == CP_ETOOBIG ? "file is larger than the document limit"
					  : strerror(errno));
		if (report) {
			entry = json_pack("{s:s, s:b, s:s}", "file", label, "readable", 0, "error",
					  err == CP_ETOOBIG ? "too big" : strerror(errno));
			json_array_append_new(report, entry);
		}
		return CP_EXIT_ERROR;
	}
	err = cp_stix_json_parse(text, len, &doc, &d);
	if (!err) {
		objects = count_objects(doc);
		err = cp_stix_validate(doc, o->flags, &d);
	}
	if (err == CP_ENOMEM) {
		fprintf(stderr, "cyberpact validate: out of memory validating '%s'\n", label);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	errors = d.errors + (o->strict ? d.warnings : 0);
	warnings = o->strict ? 0 : d.warnings;
	rc = errors ? CP_EXIT_FAIL : CP_EXIT_OK;
	if (report) {
		entry = json_pack("{s:s, s:b, s:b, s:I, s:I, s:I, s:o*}", "file", label, "readable", 1,
				  "valid", errors == 0, "objects", (json_int_t)objects, "errors",
				  (json_int_t)errors, "warnings", (json_int_t)warnings, "findings",
				  findings_json(o, &d));
		json_array_append_new(report, entry);
	} else {
		if (!o->quiet)
			print_text(o, label, &d);
		printf("%s: %s: %zu object%s, %zu error%s, %zu warning%s\n", label,
		       errors ? "invalid" : "valid", objects, objects == 1 ? "" : "s", errors,
		       errors == 1 ? "" : "s", warnings, warnings == 1 ? "" : "s");
	}
out:
	json_decref(doc);
	cp_free(text);
	cp_diag_release(&d);
	return rc;
}

int cmd_validate(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"strict", no_argument, NULL, 's'}, {"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},  {"no-sco-id", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},   {NULL, 0, NULL, 0},
	};
	struct opts o = {false, false, false, 0};
	json_t *report = NULL;
	int c, worst = CP_EXIT_OK, files = 0, bad = 0, unreadable = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			o.strict = true;
			break;
		case 'j':
			o.json = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'n':
			o.flags |= CP_STIX_NO_SCO_ID;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CP_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return CP_EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "cyberpact validate: no input files (use '-' for stdin)\n");
		fputs(usage_text, stderr);
		return CP_EXIT_ERROR;
	}
	if (o.json) {
		report = json_array();
		if (!report) {
			fprintf(stderr, "cyberpact validate: out of memory\n");
			return CP_EXIT_ERROR;
		}
	}
	for (int i = optind; i < argc; i++) {
		int rc = validate_file(&o, argv[i], report);
		files++;
		if (rc == CP_EXIT_FAIL)
			bad++;
		if (rc == CP_EXIT_ERROR)
			unreadable++;
		if (rc > worst)
			worst = rc;
	}
	if (report) {
		json_t *doc = json_pack("{s:o, s:i, s:i, s:i}", "files", report, "checked", files,
					"invalid", bad, "unreadable", unreadable);
		if (!doc || json_dumpf(doc, stdout, JSON_INDENT(2)) != 0) {
			fprintf(stderr, "cyberpact validate: cannot write the JSON report\n");
			worst = CP_EXIT_ERROR;
		}
		putchar('\n');
		json_decref(doc);
	} else if (files > 1) {
		printf("%d file%s checked: %d valid, %d invalid, %d unreadable\n", files,
		       files == 1 ? "" : "s", files - bad - unreadable, bad, unreadable);
	}
	return worst;
}
