/*
 * The on-disk format of the audit trail that writer and readers share: the canonical
 * encoding that is hashed, the anchor file, the time column, the kind names.
 */
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *const kind_names[] = {
	[CP_AUDIT_RELEASE] = "release", [CP_AUDIT_WITHHOLD] = "withhold",
	[CP_AUDIT_WRITE] = "write",     [CP_AUDIT_DENY] = "deny",
	[CP_AUDIT_ADMIN] = "admin",
};

const char *cp_audit_kind_name(enum cp_audit_kind kind)
{
	if ((unsigned)kind < CP_ARRAY_LEN(kind_names) && kind_names[kind])
		return kind_names[kind];
	return "unknown";
}

enum cp_audit_kind cp_audit_kind_from_name(const char *name)
{
	for (size_t i = 0; name && i < CP_ARRAY_LEN(kind_names); i++)
		if (kind_names[i] && strcmp(kind_names[i], name) == 0)
			return (enum cp_audit_kind)i;
	return 0;
}

static void put_u64(crypto_hash_sha256_state *st, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	crypto_hash_sha256_update(st, b, sizeof(b));
}

void cp__audit_hash(const unsigned char prev[32], int64_t seq, int64_t time_us,
		    const struct cp_audit_field fields[1 + CP_AUDIT_STRINGS], unsigned char out[32])
{
	static const unsigned char absent = 0x00, present = 0x01;
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, prev, 32);
	put_u64(&st, (uint64_t)seq);
	put_u64(&st, (uint64_t)time_us);
	for (size_t i = 0; i < 1 + CP_AUDIT_STRINGS; i++) {
		if (!fields[i].ptr) {
			crypto_hash_sha256_update(&st, &absent, 1);
			continue;
		}
		crypto_hash_sha256_update(&st, &present, 1);
		put_u64(&st, fields[i].len);
		crypto_hash_sha256_update(&st, (const unsigned char *)fields[i].ptr, fields[i].len);
	}
	crypto_hash_sha256_final(&st, out);
}

static struct cp_audit_field field_of(const char *s)
{
	return (struct cp_audit_field){s, s ? strlen(s) : 0};
}

void cp__audit_record_fields(const struct cp_audit_record *r,
			     struct cp_audit_field out[1 + CP_AUDIT_STRINGS])
{
	out[0] = field_of(cp_audit_kind_name(r->kind));
	out[1] = field_of(r->partner);
	out[2] = field_of(r->action);
	out[3] = field_of(r->collection);
	out[4] = field_of(r->object);
	out[5] = field_of(r->version);
	out[6] = field_of(r->reason);
	out[7] = field_of(r->detail);
	out[8] = field_of(r->request_id);
}

int64_t cp__audit_us_from_time(const struct cp_time *t, bool round_up)
{
	int64_t us = t->sec * 1000000 + (int64_t)(t->nsec / 1000);

	if (round_up && t->nsec % 1000)
		us++;
	return us;
}

struct cp_time cp__audit_time_from_us(int64_t us)
{
	int64_t sec = us / 1000000, rem = us % 1000000;

	if (rem < 0) {
		sec--;
		rem += 1000000;
	}
	return (struct cp_time){sec, (uint32_t)rem * 1000u, 6};
}

void cp__audit_hex(const unsigned char hash[32], char out[65])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < 32; i++) {
		out[2 * i] = digits[hash[i] >> 4];
		out[2 * i + 1] = digits[hash[i] & 15];
	}
	out[64] = '\0';
}

char *cp__audit_anchor_path(const char *path)
{
	struct cp_buf b = CP_BUF_INIT(0);

	cp_buf_puts(&b, path);
	cp_buf_puts(&b, ".anchor");
	return cp_buf_take(&b);
}

/* Exactly "SEQ HEXHASH\n": a writer that crashed mid-write cannot leave a prefix
 * that parses, and a hand-edited anchor with stray text is not silently accepted. */
static bool parse_anchor(const char *s, size_t len, struct cp_audit_anchor *out)
{
	size_t i = 0;
	int64_t seq = 0;

	while (i < len && s[i] >= '0' && s[i] <= '9') {
		if (seq > (INT64_MAX - 9) / 10)
			return false;
		seq = seq * 10 + (s[i] - '0');
		i++;
	}
	if (i == 0 || i > 19 || (s[0] == '0' && i > 1))
		return false;
	if (len != i + 1 + 64 + 1 || s[i] != ' ' || s[len - 1] != '\n')
		return false;
	if (!cp_is_hex(s + i + 1, 64))
		return false;
	for (size_t k = 0; k < 32; k++)
		out->hash[k] = (unsigned char)(cp_hex_digit(s[i + 1 + 2 * k]) << 4 |
					       cp_hex_digit(s[i + 2 + 2 * k]));
	out->seq = seq;
	return true;
}

enum cp_audit_anchor_state cp__audit_anchor_read(const char *anchor_path,
						 struct cp_audit_anchor *out)
{
	char buf[128];
	size_t len = 0;
	ssize_t n;
	int fd;

	fd = open(anchor_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? CP_AUDIT_ANCHOR_MISSING : CP_AUDIT_ANCHOR_UNREADABLE;
	while (len < sizeof(buf)) {
		n = read(fd, buf + len, sizeof(buf) - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return CP_AUDIT_ANCHOR_UNREADABLE;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len == sizeof(buf) || !parse_anchor(buf, len, out))
		return CP_AUDIT_ANCHOR_MALFORMED;
	return CP_AUDIT_ANCHOR_OK;
}

enum cp_err cp__audit_open_read(const char *path, sqlite3 **out, struct cp_diag *diag)
{
	sqlite3 *db = NULL;
	sqlite3_stmt *q = NULL;
	const char *format;
	struct stat st;
	enum cp_err err = CP_EBACKEND;

	if (stat(path, &st) != 0) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "cannot open audit trail '%s': %s", path, strerror(errno));
		return errno == ENOENT ? CP_ENOTFOUND : CP_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "cannot open audit trail '%s': not a regular file", path);
		return CP_EIO;
	}
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "cannot open audit trail '%s': %s", path,
			    db ? sqlite3_errmsg(db) : "out of memory");
		err = db ? CP_EBACKEND : CP_ENOMEM;
		goto fail;
	}
	sqlite3_busy_timeout(db, CP_AUDIT_BUSY_MS);
	if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'format'", -1, &q, NULL) !=
		    SQLITE_OK ||
	    sqlite3_step(q) != SQLITE_ROW) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "'%s' is not an audit trail: %s", path,
			    q ? "it has no format mark" : sqlite3_errmsg(db));
		goto fail;
	}
	format = (const char *)sqlite3_column_text(q, 0);
	if (!format || strcmp(format, CP_AUDIT_FORMAT) != 0) {
		cp_diag_add(diag, CP_SEV_ERROR, "audit-open", NULL,
			    "audit trail '%s' has format '%s'; this version reads format %s",
			    path, format ? format : "", CP_AUDIT_FORMAT);
		err = CP_EUNSUPPORTED;
		goto fail;
	}
	sqlite3_finalize(q);
	*out = db;
	return CP_OK;
fail:
	sqlite3_finalize(q);
	sqlite3_close(db);
	return err;
}
