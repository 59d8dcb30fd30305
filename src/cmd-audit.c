/*
 * cyberpact audit: list, verify and show the head of the node's audit trail
 * (docs/AUDIT.md). Read-only: it opens its own connection and may run while the
 * server appends.
 */
#include <getopt.h>
#include <jansson.h>

#include "cli.h"
#include "cyberpact/audit.h"
#include "common.h"

static const char usage_text[] =
	"usage: cyberpact audit [--data-dir DIR | --file PATH] [--partner P] [--object ID]\n"
	"                       [--kind KIND] [--since TIME] [--until TIME] [--limit N] [--json]\n"
	"       cyberpact audit verify [--data-dir DIR | --file PATH]\n"
	"       cyberpact audit head [--data-dir DIR | --file PATH]\n"
	"\n"
	"List the records of the node's audit trail, oldest first, one line each, fields\n"
	"separated by tabs ('-' for a field that is not set, control characters escaped):\n"
	"  SEQ TIME KIND PARTNER ACTION COLLECTION OBJECT VERSION REASON DETAIL\n"
	"DETAIL is cut after 100 bytes ('...'); --json prints every record whole, as one\n"
	"JSON object per line.\n"
	"\n"
	"  --data-dir DIR   the node's data directory; the trail is DIR/audit.db\n"
	"                   (default ./data)\n"
	"  --file PATH      the audit trail database itself\n"
	"  --partner P      records about partner (or account) P\n"
	"  --object ID      records about object ID, including the object lists of\n"
	"                   release and withhold records\n"
	"  --kind KIND      release, withhold, write, deny or admin\n"
	"  --since TIME     records at or after TIME (2024-05-01T00:00:00Z, or a date\n"
	"                   2024-05-01 for its start)\n"
	"  --until TIME     records at or before TIME (a date means its end)\n"
	"  --limit N        at most N records\n"
	"  --json           one JSON object per record\n"
	"  --help, -h       show this help\n"
	"\n"
	"'cyberpact audit verify' checks the hash chain and the anchor; 'cyberpact audit\n"
	"head' prints the last record's seq and hash (see their --help).\n"
	"\n"
	"exit status: 0 listed (also when nothing matched), 2 usage error or no trail.\n";

static const char verify_usage_text[] =
	"usage: cyberpact audit verify [--data-dir DIR | --file PATH]\n"
	"\n"
	"Recompute the hash of every record of the audit trail in seq order, check that\n"
	"seqs run 1, 2, 3, ... without gaps and that the anchor file (PATH.anchor) names\n"
	"the last record. Prints each problem, naming the record, or\n"
	"  audit trail intact: N records, head SEQ HASH\n"
	"\n"
	"  --data-dir DIR   the node's data directory; the trail is DIR/audit.db\n"
	"                   (default ./data)\n"
	"  --file PATH      the audit trail database itself\n"
	"  --help, -h       show this help\n"
	"\n"
	"exit status: 0 intact (warnings may be printed), 1 broken, 2 could not run.\n";

static const char head_usage_text[] =
	"usage: cyberpact audit head [--data-dir DIR | --file PATH]\n"
	"\n"
	"Print the seq and SHA-256 hash (hex) of the last record of the audit trail:\n"
	"  SEQ HASH\n"
	"Keep a copy elsewhere: a later 'cyberpact audit verify' and a check that record\n"
	"SEQ still has HASH show that nothing up to it was changed or cut off. An empty\n"
	"trail prints 0 and 64 zeros.\n"
	"\n"
	"  --data-dir DIR   the node's data directory; the trail is DIR/audit.db\n"
	"                   (default ./data)\n"
	"  --file PATH      the audit trail database itself\n"
	"  --help, -h       show this help\n"
	"\n"
	"exit status: 0 printed, 2 could not run.\n";

#define DETAIL_SHOWN 100

struct where {
	const char *data_dir, *file;
	char *path; /* owned */
};

/* Shared by the three forms: 0 handled, -1 not a location option. */
static int where_option(struct where *w, int c, const char *arg)
{
	if (c == 'd')
		w->data_dir = arg;
	else if (c == 'f')
		w->file = arg;
	else
		return -1;
	return 0;
}

static bool where_resolve(struct where *w, const char *cmd)
{
	struct cp_buf b = CP_BUF_INIT(0);

	if (w->data_dir && w->file) {
		fprintf(stderr, "cyberpact %s: give --data-dir or --file, not both\n", cmd);
		return false;
	}
	if (w->file && !*w->file) {
		fprintf(stderr, "cyberpact %s: --file: empty path\n", cmd);
		return false;
	}
	if (w->file) {
		w->path = cp_strdup(w->file);
	} else {
		const char *dir = w->data_dir && *w->data_dir ? w->data_dir : "./data";
		size_t n = strlen(dir);
		cp_buf_puts(&b, dir);
		if (n && dir[n - 1] != '/')
			cp_buf_putc(&b, '/');
		cp_buf_puts(&b, "audit.db");
		w->path = cp_buf_take(&b);
	}
	if (!w->path) {
		fprintf(stderr, "cyberpact %s: out of memory\n", cmd);
		return false;
	}
	return true;
}

/* The message for a trail that could not be read at all. */
static void report_open_error(const char *cmd, const struct where *w, enum cp_err err,
			      const struct cp_diag *d)
{
	if (err == CP_ENOTFOUND) {
		fprintf(stderr,
			"cyberpact %s: no audit trail at '%s' (the node creates it when it "
			"starts; use --data-dir DIR or --file PATH)\n",
			cmd, w->path);
		return;
	}
	if (err == CP_ENOMEM) {
		fprintf(stderr, "cyberpact %s: out of memory\n", cmd);
		return;
	}
	for (size_t i = 0; d && i < d->count; i++)
		fprintf(stderr, "cyberpact %s: %s\n", cmd, d->items[i].message);
	if (!d || !d->count)
		fprintf(stderr, "cyberpact %s: cannot read audit trail '%s': %s\n", cmd, w->path,
			cp_strerror(err));
}

/* ------------------------------------------------------------------- list */

struct list {
	bool json;
	size_t shown;
	bool write_failed;
};

/* Print s so that a record stays one line and a terminal shows what is there. */
static void put_field(const char *s, size_t max)
{
	size_t len, cut;

	if (!s) {
		fputs("-", stdout);
		return;
	}
	len = strlen(s);
	cut = len;
	if (max && len > max) {
		cut = max;
		/* do not split a UTF-8 sequence */
		while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
			cut--;
	}
	for (size_t i = 0; i < cut; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\')
			fputs("\\\\", stdout);
		else if (c == '\t')
			fputs("\\t", stdout);
		else if (c == '\n')
			fputs("\\n", stdout);
		else if (c == '\r')
			fputs("\\r", stdout);
		else if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	if (cut < len)
		fputs("...", stdout);
}

static void hex32(const unsigned char h[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
}

/* A JSON string for bytes that may not be UTF-8 (the trail stores what it was given). */
static json_t *json_text(const char *s)
{
	json_t *j;
	char *copy;

	if (!s)
		return json_null();
	j = json_string(s);
	if (j)
		return j;
	copy = cp_strdup(s);
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	j = json_string(copy);
	cp_free(copy);
	return j;
}

static enum cp_err print_json(const struct cp_audit_entry *e)
{
	char when[CP_TIME_TEXT_MAX], hash[65], *text;
	const struct cp_audit_record *r = &e->rec;
	json_t *o;
	int rc;

	cp_time_format_digits(&e->time, 6, when);
	hex32(e->hash, hash);
	o = json_pack("{s:I, s:s, s:s, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:s}", "seq",
		      (json_int_t)e->seq, "time", when, "kind", cp_audit_kind_name(r->kind),
		      "partner", json_text(r->partner), "action", json_text(r->action),
		      "collection", json_text(r->collection), "object", json_text(r->object),
		      "version", json_text(r->version), "reason", json_text(r->reason),
		      "detail", json_text(r->detail), "request_id", json_text(r->request_id),
		      "hash", hash);
	if (!o)
		return CP_ENOMEM;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return CP_ENOMEM;
	rc = puts(text);
	cp_free(text);
	return rc < 0 ? CP_EIO : CP_OK;
}

static enum cp_err print_entry(const struct cp_audit_entry *e, void *ctx)
{
	struct list *l = ctx;
	const struct cp_audit_record *r = &e->rec;
	char when[CP_TIME_TEXT_MAX];
	const char *fields[] = {r->partner, r->action, r->collection,
				r->object,  r->version, r->reason};
	enum cp_err err;

	l->shown++;
	if (l->json) {
		err = print_json(e);
	} else {
		cp_time_format_digits(&e->time, 6, when);
		printf("%" PRId64 "\t%s\t%s", e->seq, when, cp_audit_kind_name(r->kind));
		for (size_t i = 0; i < CP_ARRAY_LEN(fields); i++) {
			putchar('\t');
			put_field(fields[i], 0);
		}
		putchar('\t');
		put_field(r->detail, DETAIL_SHOWN);
		err = putchar('\n') == EOF ? CP_EIO : CP_OK;
	}
	if (err == CP_EIO)
		l->write_failed = true;
	return err;
}

/* A --since/--until value: a timestamp, or a date for its first (last) microsecond. */
static bool parse_time_opt(const char *opt, const char *arg, bool end_of_day, struct cp_time *out)
{
	const char *why = NULL;
	char full[32];

	if (strlen(arg) == 10 && arg[4] == '-' && arg[7] == '-') {
		snprintf(full, sizeof(full), "%sT00:00:00Z", arg);
		if (cp_time_parse(full, strlen(full), out, &why) == CP_OK) {
			if (end_of_day) {
				out->sec += 86399;
				out->nsec = 999999999u;
			}
			return true;
		}
	} else if (cp_time_parse(arg, strlen(arg), out, &why) == CP_OK) {
		return true;
	}
	fprintf(stderr,
		"cyberpact audit: %s: bad time '%s': %s (expected e.g. 2024-05-01T00:00:00Z or "
		"2024-05-01)\n",
		opt, arg, why ? why : "not a timestamp");
	return false;
}

static int audit_list(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'}, {"file", required_argument, NULL, 'f'},
		{"partner", required_argument, NULL, 'p'},  {"object", required_argument, NULL, 'o'},
		{"kind", required_argument, NULL, 'k'},     {"since", required_argument, NULL, 's'},
		{"until", required_argument, NULL, 'u'},    {"limit", required_argument, NULL, 'l'},
		{"json", no_argument, NULL, 'j'},           {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct cp_audit_filter f;
	struct where w = {NULL, NULL, NULL};
	struct list l = {false, 0, false};
	struct cp_diag d;
	enum cp_err err;
	int c, rc = CP_EXIT_ERROR;

	memset(&f, 0, sizeof(f));
	cp_diag_init(&d);
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (where_option(&w, c, optarg) == 0)
			continue;
		switch (c) {
		case 'p':
			f.partner = optarg;
			break;
		case 'o':
			f.object = optarg;
			break;
		case 'k':
			f.kind = cp_audit_kind_from_name(optarg);
			if (!f.kind) {
				fprintf(stderr,
					"cyberpact audit: --kind: unknown kind '%s' (release, "
					"withhold, write, deny or admin)\n",
					optarg);
				goto out;
			}
			break;
		case 's':
			if (!parse_time_opt("--since", optarg, false, &f.since))
				goto out;
			f.has_since = true;
			break;
		case 'u':
			if (!parse_time_opt("--until", optarg, true, &f.until))
				goto out;
			f.has_until = true;
			break;
		case 'l': {
			char *end;
			unsigned long long n;
			errno = 0;
			n = strtoull(optarg, &end, 10);
			if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || n == 0 ||
			    n > SIZE_MAX) {
				fprintf(stderr,
					"cyberpact audit: --limit: '%s' is not a positive number\n",
					optarg);
				goto out;
			}
			f.limit = (size_t)n;
			break;
		}
		case 'j':
			l.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			rc = CP_EXIT_OK;
			goto out;
		default:
			fputs(usage_text, stderr);
			goto out;
		}
	}
	if (optind < argc) {
		fprintf(stderr,
			"cyberpact audit: unexpected argument '%s' (the forms are 'audit', "
			"'audit verify' and 'audit head', with options after them)\n",
			argv[optind]);
		goto out;
	}
	if (f.has_since && f.has_until && cp_time_cmp(&f.since, &f.until) > 0) {
		fprintf(stderr, "cyberpact audit: --since is after --until\n");
		goto out;
	}
	if (!where_resolve(&w, "audit"))
		goto out;
	err = cp_audit_query(w.path, &f, print_entry, &l, &d);
	if (fflush(stdout) != 0)
		l.write_failed = true;
	if (l.write_failed) {
		fprintf(stderr, "cyberpact audit: cannot write the output: %s\n", strerror(errno));
		goto out;
	}
	if (err) {
		report_open_error("audit", &w, err, &d);
		goto out;
	}
	rc = CP_EXIT_OK;
out:
	cp_diag_release(&d);
	cp_free(w.path);
	return rc;
}

/* ------------------------------------------------------------ verify, head */

/* Parse the options of verify and head (only the location); false: exit with *rc. */
static bool location_only(int argc, char **argv, const char *cmd, const char *usage,
			  struct where *w, int *rc)
{
	static const struct option longopts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"file", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*rc = CP_EXIT_ERROR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (where_option(w, c, optarg) == 0)
			continue;
		if (c == 'h') {
			fputs(usage, stdout);
			*rc = CP_EXIT_OK;
			return false;
		}
		fputs(usage, stderr);
		return false;
	}
	if (optind < argc) {
		fprintf(stderr, "cyberpact %s: unexpected argument '%s'\n", cmd, argv[optind]);
		return false;
	}
	return where_resolve(w, cmd);
}

static int audit_verify(int argc, char **argv)
{
	struct where w = {NULL, NULL, NULL};
	unsigned char head[32];
	char hex[65];
	int64_t count = 0;
	struct cp_diag d;
	enum cp_err err;
	int rc;

	cp_diag_init(&d);
	if (!location_only(argc, argv, "audit verify", verify_usage_text, &w, &rc))
		goto out;
	err = cp_audit_verify_head(w.path, &count, head, &d);
	if (err != CP_OK && err != CP_ECONFLICT) {
		report_open_error("audit verify", &w, err, &d);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < d.count; i++)
		printf("%s: %s [%s]: %s\n", w.path, cp_severity_name(d.items[i].severity),
		       d.items[i].code, d.items[i].message);
	if (d.dropped)
		printf("%s: ... %zu more findings not shown\n", w.path, d.dropped);
	if (err == CP_ECONFLICT) {
		size_t errors = cp_diag_count(&d, CP_SEV_ERROR);
		printf("audit trail BROKEN: %zu problem%s found\n", errors, errors == 1 ? "" : "s");
		rc = CP_EXIT_FAIL;
		goto out;
	}
	hex32(head, hex);
	printf("audit trail intact: %" PRId64 " record%s, head %" PRId64 " %s\n", count,
	       count == 1 ? "" : "s", count, hex);
	rc = CP_EXIT_OK;
out:
	cp_diag_release(&d);
	cp_free(w.path);
	return rc;
}

static int audit_head(int argc, char **argv)
{
	struct where w = {NULL, NULL, NULL};
	unsigned char head[32];
	char hex[65];
	int64_t seq;
	enum cp_err err;
	int rc;

	if (!location_only(argc, argv, "audit head", head_usage_text, &w, &rc))
		goto out;
	err = cp_audit_head(w.path, &seq, head);
	if (err) {
		if (err == CP_EBACKEND)
			fprintf(stderr, "cyberpact audit head: cannot read audit trail '%s' "
					"(is it one? 'cyberpact audit verify' says more)\n",
				w.path);
		else
			report_open_error("audit head", &w, err, NULL);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	hex32(head, hex);
	printf("%" PRId64 " %s\n", seq, hex);
	rc = CP_EXIT_OK;
out:
	cp_free(w.path);
	return rc;
}

int cmd_audit(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "verify") == 0)
		return audit_verify(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "head") == 0)
		return audit_head(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "list") == 0)
		return audit_list(argc - 1, argv + 1);
	return audit_list(argc, argv);
}
