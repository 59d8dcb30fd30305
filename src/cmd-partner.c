/*
 * cyberpact partner: manage DIR/partners.yaml (partners, their client certificates and
 * API tokens, their sharing agreements); cyberpact agreement check: validate a partners
 * file and say in plain words what each agreement lets the partner have.
 *
 * Changes are safe while the server runs and reads the file: they take an advisory
 * lock (flock on DIR/partners.yaml.lock) around load-change-save, so two invocations
 * cannot lose each other's change, and the save is atomic (lib/node/partners.c). Each
 * change is recorded in the audit trail (DIR/audit.db) before the command reports
 * success; the trail is opened before anything changes, so a trail that cannot be
 * written stops the command early.
 */
#include <getopt.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "cli.h"
#include "cyberpact/audit.h"
#include "cyberpact/config.h"
#include "cyberpact/partners.h"
#include "cyberpact/pki.h"
#include "common.h"

/* How long a change waits for another one to finish before giving up. */
#define LOCK_WAIT_MS 30000
/* Longest validity a token may be given, in days (100 years: "never" is no --expires). */
#define MAX_DAYS 36500

static const char partner_usage[] =
        "usage: cyberpact partner add NAME [options]\n"
        "       cyberpact partner set NAME [options]\n"
        "       cyberpact partner list [--json]\n"
        "       cyberpact partner issue-token NAME [--expires DAYS]\n"
        "       cyberpact partner revoke-token NAME TOKEN_ID\n"
        "       cyberpact partner remove NAME\n"
        "\n"
        "Manage the partners of this node, their credentials and their sharing agreements,\n"
        "kept in DIR/partners.yaml (docs/PARTNERS.md). Every change takes a lock, saves the\n"
        "file atomically (a running server picks it up on reload) and is recorded in the\n"
        "audit trail DIR/audit.db.\n"
        "\n"
        "common options:\n"
        "  --data-dir DIR          data directory (default ./data)\n"
        "  --config FILE           node configuration, to check collection names (default\n"
        "                          DIR/cyberpact.yaml when it exists)\n"
        "  --help, -h              show this help\n"
        "\n"
        "add / set options (set changes only what is given):\n"
        "  --title T, --identity identity--UUID, --community C   ('' clears with set)\n"
        "  --cert FILE.pem         trust this client certificate (its SPKI fingerprint)\n"
        "  --fingerprint sha256:HEX   trust a certificate by SPKI fingerprint\n"
        "  --subject DN            trust certificates with this subject DN (as GnuTLS\n"
        "                          prints it, e.g. 'CN=node,O=Org'); prefer fingerprints\n"
        "  --drop-cert FP|DN       (set) stop trusting the entry with this fingerprint or\n"
        "                          subject\n"
        "  --read C,...            collections it may read (ids or aliases, or '*')\n"
        "  --write C,...           collections it may add objects to\n"
        "  --red C,...             collections where it is a named TLP:RED recipient\n"
        "  --types T,...           object types it may receive (default: all)\n"
        "  --exclude-types T,...   object types it may never receive\n"
        "  --tlp-ceiling L         highest TLP of our own objects it receives: clear, green,\n"
        "                          amber, amber+strict or red (default clear)\n"
        "  --pap-ceiling L         highest PAP: clear, green, amber, red, or none (default)\n"
        "  --default-tlp L         TLP assumed for unmarked objects (default amber)\n"
        "  --third-party[=no]      it may receive objects we got from other partners\n"
        "  --sightings[=no]        it may receive sightings\n"
        "  --consultations[=no]    it may receive consultation objects\n"
        "  --no-redistribution[=no]  what it sends us must not go to anybody else\n"
        "  --anonymise[=no]        what it receives names our neutral identity instead of\n"
        "                          created_by_ref\n"
        "  --token                 (add) also issue an API token\n"
        "  --expires DAYS          the token expires after DAYS days (default: never)\n"
        "\n"
        "A token is printed once, when it is issued: only its hash is stored.\n"
        "\n"
        "exit status: 0 done, 1 refused (invalid values, unknown or duplicate names, an\n"
        "invalid partners file), 2 could not run (usage, unreadable files, audit trail).\n";

static const char agreement_usage[] =
        "usage: cyberpact agreement check FILE [--config FILE]\n"
        "\n"
        "Validate a partners file (docs/PARTNERS.md) and explain in plain words what each\n"
        "agreement lets the partner have: the collections it may read and write, the\n"
        "highest TLP and PAP of our own objects it receives, TLP:RED, object types,\n"
        "objects from third parties, sightings, consultations, anonymisation and its\n"
        "credentials. Findings are printed as FILE:LINE:COLUMN: severity [code]: message.\n"
        "'-' reads standard input.\n"
        "\n"
        "  --config FILE   node configuration: collection names must be configured\n"
        "                  collections (without it they are not checked)\n"
        "  --help, -h      show this help\n"
        "\n"
        "exit status: 0 valid (warnings allowed), 1 invalid, 2 could not read a file.\n";

/* ------------------------------------------------------------ helpers */

struct strv {
	char **v;
	size_t n, cap;
};

static void strv_release(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		cp_free(s->v[i]);
	cp_free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool strv_push(struct strv *s, const char *str, size_t len)
{
	char *copy;

	if (!cp_array_grow((void **)&s->v, &s->cap, s->n + 1, sizeof(*s->v)))
		return false;
	copy = cp_strndup(str, len);
	if (!copy)
		return false;
	s->v[s->n++] = copy;
	return true;
}

/* "a, b,c" into s (replacing what it held); "" is the empty list. */
static bool split_list(const char *text, struct strv *s)
{
	strv_release(s);
	while (*text) {
		size_t n = strcspn(text, ",");
		const char *a = text, *b = text + n;

		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		if (b > a && !strv_push(s, a, (size_t)(b - a)))
			return false;
		text += n;
		if (*text == ',')
			text++;
	}
	return true;
}

static char *join_path(const char *dir, const char *name)
{
	struct cp_buf b = CP_BUF_INIT(0);

	cp_buf_printf(&b, "%s/%s", dir, name);
	return cp_buf_take(&b);
}

static bool parse_days(const char *s, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < 1 || v > MAX_DAYS)
		return false;
	*out = v;
	return true;
}

/* 'yes'/'no' for the optional argument of a boolean option; -1 if neither. */
static int parse_yes_no(const char *arg)
{
	if (!arg || !strcmp(arg, "yes") || !strcmp(arg, "true"))
		return 1;
	if (!strcmp(arg, "no") || !strcmp(arg, "false"))
		return 0;
	return -1;
}

static void print_findings(FILE *out, const char *file, const struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		if (f->line)
			fprintf(out, "%s:%u:%u: %s [%s]: %s\n", file, f->line, f->column,
			        cp_severity_name(f->severity), f->code, f->message);
		else
			fprintf(out, "%s: %s [%s]: %s\n", file, cp_severity_name(f->severity),
			        f->code, f->message);
	}
	if (d->dropped)
		fprintf(out, "%s: ... %zu more findings not shown\n", file, d->dropped);
}

/*
 * The configuration: --config FILE (must load), else DIR/cyberpact.yaml when it
 * exists, else none (*has stays false). Returns an exit status.
 */
static int load_config(const char *prog, const char *config, const char *dir, struct cp_config *cfg,
                       bool *has)
{
	char *path = NULL;
	struct cp_diag d;
	struct stat st;
	enum cp_err err;
	int rc = CP_EXIT_OK;

	*has = false;
	cp_diag_init(&d);
	if (!config) {
		path = join_path(dir, "cyberpact.yaml");
		if (!path) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return CP_EXIT_ERROR;
		}
		if (stat(path, &st) != 0)
			goto out;
		config = path;
	}
	err = cp_config_load(config, cfg, &d);
	if (err) {
		fprintf(stderr, "%s: cannot use configuration '%s': %s\n", prog, config,
		        cp_strerror(err));
		for (size_t i = 0; i < d.count; i++)
			fprintf(stderr, "  %s\n", d.items[i].message);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	*has = true;
out:
	cp_free(path);
	cp_diag_release(&d);
	return rc;
}

/* ------------------------------------------------------------ the session */

/* What a changing command holds: the lock, the trail, the loaded set. */
struct session {
	const char *prog;
	const char *dir;
	char *path, *lock_path, *audit_path;
	int lock_fd;
	struct cp_audit *audit;
	struct cp_config cfg;
	bool has_cfg;
	struct cp_partners *set;
};

static void session_end(struct session *s)
{
	cp_partners_free(s->set);
	cp_audit_close(s->audit);
	/* closing the descriptor releases the flock */
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	cp_config_release(&s->cfg);
	cp_free(s->path);
	cp_free(s->lock_path);
	cp_free(s->audit_path);
}

static bool take_lock(struct session *s)
{
	struct timespec pause = {0, 50 * 1000 * 1000};

	s->lock_fd = open(s->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (s->lock_fd < 0) {
		fprintf(stderr, "%s: cannot open lock file '%s': %s\n", s->prog, s->lock_path,
		        strerror(errno));
		return false;
	}
	for (int waited = 0;; waited += 50) {
		if (flock(s->lock_fd, LOCK_EX | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR) {
			fprintf(stderr, "%s: cannot lock '%s': %s\n", s->prog, s->lock_path,
			        strerror(errno));
			return false;
		}
		if (waited >= LOCK_WAIT_MS) {
			fprintf(stderr,
			        "%s: '%s' is still locked by another cyberpact command after %d "
			        "seconds; try again later\n",
			        s->prog, s->lock_path, LOCK_WAIT_MS / 1000);
			return false;
		}
		nanosleep(&pause, NULL);
	}
}

/*
 * Load the configuration, create the data directory if needed, lock, open the audit
 * trail and load the partners. Returns an exit status; on anything but OK the caller
 * still calls session_end().
 */
static int session_begin(struct session *s, const char *prog, const char *dir, const char *config)
{
	struct cp_diag d;
	enum cp_err err;
	int rc;

	memset(s, 0, sizeof(*s));
	s->prog = prog;
	s->dir = dir;
	s->lock_fd = -1;
	rc = load_config(prog, config, dir, &s->cfg, &s->has_cfg);
	if (rc)
		return rc;
	s->path = join_path(dir, "partners.yaml");
	s->lock_path = join_path(dir, "partners.yaml.lock");
	s->audit_path = join_path(dir, "audit.db");
	if (!s->path || !s->lock_path || !s->audit_path) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return CP_EXIT_ERROR;
	}
	/* the data directory holds credentials: only its owner may look inside */
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "%s: cannot create data directory '%s': %s\n", prog, dir,
		        strerror(errno));
		return CP_EXIT_ERROR;
	}
	if (!take_lock(s))
		return CP_EXIT_ERROR;
	cp_diag_init(&d);
	err = cp_audit_open(s->audit_path, &s->audit, &d);
	if (err) {
		fprintf(stderr, "%s: cannot open the audit trail '%s' (%s); nothing was changed\n",
		        prog, s->audit_path, cp_strerror(err));
		for (size_t i = 0; i < d.count; i++)
			fprintf(stderr, "  %s\n", d.items[i].message);
		cp_diag_release(&d);
		return CP_EXIT_ERROR;
	}
	cp_diag_clear(&d);
	/* as written: collection names are checked where they are set (add, set) */
	err = cp_partners_load(s->path, NULL, &s->set, &d);
	if (err) {
		print_findings(stderr, s->path, &d);
		fprintf(stderr,
		        "%s: cannot use '%s': %s (fix it first; 'cyberpact agreement check' "
		        "explains)\n",
		        prog, s->path, cp_strerror(err));
		cp_diag_release(&d);
		return err == CP_EINVAL || err == CP_EPARSE ? CP_EXIT_FAIL : CP_EXIT_ERROR;
	}
	cp_diag_release(&d);
	return CP_EXIT_OK;
}

/*
 * Check the changed set as it will be written (format, then load it back) and save
 * it. With a configuration, a set whose collection names do not all resolve is still
 * saved, with warnings: a change such as revoking a token must never be held up by an
 * unrelated name, and the names the command itself set were checked already. Returns
 * an exit status.
 */
static int session_save(struct session *s)
{
	struct cp_partners *check = NULL, *resolved = NULL;
	struct cp_policy *pol = NULL;
	char *text = NULL;
	size_t len = 0;
	struct cp_diag d, dc;
	enum cp_err err, cerr = CP_OK;
	int rc = CP_EXIT_OK;

	cp_diag_init(&d);
	cp_diag_init(&dc);
	err = cp_partners_format(s->set, &text, &len);
	if (!err)
		err = cp_partners_load_text(text, len, s->path, NULL, &check, &d);
	if (err) {
		for (size_t i = 0; i < d.count; i++)
			fprintf(stderr, "%s: %s\n", s->prog, d.items[i].message);
		fprintf(stderr, "%s: the changed partners would not be valid (%s); nothing saved\n",
		        s->prog, cp_strerror(err));
		rc = err == CP_ENOMEM ? CP_EXIT_ERROR : CP_EXIT_FAIL;
		goto out;
	}
	if (s->has_cfg) {
		cerr = cp_partners_load_text(text, len, s->path, &s->cfg, &resolved, &dc);
		if (cerr == CP_ENOMEM) {
			fprintf(stderr, "%s: out of memory\n", s->prog);
			rc = CP_EXIT_ERROR;
			goto out;
		}
		for (size_t i = 0; cerr && i < dc.count; i++)
			if (dc.items[i].severity == CP_SEV_ERROR)
				fprintf(stderr, "%s: warning: %s\n", s->prog, dc.items[i].message);
		if (cerr)
			fprintf(stderr,
			        "%s: warning: %s names collections the configuration does not "
			        "have; the node will refuse it until that is fixed\n",
			        s->prog, s->path);
	}
	/* the gate's own checks, so that a pointless agreement is noticed now */
	cp_diag_clear(&d);
	err = cp_partners_policy(resolved ? resolved : check, &pol, &d);
	for (size_t i = 0; i < d.count; i++)
		fprintf(stderr, "%s: %s [%s]: %s\n", s->prog, cp_severity_name(d.items[i].severity),
		        d.items[i].code, d.items[i].message);
	if (err) {
		fprintf(stderr,
		        "%s: the egress policy refuses these agreements (%s); nothing "
		        "saved\n",
		        s->prog, cp_strerror(err));
		rc = err == CP_ENOMEM ? CP_EXIT_ERROR : CP_EXIT_FAIL;
		goto out;
	}
	err = cp_partners_save(s->set, s->path);
	if (err) {
		fprintf(stderr, "%s: cannot save '%s': %s\n", s->prog, s->path,
		        err == CP_EIO ? strerror(errno) : cp_strerror(err));
		rc = CP_EXIT_ERROR;
	}
out:
	cp_policy_free(pol);
	cp_partners_free(check);
	cp_partners_free(resolved);
	if (text) {
		memset(text, 0, len);
		cp_free(text);
	}
	cp_diag_release(&d);
	cp_diag_release(&dc);
	return rc;
}

/*
 * The ADMIN record of a saved change. The change is on disk already: a failure here
 * is reported loudly (status 2) so that the operator knows the trail misses it.
 */
static int session_audit(struct session *s, const char *action, const char *partner,
                         const char *detail)
{
	struct cp_audit_record rec = {
	        .kind = CP_AUDIT_ADMIN,
	        .partner = partner,
	        .action = action,
	        .reason = "ok",
	        .detail = detail,
	};
	enum cp_err err = cp_audit_append(s->audit, &rec, 1, true);

	if (err) {
		fprintf(stderr,
		        "%s: %s for '%s' was saved, but its audit record could not be written: "
		        "%s\n",
		        s->prog, action, partner, cp_strerror(err));
		return CP_EXIT_ERROR;
	}
	return CP_EXIT_OK;
}

/* ------------------------------------------------------------ options */

enum {
	O_DATA_DIR = 1000,
	O_CONFIG,
	O_TITLE,
	O_IDENTITY,
	O_COMMUNITY,
	O_CERT,
	O_FINGERPRINT,
	O_SUBJECT,
	O_DROP_CERT,
	O_READ,
	O_WRITE,
	O_RED,
	O_TYPES,
	O_EXCLUDE_TYPES,
	O_TLP_CEILING,
	O_PAP_CEILING,
	O_DEFAULT_TLP,
	O_THIRD_PARTY,
	O_SIGHTINGS,
	O_CONSULTATIONS,
	O_NO_REDISTRIBUTION,
	O_ANONYMISE,
	O_TOKEN,
	O_EXPIRES,
	O_JSON,
};

static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, O_DATA_DIR},
        {"config", required_argument, NULL, O_CONFIG},
        {"title", required_argument, NULL, O_TITLE},
        {"identity", required_argument, NULL, O_IDENTITY},
        {"community", required_argument, NULL, O_COMMUNITY},
        {"cert", required_argument, NULL, O_CERT},
        {"fingerprint", required_argument, NULL, O_FINGERPRINT},
        {"subject", required_argument, NULL, O_SUBJECT},
        {"drop-cert", required_argument, NULL, O_DROP_CERT},
        {"read", required_argument, NULL, O_READ},
        {"write", required_argument, NULL, O_WRITE},
        {"red", required_argument, NULL, O_RED},
        {"types", required_argument, NULL, O_TYPES},
        {"exclude-types", required_argument, NULL, O_EXCLUDE_TYPES},
        {"tlp-ceiling", required_argument, NULL, O_TLP_CEILING},
        {"pap-ceiling", required_argument, NULL, O_PAP_CEILING},
        {"default-tlp", required_argument, NULL, O_DEFAULT_TLP},
        {"third-party", optional_argument, NULL, O_THIRD_PARTY},
        {"sightings", optional_argument, NULL, O_SIGHTINGS},
        {"consultations", optional_argument, NULL, O_CONSULTATIONS},
        {"no-redistribution", optional_argument, NULL, O_NO_REDISTRIBUTION},
        {"anonymise", optional_argument, NULL, O_ANONYMISE},
        {"token", no_argument, NULL, O_TOKEN},
        {"expires", required_argument, NULL, O_EXPIRES},
        {"json", no_argument, NULL, O_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
};

/* Everything a partner command line may say; NULL/-1/false = not given. */
struct opts {
	const char *data_dir, *config;
	const char *title, *identity, *community;
	const char *tlp_ceiling, *pap_ceiling, *default_tlp;
	struct strv fingerprints, subjects, drops;
	struct strv read, write, red, types, exclude;
	bool has_read, has_write, has_red, has_types, has_exclude;
	int third_party, sightings, consultations, no_redistribution, anonymise;
	bool token, json;
	unsigned long expires_days; /* 0 = none */
	char **args;                /* positional arguments */
	int nargs;
};

static void opts_release(struct opts *o)
{
	strv_release(&o->fingerprints);
	strv_release(&o->subjects);
	strv_release(&o->drops);
	strv_release(&o->read);
	strv_release(&o->write);
	strv_release(&o->red);
	strv_release(&o->types);
	strv_release(&o->exclude);
}

/* Which options each subcommand takes (bit per option group). */
enum {
	T_EDIT = 1,  /* descriptive, certificate and agreement options */
	T_DROP = 2,  /* --drop-cert */
	T_TOKEN = 4, /* --token */
	T_EXPIRES = 8,
	T_JSON = 16,
};

static unsigned option_group(int c)
{
	switch (c) {
	case O_DATA_DIR:
	case O_CONFIG:
	case 'h':
		return 0;
	case O_DROP_CERT:
		return T_DROP;
	case O_TOKEN:
		return T_TOKEN;
	case O_EXPIRES:
		return T_EXPIRES;
	case O_JSON:
		return T_JSON;
	default:
		return T_EDIT;
	}
}

/*
 * Parse argv (argv[0] is the subcommand) into o; allowed says which option groups
 * the subcommand takes. Returns -1 to go on, else the exit status.
 */
static int parse_opts(const char *prog, int argc, char **argv, unsigned allowed, struct opts *o)
{
	char fp[CP_PKI_FINGERPRINT_MAX];
	enum cp_err err;
	int c, v, idx = 0;

	memset(o, 0, sizeof(*o));
	o->data_dir = "./data";
	o->third_party = o->sightings = o->consultations = o->no_redistribution = o->anonymise = -1;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		unsigned group = option_group(c);

		if (c == '?' || c == ':') {
			if (c == ':')
				fprintf(stderr, "%s: option '%s' needs a value\n", prog,
				        argv[optind - 1]);
			else
				fprintf(stderr, "%s: unknown option '%s'\n", prog,
				        argv[optind - 1]);
			fprintf(stderr, "see 'cyberpact partner --help'\n");
			return CP_EXIT_ERROR;
		}
		if (group && !(allowed & group)) {
			fprintf(stderr, "%s: option '--%s' does not apply here\n", prog,
			        longopts[idx].name);
			return CP_EXIT_ERROR;
		}
		switch (c) {
		case 'h':
			fputs(partner_usage, stdout);
			return CP_EXIT_OK;
		case O_DATA_DIR:
			o->data_dir = optarg;
			break;
		case O_CONFIG:
			o->config = optarg;
			break;
		case O_TITLE:
			o->title = optarg;
			break;
		case O_IDENTITY:
			o->identity = optarg;
			break;
		case O_COMMUNITY:
			o->community = optarg;
			break;
		case O_CERT:
			err = cp_pki_spki_fingerprint_file(optarg, fp);
			if (err) {
				fprintf(stderr, "%s: --cert '%s': %s\n", prog, optarg,
				        err == CP_ENOTFOUND ? "no such file"
				        : err == CP_EPARSE  ? "no certificate in it (PEM or DER)"
				                            : strerror(errno));
				return err == CP_EPARSE ? CP_EXIT_FAIL : CP_EXIT_ERROR;
			}
			if (!strv_push(&o->fingerprints, fp, strlen(fp)))
				goto nomem;
			break;
		case O_FINGERPRINT:
			if (!strv_push(&o->fingerprints, optarg, strlen(optarg)))
				goto nomem;
			break;
		case O_SUBJECT:
			if (!strv_push(&o->subjects, optarg, strlen(optarg)))
				goto nomem;
			break;
		case O_DROP_CERT:
			if (!strv_push(&o->drops, optarg, strlen(optarg)))
				goto nomem;
			break;
		case O_READ:
			o->has_read = true;
			if (!split_list(optarg, &o->read))
				goto nomem;
			break;
		case O_WRITE:
			o->has_write = true;
			if (!split_list(optarg, &o->write))
				goto nomem;
			break;
		case O_RED:
			o->has_red = true;
			if (!split_list(optarg, &o->red))
				goto nomem;
			break;
		case O_TYPES:
			o->has_types = true;
			if (!split_list(optarg, &o->types))
				goto nomem;
			break;
		case O_EXCLUDE_TYPES:
			o->has_exclude = true;
			if (!split_list(optarg, &o->exclude))
				goto nomem;
			break;
		case O_TLP_CEILING:
			o->tlp_ceiling = optarg;
			break;
		case O_PAP_CEILING:
			o->pap_ceiling = optarg;
			break;
		case O_DEFAULT_TLP:
			o->default_tlp = optarg;
			break;
		case O_THIRD_PARTY:
		case O_SIGHTINGS:
		case O_CONSULTATIONS:
		case O_NO_REDISTRIBUTION:
		case O_ANONYMISE:
			v = parse_yes_no(optarg);
			if (v < 0) {
				fprintf(stderr, "%s: '--%s' takes =yes or =no, not '%s'\n", prog,
				        longopts[idx].name, optarg);
				return CP_EXIT_ERROR;
			}
			if (c == O_THIRD_PARTY)
				o->third_party = v;
			else if (c == O_SIGHTINGS)
				o->sightings = v;
			else if (c == O_CONSULTATIONS)
				o->consultations = v;
			else if (c == O_NO_REDISTRIBUTION)
				o->no_redistribution = v;
			else
				o->anonymise = v;
			break;
		case O_TOKEN:
			o->token = true;
			break;
		case O_EXPIRES:
			if (!parse_days(optarg, &o->expires_days)) {
				fprintf(stderr,
				        "%s: --expires takes a number of days from 1 to %d, "
				        "not '%s'\n",
				        prog, MAX_DAYS, optarg);
				return CP_EXIT_ERROR;
			}
			break;
		case O_JSON:
			o->json = true;
			break;
		}
	}
	o->args = argv + optind;
	o->nargs = argc - optind;
	return -1;
nomem:
	fprintf(stderr, "%s: out of memory\n", prog);
	return CP_EXIT_ERROR;
}

static bool need_args(const char *prog, const struct opts *o, int n, const char *what)
{
	if (o->nargs == n)
		return true;
	fprintf(stderr, "%s: expected %s%s; see 'cyberpact partner --help'\n", prog, what,
	        o->nargs > n ? " and nothing else" : "");
	return false;
}

/* Apply o's agreement options onto a (borrowing o's strings). */
static int apply_agreement(const char *prog, struct opts *o, struct cp_partner_agreement *a)
{
	if (o->has_read) {
		a->read.names = o->read.v;
		a->read.count = o->read.n;
	}
	if (o->has_write) {
		a->write.names = o->write.v;
		a->write.count = o->write.n;
	}
	if (o->has_red) {
		a->red.names = o->red.v;
		a->red.count = o->red.n;
	}
	if (o->has_types) {
		a->types_allowed = o->types.v;
		a->types_allowed_count = o->types.n;
	}
	if (o->has_exclude) {
		a->types_excluded = o->exclude.v;
		a->types_excluded_count = o->exclude.n;
	}
	if (o->tlp_ceiling && !cp_partners_parse_tlp(o->tlp_ceiling, &a->tlp_ceiling)) {
		fprintf(stderr,
		        "%s: --tlp-ceiling '%s' is not a TLP level (clear, green, amber, "
		        "amber+strict, red)\n",
		        prog, o->tlp_ceiling);
		return CP_EXIT_FAIL;
	}
	if (o->default_tlp && !cp_partners_parse_tlp(o->default_tlp, &a->default_tlp)) {
		fprintf(stderr,
		        "%s: --default-tlp '%s' is not a TLP level (clear, green, amber, "
		        "amber+strict, red)\n",
		        prog, o->default_tlp);
		return CP_EXIT_FAIL;
	}
	if (o->pap_ceiling) {
		if (!strcmp(o->pap_ceiling, "none")) {
			a->pap_ceiling = CP_PAP_NONE;
		} else if (!cp_partners_parse_pap(o->pap_ceiling, &a->pap_ceiling)) {
			fprintf(stderr,
			        "%s: --pap-ceiling '%s' is not a PAP level (clear, green, amber, "
			        "red, none)\n",
			        prog, o->pap_ceiling);
			return CP_EXIT_FAIL;
		}
	}
	if (o->third_party >= 0)
		a->third_party = o->third_party;
	if (o->sightings >= 0)
		a->sightings = o->sightings;
	if (o->consultations >= 0)
		a->consultations = o->consultations;
	if (o->no_redistribution >= 0)
		a->no_redistribution = o->no_redistribution;
	if (o->anonymise >= 0)
		a->anonymise = o->anonymise;
	return -1;
}

/* "" clears a descriptive field (set); NULL leaves it. */
static void apply_text(const char *value, char **field)
{
	if (value)
		*field = *value ? (char *)value : NULL;
}

/* A short, secret-free description of an agreement for the audit record. */
static void describe(struct cp_buf *b, const struct cp_partner *p)
{
	const struct cp_partner_agreement *a = &p->agreement;
	const char *pap = cp_partners_pap_name(a->pap_ceiling);

	cp_buf_printf(b, "%zu certificate%s; read [", p->cert_count, p->cert_count == 1 ? "" : "s");
	for (size_t i = 0; i < a->read.count; i++)
		cp_buf_printf(b, "%s%s", i ? "," : "", a->read.names[i]);
	cp_buf_puts(b, "] write [");
	for (size_t i = 0; i < a->write.count; i++)
		cp_buf_printf(b, "%s%s", i ? "," : "", a->write.names[i]);
	cp_buf_puts(b, "] red [");
	for (size_t i = 0; i < a->red.count; i++)
		cp_buf_printf(b, "%s%s", i ? "," : "", a->red.names[i]);
	cp_buf_printf(b, "] tlp_ceiling %s pap_ceiling %s default_tlp %s",
	              cp_partners_tlp_name(a->tlp_ceiling), pap ? pap : "none",
	              cp_partners_tlp_name(a->default_tlp));
	if (a->types_allowed_count)
		cp_buf_printf(b, " types_allowed %zu", a->types_allowed_count);
	if (a->types_excluded_count)
		cp_buf_printf(b, " types_excluded %zu", a->types_excluded_count);
	cp_buf_printf(b, "%s%s%s%s%s", a->third_party ? " third_party" : "",
	              a->sightings ? " sightings" : "", a->consultations ? " consultations" : "",
	              a->no_redistribution ? " no_redistribution" : "",
	              a->anonymise ? " anonymise" : "");
}

static void note_no_config(const struct session *s, const struct opts *o)
{
	if (!s->has_cfg && (o->has_read || o->has_write || o->has_red))
		fprintf(stderr,
		        "%s: note: no configuration (--config, %s/cyberpact.yaml): collection "
		        "names are not checked\n",
		        s->prog, s->dir);
}

static void print_change_findings(const char *prog, const struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "%s: %s%s\n", prog,
		        d->items[i].severity == CP_SEV_WARNING ? "warning: " : "",
		        d->items[i].message);
}

static struct cp_time days_after(struct cp_time t, unsigned long days)
{
	t.sec += (int64_t)days * 86400;
	return t;
}

/* Issue a token and print it once. Returns an exit status; *id gets its id. */
static int issue_token(struct session *s, const char *name, unsigned long days,
                       char id[CP_PARTNER_TOKEN_ID_LEN + 1], struct cp_buf *detail)
{
	char text[CP_PARTNER_TOKEN_TEXT_MAX], when[CP_TIME_TEXT_MAX] = "";
	struct cp_time now = cp_time_now(), exp = days_after(now, days);
	enum cp_err err;

	err = cp_partners_issue_token(s->set, name, now, days ? &exp : NULL, text, id);
	if (err) {
		fprintf(stderr, "%s: cannot issue a token for '%s': %s\n", s->prog, name,
		        cp_strerror(err));
		return err == CP_ENOTFOUND ? CP_EXIT_FAIL : CP_EXIT_ERROR;
	}
	cp_buf_printf(detail, "token %s issued", id);
	if (days) {
		exp.nsec = 0;
		exp.frac_digits = 0;
		cp_time_format(&exp, when);
		cp_buf_printf(detail, ", expires %s", when);
	}
	/* printed before saving: if the save fails the token is simply never valid */
	printf("token for partner '%s' (id %s%s%s):\n%s\n", name, id, days ? ", expires " : "",
	       days ? when : "", text);
	fprintf(stderr,
	        "%s: this token is shown only once and cannot be recovered: give it to the "
	        "partner now over a trusted channel (only its hash is stored)\n",
	        s->prog);
	memset(text, 0, sizeof(text));
	return CP_EXIT_OK;
}

/* ------------------------------------------------------------ subcommands */

static int partner_add(const char *prog, struct opts *o)
{
	struct session s;
	struct cp_partner draft;
	struct cp_partner_cert *certs = NULL;
	struct cp_buf detail = CP_BUF_INIT(0);
	struct cp_diag d;
	const struct cp_partner *added;
	char id[CP_PARTNER_TOKEN_ID_LEN + 1];
	size_t ncerts = o->fingerprints.n + o->subjects.n;
	enum cp_err err;
	int rc;

	cp_diag_init(&d);
	if (!need_args(prog, o, 1, "a partner NAME"))
		return CP_EXIT_ERROR;
	if (o->expires_days && !o->token) {
		fprintf(stderr, "%s: --expires needs --token\n", prog);
		return CP_EXIT_ERROR;
	}
	if (o->drops.n) {
		fprintf(stderr, "%s: --drop-cert is for 'partner set'\n", prog);
		return CP_EXIT_ERROR;
	}
	rc = session_begin(&s, prog, o->data_dir, o->config);
	if (rc)
		goto out;
	note_no_config(&s, o);
	memset(&draft, 0, sizeof(draft));
	draft.name = o->args[0];
	apply_text(o->title, &draft.title);
	apply_text(o->identity, &draft.identity);
	apply_text(o->community, &draft.community);
	if (ncerts) {
		certs = cp_calloc(ncerts, sizeof(*certs));
		if (!certs) {
			rc = CP_EXIT_ERROR;
			fprintf(stderr, "%s: out of memory\n", prog);
			goto out;
		}
		for (size_t i = 0; i < o->fingerprints.n; i++)
			certs[draft.cert_count++].fingerprint = o->fingerprints.v[i];
		for (size_t i = 0; i < o->subjects.n; i++)
			certs[draft.cert_count++].subject = o->subjects.v[i];
		draft.certs = certs;
	}
	draft.agreement.tlp_ceiling = CP_TLP_CLEAR;
	draft.agreement.default_tlp = CP_TLP_AMBER;
	rc = apply_agreement(prog, o, &draft.agreement);
	if (rc >= 0)
		goto out;
	err = cp_partners_add(s.set, &draft, s.has_cfg ? &s.cfg : NULL, &d);
	print_change_findings(prog, &d);
	if (err) {
		fprintf(stderr, "%s: partner '%s' not added: %s\n", prog, draft.name,
		        cp_strerror(err));
		rc = err == CP_ENOMEM ? CP_EXIT_ERROR : CP_EXIT_FAIL;
		goto out;
	}
	added = cp_partners_find(s.set, draft.name);
	describe(&detail, added);
	if (o->token) {
		cp_buf_puts(&detail, "; ");
		rc = issue_token(&s, draft.name, o->expires_days, id, &detail);
		if (rc)
			goto out;
	}
	if (cp_buf_finish(&detail)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	rc = session_save(&s);
	if (rc)
		goto out;
	rc = session_audit(&s, "partner add", draft.name, detail.ptr);
	if (!rc)
		printf("added partner '%s' to %s\n", draft.name, s.path);
out:
	cp_free(certs);
	cp_buf_release(&detail);
	cp_diag_release(&d);
	session_end(&s);
	return rc;
}

static bool cert_matches(const struct cp_partner_cert *c, const char *what)
{
	return (c->fingerprint && !strcasecmp(c->fingerprint, what)) ||
	       (c->subject && !strcmp(c->subject, what));
}

static int partner_set(const char *prog, struct opts *o)
{
	struct session s;
	struct cp_partner draft;
	struct cp_partner_cert *certs = NULL;
	struct cp_buf detail = CP_BUF_INIT(0);
	struct cp_diag d;
	const struct cp_partner *old;
	enum cp_err err;
	size_t n = 0;
	int rc;

	cp_diag_init(&d);
	if (!need_args(prog, o, 1, "a partner NAME"))
		return CP_EXIT_ERROR;
	rc = session_begin(&s, prog, o->data_dir, o->config);
	if (rc)
		goto out;
	old = cp_partners_find(s.set, o->args[0]);
	if (!old) {
		fprintf(stderr, "%s: no partner named '%s' in %s\n", prog, o->args[0], s.path);
		rc = CP_EXIT_FAIL;
		goto out;
	}
	note_no_config(&s, o);
	draft = *old;
	apply_text(o->title, &draft.title);
	apply_text(o->identity, &draft.identity);
	apply_text(o->community, &draft.community);
	certs = cp_calloc(old->cert_count + o->fingerprints.n + o->subjects.n + 1, sizeof(*certs));
	if (!certs) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	for (size_t i = 0; i < o->drops.n; i++) {
		bool found = false;
		for (size_t j = 0; j < old->cert_count; j++)
			found = found || cert_matches(&old->certs[j], o->drops.v[i]);
		if (!found) {
			fprintf(stderr, "%s: partner '%s' has no certificate entry '%s'\n", prog,
			        old->name, o->drops.v[i]);
			rc = CP_EXIT_FAIL;
			goto out;
		}
	}
	for (size_t j = 0; j < old->cert_count; j++) {
		bool drop = false;
		for (size_t i = 0; i < o->drops.n; i++)
			drop = drop || cert_matches(&old->certs[j], o->drops.v[i]);
		if (!drop)
			certs[n++] = old->certs[j];
	}
	for (size_t i = 0; i < o->fingerprints.n; i++)
		certs[n++] = (struct cp_partner_cert){.fingerprint = o->fingerprints.v[i]};
	for (size_t i = 0; i < o->subjects.n; i++)
		certs[n++] = (struct cp_partner_cert){.subject = o->subjects.v[i]};
	draft.certs = certs;
	draft.cert_count = n;
	rc = apply_agreement(prog, o, &draft.agreement);
	if (rc >= 0)
		goto out;
	err = cp_partners_update(s.set, &draft, s.has_cfg ? &s.cfg : NULL, &d);
	print_change_findings(prog, &d);
	if (err) {
		fprintf(stderr, "%s: partner '%s' not changed: %s\n", prog, o->args[0],
		        cp_strerror(err));
		rc = err == CP_ENOMEM ? CP_EXIT_ERROR : CP_EXIT_FAIL;
		goto out;
	}
	describe(&detail, cp_partners_find(s.set, o->args[0]));
	if (cp_buf_finish(&detail)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	rc = session_save(&s);
	if (rc)
		goto out;
	rc = session_audit(&s, "partner set", o->args[0], detail.ptr);
	if (!rc)
		printf("changed partner '%s' in %s\n", o->args[0], s.path);
out:
	cp_free(certs);
	cp_buf_release(&detail);
	cp_diag_release(&d);
	session_end(&s);
	return rc;
}

static int partner_issue(const char *prog, struct opts *o)
{
	struct session s;
	struct cp_buf detail = CP_BUF_INIT(0);
	char id[CP_PARTNER_TOKEN_ID_LEN + 1];
	int rc;

	if (!need_args(prog, o, 1, "a partner NAME"))
		return CP_EXIT_ERROR;
	rc = session_begin(&s, prog, o->data_dir, o->config);
	if (rc)
		goto out;
	if (!cp_partners_find(s.set, o->args[0])) {
		fprintf(stderr, "%s: no partner named '%s' in %s\n", prog, o->args[0], s.path);
		rc = CP_EXIT_FAIL;
		goto out;
	}
	rc = issue_token(&s, o->args[0], o->expires_days, id, &detail);
	if (rc)
		goto out;
	if (cp_buf_finish(&detail)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	rc = session_save(&s);
	if (!rc)
		rc = session_audit(&s, "partner issue-token", o->args[0], detail.ptr);
out:
	cp_buf_release(&detail);
	session_end(&s);
	return rc;
}

static int partner_revoke(const char *prog, struct opts *o)
{
	struct session s;
	struct cp_buf detail = CP_BUF_INIT(0);
	const struct cp_partner *p;
	enum cp_err err;
	int rc;

	if (!need_args(prog, o, 2, "a partner NAME and a TOKEN_ID"))
		return CP_EXIT_ERROR;
	rc = session_begin(&s, prog, o->data_dir, o->config);
	if (rc)
		goto out;
	p = cp_partners_find(s.set, o->args[0]);
	if (!p) {
		fprintf(stderr, "%s: no partner named '%s' in %s\n", prog, o->args[0], s.path);
		rc = CP_EXIT_FAIL;
		goto out;
	}
	err = cp_partners_revoke_token(s.set, o->args[0], o->args[1], cp_time_now());
	if (err == CP_ECONFLICT) {
		/* nothing changes, so nothing to audit: revoking is idempotent */
		printf("token %s of partner '%s' was already revoked\n", o->args[1], o->args[0]);
		rc = CP_EXIT_OK;
		goto out;
	}
	if (err) {
		fprintf(stderr, "%s: partner '%s' has no token '%s'%s\n", prog, o->args[0],
		        o->args[1], p->token_count ? " (see 'cyberpact partner list')" : "");
		rc = CP_EXIT_FAIL;
		goto out;
	}
	cp_buf_printf(&detail, "token %s revoked", o->args[1]);
	if (cp_buf_finish(&detail)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	rc = session_save(&s);
	if (rc)
		goto out;
	rc = session_audit(&s, "partner revoke-token", o->args[0], detail.ptr);
	if (!rc)
		printf("revoked token %s of partner '%s'\n", o->args[1], o->args[0]);
out:
	cp_buf_release(&detail);
	session_end(&s);
	return rc;
}

static int partner_remove(const char *prog, struct opts *o)
{
	struct session s;
	struct cp_buf detail = CP_BUF_INIT(0);
	const struct cp_partner *p;
	size_t certs, tokens;
	int rc;

	if (!need_args(prog, o, 1, "a partner NAME"))
		return CP_EXIT_ERROR;
	rc = session_begin(&s, prog, o->data_dir, o->config);
	if (rc)
		goto out;
	p = cp_partners_find(s.set, o->args[0]);
	if (!p) {
		fprintf(stderr, "%s: no partner named '%s' in %s\n", prog, o->args[0], s.path);
		rc = CP_EXIT_FAIL;
		goto out;
	}
	certs = p->cert_count;
	tokens = p->token_count;
	if (cp_partners_remove(s.set, o->args[0]) != CP_OK) {
		rc = CP_EXIT_FAIL;
		goto out;
	}
	cp_buf_printf(&detail, "removed with %zu certificate entr%s and %zu token%s", certs,
	              certs == 1 ? "y" : "ies", tokens, tokens == 1 ? "" : "s");
	if (cp_buf_finish(&detail)) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	rc = session_save(&s);
	if (rc)
		goto out;
	rc = session_audit(&s, "partner remove", o->args[0], detail.ptr);
	if (!rc)
		printf("removed partner '%s' from %s\n", o->args[0], s.path);
out:
	cp_buf_release(&detail);
	session_end(&s);
	return rc;
}

/* ------------------------------------------------------------ list */

static const char *token_state(const struct cp_partner_token *t, const struct cp_time *now)
{
	if (t->is_revoked)
		return "revoked";
	if (t->has_expires && cp_time_cmp(now, &t->expires) >= 0)
		return "expired";
	return "active";
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n; i++)
		if (json_array_append_new(a, json_string(v[i]))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *partner_json(const struct cp_partner *p, const struct cp_time *now)
{
	const struct cp_partner_agreement *a = &p->agreement;
	json_t *j, *certs, *tokens, *ag;
	char ts[CP_TIME_TEXT_MAX];

	j = json_pack("{s:s, s:s?, s:s?, s:s?}", "name", p->name, "title", p->title, "identity",
	              p->identity, "community", p->community);
	certs = json_array();
	tokens = json_array();
	ag = json_pack("{s:o*, s:o*, s:o*, s:s, s:s?, s:s, s:o*, s:o*, s:b, s:b, s:b, s:b, s:b}",
	               "read", strv_json(a->read.names, a->read.count), "write",
	               strv_json(a->write.names, a->write.count), "red",
	               strv_json(a->red.names, a->red.count), "tlp_ceiling",
	               cp_partners_tlp_name(a->tlp_ceiling), "pap_ceiling",
	               cp_partners_pap_name(a->pap_ceiling), "default_tlp",
	               cp_partners_tlp_name(a->default_tlp), "types_allowed",
	               strv_json(a->types_allowed, a->types_allowed_count), "types_excluded",
	               strv_json(a->types_excluded, a->types_excluded_count), "third_party",
	               a->third_party, "sightings", a->sightings, "consultations", a->consultations,
	               "no_redistribution", a->no_redistribution, "anonymise", a->anonymise);
	if (!j || !certs || !tokens || !ag)
		goto fail;
	for (size_t i = 0; i < p->cert_count; i++) {
		json_t *c = json_pack("{s:s?, s:s?}", "fingerprint", p->certs[i].fingerprint,
		                      "subject", p->certs[i].subject);
		if (!c || json_array_append_new(certs, c))
			goto fail;
	}
	for (size_t i = 0; i < p->token_count; i++) {
		const struct cp_partner_token *t = &p->tokens[i];
		json_t *tj;

		cp_time_format(&t->created, ts);
		tj = json_pack("{s:s, s:s, s:s}", "id", t->id, "created", ts, "state",
		               token_state(t, now));
		if (!tj || json_array_append_new(tokens, tj))
			goto fail;
		if (t->has_expires) {
			cp_time_format(&t->expires, ts);
			json_object_set_new(tj, "expires", json_string(ts));
		}
		if (t->is_revoked) {
			cp_time_format(&t->revoked, ts);
			json_object_set_new(tj, "revoked", json_string(ts));
		}
	}
	json_object_set_new(j, "certificates", certs);
	json_object_set_new(j, "tokens", tokens);
	json_object_set_new(j, "agreement", ag);
	return j;
fail:
	json_decref(j);
	json_decref(certs);
	json_decref(tokens);
	json_decref(ag);
	return NULL;
}

static void print_names(const char *label, char *const *v, size_t n)
{
	printf("%s", label);
	if (!n)
		printf("none");
	for (size_t i = 0; i < n; i++)
		printf("%s%s", i ? ", " : "", v[i]);
}

static void partner_text(const struct cp_partner *p, const struct cp_time *now)
{
	const struct cp_partner_agreement *a = &p->agreement;
	const char *pap = cp_partners_pap_name(a->pap_ceiling);
	char ts[CP_TIME_TEXT_MAX];

	printf("%s", p->name);
	if (p->title)
		printf("  \"%s\"", p->title);
	if (p->community)
		printf("  community %s", p->community);
	if (p->identity)
		printf("  %s", p->identity);
	printf("\n  certificates: %zu\n", p->cert_count);
	printf("  tokens:%s\n", p->token_count ? "" : " none");
	for (size_t i = 0; i < p->token_count; i++) {
		const struct cp_partner_token *t = &p->tokens[i];
		cp_time_format(&t->created, ts);
		printf("    %s  %-7s  created %s", t->id, token_state(t, now), ts);
		if (t->has_expires) {
			cp_time_format(&t->expires, ts);
			printf(", expires %s", ts);
		}
		if (t->is_revoked) {
			cp_time_format(&t->revoked, ts);
			printf(", revoked %s", ts);
		}
		printf("\n");
	}
	print_names("  agreement: read ", a->read.names, a->read.count);
	print_names("; write ", a->write.names, a->write.count);
	printf("; TLP ceiling %s, PAP ceiling %s, unmarked = %s",
	       cp_partners_tlp_name(a->tlp_ceiling), pap ? pap : "none",
	       cp_partners_tlp_name(a->default_tlp));
	if (a->red.count)
		print_names("; RED in ", a->red.names, a->red.count);
	if (a->types_allowed_count)
		print_names("; only types ", a->types_allowed, a->types_allowed_count);
	if (a->types_excluded_count)
		print_names("; never types ", a->types_excluded, a->types_excluded_count);
	printf("%s%s%s%s%s\n", a->third_party ? "; third-party" : "",
	       a->sightings ? "; sightings" : "", a->consultations ? "; consultations" : "",
	       a->no_redistribution ? "; no redistribution" : "",
	       a->anonymise ? "; anonymised" : "");
}

static int partner_list(const char *prog, struct opts *o)
{
	struct cp_partners *set = NULL;
	struct cp_time now = cp_time_now();
	char *path = NULL;
	struct cp_diag d;
	enum cp_err err;
	int rc = CP_EXIT_OK;

	cp_diag_init(&d);
	if (!need_args(prog, o, 0, "no arguments"))
		return CP_EXIT_ERROR;
	path = join_path(o->data_dir, "partners.yaml");
	if (!path) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return CP_EXIT_ERROR;
	}
	/* as written: listing needs no configuration and works while it is wrong */
	err = cp_partners_load(path, NULL, &set, &d);
	if (err) {
		print_findings(stderr, path, &d);
		fprintf(stderr, "%s: cannot read '%s': %s\n", prog, path, cp_strerror(err));
		rc = err == CP_EINVAL || err == CP_EPARSE ? CP_EXIT_FAIL : CP_EXIT_ERROR;
		goto out;
	}
	if (o->json) {
		json_t *arr = json_array(), *doc;
		char *text;

		for (size_t i = 0; arr && i < cp_partners_count(set); i++)
			if (json_array_append_new(arr,
			                          partner_json(cp_partners_at(set, i), &now))) {
				json_decref(arr);
				arr = NULL;
			}
		doc = arr ? json_pack("{s:o}", "partners", arr) : NULL;
		text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
		json_decref(doc);
		if (!text) {
			fprintf(stderr, "%s: out of memory\n", prog);
			rc = CP_EXIT_ERROR;
			goto out;
		}
		printf("%s\n", text);
		cp_free(text);
		goto out;
	}
	if (!cp_partners_count(set))
		printf("no partners in %s\n", path);
	for (size_t i = 0; i < cp_partners_count(set); i++)
		partner_text(cp_partners_at(set, i), &now);
out:
	cp_partners_free(set);
	cp_free(path);
	cp_diag_release(&d);
	return rc;
}

int cmd_partner(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const char *prog, struct opts *o);
		unsigned allowed;
	} subs[] = {
	        {"add", partner_add, T_EDIT | T_TOKEN | T_EXPIRES},
	        {"set", partner_set, T_EDIT | T_DROP},
	        {"list", partner_list, T_JSON},
	        {"issue-token", partner_issue, T_EXPIRES},
	        {"revoke-token", partner_revoke, 0},
	        {"remove", partner_remove, 0},
	};
	char prog[64];
	struct opts o;
	int rc;

	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		fputs(partner_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CP_EXIT_ERROR : CP_EXIT_OK;
	}
	for (size_t i = 0; i < CP_ARRAY_LEN(subs); i++) {
		if (strcmp(argv[1], subs[i].name) != 0)
			continue;
		snprintf(prog, sizeof(prog), "cyberpact partner %s", subs[i].name);
		rc = parse_opts(prog, argc - 1, argv + 1, subs[i].allowed, &o);
		if (rc < 0)
			rc = subs[i].fn(prog, &o);
		opts_release(&o);
		return rc;
	}
	fprintf(stderr,
	        "cyberpact partner: '%s' is not a partner command; see 'cyberpact "
	        "partner --help'\n",
	        argv[1]);
	return CP_EXIT_ERROR;
}

/* ------------------------------------------------------------ agreement check */

static const char *tlp_upper(enum cp_tlp t)
{
	static const char *const names[] = {
	        [CP_TLP_NONE] = "none",
	        [CP_TLP_CLEAR] = "CLEAR",
	        [CP_TLP_GREEN] = "GREEN",
	        [CP_TLP_AMBER] = "AMBER",
	        [CP_TLP_AMBER_STRICT] = "AMBER+STRICT",
	        [CP_TLP_RED] = "RED",
	};
	return (unsigned)t < CP_ARRAY_LEN(names) ? names[t] : "?";
}

/* "indicators (9ee8...)" when the name was resolved to a different id. */
static void print_colls(const struct cp_partner_colls *l)
{
	for (size_t i = 0; i < l->count; i++) {
		if (!strcmp(l->names[i], "*"))
			printf("%severy collection", i ? ", " : "");
		else if (strcmp(l->names[i], l->ids[i]) != 0)
			printf("%s%s (%s)", i ? ", " : "", l->names[i], l->ids[i]);
		else
			printf("%s%s", i ? ", " : "", l->names[i]);
	}
}

/* Would an object of TLP t (our own, not a RED case) pass the ceiling? */
static bool under_ceiling(enum cp_tlp t, enum cp_tlp ceiling)
{
	if (t == CP_TLP_AMBER_STRICT && ceiling == CP_TLP_AMBER)
		return false;
	return t <= ceiling && t != CP_TLP_RED;
}

static void explain(const struct cp_partner *p, const struct cp_partners *set,
                    const struct cp_time *now)
{
	const struct cp_partner_agreement *a = &p->agreement;
	size_t active = 0, revoked = 0, expired = 0, pinned = 0, by_subject = 0, nr = 0;

	printf("\npartner %s", p->name);
	if (p->title)
		printf(" (%s)", p->title);
	printf("\n");
	if (p->identity)
		printf("  identity: %s\n", p->identity);

	printf("  reads: ");
	if (a->read.count)
		print_colls(&a->read);
	else
		printf("nothing (no read list: every object is withheld)");
	printf("\n  writes: ");
	if (a->write.count)
		print_colls(&a->write);
	else
		printf("nothing (it may not add objects)");

	printf("\n  our own objects: ");
	switch (a->tlp_ceiling) {
	case CP_TLP_CLEAR:
		printf("TLP:CLEAR only (ceiling CLEAR)");
		break;
	case CP_TLP_GREEN:
		printf("up to TLP:GREEN (ceiling GREEN: CLEAR and GREEN)");
		break;
	case CP_TLP_AMBER:
		printf("up to TLP:AMBER (ceiling AMBER: CLEAR, GREEN and AMBER); NOT "
		       "AMBER+STRICT: AMBER is not a superset of AMBER+STRICT, so objects "
		       "marked AMBER+STRICT are withheld");
		break;
	case CP_TLP_AMBER_STRICT:
		printf("up to TLP:AMBER+STRICT (ceiling AMBER+STRICT: CLEAR, GREEN, AMBER and "
		       "AMBER+STRICT; an AMBER+STRICT ceiling releases both AMBER and "
		       "AMBER+STRICT)");
		break;
	case CP_TLP_RED:
		printf("up to TLP:RED (ceiling RED: CLEAR, GREEN, AMBER and AMBER+STRICT "
		       "everywhere; RED only as below)");
		break;
	default:
		printf("ceiling %s", tlp_upper(a->tlp_ceiling));
	}
	printf("\n  TLP:RED: ");
	if (a->tlp_ceiling == CP_TLP_RED && a->red.count) {
		printf("only in the collections where it is a named RED recipient: ");
		print_colls(&a->red);
	} else if (a->tlp_ceiling == CP_TLP_RED) {
		printf("never (the ceiling is RED, but no collection names it as a RED "
		       "recipient)");
	} else if (a->red.count) {
		printf("never (it is named for ");
		print_colls(&a->red);
		printf(", but its ceiling is below RED)");
	} else {
		printf("never");
	}
	printf("\n  unmarked objects: treated as TLP:%s, so %s\n", tlp_upper(a->default_tlp),
	       a->default_tlp == CP_TLP_RED                    ? "they go only where RED may go"
	       : under_ceiling(a->default_tlp, a->tlp_ceiling) ? "they are released"
	                                                       : "they are withheld");
	if (a->pap_ceiling == CP_PAP_NONE)
		printf("  PAP: no limit\n");
	else
		printf("  PAP: up to %s\n", cp_policy_pap_name(a->pap_ceiling));

	printf("  object types: ");
	if (!a->types_allowed_count && !a->types_excluded_count)
		printf("all");
	if (a->types_allowed_count) {
		print_names("only ", a->types_allowed, a->types_allowed_count);
		if (a->types_excluded_count)
			printf("; ");
	}
	if (a->types_excluded_count)
		print_names(a->types_allowed_count ? "never " : "all except ", a->types_excluded,
		            a->types_excluded_count);

	printf("\n  objects from other partners: ");
	if (!a->third_party) {
		printf("none are passed to it (third_party: false)");
	} else {
		if (p->community)
			printf("TLP:CLEAR ones, and TLP:GREEN ones from partners in community "
			       "'%s'",
			       p->community);
		else
			printf("TLP:CLEAR ones only (it is in no community, so no third-party "
			       "TLP:GREEN)");
		printf("; never AMBER, AMBER+STRICT or RED; never from partners whose "
		       "agreement forbids redistribution");
		for (size_t i = 0; i < cp_partners_count(set); i++) {
			const struct cp_partner *q = cp_partners_at(set, i);
			if (q != p && q->agreement.no_redistribution)
				printf("%s%s", nr++ ? ", " : " (", q->name);
		}
		if (nr)
			printf(")");
	}
	printf("\n  sightings: %s\n", a->sightings ? "shared" : "not shared");
	printf("  consultation objects: %s\n", a->consultations ? "shared" : "not shared");
	printf("  what it sends us: %s\n",
	       a->no_redistribution
	               ? "never passed on to any other partner (no_redistribution)"
	               : "may be passed on to third parties as its markings and our agreements "
	                 "allow");
	printf("  anonymisation: %s\n",
	       a->anonymise ? "what it receives names our neutral identity instead of the "
	                      "creator (created_by_ref)"
	                    : "objects keep their created_by_ref");
	for (size_t i = 0; i < p->cert_count; i++) {
		if (p->certs[i].fingerprint)
			pinned++;
		else
			by_subject++;
	}
	for (size_t i = 0; i < p->token_count; i++) {
		const char *st = token_state(&p->tokens[i], now);
		if (!strcmp(st, "active"))
			active++;
		else if (!strcmp(st, "revoked"))
			revoked++;
		else
			expired++;
	}
	printf("  credentials: %zu client certificate%s (%zu by fingerprint, %zu by subject "
	       "only), %zu active token%s (%zu revoked, %zu expired)%s\n",
	       p->cert_count, p->cert_count == 1 ? "" : "s", pinned, by_subject, active,
	       active == 1 ? "" : "s", revoked, expired,
	       p->cert_count || active ? "" : "; it cannot authenticate");
}

int cmd_agreement(int argc, char **argv)
{
	static const struct option opts[] = {
	        {"config", required_argument, NULL, 'c'},
	        {"help", no_argument, NULL, 'h'},
	        {NULL, 0, NULL, 0},
	};
	const char *prog = "cyberpact agreement check", *config = NULL, *file, *label;
	struct cp_partners *set = NULL;
	struct cp_policy *pol = NULL;
	struct cp_config cfg;
	struct cp_time now = cp_time_now();
	struct cp_diag d;
	char *text = NULL;
	size_t len = 0;
	enum cp_err err;
	int c, rc = CP_EXIT_OK;

	memset(&cfg, 0, sizeof(cfg));
	cp_diag_init(&d);
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		fputs(agreement_usage, stdout);
		return CP_EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "%s", agreement_usage);
		return CP_EXIT_ERROR;
	}
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc - 1, argv + 1, ":h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'h':
			fputs(agreement_usage, stdout);
			return CP_EXIT_OK;
		default:
			fprintf(stderr, "%s: bad option '%s'; see 'cyberpact agreement --help'\n",
			        prog, argv[optind]); /* argv + 1 was parsed: its optind - 1 */
			return CP_EXIT_ERROR;
		}
	}
	if (argc - 1 - optind != 1) {
		fprintf(stderr, "%s: expected one FILE; see 'cyberpact agreement --help'\n", prog);
		return CP_EXIT_ERROR;
	}
	file = argv[1 + optind];
	label = strcmp(file, "-") ? file : "<stdin>";
	if (config) {
		err = cp_config_load(config, &cfg, &d);
		if (err) {
			print_findings(stderr, config, &d);
			fprintf(stderr, "%s: cannot use configuration '%s': %s\n", prog, config,
			        cp_strerror(err));
			rc = CP_EXIT_ERROR;
			goto out;
		}
	}
	err = cp_cli_read_file(file, CP_PARTNERS_MAX_BYTES, &text, &len);
	if (err) {
		fprintf(stderr, "%s: cannot read '%s': %s\n", prog, label,
		        err == CP_ETOOBIG ? "larger than the 1 MiB a partners file may have"
		                          : strerror(errno));
		rc = CP_EXIT_ERROR;
		goto out;
	}
	err = cp_partners_load_text(text, len, label, config ? &cfg : NULL, &set, &d);
	if (!err)
		err = cp_partners_policy(set, &pol, &d);
	print_findings(stdout, label, &d);
	if (err == CP_ENOMEM) {
		fprintf(stderr, "%s: out of memory\n", prog);
		rc = CP_EXIT_ERROR;
		goto out;
	}
	if (err) {
		printf("%s: invalid: %zu error%s, %zu warning%s\n", label, d.errors,
		       d.errors == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
		rc = CP_EXIT_FAIL;
		goto out;
	}
	printf("%s: valid: %zu partner%s, %zu warning%s\n", label, cp_partners_count(set),
	       cp_partners_count(set) == 1 ? "" : "s", d.warnings, d.warnings == 1 ? "" : "s");
	if (!config)
		printf("(no --config: collection names are shown as written and not checked)\n");
	for (size_t i = 0; i < cp_partners_count(set); i++)
		explain(cp_partners_at(set, i), set, &now);
out:
	cp_policy_free(pol);
	cp_partners_free(set);
	cp_free(text);
	cp_config_release(&cfg);
	cp_diag_release(&d);
	return rc;
}
