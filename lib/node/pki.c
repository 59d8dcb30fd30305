/*
 * pki.c - the node's generated local PKI (see cyberpact/pki.h and docs/PKI.md).
 *
 * cp_pki_ensure() decides everything before it writes anything: which files exist,
 * whether an existing CA is complete and usable, whether the extra names are valid.
 * Only then are keys and certificates generated, and every new file is first written
 * to a temporary file in the same directory (fsync'd), so that a failure part way
 * (disk full, permissions) leaves the directory as it was. The renames come last.
 *
 * Key material never reaches a log record or a finding; buffers that held a private
 * key are wiped before they are freed.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <gnutls/gnutls.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/x509.h>

#include "cyberpact/pki.h"
#include "common.h"

#define MOD "pki"

/* A certificate or key file is a few KiB; anything far bigger is not one of ours. */
#define PKI_FILE_MAX (1u << 20)

#define DAY_SECONDS (24 * 60 * 60)
#define LEAF_DAYS 825
#define CA_DAYS 3653
/* Not-before lies this far in the past so that peers with a slow clock accept it. */
#define SKEW_SECONDS (60 * 60)
#define SERIAL_LEN 16

enum slot { CA_KEY, CA_CRT, SERVER_KEY, SERVER_CRT, CLIENT_KEY, CLIENT_CRT, SLOT_COUNT };

static const char *const slot_names[SLOT_COUNT] = {
	[CA_KEY] = "ca.key",         [CA_CRT] = "ca.crt",         [SERVER_KEY] = "server.key",
	[SERVER_CRT] = "server.crt", [CLIENT_KEY] = "client.key", [CLIENT_CRT] = "client.crt",
};

enum cert_kind { KIND_CA, KIND_SERVER, KIND_CLIENT };

/* Subject alternative names of the server certificate, before extra_names. */
static const char *const default_names[] = {"localhost", "127.0.0.1", "::1"};

struct pki_job {
	const char *dir;
	struct cp_diag *diag;
	char *paths[SLOT_COUNT];
	bool exists[SLOT_COUNT];
	char *staged[SLOT_COUNT]; /* temporary file holding the new content, not yet renamed */
	time_t now;
};

/* ------------------------------------------------------------- helpers */

static char *path_join(const char *dir, const char *prefix, const char *name, const char *suffix)
{
	struct cp_buf b = CP_BUF_INIT(0);

	cp_buf_puts(&b, dir);
	if (b.len && b.ptr[b.len - 1] != '/')
		cp_buf_putc(&b, '/');
	cp_buf_puts(&b, prefix);
	cp_buf_puts(&b, name);
	cp_buf_puts(&b, suffix);
	return cp_buf_take(&b);
}

static enum cp_err gnutls_fail(struct cp_diag *diag, int rc, const char *fmt, ...)
	CP_PRINTF(3, 4);

static enum cp_err gnutls_fail(struct cp_diag *diag, int rc, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	if (rc == GNUTLS_E_MEMORY_ERROR)
		return CP_ENOMEM;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	cp_diag_add(diag, CP_SEV_ERROR, "pki-gnutls", NULL, "%s: %s", what, gnutls_strerror(rc));
	return CP_EBACKEND;
}

static enum cp_err io_fail(struct cp_diag *diag, const char *what, const char *path, int errnum)
{
	cp_diag_add(diag, CP_SEV_ERROR, "pki-io", NULL, "cannot %s '%s': %s", what, path,
		    strerror(errnum));
	return CP_EIO;
}

static void wipe_datum(gnutls_datum_t *d)
{
	if (d->data)
		gnutls_memset(d->data, 0, d->size);
}

/*
 * Read a whole (small) file into a cp_malloc'd, NUL-terminated datum. *errnum gets
 * the errno of a failed system call, 0 otherwise.
 */
static enum cp_err read_small_file(const char *path, gnutls_datum_t *out, int *errnum)
{
	struct stat st;
	unsigned char *buf = NULL;
	size_t got = 0;
	int fd;
	enum cp_err err = CP_OK;

	*errnum = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		*errnum = errno;
		return errno == ENOENT ? CP_ENOTFOUND : CP_EIO;
	}
	if (fstat(fd, &st) < 0) {
		*errnum = errno;
		err = CP_EIO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		*errnum = EINVAL;
		err = CP_EIO;
		goto out;
	}
	if ((uintmax_t)st.st_size > PKI_FILE_MAX) {
		err = CP_ETOOBIG;
		goto out;
	}
	buf = cp_malloc((size_t)st.st_size + 1);
	if (!buf) {
		err = CP_ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			*errnum = errno;
			err = CP_EIO;
			goto out;
		}
		if (n == 0)
			break; /* the file shrank: use what is there */
		got += (size_t)n;
	}
	buf[got] = '\0';
	out->data = buf;
	out->size = (unsigned)got;
	buf = NULL;
out:
	cp_free(buf);
	close(fd);
	return err;
}

static void free_file_datum(gnutls_datum_t *d)
{
	wipe_datum(d);
	cp_free(d->data);
	d->data = NULL;
	d->size = 0;
}

/* ----------------------------------------------------------- the names */

static bool is_dns_name(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 253)
		return false;
	/* a wildcard is only allowed as the whole leftmost label */
	if (s[0] == '*' && s[1] == '.')
		s += 2;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (c > 127 || (!isalnum(c) && c != '-' && c != '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* A name in comparable form: the address bytes of an IP, otherwise the name itself. */
struct san {
	unsigned type; /* GNUTLS_SAN_DNSNAME or GNUTLS_SAN_IPADDRESS */
	unsigned char ip[16];
	unsigned len;
	const char *name;
};

static bool san_parse(const char *name, struct san *out)
{
	memset(out, 0, sizeof(*out));
	out->name = name;
	if (inet_pton(AF_INET, name, out->ip) == 1) {
		out->type = GNUTLS_SAN_IPADDRESS;
		out->len = 4;
		return true;
	}
	if (inet_pton(AF_INET6, name, out->ip) == 1) {
		out->type = GNUTLS_SAN_IPADDRESS;
		out->len = 16;
		return true;
	}
	if (!is_dns_name(name))
		return false;
	out->type = GNUTLS_SAN_DNSNAME;
	out->len = (unsigned)strlen(name);
	return true;
}

static bool san_eq(const struct san *a, const struct san *b)
{
	if (a->type != b->type || a->len != b->len)
		return false;
	if (a->type == GNUTLS_SAN_IPADDRESS)
		return memcmp(a->ip, b->ip, a->len) == 0;
	return strcasecmp(a->name, b->name) == 0;
}

static enum cp_err check_extra_names(const char *const *extra, struct cp_diag *diag)
{
	struct san s;
	enum cp_err err = CP_OK;

	for (size_t i = 0; extra && extra[i]; i++) {
		if (san_parse(extra[i], &s))
			continue;
		cp_diag_add(diag, CP_SEV_ERROR, "pki-name", NULL,
			    "'%s' is neither an IP address nor a DNS name", extra[i]);
		err = CP_EINVAL;
	}
	return err;
}

/* Is name (or the same address) already among the first `before` names? */
static bool seen_before(const struct san *s, const char *const *extra, size_t before)
{
	struct san o;

	for (size_t i = 0; i < CP_ARRAY_LEN(default_names); i++)
		if (san_parse(default_names[i], &o) && san_eq(s, &o))
			return true;
	for (size_t i = 0; i < before; i++)
		if (san_parse(extra[i], &o) && san_eq(s, &o))
			return true;
	return false;
}

static int add_san(gnutls_x509_crt_t crt, const struct san *s)
{
	const void *data = s->type == GNUTLS_SAN_IPADDRESS ? (const void *)s->ip
							   : (const void *)s->name;

	return gnutls_x509_crt_set_subject_alt_name(crt, s->type, data, s->len,
						    GNUTLS_FSAN_APPEND);
}

/* -------------------------------------------------------- the decision */

static enum cp_err ensure_dir(const char *dir, struct cp_diag *diag)
{
	struct stat st;

	if (mkdir(dir, 0700) == 0)
		return CP_OK;
	if (errno != EEXIST)
		return io_fail(diag, "create directory", dir, errno);
	if (stat(dir, &st) < 0)
		return io_fail(diag, "access directory", dir, errno);
	if (!S_ISDIR(st.st_mode))
		return io_fail(diag, "use directory", dir, ENOTDIR);
	return CP_OK;
}

static enum cp_err probe(struct pki_job *job)
{
	struct stat st;

	for (int i = 0; i < SLOT_COUNT; i++) {
		if (stat(job->paths[i], &st) == 0) {
			if (!S_ISREG(st.st_mode))
				return io_fail(job->diag, "use", job->paths[i], EINVAL);
			job->exists[i] = true;
		} else if (errno != ENOENT) {
			return io_fail(job->diag, "access", job->paths[i], errno);
		}
	}
	return CP_OK;
}

static enum cp_err conflict(struct pki_job *job, enum slot have, enum slot missing)
{
	cp_diag_add(job->diag, CP_SEV_ERROR, "pki-conflict", NULL,
		    "'%s' exists but '%s' does not; refusing to overwrite it (restore the missing "
		    "file, or remove '%s' to generate a new pair)",
		    job->paths[have], job->paths[missing], job->paths[have]);
	return CP_ECONFLICT;
}

/*
 * Half a key pair, or leaf files without the CA that signed them, are left alone.
 * The one half pair that is fine is a CA certificate whose key was moved offline
 * after the leaves were made: nothing needs signing then.
 */
static enum cp_err check_pairs(struct pki_job *job)
{
	bool has_ca = job->exists[CA_CRT] && job->exists[CA_KEY];
	bool has_leaves = true;

	for (int i = SERVER_KEY; i < SLOT_COUNT; i++)
		has_leaves = has_leaves && job->exists[i];
	if (has_leaves && job->exists[CA_CRT])
		return CP_OK;
	for (int i = 0; i < SLOT_COUNT; i += 2) {
		if (job->exists[i] && !job->exists[i + 1])
			return conflict(job, (enum slot)i, (enum slot)(i + 1));
		if (!job->exists[i] && job->exists[i + 1])
			return conflict(job, (enum slot)(i + 1), (enum slot)i);
	}
	if (has_ca)
		return CP_OK;
	for (int i = SERVER_KEY; i < SLOT_COUNT; i++) {
		if (!job->exists[i])
			continue;
		/* a new CA would not have signed it, and the file may be all the operator has */
		cp_diag_add(job->diag, CP_SEV_ERROR, "pki-conflict", NULL,
			    "'%s' exists but the CA that signed it ('%s', '%s') does not; refusing "
			    "to overwrite it (restore the CA, or remove the server and client files "
			    "to generate everything anew)",
			    job->paths[i], job->paths[CA_CRT], job->paths[CA_KEY]);
		return CP_ECONFLICT;
	}
	return CP_OK;
}

/* ------------------------------------------------------ the existing CA */

static enum cp_err load_ca(struct pki_job *job, gnutls_x509_crt_t *crt_out,
			   gnutls_x509_privkey_t *key_out)
{
	gnutls_datum_t data = {NULL, 0};
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_privkey_t key = NULL;
	unsigned char crt_id[64], key_id[64];
	size_t crt_id_len = sizeof(crt_id), key_id_len = sizeof(key_id);
	unsigned int is_ca = 0, critical = 0;
	int rc, errnum;
	enum cp_err err;

	err = read_small_file(job->paths[CA_CRT], &data, &errnum);
	if (err == CP_ETOOBIG || err == CP_EIO || err == CP_ENOTFOUND)
		err = io_fail(job->diag, "read", job->paths[CA_CRT], errnum ? errnum : EFBIG);
	if (err)
		goto out;
	rc = gnutls_x509_crt_init(&crt);
	if (rc >= 0)
		rc = gnutls_x509_crt_import(crt, &data, GNUTLS_X509_FMT_PEM);
	free_file_datum(&data);
	if (rc < 0) {
		err = gnutls_fail(job->diag, rc, "cannot load CA certificate '%s'",
				  job->paths[CA_CRT]);
		goto out;
	}
	rc = gnutls_x509_crt_get_basic_constraints(crt, &critical, &is_ca, NULL);
	if (rc < 0 || !is_ca) {
		cp_diag_add(job->diag, CP_SEV_ERROR, "pki-conflict", NULL,
			    "'%s' is not a CA certificate (basicConstraints CA:TRUE is missing)",
			    job->paths[CA_CRT]);
		err = CP_ECONFLICT;
		goto out;
	}
	if (gnutls_x509_crt_get_expiration_time(crt) < job->now)
		CP_LOG_WRN(MOD, "CA certificate '%s' has expired; new certificates will not verify",
			   job->paths[CA_CRT]);

	err = read_small_file(job->paths[CA_KEY], &data, &errnum);
	if (err == CP_ETOOBIG || err == CP_EIO || err == CP_ENOTFOUND)
		err = io_fail(job->diag, "read", job->paths[CA_KEY], errnum ? errnum : EFBIG);
	if (err)
		goto out;
	rc = gnutls_x509_privkey_init(&key);
	if (rc >= 0)
		rc = gnutls_x509_privkey_import2(key, &data, GNUTLS_X509_FMT_PEM, NULL, 0);
	free_file_datum(&data);
	if (rc < 0) {
		err = gnutls_fail(job->diag, rc,
				  "cannot load CA key '%s' (it must be an unencrypted PEM key)",
				  job->paths[CA_KEY]);
		goto out;
	}

	rc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA256, crt_id, &crt_id_len);
	if (rc >= 0)
		rc = gnutls_x509_privkey_get_key_id(key, GNUTLS_KEYID_USE_SHA256, key_id,
						    &key_id_len);
	if (rc < 0) {
		err = gnutls_fail(job->diag, rc, "cannot compare CA key and certificate in '%s'",
				  job->dir);
		goto out;
	}
	if (crt_id_len != key_id_len || memcmp(crt_id, key_id, crt_id_len) != 0) {
		cp_diag_add(job->diag, CP_SEV_ERROR, "pki-conflict", NULL,
			    "'%s' is not the key of the certificate '%s'", job->paths[CA_KEY],
			    job->paths[CA_CRT]);
		err = CP_ECONFLICT;
		goto out;
	}
	*crt_out = crt;
	*key_out = key;
	crt = NULL;
	key = NULL;
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return err;
}

/* -------------------------------------------------------- generation */

static enum cp_err new_key(struct pki_job *job, gnutls_x509_privkey_t *out)
{
	gnutls_x509_privkey_t key = NULL;
	int rc;

	rc = gnutls_x509_privkey_init(&key);
	if (rc >= 0)
		rc = gnutls_x509_privkey_generate2(key, GNUTLS_PK_ECDSA,
						   GNUTLS_CURVE_TO_BITS(GNUTLS_ECC_CURVE_SECP256R1),
						   0, NULL, 0);
	if (rc < 0) {
		gnutls_x509_privkey_deinit(key);
		return gnutls_fail(job->diag, rc, "cannot generate a key in '%s'", job->dir);
	}
	*out = key;
	return CP_OK;
}

/*
 * Build and sign a certificate for key. For KIND_CA it is self-signed and ca/ca_key are
 * ignored; otherwise ca signs it.
 */
static enum cp_err new_cert(struct pki_job *job, enum cert_kind kind, gnutls_x509_privkey_t key,
			    gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key,
			    const char *const *extra, gnutls_x509_crt_t *out)
{
	static const char org[] = "cyberpact";
	gnutls_x509_crt_t crt = NULL;
	unsigned char serial[SERIAL_LEN], id[64];
	size_t id_len;
	unsigned int critical;
	const char *cn;
	time_t not_after;
	struct san s;
	int rc;

	switch (kind) {
	case KIND_CA:
		cn = "cyberpact local CA";
		not_after = job->now + (time_t)CA_DAYS * DAY_SECONDS;
		break;
	case KIND_SERVER:
		cn = "cyberpact server";
		not_after = job->now + (time_t)LEAF_DAYS * DAY_SECONDS;
		break;
	default:
		cn = "cyberpact client";
		not_after = job->now + (time_t)LEAF_DAYS * DAY_SECONDS;
		break;
	}
	/* a leaf outliving its CA would fail verification early anyway: say so honestly */
	if (kind != KIND_CA && gnutls_x509_crt_get_expiration_time(ca) < not_after &&
	    gnutls_x509_crt_get_expiration_time(ca) > job->now)
		not_after = gnutls_x509_crt_get_expiration_time(ca);

	/* positive and minimally encoded: top bit clear, next bit set */
	rc = gnutls_rnd(GNUTLS_RND_RANDOM, serial, sizeof(serial));
	if (rc < 0)
		goto fail;
	serial[0] = (unsigned char)((serial[0] & 0x3f) | 0x40);

	if ((rc = gnutls_x509_crt_init(&crt)) < 0 ||
	    (rc = gnutls_x509_crt_set_version(crt, 3)) < 0 ||
	    (rc = gnutls_x509_crt_set_serial(crt, serial, sizeof(serial))) < 0 ||
	    (rc = gnutls_x509_crt_set_activation_time(crt, job->now - SKEW_SECONDS)) < 0 ||
	    (rc = gnutls_x509_crt_set_expiration_time(crt, not_after)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_ORGANIZATION_NAME, 0, org,
						sizeof(org) - 1)) < 0 ||
	    (rc = gnutls_x509_crt_set_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, cn,
						(unsigned)strlen(cn))) < 0 ||
	    (rc = gnutls_x509_crt_set_key(crt, key)) < 0)
		goto fail;

	id_len = sizeof(id);
	if ((rc = gnutls_x509_crt_get_key_id(crt, GNUTLS_KEYID_USE_SHA1, id, &id_len)) < 0 ||
	    (rc = gnutls_x509_crt_set_subject_key_id(crt, id, id_len)) < 0)
		goto fail;

	if (kind == KIND_CA) {
		/* pathlen 0: this CA signs only leaf certificates */
		if ((rc = gnutls_x509_crt_set_basic_constraints(crt, 1, 0)) < 0 ||
		    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_KEY_CERT_SIGN |
								     GNUTLS_KEY_CRL_SIGN)) < 0 ||
		    (rc = gnutls_x509_crt_sign2(crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
			goto fail;
		*out = crt;
		return CP_OK;
	}

	if ((rc = gnutls_x509_crt_set_basic_constraints(crt, 0, -1)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_usage(crt, GNUTLS_KEY_DIGITAL_SIGNATURE)) < 0 ||
	    (rc = gnutls_x509_crt_set_key_purpose_oid(crt,
						      kind == KIND_SERVER ? GNUTLS_KP_TLS_WWW_SERVER
									  : GNUTLS_KP_TLS_WWW_CLIENT,
						      0)) < 0)
		goto fail;

	/* an operator's CA may lack a subject key id; then there is nothing to point at */
	id_len = sizeof(id);
	if (gnutls_x509_crt_get_subject_key_id(ca, id, &id_len, &critical) >= 0 &&
	    (rc = gnutls_x509_crt_set_authority_key_id(crt, id, id_len)) < 0)
		goto fail;

	if (kind == KIND_SERVER) {
		for (size_t i = 0; i < CP_ARRAY_LEN(default_names); i++)
			if (san_parse(default_names[i], &s) && (rc = add_san(crt, &s)) < 0)
				goto fail;
		for (size_t i = 0; extra && extra[i]; i++) {
			if (!san_parse(extra[i], &s) || seen_before(&s, extra, i))
				continue;
			if ((rc = add_san(crt, &s)) < 0)
				goto fail;
		}
	}

	rc = gnutls_x509_crt_sign2(crt, ca, ca_key, GNUTLS_DIG_SHA256, 0);
	if (rc < 0)
		goto fail;
	*out = crt;
	return CP_OK;
fail:
	gnutls_x509_crt_deinit(crt);
	return gnutls_fail(job->diag, rc, "cannot create a certificate in '%s'", job->dir);
}

/* ------------------------------------------------------------- writing */

static enum cp_err write_all(int fd, const unsigned char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return CP_EIO;
		p += n;
		len -= (size_t)n;
	}
	return CP_OK;
}

/* Write data to a new temporary file next to the slot's path; the rename comes later. */
static enum cp_err stage(struct pki_job *job, enum slot slot, const gnutls_datum_t *data)
{
	mode_t mode = slot % 2 == 0 ? 0600 : 0644; /* keys are the even slots */
	char *tmp;
	int fd, errnum = 0;

	tmp = path_join(job->dir, ".", slot_names[slot], ".XXXXXX");
	if (!tmp)
		return CP_ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC); /* created 0600: a key is never readable by others */
	if (fd < 0) {
		errnum = errno;
		cp_free(tmp);
		return io_fail(job->diag, "write", job->paths[slot], errnum);
	}
	if (fchmod(fd, mode) < 0 || write_all(fd, data->data, data->size) || fsync(fd) < 0)
		errnum = errno;
	if (close(fd) < 0 && !errnum)
		errnum = errno;
	if (errnum) {
		unlink(tmp);
		cp_free(tmp);
		return io_fail(job->diag, "write", job->paths[slot], errnum);
	}
	job->staged[slot] = tmp;
	return CP_OK;
}

static enum cp_err stage_key(struct pki_job *job, enum slot slot, gnutls_x509_privkey_t key)
{
	gnutls_datum_t pem = {NULL, 0};
	enum cp_err err;
	int rc;

	rc = gnutls_x509_privkey_export2_pkcs8(key, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN,
					       &pem);
	if (rc < 0)
		return gnutls_fail(job->diag, rc, "cannot encode the key for '%s'",
				   job->paths[slot]);
	err = stage(job, slot, &pem);
	wipe_datum(&pem);
	gnutls_free(pem.data);
	return err;
}

static enum cp_err stage_cert(struct pki_job *job, enum slot slot, gnutls_x509_crt_t crt)
{
	gnutls_datum_t pem = {NULL, 0};
	enum cp_err err;
	int rc;

	rc = gnutls_x509_crt_export2(crt, GNUTLS_X509_FMT_PEM, &pem);
	if (rc < 0)
		return gnutls_fail(job->diag, rc, "cannot encode the certificate for '%s'",
				   job->paths[slot]);
	err = stage(job, slot, &pem);
	gnutls_free(pem.data);
	return err;
}

/* Generate the pair in slots (key_slot, key_slot + 1) and stage both files. */
static enum cp_err stage_pair(struct pki_job *job, enum cert_kind kind, enum slot key_slot,
			      gnutls_x509_crt_t ca, gnutls_x509_privkey_t ca_key,
			      const char *const *extra, gnutls_x509_crt_t *crt_out,
			      gnutls_x509_privkey_t *key_out)
{
	gnutls_x509_privkey_t key = NULL;
	gnutls_x509_crt_t crt = NULL;
	enum cp_err err;

	err = new_key(job, &key);
	if (err)
		goto out;
	err = new_cert(job, kind, key, ca, ca_key, extra, &crt);
	if (err)
		goto out;
	err = stage_key(job, key_slot, key);
	if (err)
		goto out;
	err = stage_cert(job, (enum slot)(key_slot + 1), crt);
	if (err)
		goto out;
	if (crt_out) {
		*crt_out = crt;
		crt = NULL;
	}
	if (key_out) {
		*key_out = key;
		key = NULL;
	}
out:
	gnutls_x509_crt_deinit(crt);
	gnutls_x509_privkey_deinit(key);
	return err;
}

static void sync_dir(struct pki_job *job)
{
	int fd = open(job->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	/* some file systems cannot fsync a directory; the files themselves are synced */
	if (fd < 0)
		return;
	if (fsync(fd) < 0 && errno != EINVAL)
		CP_LOG_WRN(MOD, "cannot sync directory '%s': %s", job->dir, strerror(errno));
	close(fd);
}

static enum cp_err commit(struct pki_job *job)
{
	for (int i = 0; i < SLOT_COUNT; i++) {
		if (!job->staged[i])
			continue;
		if (rename(job->staged[i], job->paths[i]) < 0)
			return io_fail(job->diag, "write", job->paths[i], errno);
		cp_free(job->staged[i]);
		job->staged[i] = NULL;
	}
	sync_dir(job);
	return CP_OK;
}

static void job_release(struct pki_job *job)
{
	for (int i = 0; i < SLOT_COUNT; i++) {
		if (job->staged[i])
			unlink(job->staged[i]);
		cp_free(job->staged[i]);
		cp_free(job->paths[i]);
	}
}

/* ------------------------------------------------------------- the API */

enum cp_err cp_pki_ensure(const char *dir, const char *const *extra_names, bool *created,
			  struct cp_diag *diag)
{
	struct pki_job job = {.dir = dir, .diag = diag};
	gnutls_x509_crt_t ca = NULL;
	gnutls_x509_privkey_t ca_key = NULL;
	bool is_new_ca = false, wrote = false;
	enum cp_err err;

	if (!dir || !*dir || !created)
		return CP_EINVAL;
	err = check_extra_names(extra_names, diag);
	if (err)
		return err;
	job.now = time(NULL);
	for (int i = 0; i < SLOT_COUNT; i++) {
		job.paths[i] = path_join(dir, "", slot_names[i], "");
		if (!job.paths[i]) {
			err = CP_ENOMEM;
			goto out;
		}
	}
	err = ensure_dir(dir, diag);
	if (err)
		goto out;
	err = probe(&job);
	if (err)
		goto out;
	err = check_pairs(&job);
	if (err)
		goto out;

	if (job.exists[CA_CRT]) {
		/* check_pairs() made sure that both files of each leaf pair exist */
		if (job.exists[SERVER_CRT] && job.exists[CLIENT_CRT])
			goto done;
		err = load_ca(&job, &ca, &ca_key);
	} else {
		is_new_ca = true;
		err = stage_pair(&job, KIND_CA, CA_KEY, NULL, NULL, NULL, &ca, &ca_key);
	}
	if (err)
		goto out;
	if (!job.exists[SERVER_CRT]) {
		err = stage_pair(&job, KIND_SERVER, SERVER_KEY, ca, ca_key, extra_names, NULL,
				 NULL);
		if (err)
			goto out;
	}
	if (!job.exists[CLIENT_CRT]) {
		err = stage_pair(&job, KIND_CLIENT, CLIENT_KEY, ca, ca_key, NULL, NULL, NULL);
		if (err)
			goto out;
	}
	err = commit(&job);
	if (err)
		goto out;
	wrote = true;
	CP_LOG_INF(MOD, "generated %s in '%s'",
		   is_new_ca ? "a local CA and certificates" : "certificates", dir);
done:
	*created = wrote;
out:
	gnutls_x509_crt_deinit(ca);
	gnutls_x509_privkey_deinit(ca_key);
	job_release(&job);
	return err;
}

static enum cp_err crt_fingerprint(gnutls_x509_crt_t crt, char out[CP_PKI_FINGERPRINT_MAX])
{
	static const char hex[] = "0123456789abcdef";
	gnutls_pubkey_t pub = NULL;
	gnutls_datum_t spki = {NULL, 0};
	unsigned char md[32];
	char text[CP_PKI_FINGERPRINT_MAX];
	enum cp_err err = CP_OK;
	int rc;

	/*
	 * Hash the DER SubjectPublicKeyInfo as GnuTLS re-encodes it: the same bytes that
	 * `certtool --pubkey-info --outder` and `openssl pkey -pubin -outform DER` give.
	 */
	rc = gnutls_pubkey_init(&pub);
	if (rc < 0)
		return CP_ENOMEM;
	rc = gnutls_pubkey_import_x509(pub, crt, 0);
	if (rc < 0) {
		err = rc == GNUTLS_E_MEMORY_ERROR ? CP_ENOMEM : CP_EPARSE;
		goto out;
	}
	rc = gnutls_pubkey_export2(pub, GNUTLS_X509_FMT_DER, &spki);
	if (rc < 0) {
		err = rc == GNUTLS_E_MEMORY_ERROR ? CP_ENOMEM : CP_EPARSE;
		goto out;
	}
	rc = gnutls_hash_fast(GNUTLS_DIG_SHA256, spki.data, spki.size, md);
	if (rc < 0) {
		err = CP_EBACKEND;
		goto out;
	}
	memcpy(text, "sha256:", 7);
	for (size_t i = 0; i < sizeof(md); i++) {
		text[7 + 2 * i] = hex[md[i] >> 4];
		text[8 + 2 * i] = hex[md[i] & 15];
	}
	text[7 + 2 * sizeof(md)] = '\0';
	memcpy(out, text, sizeof(text));
out:
	gnutls_free(spki.data);
	gnutls_pubkey_deinit(pub);
	return err;
}

enum cp_err cp_pki_spki_fingerprint_der(const void *der, size_t len,
					char out[CP_PKI_FINGERPRINT_MAX])
{
	gnutls_x509_crt_t crt = NULL;
	gnutls_datum_t d;
	enum cp_err err;
	int rc;

	if (!der || !out)
		return CP_EINVAL;
	if (len == 0)
		return CP_EPARSE;
	if (len > PKI_FILE_MAX)
		return CP_ETOOBIG;
	d.data = (unsigned char *)der; /* gnutls takes a non-const datum but does not write */
	d.size = (unsigned)len;
	rc = gnutls_x509_crt_init(&crt);
	if (rc < 0)
		return CP_ENOMEM;
	rc = gnutls_x509_crt_import(crt, &d, GNUTLS_X509_FMT_DER);
	if (rc < 0)
		err = rc == GNUTLS_E_MEMORY_ERROR ? CP_ENOMEM : CP_EPARSE;
	else
		err = crt_fingerprint(crt, out);
	gnutls_x509_crt_deinit(crt);
	return err;
}

enum cp_err cp_pki_spki_fingerprint_file(const char *path, char out[CP_PKI_FINGERPRINT_MAX])
{
	gnutls_datum_t data = {NULL, 0};
	gnutls_x509_crt_t crt = NULL;
	gnutls_x509_crt_fmt_t fmt;
	enum cp_err err;
	int rc, errnum;

	if (!path || !out)
		return CP_EINVAL;
	err = read_small_file(path, &data, &errnum);
	if (err)
		return err;
	/* a partner may hand over DER (.cer/.der) as well as PEM */
	fmt = memmem(data.data, data.size, "-----BEGIN", 10) ? GNUTLS_X509_FMT_PEM
							     : GNUTLS_X509_FMT_DER;
	rc = gnutls_x509_crt_init(&crt);
	if (rc < 0) {
		err = CP_ENOMEM;
		goto out;
	}
	rc = gnutls_x509_crt_import(crt, &data, fmt);
	if (rc < 0) {
		err = rc == GNUTLS_E_MEMORY_ERROR ? CP_ENOMEM : CP_EPARSE;
		goto out;
	}
	err = crt_fingerprint(crt, out);
out:
	gnutls_x509_crt_deinit(crt);
	free_file_datum(&data);
	return err;
}
