/*
 * Tests of the local PKI: what cp_pki_ensure() writes (files, modes, certificate
 * contents), what it refuses to touch, the SPKI fingerprint against certtool, and real
 * mutual-TLS handshakes over a socketpair with the generated files.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "testutil.h"
#include "cyberpact/pki.h"

static const char *const six[] = {"ca.crt",     "ca.key",     "server.crt",
				  "server.key", "client.crt", "client.key"};

/* ------------------------------------------------------------ fixture */

struct fx {
	char root[512]; /* mkdtemp directory, removed by teardown */
	char pki[600];  /* root/pki, not created by setup */
	char ring[8][700];
	unsigned next;
};

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	const char *tmp = getenv("TMPDIR");

	if (!f)
		return -1;
	snprintf(f->root, sizeof(f->root), "%s/cp-pki-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(f->root)) {
		free(f);
		return -1;
	}
	snprintf(f->pki, sizeof(f->pki), "%s/pki", f->root);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	rm_rf(f->root);
	free(f);
	return 0;
}

/* dir/name in one of a few rotating buffers (enough for one assertion's arguments) */
static const char *at(struct fx *f, const char *dir, const char *name)
{
	char *p = f->ring[f->next++ % 8];

	snprintf(p, sizeof(f->ring[0]), "%s/%s", dir, name);
	return p;
}

static const char *pk(struct fx *f, const char *name)
{
	return at(f, f->pki, name);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!fp)
		return NULL;
	if (fseek(fp, 0, SEEK_END) == 0 && (n = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0) {
		buf = malloc((size_t)n + 1);
		if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		if (buf) {
			buf[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(fp);
	return buf;
}

static void spit(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void spits(const char *path, const char *text)
{
	spit(path, text, strlen(text));
}

static void copy_file(const char *from, const char *to)
{
	size_t len = 0;
	char *data = slurp(from, &len);

	assert_non_null(data);
	spit(to, data, len);
	free(data);
}

/* Entries in dir besides . and ..; -1 when dir does not exist. */
static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return -1;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static unsigned file_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0)
		fail_msg("cannot stat '%s': %s", path, strerror(errno));
	return st.st_mode & 07777;
}

static bool ensure_ok(const char *dir, const char *const *extra)
{
	struct cp_diag d;
	bool created = false;
	enum cp_err err;

	cp_diag_init(&d);
	err = cp_pki_ensure(dir, extra, &created, &d);
	if (err) {
		tu_dump(&d);
		fail_msg("cp_pki_ensure('%s') failed: %s", dir, cp_err_name(err));
	}
	assert_clean(&d);
	cp_diag_release(&d);
	return created;
}

/* The finding with this code, whose message must mention `mention`. */
static void assert_finding_mentions(const struct cp_diag *d, const char *code,
				    const char *mention)
{
	const struct cp_finding *fi = tu_find(d, CP_SEV_ERROR, code, NULL);

	if (!fi) {
		tu_dump(d);
		fail_msg("expected a [%s] finding", code);
	}
	if (!strstr(fi->message, mention))
		fail_msg("finding '%s' does not mention '%s'", fi->message, mention);
}

struct snap {
	char *data[6];
	size_t len[6];
};

static void snap_take(struct fx *f, struct snap *s)
{
	for (int i = 0; i < 6; i++) {
		s->data[i] = slurp(pk(f, six[i]), &s->len[i]);
		assert_non_null(s->data[i]);
	}
}

static bool snap_same(struct fx *f, const struct snap *s, int i)
{
	size_t len = 0;
	char *now = slurp(pk(f, six[i]), &len);
	bool same = now && len == s->len[i] && memcmp(now, s->data[i], len) == 0;

	free(now);
	return same;
}

static void snap_free(struct snap *s)
{
	for (int i = 0; i < 6; i++)
		free(s->data[i]);
}

/* ------------------------------------------------------- x509 helpers */

static gnutls_x509_crt_t load_crt(const char *path)
{
	gnutls_x509_crt_t crt;
	gnutls_datum_t d;
	size_t len = 0;
	char *pem = slurp(path, &len);
	int rc;

	if (!pem)
		fail_msg("cannot read '%s'", path);
	assert_int_equal(gnutls_x509_crt_init(&crt), 0);
	d.data = (unsigned char *)pem;
	d.size = (unsigned)len;
	rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_PEM);
	free(pem);
	if (rc < 0)
		fail_msg("'%s' is not a PEM certificate: %s", path, gnutls_strerror(rc));
	return crt;
}

/* gnutls_x509_crt_verify's status for crt against the single trusted ca (0 = valid) */
static unsigned verify_status(gnutls_x509_crt_t crt, gnutls_x509_crt_t ca)
{
	unsigned status = ~0u;

	assert_int_equal(gnutls_x509_crt_verify(crt, &ca, 1, 0, &status), 0);
	return status;
}

/* All subjectAltNames as "DNS:a,IP:b,...". */
static void san_list(gnutls_x509_crt_t crt, char *out, size_t cap)
{
	size_t used = 0;

	out[0] = '\0';
	for (unsigned i = 0;; i++) {
		unsigned char buf[256];
		char text[INET6_ADDRSTRLEN + 8];
		size_t size = sizeof(buf);
		unsigned critical = 0;
		int type = gnutls_x509_crt_get_subject_alt_name(crt, i, buf, &size, &critical);

		if (type == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
			break;
		assert_true(type >= 0);
		if (type == GNUTLS_SAN_DNSNAME) {
			snprintf(text, sizeof(text), "DNS:%.*s", (int)size, (const char *)buf);
		} else if (type == GNUTLS_SAN_IPADDRESS) {
			char ip[INET6_ADDRSTRLEN];
			assert_non_null(inet_ntop(size == 4 ? AF_INET : AF_INET6, buf, ip,
						  sizeof(ip)));
			snprintf(text, sizeof(text), "IP:%s", ip);
		} else {
			snprintf(text, sizeof(text), "type%d", type);
		}
		used += (size_t)snprintf(out + used, cap - used, "%s%s", used ? "," : "", text);
		assert_true(used < cap);
	}
}

/* The one extendedKeyUsage purpose of crt ("" if there is none, fails if several). */
static void only_purpose(gnutls_x509_crt_t crt, char *out, size_t cap)
{
	unsigned critical = 0;
	size_t size = cap;
	char more[128];
	int rc = gnutls_x509_crt_get_key_purpose_oid(crt, 0, out, &size, &critical);

	if (rc == GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE) {
		out[0] = '\0';
		return;
	}
	assert_int_equal(rc, 0);
	size = sizeof(more);
	assert_int_equal(gnutls_x509_crt_get_key_purpose_oid(crt, 1, more, &size, &critical),
			 GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE);
}

static void assert_cn(gnutls_x509_crt_t crt, const char *want)
{
	char cn[256];
	size_t size = sizeof(cn);

	assert_int_equal(gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0,
						       cn, &size),
			 0);
	assert_string_equal(cn, want);
}

static void assert_p256_sha256(gnutls_x509_crt_t crt)
{
	gnutls_ecc_curve_t curve = GNUTLS_ECC_CURVE_INVALID;
	gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};

	assert_int_equal(gnutls_x509_crt_get_pk_algorithm(crt, NULL), GNUTLS_PK_ECDSA);
	assert_int_equal(gnutls_x509_crt_get_pk_ecc_raw(crt, &curve, &x, &y), 0);
	assert_int_equal(curve, GNUTLS_ECC_CURVE_SECP256R1);
	gnutls_free(x.data);
	gnutls_free(y.data);
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(crt), GNUTLS_SIGN_ECDSA_SHA256);
	assert_int_equal(gnutls_x509_crt_get_version(crt), 3);
}

/* not-before one hour back, not-after `days` after generation */
static void assert_validity(gnutls_x509_crt_t crt, time_t before_call, long days)
{
	time_t nb = gnutls_x509_crt_get_activation_time(crt);
	time_t na = gnutls_x509_crt_get_expiration_time(crt);

	assert_true(nb >= before_call - 3600 && nb <= time(NULL) - 3600);
	assert_int_equal((long long)(na - nb), (long long)days * 86400 + 3600);
}

static void serial_of(gnutls_x509_crt_t crt, unsigned char *out, size_t *len)
{
	assert_int_equal(gnutls_x509_crt_get_serial(crt, out, len), 0);
}

/* ------------------------------------------------------- generation */

static void test_generate_files_and_modes(void **state)
{
	struct fx *f = *state;

	assert_true(ensure_ok(f->pki, NULL));
	assert_int_equal(file_mode(f->pki), 0700);
	/* six files and no leftover temporary file */
	assert_int_equal(count_entries(f->pki), 6);
	for (int i = 0; i < 6; i++) {
		size_t len = 0;
		char *pem = slurp(pk(f, six[i]), &len);
		bool is_key = strstr(six[i], ".key") != NULL;

		assert_non_null(pem);
		assert_int_equal(file_mode(pk(f, six[i])), is_key ? 0600 : 0644);
		assert_non_null(strstr(pem, is_key ? "-----BEGIN PRIVATE KEY-----"
						   : "-----BEGIN CERTIFICATE-----"));
		free(pem);
	}
}

static void test_existing_empty_dir_is_used(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(f->pki, 0750), 0);
	assert_true(ensure_ok(f->pki, NULL));
	assert_int_equal(count_entries(f->pki), 6);
	/* an existing directory keeps the mode the operator gave it */
	assert_int_equal(file_mode(f->pki), 0750);
}

static void test_ca_certificate(void **state)
{
	struct fx *f = *state;
	time_t t0 = time(NULL);
	gnutls_x509_crt_t ca;
	unsigned ca_flag = 0, critical = 0, usage = 0;
	int pathlen = -2;
	unsigned char id[64];
	size_t id_len = sizeof(id);

	assert_true(ensure_ok(f->pki, NULL));
	ca = load_crt(pk(f, "ca.crt"));
	assert_p256_sha256(ca);
	assert_cn(ca, "cyberpact local CA");
	assert_int_equal(verify_status(ca, ca), 0);
	assert_int_equal(gnutls_x509_crt_check_issuer(ca, ca), 1);
	assert_true(gnutls_x509_crt_get_basic_constraints(ca, &critical, &ca_flag, &pathlen) >= 0);
	assert_int_equal(ca_flag, 1);
	assert_int_equal(pathlen, 0);
	assert_true(gnutls_x509_crt_get_key_usage(ca, &usage, &critical) >= 0);
	assert_int_equal(usage, GNUTLS_KEY_KEY_CERT_SIGN | GNUTLS_KEY_CRL_SIGN);
	assert_int_equal(gnutls_x509_crt_get_subject_key_id(ca, id, &id_len, &critical), 0);
	assert_true(id_len > 0);
	assert_validity(ca, t0, 3653);
	gnutls_x509_crt_deinit(ca);
}

static void test_server_certificate(void **state)
{
	static const char *const extra[] = {"node.example.org", "192.0.2.7", "2001:db8::1",
					    "LOCALHOST", "127.0.0.1", "0:0:0:0:0:0:0:1", NULL};
	struct fx *f = *state;
	time_t t0 = time(NULL);
	gnutls_x509_crt_t ca, srv;
	unsigned ca_flag = 1, critical = 0, usage = 0;
	unsigned char ski[64], aki[64];
	size_t ski_len = sizeof(ski), aki_len = sizeof(aki);
	char sans[1024], purpose[128];

	assert_true(ensure_ok(f->pki, extra));
	ca = load_crt(pk(f, "ca.crt"));
	srv = load_crt(pk(f, "server.crt"));

	assert_int_equal(verify_status(srv, ca), 0);
	assert_int_equal(gnutls_x509_crt_check_issuer(srv, ca), 1);
	assert_p256_sha256(srv);
	assert_cn(srv, "cyberpact server");
	assert_validity(srv, t0, 825);

	/* defaults first, then the extra names; the duplicates of defaults are dropped */
	san_list(srv, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:node.example.org,"
				  "IP:192.0.2.7,IP:2001:db8::1");
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "localhost"), 1);
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "127.0.0.1"), 1);
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "::1"), 1);
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "node.example.org"), 1);
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "192.0.2.7"), 1);
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "other.example.org"), 0);
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "192.0.2.8"), 0);

	assert_true(gnutls_x509_crt_get_basic_constraints(srv, &critical, &ca_flag, NULL) >= 0);
	assert_int_equal(ca_flag, 0);
	assert_true(gnutls_x509_crt_get_key_usage(srv, &usage, &critical) >= 0);
	assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
	only_purpose(srv, purpose, sizeof(purpose));
	assert_string_equal(purpose, GNUTLS_KP_TLS_WWW_SERVER);

	assert_int_equal(gnutls_x509_crt_get_subject_key_id(ca, ski, &ski_len, &critical), 0);
	assert_int_equal(gnutls_x509_crt_get_authority_key_id(srv, aki, &aki_len, &critical), 0);
	assert_memory_equal(aki, ski, ski_len);
	assert_int_equal(aki_len, ski_len);

	gnutls_x509_crt_deinit(srv);
	gnutls_x509_crt_deinit(ca);
}

static void test_server_default_names(void **state)
{
	struct fx *f = *state;
	gnutls_x509_crt_t srv;
	char sans[512];

	assert_true(ensure_ok(f->pki, NULL));
	srv = load_crt(pk(f, "server.crt"));
	san_list(srv, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:localhost,IP:127.0.0.1,IP:::1");
	gnutls_x509_crt_deinit(srv);
}

static void test_client_certificate(void **state)
{
	struct fx *f = *state;
	gnutls_x509_crt_t ca, cli;
	unsigned ca_flag = 1, critical = 0, usage = 0;
	char purpose[128], sans[64];

	assert_true(ensure_ok(f->pki, NULL));
	ca = load_crt(pk(f, "ca.crt"));
	cli = load_crt(pk(f, "client.crt"));
	assert_int_equal(verify_status(cli, ca), 0);
	assert_p256_sha256(cli);
	assert_cn(cli, "cyberpact client");
	only_purpose(cli, purpose, sizeof(purpose));
	assert_string_equal(purpose, GNUTLS_KP_TLS_WWW_CLIENT);
	assert_true(gnutls_x509_crt_get_basic_constraints(cli, &critical, &ca_flag, NULL) >= 0);
	assert_int_equal(ca_flag, 0);
	assert_true(gnutls_x509_crt_get_key_usage(cli, &usage, &critical) >= 0);
	assert_int_equal(usage, GNUTLS_KEY_DIGITAL_SIGNATURE);
	san_list(cli, sans, sizeof(sans));
	assert_string_equal(sans, "");
	gnutls_x509_crt_deinit(cli);
	gnutls_x509_crt_deinit(ca);
}

static void test_serials_random_and_positive(void **state)
{
	struct fx *f = *state;
	unsigned char s[3][32];
	size_t len[3];
	const char *names[3] = {"ca.crt", "server.crt", "client.crt"};

	assert_true(ensure_ok(f->pki, NULL));
	for (int i = 0; i < 3; i++) {
		gnutls_x509_crt_t crt = load_crt(pk(f, names[i]));
		len[i] = sizeof(s[i]);
		serial_of(crt, s[i], &len[i]);
		gnutls_x509_crt_deinit(crt);
		assert_int_equal(len[i], 16);
		assert_int_equal(s[i][0] & 0x80, 0); /* a DER INTEGER serial must be positive */
		assert_int_not_equal(s[i][0], 0);
	}
	assert_memory_not_equal(s[0], s[1], 16);
	assert_memory_not_equal(s[0], s[2], 16);
	assert_memory_not_equal(s[1], s[2], 16);
}

/* ---------------------------------------------------- idempotence, reuse */

static void test_second_call_creates_nothing(void **state)
{
	static const char *const other[] = {"changed.example.org", NULL};
	struct fx *f = *state;
	struct snap s;

	assert_true(ensure_ok(f->pki, NULL));
	snap_take(f, &s);
	assert_false(ensure_ok(f->pki, NULL));
	/* different names do not replace an existing server certificate either */
	assert_false(ensure_ok(f->pki, other));
	for (int i = 0; i < 6; i++)
		assert_true(snap_same(f, &s, i));
	assert_int_equal(count_entries(f->pki), 6);
	snap_free(&s);
}

static void test_missing_leaf_is_signed_by_same_ca(void **state)
{
	static const char *const extra[] = {"again.example.org", NULL};
	struct fx *f = *state;
	struct snap s;
	gnutls_x509_crt_t ca, srv;
	char sans[512];

	assert_true(ensure_ok(f->pki, NULL));
	snap_take(f, &s);
	assert_int_equal(unlink(pk(f, "server.crt")), 0);
	assert_int_equal(unlink(pk(f, "server.key")), 0);

	assert_true(ensure_ok(f->pki, extra));
	assert_true(snap_same(f, &s, 0)); /* ca.crt */
	assert_true(snap_same(f, &s, 1)); /* ca.key */
	assert_false(snap_same(f, &s, 2));
	assert_false(snap_same(f, &s, 3));
	assert_true(snap_same(f, &s, 4));
	assert_true(snap_same(f, &s, 5));
	assert_int_equal(file_mode(pk(f, "server.key")), 0600);
	assert_int_equal(file_mode(pk(f, "server.crt")), 0644);
	assert_int_equal(count_entries(f->pki), 6);

	ca = load_crt(pk(f, "ca.crt"));
	srv = load_crt(pk(f, "server.crt"));
	assert_int_equal(verify_status(srv, ca), 0);
	san_list(srv, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:again.example.org");
	gnutls_x509_crt_deinit(srv);

	/* the same for the client pair */
	assert_int_equal(unlink(pk(f, "client.crt")), 0);
	assert_int_equal(unlink(pk(f, "client.key")), 0);
	assert_true(ensure_ok(f->pki, NULL));
	assert_true(snap_same(f, &s, 0));
	assert_true(snap_same(f, &s, 1));
	assert_false(snap_same(f, &s, 4));
	srv = load_crt(pk(f, "client.crt"));
	assert_int_equal(verify_status(srv, ca), 0);
	gnutls_x509_crt_deinit(srv);
	gnutls_x509_crt_deinit(ca);
	snap_free(&s);
}

/* An operator's own CA (here RSA, made by certtool) signs the generated leaves. */
static void test_operator_ca_is_reused(void **state)
{
	struct fx *f = *state;
	char cmd[2048];
	const char *tmpl = at(f, f->root, "ca.tmpl");
	gnutls_x509_crt_t ca, srv;
	size_t before_len = 0, after_len = 0;
	char *before, *after;

	if (system("certtool --version >/dev/null 2>&1") != 0) {
		print_message("certtool not found: operator CA test skipped\n");
		skip();
	}
	assert_int_equal(mkdir(f->pki, 0700), 0);
	spits(tmpl, "cn = \"Operator CA\"\nca\ncert_signing_key\nexpiration_days = 3650\n");
	snprintf(cmd, sizeof(cmd),
		 "certtool --generate-privkey --key-type rsa --bits 2048 --outfile '%s' "
		 ">/dev/null 2>&1 && certtool --generate-self-signed --load-privkey '%s' "
		 "--template '%s' --outfile '%s' >/dev/null 2>&1",
		 pk(f, "ca.key"), pk(f, "ca.key"), tmpl, pk(f, "ca.crt"));
	assert_int_equal(system(cmd), 0);
	before = slurp(pk(f, "ca.crt"), &before_len);
	assert_non_null(before);

	assert_true(ensure_ok(f->pki, NULL));
	ca = load_crt(pk(f, "ca.crt"));
	srv = load_crt(pk(f, "server.crt"));
	assert_int_equal(verify_status(srv, ca), 0);
	assert_int_equal(gnutls_x509_crt_get_signature_algorithm(srv), GNUTLS_SIGN_RSA_SHA256);
	gnutls_x509_crt_deinit(srv);
	srv = load_crt(pk(f, "client.crt"));
	assert_int_equal(verify_status(srv, ca), 0);
	gnutls_x509_crt_deinit(srv);
	gnutls_x509_crt_deinit(ca);

	after = slurp(pk(f, "ca.crt"), &after_len);
	assert_non_null(after);
	assert_int_equal(after_len, before_len);
	assert_memory_equal(after, before, before_len);
	free(after);
	free(before);
}

/* ------------------------------------------------------------- refusals */

/* cp_pki_ensure(f->pki) must fail with err and a [code] finding mentioning `mention`. */
static void assert_refused(struct fx *f, const char *const *extra, enum cp_err want,
			   const char *code, const char *mention)
{
	struct cp_diag d;
	bool created = true;

	cp_diag_init(&d);
	assert_int_equal(cp_pki_ensure(f->pki, extra, &created, &d), want);
	assert_finding_mentions(&d, code, mention);
	assert_true(created); /* out-parameter untouched on error */
	cp_diag_release(&d);
}

static void test_ca_crt_without_key(void **state)
{
	struct fx *f = *state;
	const char *other = at(f, f->root, "other");

	assert_true(ensure_ok(other, NULL));
	assert_int_equal(mkdir(f->pki, 0700), 0);
	copy_file(at(f, other, "ca.crt"), pk(f, "ca.crt"));

	assert_refused(f, NULL, CP_ECONFLICT, "pki-conflict", pk(f, "ca.key"));
	assert_int_equal(count_entries(f->pki), 1);
}

static void test_ca_key_without_crt(void **state)
{
	struct fx *f = *state;
	const char *other = at(f, f->root, "other");
	struct stat st;

	assert_true(ensure_ok(other, NULL));
	assert_int_equal(mkdir(f->pki, 0700), 0);
	copy_file(at(f, other, "ca.key"), pk(f, "ca.key"));

	assert_refused(f, NULL, CP_ECONFLICT, "pki-conflict", pk(f, "ca.crt"));
	assert_int_equal(count_entries(f->pki), 1);
	assert_int_equal(stat(pk(f, "ca.crt"), &st), -1);
}

/* A CA key moved offline after generation is fine until something needs signing. */
static void test_ca_key_moved_offline(void **state)
{
	struct fx *f = *state;
	struct snap s;

	assert_true(ensure_ok(f->pki, NULL));
	snap_take(f, &s);
	assert_int_equal(unlink(pk(f, "ca.key")), 0);
	assert_false(ensure_ok(f->pki, NULL));
	assert_int_equal(count_entries(f->pki), 5);
	for (int i = 0; i < 6; i++)
		if (i != 1)
			assert_true(snap_same(f, &s, i));

	assert_int_equal(unlink(pk(f, "client.crt")), 0);
	assert_int_equal(unlink(pk(f, "client.key")), 0);
	assert_refused(f, NULL, CP_ECONFLICT, "pki-conflict", pk(f, "ca.key"));
	assert_int_equal(count_entries(f->pki), 3);
	snap_free(&s);
}

static void test_ca_key_of_another_ca(void **state)
{
	struct fx *f = *state;
	const char *a = at(f, f->root, "a");
	const char *b = at(f, f->root, "b");

	assert_true(ensure_ok(a, NULL));
	assert_true(ensure_ok(b, NULL));
	assert_int_equal(mkdir(f->pki, 0700), 0);
	copy_file(at(f, a, "ca.crt"), pk(f, "ca.crt"));
	copy_file(at(f, b, "ca.key"), pk(f, "ca.key"));

	assert_refused(f, NULL, CP_ECONFLICT, "pki-conflict", pk(f, "ca.key"));
	assert_int_equal(count_entries(f->pki), 2);
}

static void test_ca_that_is_not_a_ca(void **state)
{
	struct fx *f = *state;
	const char *a = at(f, f->root, "a");

	/* a leaf pair put in place of the CA cannot sign anything that verifies */
	assert_true(ensure_ok(a, NULL));
	assert_int_equal(mkdir(f->pki, 0700), 0);
	copy_file(at(f, a, "server.crt"), pk(f, "ca.crt"));
	copy_file(at(f, a, "server.key"), pk(f, "ca.key"));

	assert_refused(f, NULL, CP_ECONFLICT, "pki-conflict", pk(f, "ca.crt"));
	assert_int_equal(count_entries(f->pki), 2);
}

static void test_garbage_ca(void **state)
{
	struct fx *f = *state;
	const char *a = at(f, f->root, "a");

	assert_true(ensure_ok(a, NULL));
	assert_int_equal(mkdir(f->pki, 0700), 0);
	spits(pk(f, "ca.crt"), "not a certificate\n");
	copy_file(at(f, a, "ca.key"), pk(f, "ca.key"));

	assert_refused(f, NULL, CP_EBACKEND, "pki-gnutls", pk(f, "ca.crt"));
	assert_int_equal(count_entries(f->pki), 2);
}

static void test_half_leaf_pair(void **state)
{
	struct fx *f = *state;
	struct snap s;

	assert_true(ensure_ok(f->pki, NULL));
	snap_take(f, &s);
	assert_int_equal(unlink(pk(f, "server.crt")), 0);
	assert_refused(f, NULL, CP_ECONFLICT, "pki-conflict", pk(f, "server.key"));
	assert_int_equal(count_entries(f->pki), 5);
	assert_true(snap_same(f, &s, 3)); /* server.key untouched */
	snap_free(&s);
}

static void test_leaves_without_ca(void **state)
{
	struct fx *f = *state;

	assert_true(ensure_ok(f->pki, NULL));
	assert_int_equal(unlink(pk(f, "ca.crt")), 0);
	assert_int_equal(unlink(pk(f, "ca.key")), 0);
	assert_refused(f, NULL, CP_ECONFLICT, "pki-conflict", pk(f, "ca.crt"));
	assert_int_equal(count_entries(f->pki), 4);
}

static void test_bad_extra_name(void **state)
{
	static const char *const bad[][2] = {
		{"bad name", NULL},    {"", NULL},          {"a..b", NULL},
		{"x.*.example", NULL}, {"é.example", NULL}, {"1.2.3.4.5:80", NULL},
	};
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct cp_diag d;
		bool created = false;

		cp_diag_init(&d);
		assert_int_equal(cp_pki_ensure(f->pki, bad[i], &created, &d), CP_EINVAL);
		assert_finding_mentions(&d, "pki-name", bad[i][0]);
		cp_diag_release(&d);
		/* nothing at all is written, not even the directory */
		assert_int_equal(count_entries(f->pki), -1);
	}
}

static void test_good_extra_names(void **state)
{
	static const char *const names[] = {"*.nodes.example.org", "under_score.local", "a-b.c",
					    "10.0.0.1", "fe80::1", NULL};
	struct fx *f = *state;
	gnutls_x509_crt_t srv;
	char sans[1024];

	assert_true(ensure_ok(f->pki, names));
	srv = load_crt(pk(f, "server.crt"));
	san_list(srv, sans, sizeof(sans));
	assert_string_equal(sans, "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:*.nodes.example.org,"
				  "DNS:under_score.local,DNS:a-b.c,IP:10.0.0.1,IP:fe80::1");
	assert_int_equal(gnutls_x509_crt_check_hostname(srv, "x.nodes.example.org"), 1);
	gnutls_x509_crt_deinit(srv);
}

static void test_bad_arguments(void **state)
{
	struct fx *f = *state;
	bool created = false;

	assert_int_equal(cp_pki_ensure(NULL, NULL, &created, NULL), CP_EINVAL);
	assert_int_equal(cp_pki_ensure("", NULL, &created, NULL), CP_EINVAL);
	assert_int_equal(cp_pki_ensure(f->pki, NULL, NULL, NULL), CP_EINVAL);
	assert_int_equal(count_entries(f->pki), -1);
}

static void test_unwritable_dir(void **state)
{
	struct fx *f = *state;
	const char *file = at(f, f->root, "plain-file");
	const char *under_file = at(f, file, "pki");
	const char *no_parent = at(f, f->root, "missing/pki");
	struct cp_diag d;
	bool created = false;

	/* a path through a regular file: fails for root as well */
	spits(file, "x");
	cp_diag_init(&d);
	assert_int_equal(cp_pki_ensure(under_file, NULL, &created, &d), CP_EIO);
	assert_finding_mentions(&d, "pki-io", under_file);
	cp_diag_release(&d);

	/* the parent does not exist (only the last component is created) */
	cp_diag_init(&d);
	assert_int_equal(cp_pki_ensure(no_parent, NULL, &created, &d), CP_EIO);
	assert_finding_mentions(&d, "pki-io", no_parent);
	cp_diag_release(&d);

	/* the directory itself is a file */
	cp_diag_init(&d);
	assert_int_equal(cp_pki_ensure(file, NULL, &created, &d), CP_EIO);
	assert_finding_mentions(&d, "pki-io", file);
	cp_diag_release(&d);

	/* a read-only directory (permissions do not stop root, so only for other users) */
	if (geteuid() == 0) {
		print_message("running as root: read-only directory case skipped\n");
		return;
	}
	assert_int_equal(mkdir(f->pki, 0500), 0);
	cp_diag_init(&d);
	assert_int_equal(cp_pki_ensure(f->pki, NULL, &created, &d), CP_EIO);
	assert_finding_mentions(&d, "pki-io", f->pki);
	cp_diag_release(&d);
	assert_int_equal(count_entries(f->pki), 0);
	assert_int_equal(chmod(f->pki, 0700), 0);
}

/* Every allocation that can fail does so cleanly: CP_ENOMEM, no leak, no half state. */
static void test_allocation_failures(void **state)
{
	struct fx *f = *state;
	bool done = false;

	for (int pass = 0; pass < 2; pass++) {
		/* pass 0: from nothing; pass 1: an existing CA is loaded and reused */
		done = false;
		for (unsigned long n = 1; n < 500 && !done; n++) {
			struct cp_diag d;
			bool created = false;
			enum cp_err err;
			int entries;

			rm_rf(f->pki);
			if (pass == 1) {
				assert_true(ensure_ok(f->pki, NULL));
				assert_int_equal(unlink(pk(f, "client.crt")), 0);
				assert_int_equal(unlink(pk(f, "client.key")), 0);
			}
			cp_diag_init(&d);
			cp_alloc_fail_after(n, false);
			err = cp_pki_ensure(f->pki, NULL, &created, &d);
			cp_alloc_fail_after(0, false);
			cp_diag_release(&d);
			entries = count_entries(f->pki);
			if (err == CP_OK) {
				assert_true(created);
				assert_int_equal(entries, 6);
				done = true;
				continue;
			}
			assert_int_equal(err, CP_ENOMEM);
			/* nothing new: neither files nor temporary files */
			assert_true(entries == (pass == 1 ? 4 : 0) || entries == -1);
		}
		assert_true(done);
	}
}

/* ------------------------------------------------------------ fingerprint */

static bool run_certtool_fingerprint(const char *path, char *out, size_t cap)
{
	char cmd[1024], line[256];
	FILE *p;
	bool ok;

	if (system("certtool --version >/dev/null 2>&1") != 0)
		return false;
	snprintf(cmd, sizeof(cmd),
		 "certtool --pubkey-info --load-certificate '%s' --outder | sha256sum", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	ok = fgets(line, sizeof(line), p) != NULL;
	assert_int_equal(pclose(p), 0);
	assert_true(ok);
	assert_true(strlen(line) > 64 && line[64] == ' ');
	snprintf(out, cap, "sha256:%.64s", line);
	return true;
}

static void assert_fingerprint_shape(const char *fp)
{
	assert_int_equal(strlen(fp), CP_PKI_FINGERPRINT_MAX - 1);
	assert_memory_equal(fp, "sha256:", 7);
	for (const char *p = fp + 7; *p; p++)
		assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
}

static void test_fingerprint_matches_certtool(void **state)
{
	struct fx *f = *state;
	char fp[CP_PKI_FINGERPRINT_MAX], again[CP_PKI_FINGERPRINT_MAX],
		srv[CP_PKI_FINGERPRINT_MAX], want[128];

	assert_true(ensure_ok(f->pki, NULL));
	assert_int_equal(cp_pki_spki_fingerprint_file(pk(f, "client.crt"), fp), CP_OK);
	assert_fingerprint_shape(fp);
	assert_int_equal(cp_pki_spki_fingerprint_file(pk(f, "client.crt"), again), CP_OK);
	assert_string_equal(fp, again);
	assert_int_equal(cp_pki_spki_fingerprint_file(pk(f, "server.crt"), srv), CP_OK);
	assert_string_not_equal(fp, srv);

	if (run_certtool_fingerprint(pk(f, "client.crt"), want, sizeof(want)))
		assert_string_equal(fp, want);
	else
		print_message("certtool not found: fingerprint not compared with certtool\n");
}

/* A partner's certificate from elsewhere: RSA, made by certtool, PEM and DER. */
static void test_fingerprint_rsa_certtool(void **state)
{
	struct fx *f = *state;
	const char *key = at(f, f->root, "rsa.key");
	const char *crt = at(f, f->root, "rsa.crt");
	const char *der = at(f, f->root, "rsa.der");
	const char *tmpl = at(f, f->root, "rsa.tmpl");
	char cmd[2048], fp[CP_PKI_FINGERPRINT_MAX], fp_der[CP_PKI_FINGERPRINT_MAX], want[128];

	if (system("certtool --version >/dev/null 2>&1") != 0) {
		print_message("certtool not found: RSA fingerprint test skipped\n");
		skip();
	}
	spits(tmpl, "cn = \"partner\"\ntls_www_client\nexpiration_days = 30\n");
	snprintf(cmd, sizeof(cmd),
		 "certtool --generate-privkey --key-type rsa --bits 2048 --outfile '%s' "
		 ">/dev/null 2>&1 && certtool --generate-self-signed --load-privkey '%s' "
		 "--template '%s' --outfile '%s' >/dev/null 2>&1 && certtool "
		 "--certificate-info --infile '%s' --outder --outfile '%s' >/dev/null 2>&1",
		 key, key, tmpl, crt, crt, der);
	assert_int_equal(system(cmd), 0);

	assert_int_equal(cp_pki_spki_fingerprint_file(crt, fp), CP_OK);
	assert_fingerprint_shape(fp);
	assert_true(run_certtool_fingerprint(crt, want, sizeof(want)));
	assert_string_equal(fp, want);
	assert_int_equal(cp_pki_spki_fingerprint_file(der, fp_der), CP_OK);
	assert_string_equal(fp_der, fp);
}

static void test_fingerprint_der_equals_file(void **state)
{
	struct fx *f = *state;
	gnutls_x509_crt_t crt;
	gnutls_datum_t der = {NULL, 0};
	char a[CP_PKI_FINGERPRINT_MAX], b[CP_PKI_FINGERPRINT_MAX];

	assert_true(ensure_ok(f->pki, NULL));
	crt = load_crt(pk(f, "client.crt"));
	assert_int_equal(gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_DER, &der), 0);
	assert_int_equal(cp_pki_spki_fingerprint_der(der.data, der.size, a), CP_OK);
	assert_int_equal(cp_pki_spki_fingerprint_file(pk(f, "client.crt"), b), CP_OK);
	assert_string_equal(a, b);
	gnutls_free(der.data);
	gnutls_x509_crt_deinit(crt);
}

static void test_fingerprint_errors(void **state)
{
	static const unsigned char garbage[] = {0x30, 0x82, 0x01, 0x00, 0x01, 0x02, 0x03};
	struct fx *f = *state;
	char fp[CP_PKI_FINGERPRINT_MAX] = "untouched";
	const char *junk = at(f, f->root, "junk.crt");
	const char *fake_pem = at(f, f->root, "fake.crt");
	const char *empty = at(f, f->root, "empty.crt");

	spits(junk, "this is not a certificate\n");
	spits(fake_pem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
	spits(empty, "");
	assert_int_equal(cp_pki_spki_fingerprint_file(junk, fp), CP_EPARSE);
	assert_int_equal(cp_pki_spki_fingerprint_file(fake_pem, fp), CP_EPARSE);
	assert_int_equal(cp_pki_spki_fingerprint_file(empty, fp), CP_EPARSE);
	assert_int_equal(cp_pki_spki_fingerprint_file(at(f, f->root, "absent.crt"), fp),
			 CP_ENOTFOUND);
	assert_int_equal(cp_pki_spki_fingerprint_file(f->root, fp), CP_EIO); /* a directory */
	assert_int_equal(cp_pki_spki_fingerprint_der(garbage, sizeof(garbage), fp), CP_EPARSE);
	assert_int_equal(cp_pki_spki_fingerprint_der(garbage, 0, fp), CP_EPARSE);
	assert_int_equal(cp_pki_spki_fingerprint_der(NULL, 10, fp), CP_EINVAL);
	assert_int_equal(cp_pki_spki_fingerprint_file(NULL, fp), CP_EINVAL);
	assert_string_equal(fp, "untouched");
}

/* ------------------------------------------------------------ handshakes */

struct peer {
	const char *crt, *key, *ca; /* crt/key NULL: present no certificate */
	int fd;
	int rc;                     /* handshake result */
	int io_rc;                  /* result of receiving the other side's greeting */
	char got[8];
	char peer_fp[CP_PKI_FINGERPRINT_MAX];
};

static int setup_session(struct peer *p, unsigned flags, gnutls_certificate_credentials_t *cred,
			 gnutls_session_t *sess)
{
	int rc;

	if ((rc = gnutls_certificate_allocate_credentials(cred)) < 0)
		return rc;
	if ((rc = gnutls_certificate_set_x509_trust_file(*cred, p->ca, GNUTLS_X509_FMT_PEM)) < 1)
		return rc < 0 ? rc : GNUTLS_E_FILE_ERROR;
	if (p->crt && (rc = gnutls_certificate_set_x509_key_file(*cred, p->crt, p->key,
								  GNUTLS_X509_FMT_PEM)) < 0)
		return rc;
	if ((rc = gnutls_init(sess, flags)) < 0 || (rc = gnutls_set_default_priority(*sess)) < 0 ||
	    (rc = gnutls_credentials_set(*sess, GNUTLS_CRD_CERTIFICATE, *cred)) < 0)
		return rc;
	gnutls_transport_set_int(*sess, p->fd);
	gnutls_handshake_set_timeout(*sess, 20000);
	return 0;
}

static int handshake(gnutls_session_t sess)
{
	int rc;

	do
		rc = gnutls_handshake(sess);
	while (rc < 0 && !gnutls_error_is_fatal(rc));
	return rc;
}

static int recv_greeting(gnutls_session_t sess, char *out, size_t cap)
{
	ssize_t n;

	gnutls_record_set_timeout(sess, 20000);
	do
		n = gnutls_record_recv(sess, out, cap - 1);
	while (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED);
	if (n >= 0)
		out[n] = '\0';
	return (int)n;
}

/* No cmocka assertions here: they must not longjmp out of another thread. */
static void *server_main(void *arg)
{
	gnutls_typed_vdata_st client_purpose = {
		.type = GNUTLS_DT_KEY_PURPOSE_OID,
		.data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT,
	};
	struct peer *p = arg;
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t sess = NULL;
	const gnutls_datum_t *certs;
	unsigned count = 0;

	p->rc = setup_session(p, GNUTLS_SERVER, &cred, &sess);
	if (p->rc == 0) {
		gnutls_certificate_server_set_request(sess, GNUTLS_CERT_REQUIRE);
		/*
		 * Verify the client's chain in the handshake. The purpose must be named:
		 * gnutls_session_set_verify_cert() alone does not check clientAuth on a
		 * server, and would accept the server's own certificate as a client's.
		 */
		gnutls_session_set_verify_cert2(sess, &client_purpose, 1, 0);
		p->rc = handshake(sess);
	}
	if (p->rc == 0) {
		certs = gnutls_certificate_get_peers(sess, &count);
		if (certs && count &&
		    cp_pki_spki_fingerprint_der(certs[0].data, certs[0].size, p->peer_fp) != CP_OK)
			p->peer_fp[0] = '\0';
		if (gnutls_record_send(sess, "hello", 5) == 5)
			p->io_rc = recv_greeting(sess, p->got, sizeof(p->got));
		gnutls_bye(sess, GNUTLS_SHUT_WR);
	}
	if (sess)
		gnutls_deinit(sess);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	/* the client sees the end of the stream instead of waiting for more */
	close(p->fd);
	return NULL;
}

static void run_client(struct peer *p)
{
	gnutls_certificate_credentials_t cred = NULL;
	gnutls_session_t sess = NULL;

	p->rc = setup_session(p, GNUTLS_CLIENT, &cred, &sess);
	if (p->rc == 0) {
		gnutls_server_name_set(sess, GNUTLS_NAME_DNS, "localhost", 9);
		gnutls_session_set_verify_cert(sess, "localhost", 0);
		p->rc = handshake(sess);
	}
	if (p->rc == 0) {
		/* with TLS 1.3 a rejected client certificate shows only after the handshake */
		p->io_rc = recv_greeting(sess, p->got, sizeof(p->got));
		if (p->io_rc > 0)
			gnutls_record_send(sess, "hi", 2);
		gnutls_bye(sess, GNUTLS_SHUT_WR);
	}
	if (sess)
		gnutls_deinit(sess);
	if (cred)
		gnutls_certificate_free_credentials(cred);
	close(p->fd);
}

/* Handshake of a client (client_dir's pair, or no certificate) with server_dir's server. */
static void tls_pair(struct fx *f, const char *server_dir, const char *client_dir,
		     const char *client_name, struct peer *srv, struct peer *cli)
{
	int sv[2];
	pthread_t t;
	char crt[64], key[64];

	memset(srv, 0, sizeof(*srv));
	memset(cli, 0, sizeof(*cli));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	srv->crt = at(f, server_dir, "server.crt");
	srv->key = at(f, server_dir, "server.key");
	srv->ca = at(f, server_dir, "ca.crt");
	srv->fd = sv[0];
	cli->ca = at(f, server_dir, "ca.crt");
	if (client_dir) {
		snprintf(crt, sizeof(crt), "%s.crt", client_name);
		snprintf(key, sizeof(key), "%s.key", client_name);
		cli->crt = at(f, client_dir, crt);
		cli->key = at(f, client_dir, key);
	}
	cli->fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, server_main, srv), 0);
	run_client(cli);
	assert_int_equal(pthread_join(t, NULL), 0);
}

static void test_tls_mutual_handshake(void **state)
{
	struct fx *f = *state;
	struct peer srv, cli;
	char want[CP_PKI_FINGERPRINT_MAX];

	assert_true(ensure_ok(f->pki, NULL));
	tls_pair(f, f->pki, f->pki, "client", &srv, &cli);
	if (srv.rc || cli.rc)
		fail_msg("handshake failed: server %s, client %s", gnutls_strerror(srv.rc),
			 gnutls_strerror(cli.rc));
	assert_int_equal(cli.io_rc, 5);
	assert_string_equal(cli.got, "hello");
	assert_int_equal(srv.io_rc, 2);
	assert_string_equal(srv.got, "hi");
	assert_int_equal(cp_pki_spki_fingerprint_file(pk(f, "client.crt"), want), CP_OK);
	assert_string_equal(srv.peer_fp, want);
}

static void test_tls_foreign_client_rejected(void **state)
{
	struct fx *f = *state;
	const char *foreign = at(f, f->root, "foreign");
	struct peer srv, cli;

	assert_true(ensure_ok(f->pki, NULL));
	assert_true(ensure_ok(foreign, NULL));
	tls_pair(f, f->pki, foreign, "client", &srv, &cli);
	assert_int_equal(srv.rc, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	assert_string_equal(srv.peer_fp, "");
	/* the client either fails the handshake or never gets the server's greeting */
	assert_true(cli.rc < 0 || cli.io_rc <= 0);
	assert_string_equal(cli.got, "");
}

static void test_tls_server_cert_as_client_rejected(void **state)
{
	struct fx *f = *state;
	struct peer srv, cli;

	/* same CA, but the certificate is for serverAuth only */
	assert_true(ensure_ok(f->pki, NULL));
	tls_pair(f, f->pki, f->pki, "server", &srv, &cli);
	assert_int_equal(srv.rc, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	assert_true(cli.rc < 0 || cli.io_rc <= 0);
	assert_string_equal(cli.got, "");
}

static void test_tls_no_client_cert_rejected(void **state)
{
	struct fx *f = *state;
	struct peer srv, cli;

	assert_true(ensure_ok(f->pki, NULL));
	tls_pair(f, f->pki, NULL, NULL, &srv, &cli);
	assert_true(srv.rc < 0);
	assert_true(cli.rc < 0 || cli.io_rc <= 0);
	assert_string_equal(cli.got, "");
}

static void test_tls_client_rejects_foreign_server(void **state)
{
	struct fx *f = *state;
	const char *foreign = at(f, f->root, "foreign");
	struct peer srv, cli;
	int sv[2];
	pthread_t t;

	/* the client trusts only its own CA; a server from another CA must fail */
	assert_true(ensure_ok(f->pki, NULL));
	assert_true(ensure_ok(foreign, NULL));
	memset(&srv, 0, sizeof(srv));
	memset(&cli, 0, sizeof(cli));
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	srv.crt = at(f, foreign, "server.crt");
	srv.key = at(f, foreign, "server.key");
	srv.ca = at(f, foreign, "ca.crt");
	srv.fd = sv[0];
	cli.crt = pk(f, "client.crt");
	cli.key = pk(f, "client.key");
	cli.ca = pk(f, "ca.crt");
	cli.fd = sv[1];
	assert_int_equal(pthread_create(&t, NULL, server_main, &srv), 0);
	run_client(&cli);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(cli.rc, GNUTLS_E_CERTIFICATE_VERIFICATION_ERROR);
	assert_true(srv.rc < 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_generate_files_and_modes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_empty_dir_is_used, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_default_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_certificate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_serials_random_and_positive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_call_creates_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_leaf_is_signed_by_same_ca, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_operator_ca_is_reused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_crt_without_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_key_without_crt, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_key_moved_offline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_key_of_another_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_that_is_not_a_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_leaf_pair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_leaves_without_ca, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_extra_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_good_extra_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allocation_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_matches_certtool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_rsa_certtool, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_der_equals_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fingerprint_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_mutual_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_foreign_client_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_server_cert_as_client_rejected, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tls_no_client_cert_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tls_client_rejects_foreign_server, setup,
						teardown),
	};

	/* a peer that hangs up must not kill the test with SIGPIPE */
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
