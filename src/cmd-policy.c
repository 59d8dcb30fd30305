/*
 * cyberpact policy explain: a dry run of the egress gate. For every stored version of
 * an object (in every collection, or one) it prints what the gate would decide for a
 * partner, and why, exactly as the node decides it when that partner asks: the same
 * partners file, the same provenance and the same facts the store keeps. Read-only.
 */
#include <getopt.h>
#include <jansson.h>
#include <sys/stat.h>

#include "cli.h"
#include "cyberpact/config.h"
#include "cyberpact/partners.h"
#include "cyberpact/policy.h"
#include "cyberpact/store.h"
#include "cyberpact/taxii.h"
#include "common.h"

static const char usage_text[] =
	"usage: cyberpact policy explain --partner P --object ID [--collection C]\n"
	"                                [--data-dir DIR] [--config FILE] [--json]\n"
	"\n"
	"Print what the egress gate decides for partner P and every stored version of\n"
	"object ID, with the reason: the same decision the node makes when P asks over\n"
	"TAXII (partners from DIR/partners.yaml, the store DIR/store.db, the provenance and\n"
	"markings kept with each version). Nothing is changed or sent.\n"
	"\n"
	"  --partner P       the partner's name (as in partners.yaml)\n"
	"  --object ID       the STIX id of the object\n"
	"  --collection C    only this collection (id or alias); default every collection\n"
	"  --data-dir DIR    the node's data directory (default ./data)\n"
	"  --config FILE     the node's configuration (default DIR/cyberpact.yaml)\n"
	"  --json            one JSON object per version\n"
	"  --help, -h        show this help\n"
	"\n"
	"exit status: 0 at least one version would be released, 1 none would be (or the\n"
	"object is not stored), 2 could not run (usage, unreadable files).\n";

struct explain {
	const struct cp_policy *policy;
	const char *partner;
	const char *collection_id;
	bool json;
	size_t versions, released;
};

static enum cp_err on_version(const struct cp_store_row *row, void *arg)
{
	struct explain *ex = arg;
	struct cp_policy_facts facts;
	struct cp_policy_object o = {NULL, ex->collection_id, row->origin, &facts};
	struct cp_policy_reason why;
	enum cp_policy_decision d;

	cp_taxii_row_facts(row, &facts);
	d = cp_policy_decide(ex->policy, ex->partner, &o, &why);

	ex->versions++;
	ex->released += d == CP_POLICY_RELEASE;
	if (ex->json) {
		json_t *j = json_pack("{s:s, s:s, s:s, s:s?, s:s, s:s, s:s}", "collection",
				      ex->collection_id, "id", row->id, "version", row->version,
				      "origin", row->origin, "decision",
				      d == CP_POLICY_RELEASE ? "release" : "withhold", "reason",
				      cp_policy_reason_name(why.code), "explanation", why.text);
		char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
		if (!s) {
			json_decref(j);
			return CP_ENOMEM;
		}
		printf("%s\n", s);
		cp_free(s);
		json_decref(j);
	} else {
		printf("%s  %s  version %s  from %s\n  %s (%s): %s\n", ex->collection_id, row->id,
		       row->version, row->origin ? row->origin : "this node",
		       d == CP_POLICY_RELEASE ? "RELEASE" : "WITHHOLD",
		       cp_policy_reason_name(why.code), why.text);
	}
	return CP_OK;
}

static void print_findings(const char *what, const struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "%s:%u:%u: %s: %s\n", what, d->items[i].line, d->items[i].column,
			d->items[i].severity == CP_SEV_ERROR ? "error" : "warning",
			d->items[i].message);
}

static int explain(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"partner", required_argument, NULL, 'p'},
		{"object", required_argument, NULL, 'o'},
		{"collection", required_argument, NULL, 'C'},
		{"data-dir", required_argument, NULL, 'd'},
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *partner = NULL, *object = NULL, *only = NULL, *dir = "data", *config = NULL;
	char path[4096], cfg_path[4096];
	struct cp_config cfg;
	struct cp_partners *partners = NULL;
	struct cp_policy *policy = NULL;
	struct cp_store *store = NULL;
	struct cp_diag diag;
	struct explain ex;
	bool cfg_loaded = false;
	int c, rc = CP_EXIT_ERROR;
	struct stat st;

	memset(&ex, 0, sizeof(ex));
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'p':
			partner = optarg;
			break;
		case 'o':
			object = optarg;
			break;
		case 'C':
			only = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'j':
			ex.json = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return CP_EXIT_OK;
		default:
			fputs(usage_text, stderr);
			return CP_EXIT_ERROR;
		}
	}
	if (!partner || !object || optind < argc) {
		fprintf(stderr, "cyberpact policy explain: --partner and --object are required%s\n",
			optind < argc ? " (and it takes no other arguments)" : "");
		return CP_EXIT_ERROR;
	}
	cp_diag_init(&diag);
	if (!config) {
		snprintf(cfg_path, sizeof(cfg_path), "%s/cyberpact.yaml", dir);
		config = cfg_path;
	}
	if (cp_config_load(config, &cfg, &diag) != CP_OK) {
		print_findings(config, &diag);
		fprintf(stderr, "cyberpact policy explain: cannot load the configuration '%s'\n",
			config);
		goto out;
	}
	cfg_loaded = true;
	snprintf(path, sizeof(path), "%s/partners.yaml", dir);
	if (cp_partners_load(path, &cfg, &partners, &diag) != CP_OK ||
	    cp_partners_policy(partners, &policy, &diag) != CP_OK) {
		print_findings(path, &diag);
		fprintf(stderr, "cyberpact policy explain: cannot load the partners '%s'\n", path);
		goto out;
	}
	if (!cp_partners_find(partners, partner))
		fprintf(stderr, "cyberpact policy explain: '%s' is not a partner in %s: everything "
				"is withheld (default deny)\n",
			partner, path);
	snprintf(path, sizeof(path), "%s/store.db", dir);
	if (stat(path, &st) != 0) {
		fprintf(stderr, "cyberpact policy explain: no store at '%s'\n", path);
		goto out;
	}
	if (cp_store_open_sqlite(path, &store, &diag) != CP_OK) {
		print_findings(path, &diag);
		goto out;
	}
	ex.policy = policy;
	ex.partner = partner;
	for (size_t r = 0; r < cfg.api_root_count; r++) {
		const struct cp_config_api_root *root = &cfg.api_roots[r];
		for (size_t k = 0; k < root->collection_count; k++) {
			const struct cp_config_collection *cc = &root->collections[k];
			const char *ids[1] = {object};
			struct cp_store_filter f;
			struct cp_store_page page;
			char next[CP_STORE_NEXT_MAX];
			enum cp_err err;

			if (only && strcmp(only, cc->id) != 0 &&
			    !(cc->alias && strcmp(only, cc->alias) == 0))
				continue;
			memset(&f, 0, sizeof(f));
			f.collection_id = cc->id;
			f.ids = ids;
			f.id_count = 1;
			f.versions = CP_STORE_VERSION_ALL;
			ex.collection_id = cc->id;
			do {
				err = cp_store_query(store, &f, on_version, &ex, &page);
				/* the page is cleared by the next query: keep its token apart */
				memcpy(next, page.next, sizeof(next));
				f.next = page.more ? next : NULL;
			} while (!err && page.more);
			if (err) {
				fprintf(stderr, "cyberpact policy explain: store: %s\n",
					cp_store_errmsg(store));
				goto out;
			}
		}
	}
	if (ex.versions == 0)
		fprintf(stderr, "cyberpact policy explain: no stored version of '%s'%s%s\n", object,
			only ? " in collection " : "", only ? only : "");
	else if (!ex.json)
		printf("%zu version(s), %zu released to '%s'\n", ex.versions, ex.released, partner);
	rc = ex.released ? CP_EXIT_OK : CP_EXIT_FAIL;
out:
	cp_store_close(store);
	cp_policy_free(policy);
	cp_partners_free(partners);
	if (cfg_loaded)
		cp_config_release(&cfg);
	cp_diag_release(&diag);
	return rc;
}

int cmd_policy(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "explain") == 0)
		return explain(argc - 1, argv + 1);
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage_text, stdout);
		return CP_EXIT_OK;
	}
	fputs(usage_text, stderr);
	return CP_EXIT_ERROR;
}
