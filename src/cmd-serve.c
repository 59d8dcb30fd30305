/*
 * cyberpact serve: the node. HTTPS (GnuTLS through libmicrohttpd), authentication,
 * the TAXII 2.1 core of lib/taxii, and the policy hooks that put every partner request
 * through the egress gate (lib/policy) with an audit trail (lib/audit).
 *
 * Who may ask:
 *  - local accounts (cyberpact.yaml, or the initial account of DIR/credentials): HTTP
 *    Basic against libsodium password hashes, or a client certificate by SPKI
 *    fingerprint. They are this node's own people and tools;
 *  - partners (DIR/partners.yaml, reloaded when the file changes or on SIGHUP): a
 *    client certificate (fingerprint and/or subject) or an API token, sent as
 *    "Authorization: Bearer cpt_..." or as the password of HTTP Basic with the
 *    partner's name as user. What they see and receive is decided by the gate.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "cyberpact/audit.h"
#include "cyberpact/config.h"
#include "cyberpact/partners.h"
#include "cyberpact/pki.h"
#include "cyberpact/policy.h"
#include "cyberpact/sync.h"
#include "cyberpact/taxii.h"
#include "common.h"

/*
 * The identity that replaces created_by_ref in what an anonymising agreement's partner
 * receives (docs/PARTNERS.md): a fixed id, the same on every node, so that nothing in
 * it points back at the submitter or at this node.
 */
#define NEUTRAL_IDENTITY "identity--0d6a2d3b-8a0f-5c5e-9d0b-3f6f6c8b2a10"

static const char usage_text[] =
	"usage: cyberpact serve [--config FILE] [--listen HOST:PORT] [--data-dir DIR]\n"
	"\n"
	"Run the node: a TAXII 2.1 server over HTTPS with an embedded SQLite store.\n"
	"On first start with an empty data directory it creates:\n"
	"  DIR/pki/          a local CA, server and client certificates (unless tls: is configured)\n"
	"  DIR/credentials   'user:password' of an initial account that may read and write\n"
	"                    every collection (the client certificate maps to it too)\n"
	"  DIR/cyberpact.yaml  the configuration used when --config is not given: a default\n"
	"                    API root 'api1' with one collection\n"
	"  DIR/store.db      the object store\n"
	"  DIR/audit.db      the hash-chained audit trail ('cyberpact audit')\n"
	"and prints the discovery URL. Flags override the configuration file.\n"
	"Partners and their sharing agreements are read from DIR/partners.yaml\n"
	"('cyberpact partner', docs/PARTNERS.md), reloaded when it changes or on SIGHUP.\n"
	"SIGINT/SIGTERM stop the node cleanly.\n"
	"\n"
	"  --config FILE       YAML configuration (docs/CONFIG.md)\n"
	"  --listen HOST:PORT  address to listen on (default 127.0.0.1:8443; port 0 = any)\n"
	"  --data-dir DIR      data directory (default ./data)\n"
	"  --threads N         serve connections from a pool of N threads (default: a\n"
	"                      thread per connection; requests block on the store, so\n"
	"                      in a pool one connection's request can hold up another's)\n"
	"  --help, -h          show this help\n";

struct node {
	struct cp_config cfg;
	struct cp_taxii_server *taxii;
	struct cp_config_account initial; /* from DIR/credentials, when no accounts are set */
	char *initial_read[1], *initial_write[1];
	bool has_initial;
	atomic_ulong request_seq;
	/* successful Basic logins: argon2 is slow by design, so remember verified pairs */
	pthread_mutex_t auth_lock;
	struct {
		const struct cp_config_account *account;
		unsigned char pw_hash[32];
	} auth_cache[64];
	size_t auth_cache_count;
	/* argon2 runs at once (each takes the hash's memory: 64 MB at libsodium's
	 * interactive limit), at most hashing_max; waiters on auth_free */
	pthread_cond_t auth_free;
	unsigned hashing, hashing_max;
	/* partners: the current view, swapped whole on reload; requests hold a reference */
	pthread_mutex_t view_lock;
	struct partner_view *view;
	char *partners_path;
	struct stat partners_st;
	bool partners_seen;
	struct cp_audit *audit;
	struct cp_sync *sync;
};

struct partner_view {
	atomic_int refs;
	struct cp_partners *partners;
	struct cp_policy *policy;
};

struct partner_view;

struct request_state {
	struct cp_buf body;
	bool too_big;
	unsigned long id;
	struct timespec start;
};

/* --------------------------------------------------------------- files */

static char *path_join(const char *dir, const char *name)
{
	struct cp_buf b = CP_BUF_INIT(4096);

	if (name[0] == '/')
		cp_buf_puts(&b, name);
	else
		cp_buf_printf(&b, "%s/%s", dir, name);
	return cp_buf_take(&b);
}

static bool file_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Write text to path with mode, atomically (temp file + rename). */
static bool write_file(const char *path, const char *text, mode_t mode)
{
	char tmp[4200];
	int fd;
	size_t len = strlen(text), off = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return false;
	while (off < len) {
		ssize_t n = write(fd, text + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			unlink(tmp);
			return false;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return false;
	}
	return true;
}

/* ------------------------------------------------------ first-start setup */

/* The configuration written on first start when no --config is given. */
static bool ensure_default_config(const char *path)
{
	char id[CP_STIX_ID_MAX];
	struct cp_buf b = CP_BUF_INIT(0);
	bool ok;

	if (file_exists(path))
		return true;
	if (cp_stix_id_new("x-collection", id) != CP_OK)
		return false;
	cp_buf_printf(&b,
		      "# cyberpact node configuration (docs/CONFIG.md), written on first start.\n"
		      "title: cyberpact node\n"
		      "api_roots:\n"
		      "  - name: api1\n"
		      "    title: Default API root\n"
		      "    collections:\n"
		      "      - id: %s\n"
		      "        title: Shared threat intelligence\n"
		      "        alias: default\n",
		      id + strlen("x-collection--"));
	ok = !cp_buf_finish(&b) && write_file(path, b.ptr, 0644);
	cp_buf_release(&b);
	return ok;
}

/* DIR/credentials: "user:password"; created with a random password if missing. */
static bool ensure_credentials(struct node *n, const char *path, char **user, char **password)
{
	char line[256];
	FILE *f;

	if (!file_exists(path)) {
		unsigned char raw[18];
		char pw[40], text[128];
		randombytes_buf(raw, sizeof(raw));
		sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw),
				  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		snprintf(text, sizeof(text), "admin:%s\n", pw);
		if (!write_file(path, text, 0600))
			return false;
	}
	f = fopen(path, "r");
	if (!f || !fgets(line, sizeof(line), f)) {
		if (f)
			fclose(f);
		return false;
	}
	fclose(f);
	line[strcspn(line, "\r\n")] = '\0';
	{
		char *colon = strchr(line, ':');
		if (!colon || colon == line || !colon[1])
			return false;
		*colon = '\0';
		*user = cp_strdup(line);
		*password = cp_strdup(colon + 1);
	}
	(void)n;
	return *user && *password;
}

/* ---------------------------------------------------------------- auth */

static const struct cp_config_account *find_account(struct node *n, const char *name)
{
	for (size_t i = 0; i < n->cfg.account_count; i++)
		if (strcmp(n->cfg.accounts[i].name, name) == 0)
			return &n->cfg.accounts[i];
	if (n->has_initial && strcmp(n->initial.name, name) == 0)
		return &n->initial;
	return NULL;
}

/*
 * An unknown user's password is checked against this hash of a random one, so that
 * a wrong user name takes as long to refuse as a wrong password (no user
 * enumeration by timing). Made on first use.
 */
static char unknown_user_hash[crypto_pwhash_STRBYTES];
static pthread_once_t unknown_user_once = PTHREAD_ONCE_INIT;

static void unknown_user_make(void)
{
	unsigned char pw[32];

	randombytes_buf(pw, sizeof(pw));
	if (crypto_pwhash_str(unknown_user_hash, (const char *)pw, sizeof(pw),
			      crypto_pwhash_OPSLIMIT_INTERACTIVE,
			      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
		unknown_user_hash[0] = '\0'; /* out of memory: no such check then */
	sodium_memzero(pw, sizeof(pw));
}

/*
 * crypto_pwhash_str_verify() with at most hashing_max of them at once: wrong
 * passwords cost as much memory as right ones, and a burst of them must not take
 * the node's memory (32 at once raised its peak by 280-354 MB without the bound).
 */
static bool password_ok(struct node *n, const char *hash, const char *pass)
{
	bool ok;

	pthread_mutex_lock(&n->auth_lock);
	while (n->hashing >= n->hashing_max)
		pthread_cond_wait(&n->auth_free, &n->auth_lock);
	n->hashing++;
	pthread_mutex_unlock(&n->auth_lock);
	ok = hash[0] && crypto_pwhash_str_verify(hash, pass, strlen(pass)) == 0;
	pthread_mutex_lock(&n->auth_lock);
	n->hashing--;
	pthread_cond_signal(&n->auth_free);
	pthread_mutex_unlock(&n->auth_lock);
	return ok;
}

static const struct cp_config_account *basic_auth(struct node *n, struct MHD_Connection *conn)
{
	char *pass = NULL;
	char *user = MHD_basic_auth_get_username_password(conn, &pass);
	const struct cp_config_account *a = NULL, *found;
	unsigned char h[32];

	if (!user || !pass)
		goto out;
	found = find_account(n, user);
	if (!found || !found->password_hash) {
		pthread_once(&unknown_user_once, unknown_user_make);
		(void)password_ok(n, unknown_user_hash, pass);
		goto out;
	}
	crypto_generichash(h, sizeof(h), (const unsigned char *)pass, strlen(pass),
			   (const unsigned char *)found->password_hash,
			   strlen(found->password_hash) > crypto_generichash_KEYBYTES_MAX
				   ? crypto_generichash_KEYBYTES_MAX
				   : strlen(found->password_hash));
	pthread_mutex_lock(&n->auth_lock);
	for (size_t i = 0; i < n->auth_cache_count && !a; i++)
		if (n->auth_cache[i].account == found &&
		    sodium_memcmp(n->auth_cache[i].pw_hash, h, sizeof(h)) == 0)
			a = found;
	pthread_mutex_unlock(&n->auth_lock);
	if (a)
		goto out;
	if (!password_ok(n, found->password_hash, pass))
		goto out;
	a = found;
	pthread_mutex_lock(&n->auth_lock);
	{
		size_t slot = n->auth_cache_count < CP_ARRAY_LEN(n->auth_cache)
				      ? n->auth_cache_count++
				      : (size_t)randombytes_uniform(CP_ARRAY_LEN(n->auth_cache));
		n->auth_cache[slot].account = found;
		memcpy(n->auth_cache[slot].pw_hash, h, sizeof(h));
	}
	pthread_mutex_unlock(&n->auth_lock);
out:
	if (pass) {
		sodium_memzero(pass, strlen(pass));
		MHD_free(pass);
	}
	if (user)
		MHD_free(user);
	return a;
}

/* ------------------------------------------------------------ partners */

static struct partner_view *view_get(struct node *n)
{
	struct partner_view *v;

	pthread_mutex_lock(&n->view_lock);
	v = n->view;
	if (v)
		atomic_fetch_add(&v->refs, 1);
	pthread_mutex_unlock(&n->view_lock);
	return v;
}

static void view_put(struct partner_view *v)
{
	if (!v || atomic_fetch_sub(&v->refs, 1) != 1)
		return;
	cp_partners_free(v->partners);
	cp_policy_free(v->policy);
	cp_free(v);
}

/*
 * (Re)load DIR/partners.yaml into a new view and swap it in. A file with errors is
 * refused and the view in use stays (a typo must not open or close the node to
 * anyone); the findings go to the log.
 */
static bool load_partners(struct node *n, bool first)
{
	struct partner_view *v = cp_calloc(1, sizeof(*v)), *old;
	struct cp_diag diag;
	struct stat st;
	bool ok = false;

	cp_diag_init(&diag);
	if (!v)
		goto out;
	if (stat(n->partners_path, &st) != 0)
		memset(&st, 0, sizeof(st));
	if (cp_partners_load(n->partners_path, &n->cfg, &v->partners, &diag) != CP_OK ||
	    cp_partners_policy(v->partners, &v->policy, &diag) != CP_OK) {
		for (size_t i = 0; i < diag.count; i++)
			CP_LOG_ERR("serve", "%s:%u:%u: %s", n->partners_path, diag.items[i].line,
				   diag.items[i].column, diag.items[i].message);
		CP_LOG_ERR("serve", "%s: not loaded; %s", n->partners_path,
			   first ? "no partner may connect" : "the partners loaded before stay");
		goto out;
	}
	for (size_t i = 0; i < diag.count; i++)
		CP_LOG_WRN("serve", "%s:%u:%u: %s", n->partners_path, diag.items[i].line,
			   diag.items[i].column, diag.items[i].message);
	atomic_init(&v->refs, 1);
	pthread_mutex_lock(&n->view_lock);
	old = n->view;
	n->view = v;
	n->partners_st = st;
	n->partners_seen = true;
	pthread_mutex_unlock(&n->view_lock);
	view_put(old);
	CP_LOG_INF("serve", "%s: %zu partner(s) %s", n->partners_path,
		   cp_partners_count(v->partners), first ? "loaded" : "reloaded");
	if (!first && n->audit) {
		struct cp_audit_record r = {CP_AUDIT_ADMIN, NULL, "partners reload", NULL, NULL,
					    NULL, "ok", n->partners_path, NULL};
		if (cp_audit_append(n->audit, &r, 1, false))
			CP_LOG_ERR("serve", "audit record of the reload lost");
	}
	v = NULL;
	ok = true;
out:
	if (v) {
		cp_partners_free(v->partners);
		cp_policy_free(v->policy);
		cp_free(v);
	}
	if (!ok) {
		/* do not retry the same broken file every second */
		pthread_mutex_lock(&n->view_lock);
		if (stat(n->partners_path, &n->partners_st) != 0)
			memset(&n->partners_st, 0, sizeof(n->partners_st));
		n->partners_seen = true;
		pthread_mutex_unlock(&n->view_lock);
	}
	cp_diag_release(&diag);
	return ok;
}

static void reload_if_changed(struct node *n)
{
	struct stat st;
	bool changed;

	if (stat(n->partners_path, &st) != 0)
		memset(&st, 0, sizeof(st));
	pthread_mutex_lock(&n->view_lock);
	changed = st.st_ino != n->partners_st.st_ino || st.st_size != n->partners_st.st_size ||
		  st.st_mtim.tv_sec != n->partners_st.st_mtim.tv_sec ||
		  st.st_mtim.tv_nsec != n->partners_st.st_mtim.tv_nsec;
	pthread_mutex_unlock(&n->view_lock);
	if (changed)
		load_partners(n, false);
}

/* The policy hooks of lib/taxii; policy_ctx is the request's view. */
static bool hook_can(void *pctx, const char *partner, const char *collection_id, bool write)
{
	struct partner_view *v = pctx;
	const struct cp_partner *p = v ? cp_partners_find(v->partners, partner) : NULL;

	if (!p)
		return false;
	return write ? cp_partner_may_write(p, collection_id)
		     : cp_partner_may_read(p, collection_id);
}

static bool hook_release(void *pctx, const char *partner, const char *collection_id,
			 const struct cp_store_row *row, struct cp_policy_reason *why)
{
	struct partner_view *v = pctx;
	struct cp_policy_facts facts;
	struct cp_policy_object o = {NULL, collection_id, row->origin, &facts};

	cp_taxii_row_facts(row, &facts);
	return v && cp_policy_decide(v->policy, partner, &o, why) == CP_POLICY_RELEASE;
}

static char *hook_rewrite(void *pctx, const char *partner, const struct cp_store_row *row)
{
	struct partner_view *v = pctx;
	const struct cp_partner *p = v ? cp_partners_find(v->partners, partner) : NULL;
	json_t *obj;
	char *out = NULL;

	/* anonymise: the submitter is not named (its own objects go back unchanged) */
	if (!p || !p->agreement.anonymise || (row->origin && strcmp(row->origin, partner) == 0))
		return NULL;
	obj = json_loadb(row->json, row->json_len, 0, NULL);
	if (obj && json_object_get(obj, "created_by_ref") &&
	    json_object_set_new(obj, "created_by_ref", json_string(NEUTRAL_IDENTITY)) == 0)
		out = json_dumps(obj, JSON_COMPACT);
	json_decref(obj);
	return out;
}

static const struct cp_taxii_policy policy_hooks = {hook_can, hook_release, hook_rewrite};

/* Sync pushes go through the same gate, with the partners as they are at that pass. */
static const struct cp_policy *sync_policy_acquire(void *ctx, void **handle)
{
	struct partner_view *v = view_get(ctx);

	*handle = v;
	return v ? v->policy : NULL;
}

static void on_write(void *ctx, const char *collection_id)
{
	cp_sync_notify(ctx, collection_id);
}

static void sync_policy_release(void *ctx, void *handle)
{
	(void)ctx;
	view_put(handle);
}

static void audit_auth_failure(struct node *n, const char *who, const char *reason,
			       const char *detail, const char *rid)
{
	struct cp_audit_record r = {CP_AUDIT_DENY, who, "authenticate", NULL, NULL, NULL,
				    reason, detail, rid};

	if (n->audit && cp_audit_append(n->audit, &r, 1, false))
		CP_LOG_ERR("serve", "req=%s: audit record of a refused login lost", rid);
}

/* Who the client certificate says: a local account or a partner (or nobody). */
struct principal {
	const struct cp_config_account *account;
	const char *partner;
	struct partner_view *view; /* referenced while the request runs */
};

static void cert_auth(struct node *n, struct MHD_Connection *conn, struct principal *who,
		      const char *rid)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_GNUTLS_SESSION);
	gnutls_session_t session;
	const gnutls_datum_t *certs;
	unsigned int count = 0, status = 0;
	char fp[CP_PKI_FINGERPRINT_MAX];
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t dn = {NULL, 0};
	const struct cp_partner *p;

	if (!ci || !ci->tls_session)
		return;
	session = (gnutls_session_t)ci->tls_session;
	certs = gnutls_certificate_get_peers(session, &count);
	if (!certs || count == 0)
		return;
	/* the chain must verify against the configured client CA, for client use, and be
	 * within its validity period */
	{
		gnutls_typed_vdata_st purpose = {GNUTLS_DT_KEY_PURPOSE_OID,
						 (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT, 0};
		if (gnutls_certificate_verify_peers(session, &purpose, 1, &status) !=
			    GNUTLS_E_SUCCESS ||
		    status != 0) {
			char why[64];
			snprintf(why, sizeof(why), "gnutls verification status 0x%x", status);
			audit_auth_failure(n, NULL, "bad-certificate", why, rid);
			return;
		}
	}
	if (cp_pki_spki_fingerprint_der(certs[0].data, certs[0].size, fp) != CP_OK)
		return;
	for (size_t i = 0; i < n->cfg.account_count; i++)
		if (n->cfg.accounts[i].client_cert_fingerprint &&
		    strcmp(n->cfg.accounts[i].client_cert_fingerprint, fp) == 0) {
			who->account = &n->cfg.accounts[i];
			return;
		}
	if (n->has_initial && n->initial.client_cert_fingerprint &&
	    strcmp(n->initial.client_cert_fingerprint, fp) == 0) {
		who->account = &n->initial;
		return;
	}
	if (gnutls_x509_crt_init(&crt) == 0 &&
	    gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0)
		gnutls_x509_crt_get_dn3(crt, &dn, 0);
	p = who->view ? cp_partners_find_cert(who->view->partners, fp,
					      dn.data ? (const char *)dn.data : NULL)
		      : NULL;
	if (p)
		who->partner = p->name;
	else
		audit_auth_failure(n, NULL, "unknown-certificate", fp, rid);
	gnutls_free(dn.data);
	if (crt)
		gnutls_x509_crt_deinit(crt);
}

/* "Authorization: Bearer cpt_..." */
static void token_auth(struct node *n, const char *token, struct principal *who,
		       const char *user, const char *rid)
{
	struct cp_partners_token_check chk;

	if (!who->view)
		return;
	if (cp_partners_check_token(who->view->partners, token, cp_time_now(), &chk) == CP_OK &&
	    (!user || strcmp(user, chk.partner->name) == 0)) {
		who->partner = chk.partner->name;
		return;
	}
	audit_auth_failure(n, chk.owner ? chk.owner->name : user,
			   user && chk.partner ? "token-user-mismatch" : chk.reason, NULL, rid);
}

static void authenticate(struct node *n, struct MHD_Connection *conn, struct principal *who,
			 const char *rid)
{
	const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_AUTHORIZATION);

	memset(who, 0, sizeof(*who));
	who->view = view_get(n);
	cert_auth(n, conn, who, rid);
	if (who->account || who->partner || !authz)
		return;
	if (strncasecmp(authz, "Bearer ", 7) == 0) {
		const char *t = authz + 7;
		while (*t == ' ')
			t++;
		token_auth(n, t, who, NULL, rid);
		return;
	}
	{
		char *pass = NULL;
		char *user = MHD_basic_auth_get_username_password(conn, &pass);
		/* a partner's token as the password of Basic, with its name as user */
		if (user && pass && strncmp(pass, CP_PARTNER_TOKEN_PREFIX,
					    strlen(CP_PARTNER_TOKEN_PREFIX)) == 0 &&
		    who->view && cp_partners_find(who->view->partners, user))
			token_auth(n, pass, who, user, rid);
		if (pass) {
			sodium_memzero(pass, strlen(pass));
			MHD_free(pass);
		}
		if (user)
			MHD_free(user);
	}
	if (!who->partner) {
		who->account = basic_auth(n, conn);
		if (!who->account)
			audit_auth_failure(n, NULL, "bad-password", NULL, rid);
	}
}

/* ---------------------------------------------------------------- HTTP */

struct query_params {
	struct cp_taxii_param items[64];
	size_t count;
	bool overflow;
};

static enum MHD_Result collect_param(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct query_params *p = cls;
	(void)kind;
	if (p->count == CP_ARRAY_LEN(p->items)) {
		p->overflow = true;
		return MHD_NO;
	}
	p->items[p->count].key = key;
	p->items[p->count].value = value;
	p->count++;
	return MHD_YES;
}

static enum MHD_Result send_response(struct MHD_Connection *conn, struct cp_taxii_response *r,
			    bool is_head)
{
	struct MHD_Response *resp;
	enum MHD_Result ret;
	char *body = r->body;
	size_t len = r->body_len;

	if (is_head) {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(len, body, cp_free);
		r->body = NULL; /* MHD owns it now */
	}
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
				r->content_type ? r->content_type : CP_TAXII_MEDIA_TYPE);
	if (r->date_added_first[0])
		MHD_add_response_header(resp, "X-TAXII-Date-Added-First", r->date_added_first);
	if (r->date_added_last[0])
		MHD_add_response_header(resp, "X-TAXII-Date-Added-Last", r->date_added_last);
	MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "Strict-Transport-Security", "max-age=31536000");
	if (r->www_authenticate)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
					"Basic realm=\"cyberpact\", charset=\"UTF-8\"");
	ret = MHD_queue_response(conn, r->status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 + (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_size, void **con_cls)
{
	struct node *n = cls;
	struct request_state *rs = *con_cls;
	struct cp_taxii_request req;
	struct cp_taxii_response resp;
	struct query_params params;
	enum MHD_Result ret;
	char rid[32];

	(void)version;
	if (!rs) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							     MHD_HTTP_HEADER_CONTENT_LENGTH);
		rs = cp_calloc(1, sizeof(*rs));
		if (!rs)
			return MHD_NO;
		cp_buf_init(&rs->body, n->cfg.max_content_length);
		rs->id = atomic_fetch_add(&n->request_seq, 1) + 1;
		clock_gettime(CLOCK_MONOTONIC, &rs->start);
		*con_cls = rs;
		/* refuse an oversized body before reading any of it */
		if (cl) {
			char *end = NULL;
			unsigned long long v = strtoull(cl, &end, 10);
			if (end && !*end && v > n->cfg.max_content_length)
				rs->too_big = true;
		}
		if (!rs->too_big)
			return MHD_YES;
	}
	if (*upload_size) {
		if (!rs->too_big) {
			cp_buf_append(&rs->body, upload_data, *upload_size);
			if (cp_buf_finish(&rs->body) == CP_ETOOBIG)
				rs->too_big = true;
		}
		*upload_size = 0;
		return MHD_YES;
	}
	memset(&resp, 0, sizeof(resp));
	if (rs->too_big) {
		char msg[128];
		snprintf(msg, sizeof(msg), "the body is larger than max_content_length (%zu bytes)",
			 n->cfg.max_content_length);
		cp_taxii_error(&resp, 413, "Request too large", msg);
	} else if (cp_buf_finish(&rs->body)) {
		cp_taxii_error(&resp, 500, "Internal error", "out of memory");
	} else {
		memset(&params, 0, sizeof(params));
		MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_param, &params);
		if (params.overflow) {
			cp_taxii_error(&resp, 400, "Too many parameters",
				       "at most 64 query parameters");
		} else {
			struct principal who;
			snprintf(rid, sizeof(rid), "%lu", rs->id);
			authenticate(n, conn, &who, rid);
			memset(&req, 0, sizeof(req));
			req.method = method;
			req.path = url;
			req.params = params.items;
			req.param_count = params.count;
			req.accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
								 MHD_HTTP_HEADER_ACCEPT);
			req.content_type = MHD_lookup_connection_value(
				conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
			req.body = rs->body.ptr;
			req.body_len = rs->body.len;
			req.account = who.account;
			req.partner = who.partner;
			req.policy_ctx = who.view;
			req.request_id = rid;
			cp_taxii_handle(n->taxii, &req, &resp);
			view_put(who.view);
		}
	}
	CP_LOG_INF("serve", "req=%lu %s %s -> %u (%zu bytes, %.1f ms)", rs->id, method, url,
		   resp.status, resp.body_len, ms_since(&rs->start));
	ret = send_response(conn, &resp, strcmp(method, "HEAD") == 0);
	cp_taxii_response_release(&resp);
	return ret;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct request_state *rs = *con_cls;
	(void)cls;
	(void)conn;
	(void)toe;
	if (rs) {
		cp_buf_release(&rs->body);
		cp_free(rs);
		*con_cls = NULL;
	}
}

static char *read_text(const char *path)
{
	char *text = NULL;
	size_t len = 0;
	if (cp_cli_read_file(path, 1 << 20, &text, &len) != CP_OK)
		return NULL;
	return text;
}

static bool parse_listen(const char *s, struct cp_config *cfg)
{
	const char *colon = strrchr(s, ':');
	char host[256];
	char *end = NULL;
	unsigned long port;
	size_t hl;

	if (!colon)
		return false;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || port > 65535)
		return false;
	hl = (size_t)(colon - s);
	if (hl >= sizeof(host))
		return false;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (hl >= 2 && host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	cp_free(cfg->listen_host);
	cfg->listen_host = cp_strdup(hl ? host : "0.0.0.0");
	cfg->listen_port = (unsigned)port;
	return cfg->listen_host != NULL;
}

static void print_diag(const char *what, const struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		/* configuration findings name their file and position themselves */
		if (strcmp(f->code, "config") == 0)
			fprintf(stderr, "cyberpact serve: %s\n", f->message);
		else if (f->line)
			fprintf(stderr, "cyberpact serve: %s:%u:%u: %s\n", what, f->line, f->column,
				f->message);
		else
			fprintf(stderr, "cyberpact serve: %s: %s\n", what, f->message);
	}
}

int cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"listen", required_argument, NULL, 'l'},
		{"data-dir", required_argument, NULL, 'd'}, {"threads", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	const char *config_path = NULL, *listen = NULL, *data_dir = NULL;
	char *cfg_file = NULL, *pki_dir = NULL, *cert = NULL, *key = NULL, *ca = NULL;
	char *cert_pem = NULL, *key_pem = NULL, *ca_pem = NULL, *store_path = NULL;
	char *cred_path = NULL, *user = NULL, *password = NULL, *client_crt = NULL;
	char *audit_path = NULL;
	char hash[crypto_pwhash_STRBYTES], fp[CP_PKI_FINGERPRINT_MAX];
	struct node *n = NULL;
	struct MHD_Daemon *d = NULL;
	struct cp_diag diag;
	unsigned threads = 0;
	int c, rc = CP_EXIT_ERROR;
	sigset_t sigs;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			break;
		case 'l':
			listen = optarg;
			break;
		case 'd':
			data_dir = optarg;
			break;
		case 't':
			threads = (unsigned)strtoul(optarg, NULL, 10);
			if (threads == 0 || threads > 256) {
				fprintf(stderr, "cyberpact serve: --threads takes 1..256\n");
				return CP_EXIT_ERROR;
			}
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
		fprintf(stderr, "cyberpact serve: unexpected argument '%s'\n", argv[optind]);
		return CP_EXIT_ERROR;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "cyberpact serve: cannot initialise libsodium\n");
		return CP_EXIT_ERROR;
	}
	cp_diag_init(&diag);
	n = cp_calloc(1, sizeof(*n));
	if (!n || cp_config_defaults(&n->cfg) != CP_OK) {
		fprintf(stderr, "cyberpact serve: out of memory\n");
		goto out;
	}
	pthread_mutex_init(&n->auth_lock, NULL);
	pthread_cond_init(&n->auth_free, NULL);
	{
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		n->hashing_max = cpus > 0 ? (unsigned)cpus : 1;
	}
	pthread_mutex_init(&n->view_lock, NULL);

	/* the data directory decides where a default configuration lives */
	if (data_dir) {
		cp_free(n->cfg.data_dir);
		n->cfg.data_dir = cp_strdup(data_dir);
	}
	if (mkdir(n->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "cyberpact serve: cannot create data directory '%s': %s\n",
			n->cfg.data_dir, strerror(errno));
		goto out;
	}
	if (!config_path) {
		cfg_file = path_join(n->cfg.data_dir, "cyberpact.yaml");
		if (!cfg_file || !ensure_default_config(cfg_file)) {
			fprintf(stderr, "cyberpact serve: cannot write '%s': %s\n",
				cfg_file ? cfg_file : "config", strerror(errno));
			goto out;
		}
		config_path = cfg_file;
	}
	{
		char *dd = cp_strdup(n->cfg.data_dir);
		cp_config_release(&n->cfg);
		if (!dd || cp_config_load(config_path, &n->cfg, &diag) != CP_OK) {
			print_diag(config_path, &diag);
			fprintf(stderr, "cyberpact serve: cannot load configuration '%s'\n",
				config_path);
			cp_free(dd);
			goto out;
		}
		/* --data-dir wins over the file; a default config lives in the data dir */
		if (data_dir || cfg_file) {
			cp_free(n->cfg.data_dir);
			n->cfg.data_dir = dd;
		} else {
			cp_free(dd);
		}
	}
	if (listen && !parse_listen(listen, &n->cfg)) {
		fprintf(stderr, "cyberpact serve: --listen takes HOST:PORT, not '%s'\n", listen);
		goto out;
	}
	if (mkdir(n->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
		fprintf(stderr, "cyberpact serve: cannot create data directory '%s': %s\n",
			n->cfg.data_dir, strerror(errno));
		goto out;
	}

	/* TLS material: configured, or the generated local PKI */
	pki_dir = path_join(n->cfg.data_dir, "pki");
	if (!n->cfg.tls_cert || !n->cfg.tls_key) {
		bool created = false;
		if (cp_pki_ensure(pki_dir, NULL, &created, &diag) != CP_OK) {
			print_diag("pki", &diag);
			goto out;
		}
		(void)created; /* the pki module logs what it generated */
	}
	cert = path_join(n->cfg.data_dir, n->cfg.tls_cert ? n->cfg.tls_cert : "pki/server.crt");
	key = path_join(n->cfg.data_dir, n->cfg.tls_key ? n->cfg.tls_key : "pki/server.key");
	ca = path_join(n->cfg.data_dir, n->cfg.tls_client_ca ? n->cfg.tls_client_ca : "pki/ca.crt");
	client_crt = path_join(n->cfg.data_dir, "pki/client.crt");
	cert_pem = cert ? read_text(cert) : NULL;
	key_pem = key ? read_text(key) : NULL;
	ca_pem = ca ? read_text(ca) : NULL;
	if (!cert_pem || !key_pem) {
		fprintf(stderr, "cyberpact serve: cannot read TLS certificate '%s' or key '%s'\n",
			cert ? cert : "?", key ? key : "?");
		goto out;
	}

	/* an initial account when the configuration names none */
	if (n->cfg.account_count == 0) {
		cred_path = path_join(n->cfg.data_dir, "credentials");
		if (!cred_path || !ensure_credentials(n, cred_path, &user, &password)) {
			fprintf(stderr, "cyberpact serve: cannot create or read '%s'\n",
				cred_path ? cred_path : "credentials");
			goto out;
		}
		if (crypto_pwhash_str(hash, password, strlen(password),
				      crypto_pwhash_OPSLIMIT_INTERACTIVE,
				      crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
			fprintf(stderr, "cyberpact serve: cannot hash the initial password\n");
			goto out;
		}
		n->initial.name = user;
		n->initial.password_hash = hash;
		n->initial_read[0] = (char *)"*";
		n->initial_write[0] = (char *)"*";
		n->initial.read = n->initial_read;
		n->initial.read_count = 1;
		n->initial.write = n->initial_write;
		n->initial.write_count = 1;
		if (client_crt && file_exists(client_crt) &&
		    cp_pki_spki_fingerprint_file(client_crt, fp) == CP_OK)
			n->initial.client_cert_fingerprint = fp;
		n->has_initial = true;
	}

	store_path = path_join(n->cfg.data_dir, "store.db");
	if (!store_path || cp_taxii_server_new(&n->cfg, store_path, &n->taxii, &diag) != CP_OK) {
		print_diag("store", &diag);
		fprintf(stderr, "cyberpact serve: cannot open the store '%s'\n",
			store_path ? store_path : "?");
		goto out;
	}

	audit_path = path_join(n->cfg.data_dir, "audit.db");
	if (!audit_path || cp_audit_open(audit_path, &n->audit, &diag) != CP_OK) {
		print_diag("audit", &diag);
		fprintf(stderr, "cyberpact serve: cannot open the audit trail '%s'\n",
			audit_path ? audit_path : "?");
		goto out;
	}
	cp_taxii_server_set_audit(n->taxii, n->audit);
	n->partners_path = path_join(n->cfg.data_dir, "partners.yaml");
	if (!n->partners_path)
		goto out;
	load_partners(n, true);
	cp_taxii_server_set_policy(n->taxii, &policy_hooks);
	if (n->cfg.peer_count) {
		struct cp_sync_env env;
		memset(&env, 0, sizeof(env));
		env.cfg = &n->cfg;
		env.store_path = store_path;
		env.audit = n->audit;
		env.write_lock = cp_taxii_server_write_lock(n->taxii);
		env.policy_acquire = sync_policy_acquire;
		env.policy_release = sync_policy_release;
		env.policy_ctx = n;
		if (cp_sync_new(&env, &n->sync, &diag) != CP_OK) {
			print_diag("sync", &diag);
			fprintf(stderr, "cyberpact serve: cannot set up sync with the peers\n");
			goto out;
		}
	}

	/* signals are handled by sigwait below, not by whichever thread they hit */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	{
		struct sockaddr_storage ss;
		socklen_t sl;
		/*
		 * A thread per connection by default: a request's handler blocks (the store,
		 * a POST waiting for its group commit, the audit trail), and in a pool every
		 * other connection of that thread waits with it; with four clients a pool of
		 * four could end up serving them all from one thread (docs/PERFORMANCE.md).
		 */
		unsigned flags = MHD_USE_TLS | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG |
				 (threads ? MHD_USE_EPOLL
					  : MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL);
		memset(&ss, 0, sizeof(ss));
		if (strchr(n->cfg.listen_host, ':')) {
			struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons((uint16_t)n->cfg.listen_port);
			if (inet_pton(AF_INET6, n->cfg.listen_host, &s6->sin6_addr) != 1)
				goto bad_host;
			sl = sizeof(*s6);
			flags |= MHD_USE_IPv6;
		} else {
			struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
			s4->sin_family = AF_INET;
			s4->sin_port = htons((uint16_t)n->cfg.listen_port);
			if (inet_pton(AF_INET, strcmp(n->cfg.listen_host, "localhost") == 0
						       ? "127.0.0.1"
						       : n->cfg.listen_host,
				      &s4->sin_addr) != 1)
				goto bad_host;
			sl = sizeof(*s4);
		}
		/* a pool only with --threads N: libmicrohttpd warns about a pool of size 0 */
		struct MHD_OptionItem pool[] = {
			{threads ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads,
			 NULL},
			{MHD_OPTION_END, 0, NULL},
		};
		d = MHD_start_daemon(
			flags, (uint16_t)n->cfg.listen_port, NULL, NULL, on_request, n,
			MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_HTTPS_MEM_CERT,
			cert_pem, MHD_OPTION_HTTPS_MEM_KEY, key_pem, MHD_OPTION_HTTPS_MEM_TRUST,
			ca_pem ? ca_pem : NULL, MHD_OPTION_HTTPS_PRIORITIES,
			"NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2", MHD_OPTION_ARRAY, pool,
			MHD_OPTION_CONNECTION_TIMEOUT, n->cfg.connection_timeout,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)1024,
			MHD_OPTION_NOTIFY_COMPLETED, on_completed, n, MHD_OPTION_END);
		(void)sl;
		if (!d) {
			fprintf(stderr, "cyberpact serve: cannot listen on %s:%u: %s\n",
				n->cfg.listen_host, n->cfg.listen_port, strerror(errno));
			goto out;
		}
	}
	{
		const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
		unsigned port = info ? info->port : n->cfg.listen_port;
		const char *h = n->cfg.listen_host;
		bool v6 = strchr(h, ':') != NULL;
		printf("cyberpact: node listening: https://%s%s%s:%u/taxii2/\n", v6 ? "[" : "", h,
		       v6 ? "]" : "", port);
		printf("cyberpact: data directory %s, store %s\n", n->cfg.data_dir, store_path);
		if (n->has_initial)
			printf("cyberpact: initial account '%s', password in %s; client certificate "
			       "%s/client.crt\n",
			       n->initial.name, cred_path, pki_dir);
		fflush(stdout);
	}
	if (n->sync && cp_sync_start(n->sync) != CP_OK) {
		fprintf(stderr, "cyberpact serve: cannot start the sync thread\n");
		goto out;
	}
	if (n->sync)
		cp_taxii_server_set_write_hook(n->taxii, on_write, n->sync);
	/* SIGHUP reloads the partners at once; a changed partners.yaml is noticed within
	 * a second */
	for (;;) {
		struct timespec tick = {1, 0};
		int sig = sigtimedwait(&sigs, NULL, &tick);
		if (sig == SIGHUP) {
			load_partners(n, false);
			continue;
		}
		if (sig == SIGINT || sig == SIGTERM) {
			CP_LOG_INF("serve", "signal %d: shutting down", sig);
			break;
		}
		reload_if_changed(n);
	}
	rc = CP_EXIT_OK;
	goto out;
bad_host:
	fprintf(stderr, "cyberpact serve: '%s' is not an IP address to listen on\n",
		n->cfg.listen_host);
out:
	/* requests first (a POST wakes the sync), then the sync (its passes use the
	 * store, the audit and the partners' view), then the rest */
	if (d)
		MHD_stop_daemon(d);
	if (n)
		cp_sync_free(n->sync);
	if (n && n->taxii) {
		struct cp_taxii_write_stats ws;
		cp_taxii_server_write_stats(n->taxii, &ws);
		if (ws.posts)
			CP_LOG_INF("serve", "stored %lu POST(s) in %lu commit(s)", ws.posts, ws.commits);
	}
	if (n) {
		cp_taxii_server_free(n->taxii);
		cp_audit_close(n->audit);
		view_put(n->view);
		cp_free(n->partners_path);
		pthread_mutex_destroy(&n->view_lock);
		cp_config_release(&n->cfg);
		pthread_mutex_destroy(&n->auth_lock);
		pthread_cond_destroy(&n->auth_free);
		cp_free(n);
	}
	if (password) {
		sodium_memzero(password, strlen(password));
		cp_free(password);
	}
	if (key_pem) {
		sodium_memzero(key_pem, strlen(key_pem));
		cp_free(key_pem);
	}
	cp_free(user);
	cp_free(cfg_file);
	cp_free(pki_dir);
	cp_free(cert);
	cp_free(key);
	cp_free(ca);
	cp_free(cert_pem);
	cp_free(ca_pem);
	cp_free(store_path);
	cp_free(audit_path);
	cp_free(cred_path);
	cp_free(client_crt);
	cp_diag_release(&diag);
	return rc;
}
