/*
 * cyberpact sync: the state of the node's sync subscriptions, and one pass on demand
 * (docs/SYNC.md). A running node syncs by itself; `sync run` is for operators and
 * tests, and may run while the node runs (the store serialises the writes).
 */
#include <getopt.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cyberpact/audit.h"
#include "cyberpact/config.h"
#include "cyberpact/partners.h"
#include "cyberpact/sync.h"
#include "common.h"

static const char usage_text[] =
	"usage: cyberpact sync status [--data-dir DIR] [--config FILE] [--json]\n"
	"       cyberpact sync run [--peer P] [--data-dir DIR] [--config FILE] [--quiet]\n"
	"       cyberpact sync reset [--peer P] [--data-dir DIR] [--config FILE]\n"
	"\n"
	"The node's sync subscriptions with its peers (the peers: section of the\n"
	"configuration; docs/SYNC.md).\n"
	"\n"
	"  status    one line per subscription: direction, peer, collections, cursor,\n"
	"            last success, lag (since it was last caught up), consecutive\n"
	"            failures and the last error\n"
	"  run       one pass of every subscription (of peer P) now, with progress on\n"
	"            stderr; exit 0 if every pass succeeded, 1 if one failed\n"
	"  reset     forget the cursors (of peer P's subscriptions): the next pass starts\n"
	"            from the beginning, e.g. after an agreement was widened; what is\n"
	"            stored is unchanged and nothing is stored twice\n"
	"\n"
	"  --peer P          only the subscriptions of peer P\n"
	"  --data-dir DIR    the node's data directory (default ./data)\n"
	"  --config FILE     the node's configuration (default DIR/cyberpact.yaml)\n"
	"  --json            status as one JSON object per line\n"
	"  --quiet           no progress lines\n"
	"  --help, -h        show this help\n"
	"\n"
	"exit status: 0 ok, 1 a pass failed, 2 could not run.\n";

struct opts {
	const char *dir, *config, *peer;
	bool json, quiet;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{"peer", required_argument, NULL, 'p'},   {"data-dir", required_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'}, {"json", no_argument, NULL, 'j'},
		{"quiet", no_argument, NULL, 'q'},        {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->dir = "data";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->peer = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 'c':
			o->config = optarg;
			break;
		case 'j':
			o->json = true;
			break;
		case 'q':
			o->quiet = true;
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
		fprintf(stderr, "cyberpact sync: unexpected argument '%s'\n", argv[optind]);
		return CP_EXIT_ERROR;
	}
	return -1;
}

static void print_findings(const char *what, const struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "%s: %s\n", what, d->items[i].message);
}

/* The configuration, with --data-dir winning over its data_dir as for serve. */
static bool load_config(const struct opts *o, struct cp_config *cfg)
{
	char path[4096];
	const char *file = o->config;
	struct cp_diag d;
	bool ok;

	cp_diag_init(&d);
	if (!file) {
		snprintf(path, sizeof(path), "%s/cyberpact.yaml", o->dir);
		file = path;
	}
	ok = cp_config_load(file, cfg, &d) == CP_OK;
	if (!ok) {
		print_findings(file, &d);
		fprintf(stderr, "cyberpact sync: cannot load the configuration '%s'\n", file);
	} else if (!o->config || strcmp(o->dir, "data") != 0) {
		char *dd = cp_strdup(o->dir);
		if (dd) {
			cp_free(cfg->data_dir);
			cfg->data_dir = dd;
		}
	}
	cp_diag_release(&d);
	return ok;
}

/* "12s", "3m", "2h", "4d" since an RFC 3339 time; "-" if none. */
static void since(const char *when, char *out, size_t cap)
{
	struct cp_time t, now = cp_time_now();
	const char *why = NULL;
	int64_t s;

	if (!when[0] || cp_time_parse(when, strlen(when), &t, &why)) {
		snprintf(out, cap, "-");
		return;
	}
	s = now.sec - t.sec;
	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(out, cap, "%llds", (long long)s);
	else if (s < 7200)
		snprintf(out, cap, "%lldm", (long long)(s / 60));
	else if (s < 172800)
		snprintf(out, cap, "%lldh", (long long)(s / 3600));
	else
		snprintf(out, cap, "%lldd", (long long)(s / 86400));
}

static void print_state(const struct cp_sync_state *st, void *arg)
{
	const struct opts *o = arg;
	char lag[32];

	if (o->peer && strcmp(o->peer, st->peer) != 0)
		return;
	since(st->caught_up, lag, sizeof(lag));
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:I, s:s}",
				      "direction", st->push ? "push" : "pull", "peer", st->peer,
				      "local", st->local, "remote", st->remote, "cursor", st->cursor,
				      "last_attempt", st->last_attempt, "last_success",
				      st->last_success, "caught_up", st->caught_up, "lag", lag,
				      "failures", (int)st->failures, "total", (json_int_t)st->total,
				      "last_error", st->last_error);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (s)
			printf("%s\n", s);
		cp_free(s);
		json_decref(j);
		return;
	}
	printf("%s %s  %s %s %s  cursor %s  last success %s  lag %s  total %llu  failures %u%s%s\n",
	       st->push ? "push" : "pull", st->peer, st->push ? st->local : st->remote,
	       "->", st->push ? st->remote : st->local, st->cursor[0] ? st->cursor : "(start)",
	       st->last_success[0] ? st->last_success : "never", lag,
	       (unsigned long long)st->total, st->failures, st->last_error[0] ? "  error: " : "",
	       st->last_error);
}

static int status(int argc, char **argv)
{
	struct opts o;
	struct cp_config cfg;
	char path[4096];
	int rc = parse(argc, argv, &o);
	enum cp_err err;

	if (rc >= 0)
		return rc;
	if (!load_config(&o, &cfg))
		return CP_EXIT_ERROR;
	if (cfg.peer_count == 0)
		fprintf(stderr, "cyberpact sync: no peers are configured\n");
	snprintf(path, sizeof(path), "%s/store.db", cfg.data_dir);
	err = cp_sync_status(&cfg, path, print_state, &o);
	if (err)
		fprintf(stderr, "cyberpact sync: cannot read the sync state from '%s': %s\n", path,
			cp_strerror(err));
	cp_config_release(&cfg);
	return err ? CP_EXIT_ERROR : CP_EXIT_OK;
}

static void progress(const struct cp_sync_progress *p, void *arg)
{
	(void)arg;
	fprintf(stderr, "%s: %zu page(s), %zu received, %zu new, %zu skipped, %.1f s (%.0f/s)\n",
		p->subscription, p->pages, p->received, p->stored, p->skipped, p->seconds,
		p->seconds > 0 ? (double)p->received / p->seconds : 0.0);
}

static const struct cp_policy *policy_acquire(void *ctx, void **handle)
{
	*handle = NULL;
	return ctx;
}

static int run(int argc, char **argv)
{
	struct opts o;
	struct cp_config cfg;
	struct cp_partners *partners = NULL;
	struct cp_policy *policy = NULL;
	struct cp_audit *audit = NULL;
	struct cp_sync *s = NULL;
	struct cp_sync_env env;
	struct cp_diag d;
	char store[4096], path[4096];
	int rc = parse(argc, argv, &o);
	enum cp_err err;

	if (rc >= 0)
		return rc;
	if (!load_config(&o, &cfg))
		return CP_EXIT_ERROR;
	rc = CP_EXIT_ERROR;
	cp_diag_init(&d);
	/* pushes go through the gate with the partners as the node has them */
	snprintf(path, sizeof(path), "%s/partners.yaml", cfg.data_dir);
	if (cp_partners_load(path, &cfg, &partners, &d) != CP_OK ||
	    cp_partners_policy(partners, &policy, &d) != CP_OK) {
		print_findings(path, &d);
		fprintf(stderr, "cyberpact sync: cannot load the partners '%s'\n", path);
		goto out;
	}
	snprintf(path, sizeof(path), "%s/audit.db", cfg.data_dir);
	if (cp_audit_open(path, &audit, &d) != CP_OK) {
		print_findings(path, &d);
		goto out;
	}
	snprintf(store, sizeof(store), "%s/store.db", cfg.data_dir);
	memset(&env, 0, sizeof(env));
	env.cfg = &cfg;
	env.store_path = store;
	env.audit = audit;
	env.policy_acquire = policy_acquire;
	env.policy_ctx = policy;
	if (cp_sync_new(&env, &s, &d) != CP_OK) {
		print_findings("sync", &d);
		goto out;
	}
	err = cp_sync_run(s, o.peer, o.quiet ? NULL : progress, NULL);
	if (err == CP_ENOTFOUND && o.peer) {
		fprintf(stderr, "cyberpact sync: no subscriptions with peer '%s'\n", o.peer);
		goto out;
	}
	rc = err ? CP_EXIT_FAIL : CP_EXIT_OK;
	if (err)
		fprintf(stderr, "cyberpact sync: a pass failed; 'cyberpact sync status' shows why\n");
out:
	cp_sync_free(s);
	cp_audit_close(audit);
	cp_policy_free(policy);
	cp_partners_free(partners);
	cp_config_release(&cfg);
	cp_diag_release(&d);
	return rc;
}

static int reset(int argc, char **argv)
{
	struct opts o;
	struct cp_config cfg;
	char store[4096];
	size_t n = 0;
	int rc = parse(argc, argv, &o);
	enum cp_err err;

	if (rc >= 0)
		return rc;
	if (!load_config(&o, &cfg))
		return CP_EXIT_ERROR;
	snprintf(store, sizeof(store), "%s/store.db", cfg.data_dir);
	err = cp_sync_reset(&cfg, store, o.peer, &n);
	if (err == CP_ENOTFOUND)
		fprintf(stderr, "cyberpact sync: no subscriptions with peer '%s'\n", o.peer);
	else if (err)
		fprintf(stderr, "cyberpact sync: cannot reset the cursors in '%s': %s\n", store,
			cp_strerror(err));
	else
		printf("%zu subscription(s) will start from the beginning at their next pass\n", n);
	cp_config_release(&cfg);
	return err ? CP_EXIT_ERROR : CP_EXIT_OK;
}

int cmd_sync(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "status") == 0)
		return status(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "run") == 0)
		return run(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "reset") == 0)
		return reset(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_text, stdout);
		return CP_EXIT_OK;
	}
	fputs(usage_text, stderr);
	return CP_EXIT_ERROR;
}
