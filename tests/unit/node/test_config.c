/*
 * lib/node/config.c: defaults, a full file read back field by field, every check the
 * loader makes (with its key path and line), hostile YAML (aliases, deep nesting,
 * binary bytes, oversized text), files on disk and allocation failure.
 */
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "cyberpact/config.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

#define ID1 "9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a10"
#define ID2 "2f3c5a1e-8b7d-4c6e-a1f0-3d2e1c0b9a87"
#define ID3 "5d1b8e2c-0a9f-11ee-be56-0242ac120002" /* version 1 */
#define FP "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define PWHASH "$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"

/* Every key, with line numbers the tests below rely on. */
static const char full_text[] =
        "# a complete node\n"                                            /* 1 */
        "listen: \"[::1]:9443\"\n"                                       /* 2 */
        "data_dir: /var/lib/cyberpact\n"                                 /* 3 */
        "title: Example CERT node\n"                                     /* 4 */
        "tls:\n"                                                         /* 5 */
        "  cert: pki/server.crt\n"                                       /* 6 */
        "  key: pki/server.key\n"                                        /* 7 */
        "  client_ca: pki/ca.crt\n"                                      /* 8 */
        "limits:\n"                                                      /* 9 */
        "  max_content_length: 2048\n"                                   /* 10 */
        "  page_size: 50\n"                                              /* 11 */
        "api_roots:\n"                                                   /* 12 */
        "  - name: api1\n"                                               /* 13 */
        "    title: Default API root\n"                                  /* 14 */
        "    description: everything shared\n"                           /* 15 */
        "    collections:\n"                                             /* 16 */
        "      - id: " ID1 "\n"                                          /* 17 */
        "        title: Shared indicators\n"                             /* 18 */
        "        description: 'IOCs, vetted'\n"                          /* 19 */
        "        alias: indicators\n"                                    /* 20 */
        "      - id: " ID2 "\n"                                          /* 21 */
        "        title: Drafts\n"                                        /* 22 */
        "  - name: trusted_2\n"                                          /* 23 */
        "    title: Trusted group\n"                                     /* 24 */
        "    collections: [{id: " ID3 ", title: Inner, alias: inner}]\n" /* 25 */
        "accounts:\n"                                                    /* 26 */
        "  - name: analyst\n"                                            /* 27 */
        "    password_hash: \"" PWHASH "\"\n"                            /* 28 */
        "    read: [\"*\"]\n"                                            /* 29 */
        "    write: [indicators, " ID2 "]\n"                             /* 30 */
        "  - name: sensor-7\n"                                           /* 31 */
        "    client_cert_fingerprint: \"" FP "\"\n"                      /* 32 */
        "    write:\n"                                                   /* 33 */
        "      - inner\n";                                               /* 34 */

static enum cp_err load(const char *text, struct cp_config *c, struct cp_diag *d)
{
	cp_diag_init(d);
	return cp_config_load_text(text, strlen(text), "test.yaml", c, d);
}

static bool is_zeroed(const struct cp_config *c)
{
	static const struct cp_config zero;
	return memcmp(c, &zero, sizeof(zero)) == 0;
}

/* A "config" error whose message starts with "<path>: " and contains part, at line. */
static const struct cp_finding *find_cfg(const struct cp_diag *d, const char *path, unsigned line,
                                         const char *part)
{
	size_t plen = strlen(path);

	for (size_t i = 0; i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		if (f->severity != CP_SEV_ERROR || strcmp(f->code, "config") != 0)
			continue;
		if (plen && (strncmp(f->message, path, plen) != 0 ||
		             strncmp(f->message + plen, ": ", 2) != 0))
			continue;
		if (line && f->line != line)
			continue;
		if (part && !strstr(f->message, part))
			continue;
		return f;
	}
	return NULL;
}

#define assert_cfg(d, path, line, part)                                                            \
	do {                                                                                       \
		if (!find_cfg((d), (path), (line), (part))) {                                      \
			tu_dump(d);                                                                \
			fail_msg("expected config error '%s: ...%s...' at line %u", (path),        \
			         (part) ? (const char *)(part) : "", (unsigned)(line));            \
		}                                                                                  \
	} while (0)

/* text must fail with err and (at least) the described finding; c is left zeroed. */
static void expect_error(const char *text, enum cp_err want, const char *path, unsigned line,
                         const char *part)
{
	struct cp_config c;
	struct cp_diag d;
	enum cp_err err = load(text, &c, &d);

	if (err != want) {
		tu_dump(&d);
		fail_msg("expected %s, got %s for:\n%s", cp_err_name(want), cp_err_name(err), text);
	}
	assert_true(is_zeroed(&c));
	assert_cfg(&d, path, line, part);
	cp_config_release(&c);
	cp_diag_release(&d);
}

static void expect_invalid(const char *text, const char *path, unsigned line, const char *part)
{
	expect_error(text, CP_EINVAL, path, line, part);
}

/* text must load without findings; the caller checks and releases c. */
static void expect_ok(const char *text, struct cp_config *c)
{
	struct cp_diag d;
	enum cp_err err = load(text, c, &d);

	if (err) {
		tu_dump(&d);
		fail_msg("expected success, got %s for:\n%s", cp_err_name(err), text);
	}
	assert_clean(&d);
	cp_diag_release(&d);
}

/* One API root "r" whose collections list (lines 5...) is colls. */
#define ROOT_WITH(colls) "api_roots:\n  - name: r\n    title: R\n    collections:\n" colls

/* ------------------------------------------------------------ defaults */

static void assert_defaults(const struct cp_config *c)
{
	assert_string_equal(c->listen_host, "127.0.0.1");
	assert_int_equal(c->listen_port, 8443);
	assert_string_equal(c->data_dir, "./data");
	assert_string_equal(c->title, "cyberpact node");
	assert_null(c->tls_cert);
	assert_null(c->tls_key);
	assert_null(c->tls_client_ca);
	assert_int_equal(c->max_content_length, 10u << 20);
	assert_int_equal(c->page_size, 1000);
	assert_null(c->api_roots);
	assert_int_equal(c->api_root_count, 0);
	assert_null(c->accounts);
	assert_int_equal(c->account_count, 0);
}

static void defaults(void **state)
{
	struct cp_config c;
	(void)state;

	memset(&c, 0x5a, sizeof(c)); /* an output: garbage in it is not read */
	assert_int_equal(cp_config_defaults(&c), CP_OK);
	assert_defaults(&c);
	cp_config_release(&c);
	assert_true(is_zeroed(&c));
	cp_config_release(&c); /* released twice, and NULL, are harmless */
	cp_config_release(NULL);
}

static void defaults_enomem(void **state)
{
	struct cp_config c;
	enum cp_err err;
	(void)state;

	for (unsigned long n = 1;; n++) {
		cp_alloc_fail_after(n, true);
		err = cp_config_defaults(&c);
		cp_alloc_fail_after(0, false);
		if (!err)
			break;
		assert_int_equal(err, CP_ENOMEM);
		assert_true(is_zeroed(&c));
		assert_true(n < 10);
	}
	assert_defaults(&c);
	cp_config_release(&c);
}

/* Texts without settings give the defaults. */
static void empty_texts(void **state)
{
	static const char *const texts[] = {
	        "",
	        "# only a comment\n",
	        "---\n",
	        "---\n...\n",
	        "{}\n",
	        "~\n",
	        "null",
	        "\n\n   \n",
	        "limits: {}\n",
	        "tls:\n",
	        "api_roots: []\naccounts: ~\n",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(texts); i++) {
		struct cp_config c;
		expect_ok(texts[i], &c);
		assert_defaults(&c);
		cp_config_release(&c);
	}
}

/* ------------------------------------------------------------ full file */

static void full_example(void **state)
{
	struct cp_config c;
	const struct cp_config_api_root *r;
	const struct cp_config_account *a;
	(void)state;

	expect_ok(full_text, &c);
	assert_string_equal(c.listen_host, "::1");
	assert_int_equal(c.listen_port, 9443);
	assert_string_equal(c.data_dir, "/var/lib/cyberpact");
	assert_string_equal(c.title, "Example CERT node");
	assert_string_equal(c.tls_cert, "pki/server.crt");
	assert_string_equal(c.tls_key, "pki/server.key");
	assert_string_equal(c.tls_client_ca, "pki/ca.crt");
	assert_int_equal(c.max_content_length, 2048);
	assert_int_equal(c.page_size, 50);

	assert_int_equal(c.api_root_count, 2);
	r = &c.api_roots[0];
	assert_string_equal(r->name, "api1");
	assert_string_equal(r->title, "Default API root");
	assert_string_equal(r->description, "everything shared");
	assert_int_equal(r->collection_count, 2);
	assert_string_equal(r->collections[0].id, ID1);
	assert_string_equal(r->collections[0].title, "Shared indicators");
	assert_string_equal(r->collections[0].description, "IOCs, vetted");
	assert_string_equal(r->collections[0].alias, "indicators");
	assert_string_equal(r->collections[1].id, ID2);
	assert_string_equal(r->collections[1].title, "Drafts");
	assert_null(r->collections[1].description);
	assert_null(r->collections[1].alias);
	r = &c.api_roots[1];
	assert_string_equal(r->name, "trusted_2");
	assert_string_equal(r->title, "Trusted group");
	assert_null(r->description);
	assert_int_equal(r->collection_count, 1);
	assert_string_equal(r->collections[0].id, ID3);
	assert_string_equal(r->collections[0].title, "Inner");
	assert_string_equal(r->collections[0].alias, "inner");

	assert_int_equal(c.account_count, 2);
	a = &c.accounts[0];
	assert_string_equal(a->name, "analyst");
	assert_string_equal(a->password_hash, PWHASH);
	assert_null(a->client_cert_fingerprint);
	assert_int_equal(a->read_count, 1);
	assert_string_equal(a->read[0], "*");
	assert_int_equal(a->write_count, 2);
	assert_string_equal(a->write[0], "indicators");
	assert_string_equal(a->write[1], ID2);
	a = &c.accounts[1];
	assert_string_equal(a->name, "sensor-7");
	assert_null(a->password_hash);
	assert_string_equal(a->client_cert_fingerprint, FP);
	assert_int_equal(a->read_count, 0);
	assert_null(a->read);
	assert_int_equal(a->write_count, 1);
	assert_string_equal(a->write[0], "inner");
	cp_config_release(&c);
	assert_true(is_zeroed(&c));
}

/* The same settings in flow style and with every optional value null. */
static void flow_style_and_nulls(void **state)
{
	struct cp_config c;
	(void)state;

	expect_ok("{listen: ':0', title: 'x', tls: {cert: ~, key: null, client_ca: },"
	          " api_roots: [{name: a, title: A, description: ~, collections: ~,}],"
	          " accounts: [{name: n, password_hash: '" PWHASH "', read: ~, write: []}]}",
	          &c);
	assert_string_equal(c.listen_host, "0.0.0.0");
	assert_int_equal(c.listen_port, 0);
	assert_string_equal(c.title, "x");
	assert_null(c.tls_cert);
	assert_null(c.tls_key);
	assert_null(c.tls_client_ca);
	assert_int_equal(c.api_root_count, 1);
	assert_null(c.api_roots[0].description);
	assert_int_equal(c.api_roots[0].collection_count, 0);
	assert_int_equal(c.account_count, 1);
	assert_int_equal(c.accounts[0].read_count, 0);
	assert_int_equal(c.accounts[0].write_count, 0);
	cp_config_release(&c);
}

/* A message names the key path first and the file position last. */
static void message_form(void **state)
{
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	assert_int_equal(load("title: ok\nlimits:\n  page_sise: 5\n", &c, &d), CP_EINVAL);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.errors, 1);
	assert_string_equal(d.items[0].code, "config");
	assert_int_equal(d.items[0].severity, CP_SEV_ERROR);
	assert_int_equal(d.items[0].line, 3);
	assert_int_equal(d.items[0].column, 3);
	assert_string_equal(d.items[0].message,
	                    "limits.page_sise: unknown key (expected one of: max_content_length, "
	                    "page_size, connection_timeout) (test.yaml:3:3)");
	cp_diag_release(&d);

	/* no diag at all: the error code still says what happened */
	assert_int_equal(cp_config_load_text("bogus: 1", 8, NULL, &c, NULL), CP_EINVAL);
	assert_true(is_zeroed(&c));
}

/* -------------------------------------------------------------- listen */

static void listen_forms(void **state)
{
	static const struct {
		const char *text;
		const char *host;
		unsigned port;
	} ok[] = {
	        {"listen: 127.0.0.1:8443", "127.0.0.1", 8443},
	        {"listen: localhost:1", "localhost", 1},
	        {"listen: 192.0.2.7:65535", "192.0.2.7", 65535},
	        {"listen: ':8080'", "0.0.0.0", 8080},
	        {"listen: \"[::]:0\"", "::", 0},
	        {"listen: '[2001:db8::7]:443'", "2001:db8::7", 443},
	        {"listen: '[::ffff:192.0.2.1]:00080'", "::ffff:192.0.2.1", 80},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(ok); i++) {
		struct cp_config c;
		expect_ok(ok[i].text, &c);
		assert_string_equal(c.listen_host, ok[i].host);
		assert_int_equal(c.listen_port, ok[i].port);
		cp_config_release(&c);
	}
	expect_invalid("listen: 127.0.0.1", "listen", 1, "has no port");
	expect_invalid("listen: '127.0.0.1:'", "listen", 1,
	               "port must be a number from 0 to 65535");
	expect_invalid("listen: localhost:65536", "listen", 1,
	               "port must be a number from 0 to 65535");
	expect_invalid("listen: localhost:123456", "listen", 1, "port must be");
	expect_invalid("listen: localhost:-1", "listen", 1, "port must be");
	expect_invalid("listen: localhost:8a", "listen", 1, "port must be");
	expect_invalid("listen: ::1:80", "listen", 1, "IPv6 address in brackets");
	expect_invalid("listen: '[::1]80'", "listen", 1, "not [IPv6 address]:port");
	expect_invalid("listen: '[::1'", "listen", 1, "not [IPv6 address]:port");
	expect_invalid("listen: '[]:80'", "listen", 1, "IPv6 address in brackets");
	expect_invalid("listen: '[1.2.3.4]:80'", "listen", 1, "IPv6 address in brackets");
	expect_invalid("listen: 'a b:80'", "listen", 1, "not an IPv4 address or localhost");
	/* names are not resolved: the daemon binds an address */
	expect_invalid("listen: node.example.org:80", "listen", 1,
	               "'node.example.org:80': host is not an IPv4 address or localhost");
	expect_invalid("listen: 1.2.3:80", "listen", 1, "not an IPv4 address");
	expect_invalid("listen: 256.1.1.1:80", "listen", 1, "not an IPv4 address");
	expect_invalid("listen: 8443", "listen", 1, "has no port");
	expect_invalid("listen: [a, b]", "listen", 1, "expected a string, got a list");
	expect_invalid("listen:", "listen", 1, "must not be empty");
	expect_invalid("\n\nlisten: \"\"", "listen", 3, "must not be empty");
}

/* --------------------------------------------------------- keys, types */

static void unknown_keys(void **state)
{
	(void)state;
	expect_invalid("title: t\nlsten: :1\n", "lsten", 2,
	               "unknown key (expected one of: listen,");
	expect_invalid("tls:\n  cert: a\n  key: b\n  ca: c\n", "tls.ca", 4, "unknown key");
	expect_invalid(ROOT_WITH("      - id: " ID1 "\n        title: t\n        aliases: x\n"),
	               "api_roots[0].collections[0].aliases", 7,
	               "unknown key (expected one of: id, title, description, alias)");
	expect_invalid("accounts:\n  - name: a\n    password_hash: '" PWHASH "'\n    admin: 1\n",
	               "accounts[0].admin", 4, "unknown key");
	/* an odd key is quoted safely in the path */
	expect_invalid("\"a\\tb\": 1\n", "a\\x09b", 1, "unknown key");
	/* YAML merge keys are just unknown keys (and need an alias anyway) */
	expect_invalid("<<: {}\n", "<<", 1, "unknown key");
	/* non-string keys */
	expect_invalid("? [a]\n: 1\n", "", 1, "expected a string key, got a list");
	expect_invalid("? {a: 1}\n: 1\ntitle: x\n", "", 1, "expected a string key, got a mapping");
}

static void duplicate_keys(void **state)
{
	(void)state;
	expect_invalid("title: a\ntitle: b\n", "title", 2, "duplicate key");
	expect_invalid("limits: {page_size: 1, page_size: 2}", "limits.page_size", 1,
	               "duplicate key");
	expect_invalid("api_roots: []\napi_roots: []\n", "api_roots", 2, "duplicate key");
}

static void wrong_types(void **state)
{
	(void)state;
	expect_invalid("- a\n- b\n", "", 1, "expected a mapping, got a list");
	expect_invalid("just text\n", "", 1, "expected a mapping, got a scalar");
	expect_invalid("api_roots: {name: a}\n", "api_roots", 1, "expected a list, got a mapping");
	expect_invalid("api_roots: a\n", "api_roots", 1, "expected a list, got a scalar");
	expect_invalid("api_roots: [a]\n", "api_roots[0]", 1, "expected a mapping, got a scalar");
	expect_invalid("api_roots:\n  - ~\n", "api_roots[0]", 2, "expected a mapping, got nothing");
	expect_invalid("api_roots:\n  - [name, a]\n", "api_roots[0]", 2,
	               "expected a mapping, got a list");
	expect_invalid("tls: [a]\n", "tls", 1, "expected a mapping, got a list");
	expect_invalid("limits: 5\n", "limits", 1, "expected a mapping, got a scalar");
	expect_invalid("title: [x]\n", "title", 1, "expected a string, got a list");
	expect_invalid("data_dir: {a: b}\n", "data_dir", 1, "expected a string, got a mapping");
	expect_invalid(ROOT_WITH("      - id: " ID1 "\n        title: {x: 1}\n"),
	               "api_roots[0].collections[0].title", 6, "expected a string, got a mapping");
	expect_invalid(ROOT_WITH("      {}\n"), "api_roots[0].collections", 5,
	               "expected a list, got a mapping");
	expect_invalid("limits:\n  page_size: '100'\n", "limits.page_size", 2,
	               "expected an integer, got the quoted string '100'");
	expect_invalid("limits:\n  page_size: 1e3\n", "limits.page_size", 2,
	               "'1e3' is not a decimal integer");
	expect_invalid("limits:\n  page_size: -5\n", "limits.page_size", 2,
	               "not a decimal integer");
	expect_invalid("limits:\n  page_size: [1]\n", "limits.page_size", 2,
	               "expected an integer, got a list");
	expect_invalid("limits:\n  page_size:\n", "limits.page_size", 2,
	               "expected an integer, got nothing");
	expect_invalid("accounts:\n  - name: a\n    password_hash: '" PWHASH "'\n    read: '*'\n",
	               "accounts[0].read", 4, "expected a list, got a scalar");
	expect_invalid("accounts:\n  - name: a\n    password_hash: '" PWHASH "'\n    read: [[x]]\n",
	               "accounts[0].read[0]", 4, "expected a string, got a list");
	/* a wrong value is not also reported as missing */
	{
		struct cp_config c;
		struct cp_diag d;
		assert_int_equal(load("api_roots:\n  - name: [a]\n    title: t\n", &c, &d),
		                 CP_EINVAL);
		assert_int_equal(d.count, 1);
		assert_cfg(&d, "api_roots[0].name", 2, "expected a string");
		cp_diag_release(&d);
	}
}

static void nul_in_string(void **state)
{
	static const char text[] = "title: \"a\\0b\"\n";
	(void)state;
	expect_invalid(text, "title", 1, "must not contain NUL characters");
}

static void missing_required(void **state)
{
	(void)state;
	expect_invalid("api_roots:\n  - title: t\n", "api_roots[0]", 2,
	               "missing required key 'name'");
	expect_invalid("api_roots:\n  - name: n\n", "api_roots[0]", 2,
	               "missing required key 'title'");
	expect_invalid(ROOT_WITH("      - title: t\n"), "api_roots[0].collections[0]", 5,
	               "missing required key 'id'");
	expect_invalid(ROOT_WITH("      - id: " ID1 "\n"), "api_roots[0].collections[0]", 5,
	               "missing required key 'title'");
	expect_invalid("accounts:\n  - read: ['*']\n", "accounts[0]", 2,
	               "missing required key 'name'");
	expect_invalid("api_roots:\n  - {}\n", "api_roots[0]", 2, "missing required key 'name'");
}

/* ------------------------------------------------------ values, limits */

static void limits_ranges(void **state)
{
	struct cp_config c;
	(void)state;

	expect_ok("limits: {page_size: 1, max_content_length: 1024}", &c);
	assert_int_equal(c.page_size, 1);
	assert_int_equal(c.max_content_length, 1024);
	cp_config_release(&c);
	expect_ok("limits: {page_size: 10000, max_content_length: 268435456}", &c);
	assert_int_equal(c.page_size, 10000);
	assert_int_equal(c.max_content_length, 268435456);
	cp_config_release(&c);

	expect_invalid("limits:\n  page_size: 0\n", "limits.page_size", 2,
	               "must be between 1 and 10000, got 0");
	expect_invalid("limits:\n  page_size: 10001\n", "limits.page_size", 2,
	               "must be between 1 and 10000");
	expect_invalid("limits:\n  max_content_length: 1023\n", "limits.max_content_length", 2,
	               "must be between 1024 and 268435456, got 1023");
	expect_invalid("limits:\n  max_content_length: 268435457\n", "limits.max_content_length", 2,
	               "must be between 1024");
	expect_invalid("limits:\n  max_content_length: 99999999999999999999999999999\n",
	               "limits.max_content_length", 2, "must be between 1024");
}

static void titles(void **state)
{
	(void)state;
	expect_invalid("title: ''\n", "title", 1, "must not be empty");
	expect_invalid("title:\n", "title", 1, "must not be empty");
	expect_invalid("data_dir: ~\n", "data_dir", 1, "must not be empty");
	expect_invalid("api_roots:\n  - name: a\n    title: \"\"\n", "api_roots[0].title", 3,
	               "must not be empty");
	expect_invalid(ROOT_WITH("      - id: " ID1 "\n        title: ''\n"),
	               "api_roots[0].collections[0].title", 6, "must not be empty");
	/* an empty description is a value, not an error */
	{
		struct cp_config c;
		expect_ok("api_roots:\n  - {name: a, title: A, description: ''}\n", &c);
		assert_string_equal(c.api_roots[0].description, "");
		cp_config_release(&c);
	}
}

static void tls_pairs(void **state)
{
	struct cp_config c;
	(void)state;

	expect_invalid("tls:\n  cert: a.crt\n", "tls", 2, "cert and key must be given together");
	expect_invalid("tls:\n  key: a.key\n  client_ca: ca.crt\n", "tls", 2,
	               "cert and key must be given together");
	expect_ok("tls:\n  client_ca: ca.crt\n", &c);
	assert_null(c.tls_cert);
	assert_string_equal(c.tls_client_ca, "ca.crt");
	cp_config_release(&c);
}

static void api_root_names(void **state)
{
	struct cp_config c;
	(void)state;

	expect_ok("api_roots:\n  - {name: A-z_09, title: t}\n  - {name: '-', title: t}\n", &c);
	assert_string_equal(c.api_roots[0].name, "A-z_09");
	cp_config_release(&c);
	expect_invalid("api_roots:\n  - name: a/b\n    title: t\n", "api_roots[0].name", 2,
	               "'a/b' is not a valid API root name");
	expect_invalid("api_roots:\n  - name: a.b\n    title: t\n", "api_roots[0].name", 2,
	               "not a valid API root name");
	expect_invalid("api_roots:\n  - name: 'caf\xc3\xa9'\n    title: t\n", "api_roots[0].name",
	               2, "'caf\\xc3\\xa9' is not a valid API root name");
	expect_invalid("api_roots:\n  - name: taxii2\n    title: t\n", "api_roots[0].name", 2,
	               "reserved for the discovery endpoint");
	expect_invalid("api_roots:\n  - name: ''\n    title: t\n", "api_roots[0].name", 2,
	               "must not be empty");
	expect_invalid(
	        "api_roots:\n  - {name: a, title: t}\n  - {name: b, title: t}\n"
	        "  - {name: a, title: t}\n",
	        "api_roots[2].name", 4,
	        "duplicate API root name: 'a' is already used by api_roots[0].name (line 2)");
}

static void collection_ids(void **state)
{
	static const char *const bad[] = {
	        "9EE8A8B4-3E5E-4B7E-9CDE-7C7F6A2D9A10",  /* uppercase */
	        "9ee8a8b43e5e4b7e9cde7c7f6a2d9a10",      /* no dashes */
	        "9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a1",   /* short */
	        "9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a100", /* long */
	        "9ee8a8b4-3e5e-0b7e-9cde-7c7f6a2d9a10",  /* version 0 */
	        "9ee8a8b4-3e5e-4b7e-1cde-7c7f6a2d9a10",  /* NCS variant */
	        "9ee8a8b4-3e5e-4b7e-ccde-7c7f6a2d9a10",  /* Microsoft variant */
	        "00000000-0000-0000-0000-000000000000",  /* nil */
	        "9ee8a8b4_3e5e_4b7e_9cde_7c7f6a2d9a10",
	        "9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a1g",
	        "indicators",
	};
	char text[512];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		snprintf(text, sizeof(text), ROOT_WITH("      - id: '%s'\n        title: t\n"),
		         bad[i]);
		expect_invalid(text, "api_roots[0].collections[0].id", 5,
		               "is not a UUID in lowercase RFC 4122 form");
	}
	expect_invalid(ROOT_WITH("      - id: ~\n        title: t\n"),
	               "api_roots[0].collections[0].id", 5, "must not be empty");
}

static void collection_duplicates(void **state)
{
	struct cp_config c;
	(void)state;

	expect_invalid(ROOT_WITH("      - {id: " ID1 ", title: a}\n"
	                         "      - {id: " ID2 ", title: b}\n"
	                         "      - {id: " ID1 ", title: c}\n"),
	               "api_roots[0].collections[2].id", 7,
	               "duplicate collection id or alias in this API root: '" ID1
	               "' is already used by api_roots[0].collections[0].id (line 5)");
	expect_invalid(ROOT_WITH("      - {id: " ID1 ", title: a, alias: x}\n"
	                         "      - {id: " ID2 ", title: b, alias: x}\n"),
	               "api_roots[0].collections[1].alias", 6,
	               "'x' is already used by api_roots[0].collections[0].alias (line 5)");
	/* an alias that is another collection's id would make lookups ambiguous */
	expect_invalid(ROOT_WITH("      - {id: " ID1 ", title: a, alias: '" ID2 "'}\n"
	                         "      - {id: " ID2 ", title: b}\n"),
	               "api_roots[0].collections[1].id", 6,
	               "is already used by api_roots[0].collections[0].alias (line 5)");
	expect_invalid(ROOT_WITH("      - {id: " ID1 ", title: a, alias: '*'}\n"),
	               "api_roots[0].collections[0].alias", 5, "'*' cannot be an alias");
	expect_invalid(ROOT_WITH("      - {id: " ID1 ", title: a, alias: ''}\n"),
	               "api_roots[0].collections[0].alias", 5, "must not be empty");

	/* the same id or alias in two API roots is fine, and so is an alias equal to
	 * the collection's own id */
	expect_ok("api_roots:\n"
	          "  - {name: a, title: A, collections: [{id: " ID1 ", title: t, alias: x}]}\n"
	          "  - {name: b, title: B, collections: [{id: " ID1 ", title: t, alias: x}]}\n"
	          "  - {name: c, title: C, collections: [{id: " ID2 ", title: t, alias: " ID2
	          "}]}\n",
	          &c);
	assert_int_equal(c.api_root_count, 3);
	cp_config_release(&c);
}

static void accounts(void **state)
{
	struct cp_config c;
	(void)state;

	expect_invalid("accounts:\n  - {name: a, password_hash: '" PWHASH "'}\n"
	               "  - {name: a, client_cert_fingerprint: '" FP "'}\n",
	               "accounts[1].name", 3,
	               "duplicate account name: 'a' is already used by accounts[0].name (line 2)");
	expect_invalid("accounts:\n  - {name: 'a:b', password_hash: '" PWHASH "'}\n",
	               "accounts[0].name", 2, "cannot contain ':' or control characters");
	expect_invalid("accounts:\n  - {name: \"a\\x01\", password_hash: '" PWHASH "'}\n",
	               "accounts[0].name", 2, "'a\\x01': an account name cannot contain");
	expect_invalid("accounts:\n  - name: a\n    password_hash: secret\n",
	               "accounts[0].password_hash", 3,
	               "not a libsodium crypto_pwhash_str hash (it must start with \"$argon2\")");
	expect_invalid("accounts:\n  - name: a\n    password_hash: '$2y$10$abcdefghijkl'\n",
	               "accounts[0].password_hash", 3, "not a libsodium crypto_pwhash_str hash");
	{
		/* the value is a credential: it is never quoted */
		struct cp_diag d;
		assert_int_equal(load("accounts:\n  - {name: a, password_hash: hunter2}\n", &c, &d),
		                 CP_EINVAL);
		for (size_t i = 0; i < d.count; i++)
			assert_null(strstr(d.items[i].message, "hunter2"));
		cp_diag_release(&d);
	}
	{
		char text[512], big[200];
		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		snprintf(text, sizeof(text),
		         "accounts:\n  - {name: a, password_hash: '$argon2id$%s'}\n", big);
		expect_invalid(text, "accounts[0].password_hash", 2, "not a libsodium");
	}
	expect_invalid("accounts:\n  - name: a\n    client_cert_fingerprint: 'sha256:abc'\n",
	               "accounts[0].client_cert_fingerprint", 3,
	               "'sha256:abc' is not \"sha256:\" followed by 64 hex digits");
	expect_invalid("accounts:\n  - name: a\n    client_cert_fingerprint: "
	               "'sha1:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'\n",
	               "accounts[0].client_cert_fingerprint", 3, "followed by 64 hex digits");
	expect_invalid(
	        "accounts:\n  - name: a\n    client_cert_fingerprint: "
	        "'sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg'\n",
	        "accounts[0].client_cert_fingerprint", 3, "followed by 64 hex digits");
	expect_invalid("accounts:\n  - name: a\n    read: ['*']\n", "accounts[0]", 2,
	               "an account needs password_hash or client_cert_fingerprint");
	expect_invalid("accounts:\n  - {name: a, password_hash: ~}\n", "accounts[0]", 2,
	               "an account needs password_hash or client_cert_fingerprint");

	/* uppercase hex is accepted and kept lowercase, for byte-wise comparison */
	expect_ok("accounts:\n  - name: a\n    client_cert_fingerprint: "
	          "'sha256:0123456789ABCDEF0123456789abcdef0123456789AbCdEf0123456789abcdef'\n",
	          &c);
	assert_string_equal(c.accounts[0].client_cert_fingerprint, FP);
	cp_config_release(&c);
}

static void read_write_entries(void **state)
{
	struct cp_config c;
	(void)state;

	expect_invalid("accounts:\n  - name: a\n    password_hash: '" PWHASH "'\n"
	               "    read: ['*', nosuch]\n",
	               "accounts[0].read[1]", 4,
	               "'nosuch' is neither \"*\" nor the id or alias of a configured collection");
	expect_invalid(ROOT_WITH("      - {id: " ID1
	                         ", title: a, alias: x}\n") "accounts:\n  - name: a\n    "
	                                                    "password_hash: '" PWHASH "'\n"
	                                                    "    write:\n      - x\n      - " ID2
	                                                    "\n",
	               "accounts[0].write[1]", 11, "'" ID2 "' is neither");
	expect_invalid("accounts:\n  - name: a\n    password_hash: '" PWHASH "'\n    read: ['']\n",
	               "accounts[0].read[0]", 4, "must not be empty");
	/* accounts may come before the API roots they name */
	expect_ok("accounts:\n  - name: a\n    password_hash: '" PWHASH "'\n"
	          "    read: [x, " ID2
	          "]\n    write: ['*']\n" ROOT_WITH("      - {id: " ID1 ", title: a, alias: x}\n"
	                                            "      - {id: " ID2 ", title: b}\n"),
	          &c);
	assert_int_equal(c.accounts[0].read_count, 2);
	assert_string_equal(c.accounts[0].read[1], ID2);
	assert_int_equal(c.accounts[0].write_count, 1);
	cp_config_release(&c);
}

/* Sync peers and their subscriptions. */
static void peers(void **state)
{
	struct cp_config c;
	(void)state;

	expect_ok(ROOT_WITH("      - {id: " ID1 ", title: a, alias: x}\n")
	          "peers:\n"
	          "  - name: jp.mod\n"
	          "    url: https://127.0.0.1:9443/api1/\n"
	          "    cacert: peers/jp-ca.crt\n"
	          "    token_file: peers/jp.token\n"
	          "    pull:\n"
	          "      - {remote: " ID2 ", local: x, interval: 5}\n"
	          "    push:\n"
	          "      - {local: " ID1 ", remote: " ID2 "}\n",
	          &c);
	assert_int_equal(c.peer_count, 1);
	assert_string_equal(c.peers[0].name, "jp.mod");
	assert_string_equal(c.peers[0].url, "https://127.0.0.1:9443/api1/");
	assert_string_equal(c.peers[0].token_file, "peers/jp.token");
	assert_null(c.peers[0].client_cert);
	assert_int_equal(c.peers[0].pull_count, 1);
	assert_string_equal(c.peers[0].pull[0].local, "x");
	assert_int_equal(c.peers[0].pull[0].interval, 5);
	assert_int_equal(c.peers[0].push_count, 1);
	assert_int_equal(c.peers[0].push[0].interval, 10); /* the default */
	cp_config_release(&c);

	expect_invalid("peers:\n  - {name: a, url: 'http://h/api1/', cacert: c}\n", "peers[0].url",
	               2, "is not the https:// URL of an API root");
	expect_invalid("peers:\n  - {name: a, url: 'https://h/api1', cacert: c}\n", "peers[0].url",
	               2, "ending in '/'");
	expect_invalid("peers:\n  - {name: 'a b', url: 'https://h/api1/', cacert: c}\n",
	               "peers[0].name", 2, "is not a valid peer name");
	expect_invalid("peers:\n  - {name: a, url: 'https://h/api1/'}\n", "peers[0]", 2,
	               "missing required key 'cacert'");
	expect_invalid("peers:\n  - {name: a, url: 'https://h/api1/', cacert: c}\n"
	               "  - {name: a, url: 'https://h/api2/', cacert: c}\n",
	               "peers[1].name", 3, "duplicate peer name");
	expect_invalid("peers:\n  - {name: a, url: 'https://h/api1/', cacert: c, client_cert: x}\n",
	               "peers[0]", 2, "client_cert and client_key go together");
	expect_invalid("peers:\n  - {name: a, url: 'https://h/api1/', cacert: c, user: u}\n",
	               "peers[0]", 2, "user and password_file go together");
	expect_invalid("peers:\n  - name: a\n    url: 'https://h/api1/'\n    cacert: c\n"
	               "    pull:\n      - {remote: r, local: nosuch}\n",
	               "peers[0].pull[0].local", 6,
	               "'nosuch' is not the id or alias of a configured collection");
	expect_invalid("peers:\n  - name: a\n    url: 'https://h/api1/'\n    cacert: c\n"
	               "    push:\n      - {remote: '../x', local: '*'}\n",
	               "peers[0].push[0].remote", 6, "is not a collection id");
	expect_invalid("peers:\n  - name: a\n    url: 'https://h/api1/'\n    cacert: c\n"
	               "    pull:\n      - {remote: r, local: '*'}\n",
	               "peers[0].pull[0].local", 6, "is not the id or alias");
	expect_invalid("peers:\n  - name: a\n    url: 'https://h/api1/'\n    cacert: c\n"
	               "    pull:\n      - {remote: r, local: x, interval: 0}\n",
	               "peers[0].pull[0].interval", 6, "must be between 1 and 86400");
	expect_invalid("peers:\n  - name: a\n    url: 'https://h/api1/'\n    cacert: c\n"
	               "    pull:\n      - {local: x}\n",
	               "peers[0].pull[0]", 6, "missing required key 'remote'");
}

/* Every error is reported, not just the first, in document order. */
static void many_errors(void **state)
{
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	assert_int_equal(load("title: ''\n"
	                      "limits: {page_size: 0}\n"
	                      "api_roots:\n"
	                      "  - {name: 'x y', title: t, collections: [{id: nope, title: t}]}\n"
	                      "color: blue\n",
	                      &c, &d),
	                 CP_EINVAL);
	assert_int_equal(d.count, 5);
	assert_int_equal(d.items[0].line, 1);
	assert_int_equal(d.items[4].line, 5);
	assert_cfg(&d, "title", 1, "must not be empty");
	assert_cfg(&d, "limits.page_size", 2, "between 1 and 10000");
	assert_cfg(&d, "api_roots[0].name", 4, "not a valid API root name");
	assert_cfg(&d, "api_roots[0].collections[0].id", 4, "'nope' is not a UUID");
	assert_cfg(&d, "color", 5, "unknown key");
	assert_true(is_zeroed(&c));
	cp_diag_release(&d);
}

static void too_many_errors(void **state)
{
	struct cp_buf b = CP_BUF_INIT(0);
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	for (int i = 0; i < 500; i++)
		cp_buf_printf(&b, "k%d: 1\n", i);
	assert_int_equal(cp_buf_finish(&b), CP_OK);
	assert_int_equal(load(b.ptr, &c, &d), CP_EINVAL);
	assert_int_equal(d.count, 101);
	assert_cfg(&d, "k99", 100, "unknown key");
	assert_non_null(strstr(d.items[100].message, "too many errors in test.yaml"));
	cp_diag_release(&d);
	cp_buf_release(&b);
}

/* --------------------------------------------------------- hostile YAML */

static void syntax_errors(void **state)
{
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	expect_error("title: a\nlimits:\n  page_size: 1\n bad indent: [\n", CP_EPARSE, "", 4,
	             "invalid YAML");
	expect_error("title: \"open\n", CP_EPARSE, "", 0, "invalid YAML");
	expect_error("a: [1, 2\n", CP_EPARSE, "", 0, "invalid YAML");
	expect_error("a: b: c\n", CP_EPARSE, "", 1, "mapping values are not allowed");
	expect_error("\tx: 1\n", CP_EPARSE, "", 1, "invalid YAML");
	/* the key path of the moment is not put in front of a syntax error */
	assert_int_equal(load("api_roots:\n  - name: a\n    title: \"x\n", &c, &d), CP_EPARSE);
	assert_int_equal(d.count, 1);
	assert_non_null(strstr(d.items[0].message, "invalid YAML: "));
	assert_true(d.items[0].line >= 3);
	cp_diag_release(&d);
}

static void binary_input(void **state)
{
	static const char nonutf8[] = "title: caf\xe9\n";
	static const char ctrl[] = "title: a\x01z\n";
	static const char bytes[] = {'\x00', '\xff', '\x13', '\x37', '\x80', 'a', ':', '\n'};
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	expect_error(nonutf8, CP_EPARSE, "", 1, "invalid YAML");
	expect_error(ctrl, CP_EPARSE, "", 1, "control characters are not allowed (byte 0x01)");
	cp_diag_init(&d);
	assert_int_not_equal(cp_config_load_text(bytes, sizeof(bytes), "b", &c, &d), CP_OK);
	assert_true(d.count >= 1);
	assert_true(is_zeroed(&c));
	cp_diag_release(&d);
	/* a NUL in the middle of the text */
	cp_diag_init(&d);
	assert_int_equal(cp_config_load_text("title: a\0b\n", 11, "n", &c, &d), CP_EPARSE);
	assert_int_equal(d.items[0].line, 1);
	cp_diag_release(&d);
	/* NULL text with no length is an empty file */
	assert_int_equal(cp_config_load_text(NULL, 0, NULL, &c, NULL), CP_OK);
	assert_defaults(&c);
	cp_config_release(&c);
}

static void anchors_and_aliases(void **state)
{
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	expect_invalid("title: &t x\ndata_dir: *t\n", "title", 1, "anchors are not allowed (&t)");
	expect_invalid("title: &t x\ndata_dir: *t\n", "data_dir", 2,
	               "aliases are not allowed (*t)");
	expect_invalid("tls: &x {}\n", "tls", 1, "anchors are not allowed");
	expect_invalid("api_roots: &l []\n", "api_roots", 1, "anchors are not allowed");
	expect_invalid("api_roots:\n  - &r {name: a, title: b}\n  - *r\n", "api_roots[1]", 3,
	               "aliases are not allowed");
	expect_invalid("title: !!str x\n", "title", 1,
	               "tags are not allowed (tag:yaml.org,2002:str)");
	expect_invalid("tls: !custom {}\n", "tls", 1, "tags are not allowed (!custom)");

	/* the classic "billion laughs": rejected at the first anchor, nothing expanded */
	assert_int_equal(load("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n"
	                      "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
	                      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
	                      "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
	                      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
	                      "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
	                      "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
	                      "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
	                      "i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
	                      &c, &d),
	                 CP_EINVAL);
	assert_cfg(&d, "a", 1, "anchors are not allowed (&a)");
	assert_cfg(&d, "b", 2, "aliases are not allowed (*a)");
	assert_true(d.count <= 101);
	cp_diag_release(&d);
}

static void multiple_documents(void **state)
{
	(void)state;
	expect_invalid("title: a\n---\ntitle: b\n", "", 2, "a second YAML document");
	expect_invalid("---\ntitle: a\n...\n---\n", "", 4, "a second YAML document");
	expect_invalid("title: a\n---\n", "", 2, "only one is allowed");
}

/* "x: [[...]]" with n lists; must fail (x is no key) with findings in d. */
static void nested_lists(int n, struct cp_diag *d)
{
	char text[256];
	struct cp_config c;
	size_t o = 3;

	memcpy(text, "x: ", 3);
	for (int i = 0; i < n; i++)
		text[o++] = '[';
	for (int i = 0; i < n; i++)
		text[o++] = ']';
	text[o] = '\0';
	assert_int_equal(load(text, &c, d), CP_EINVAL);
}

/* Deep nesting of either style ends at CP_CONFIG_MAX_DEPTH, not in a stack overflow. */
static void deep_nesting(void **state)
{
	const size_t levels = 10000;
	char *flow = malloc(2 * levels + 16), *block = malloc(levels * 3 + 16);
	size_t o;
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	assert_non_null(flow);
	assert_non_null(block);
	/* a: [[[[...]]]] */
	memcpy(flow, "a: ", 3);
	o = 3;
	for (size_t i = 0; i < levels; i++)
		flow[o++] = '[';
	for (size_t i = 0; i < levels; i++)
		flow[o++] = ']';
	flow[o] = '\0';
	assert_int_equal(load(flow, &c, &d), CP_EINVAL);
	assert_cfg(&d, "", 1, "nesting deeper than 64 levels");
	assert_true(is_zeroed(&c));
	cp_diag_release(&d);
	/* tls: {a: {a: ... (never closed) inside a known key */
	memcpy(flow, "tls: ", 5);
	o = 5;
	for (size_t i = 0; i < levels && o + 4 < 2 * levels; i++) {
		memcpy(flow + o, "{a: ", 4);
		o += 4;
	}
	flow[o] = '\0';
	assert_int_equal(load(flow, &c, &d), CP_EINVAL);
	assert_int_equal(d.count, 2);
	assert_cfg(&d, "tls.a", 1, "unknown key");
	assert_cfg(&d, "", 1, "nesting deeper than 64 levels");
	cp_diag_release(&d);
	/* - - - - ... x (block sequences) */
	o = 0;
	for (size_t i = 0; i < levels; i++) {
		memcpy(block + o, "- ", 2);
		o += 2;
	}
	block[o++] = 'x';
	block[o] = '\0';
	assert_int_equal(load(block, &c, &d), CP_EINVAL);
	assert_cfg(&d, "", 1, "nesting deeper than 64 levels");
	cp_diag_release(&d);
	free(flow);
	free(block);

	/* the top mapping and 63 lists are 64 levels: fine as far as nesting goes */
	nested_lists(63, &d);
	assert_int_equal(d.count, 1);
	assert_cfg(&d, "x", 1, "unknown key");
	cp_diag_release(&d);
	nested_lists(64, &d);
	assert_int_equal(d.count, 2);
	assert_cfg(&d, "x", 1, "unknown key");
	assert_cfg(&d, "", 1, "nesting deeper than 64 levels");
	cp_diag_release(&d);
}

static void size_limit(void **state)
{
	size_t n = CP_CONFIG_MAX_BYTES + 1;
	char *text = malloc(n + 1);
	struct cp_config c;
	struct cp_diag d;
	(void)state;

	assert_non_null(text);
	/* a comment of exactly the limit is accepted; one byte more is not */
	memset(text, ' ', n);
	text[0] = '#';
	text[n - 2] = '\n';
	cp_diag_init(&d);
	assert_int_equal(cp_config_load_text(text, n - 1, "big", &c, &d), CP_OK);
	assert_clean(&d);
	cp_config_release(&c);
	assert_int_equal(cp_config_load_text(text, n, "big", &c, &d), CP_ETOOBIG);
	assert_int_equal(d.count, 1);
	assert_string_equal(d.items[0].message, "configuration larger than 1048576 bytes (big)");
	assert_true(is_zeroed(&c));
	cp_diag_release(&d);
	free(text);
}

/* ---------------------------------------------------------------- files */

static char *write_temp(const char *text, size_t len)
{
	char *path = strdup("/tmp/cp-config-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	close(fd);
	return path;
}

static void files(void **state)
{
	struct cp_config c;
	struct cp_diag d;
	char *path, *big;
	(void)state;

	path = write_temp(full_text, strlen(full_text));
	cp_diag_init(&d);
	assert_int_equal(cp_config_load(path, &c, &d), CP_OK);
	assert_clean(&d);
	assert_int_equal(c.api_root_count, 2);
	assert_string_equal(c.accounts[1].write[0], "inner");
	cp_config_release(&c);
	unlink(path);
	free(path);

	/* the file name is in the message */
	path = write_temp("title: a\nnope: 1\n", 17);
	assert_int_equal(cp_config_load(path, &c, &d), CP_EINVAL);
	assert_int_equal(d.count, 1);
	assert_int_equal(d.items[0].line, 2);
	assert_non_null(strstr(d.items[0].message, path));
	cp_diag_release(&d);
	unlink(path);
	free(path);

	assert_int_equal(cp_config_load("/nonexistent/cyberpact.yaml", &c, &d), CP_ENOTFOUND);
	assert_true(is_zeroed(&c));
	assert_cfg(&d, "", 0, "cannot open configuration file '/nonexistent/cyberpact.yaml'");
	cp_diag_release(&d);
	assert_int_equal(cp_config_load("/tmp", &c, &d), CP_EIO);
	assert_cfg(&d, "", 0, "cannot read configuration file '/tmp'");
	assert_true(is_zeroed(&c));
	cp_diag_release(&d);

	big = malloc(CP_CONFIG_MAX_BYTES + 10);
	assert_non_null(big);
	memset(big, '\n', CP_CONFIG_MAX_BYTES + 10);
	path = write_temp(big, CP_CONFIG_MAX_BYTES + 10);
	assert_int_equal(cp_config_load(path, &c, &d), CP_ETOOBIG);
	assert_cfg(&d, "", 0, "configuration larger than");
	cp_diag_release(&d);
	unlink(path);
	free(path);
	free(big);
}

/* ----------------------------------------------------- allocation failure */

/* Fail the n-th allocation and every later one, for n = 1, 2, ... until it loads. */
static void torture(const char *text, enum cp_err final)
{
	struct cp_config c;
	struct cp_diag d;
	enum cp_err err;
	unsigned long n;

	for (n = 1;; n++) {
		cp_diag_init(&d);
		cp_alloc_fail_after(n, true);
		err = cp_config_load_text(text, strlen(text), "t.yaml", &c, &d);
		cp_alloc_fail_after(0, false);
		if (err == final && d.err == CP_OK)
			break;
		if (err != CP_ENOMEM)
			fail_msg("allocation %lu failed: got %s, want CP_ENOMEM", n,
			         cp_err_name(err));
		assert_true(is_zeroed(&c));
		cp_diag_release(&d);
		assert_true(n < 100000);
	}
	/* the run that succeeded is the complete one */
	if (final == CP_OK) {
		assert_clean(&d);
		cp_config_release(&c);
	} else {
		assert_true(d.count >= 1);
	}
	cp_diag_release(&d);
	assert_true(n > 1);
}

static void alloc_failure(void **state)
{
	(void)state;
	torture(full_text, CP_OK);
	torture("title: ''\nbogus: 1\napi_roots:\n  - {name: a, title: t}\n  - {name: a, title: "
	        "t}\n"
	        "accounts: [{name: x, password_hash: y, read: [q]}]\n",
	        CP_EINVAL);
	torture("a: [\n", CP_EPARSE);
}

/* The file variant too: its buffer, then everything after it. */
static void alloc_failure_file(void **state)
{
	char *path = write_temp(full_text, strlen(full_text));
	struct cp_config c;
	enum cp_err err;
	(void)state;

	for (unsigned long n = 1;; n++) {
		cp_alloc_fail_after(n, true);
		err = cp_config_load(path, &c, NULL);
		cp_alloc_fail_after(0, false);
		if (!err)
			break;
		assert_int_equal(err, CP_ENOMEM);
		assert_true(is_zeroed(&c));
	}
	assert_int_equal(c.account_count, 2);
	cp_config_release(&c);
	unlink(path);
	free(path);
}


static void connection_timeout(void **state)
{
	struct cp_config c;
	struct cp_diag d;
	static const char ok[] = "limits:\n  connection_timeout: 5\n";
	static const char bad[] = "limits:\n  connection_timeout: 0\n";
	(void)state;
	cp_diag_init(&d);
	assert_int_equal(cp_config_defaults(&c), CP_OK);
	assert_int_equal(c.connection_timeout, 30);
	cp_config_release(&c);
	assert_int_equal(cp_config_load_text(ok, sizeof(ok) - 1, "t.yaml", &c, &d), CP_OK);
	assert_int_equal(c.connection_timeout, 5);
	cp_config_release(&c);
	assert_int_equal(cp_config_load_text(bad, sizeof(bad) - 1, "t.yaml", &c, &d), CP_EINVAL);
	assert_finding(&d, CP_SEV_ERROR, "config", NULL);
	cp_diag_release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(connection_timeout),
	        cmocka_unit_test(defaults),
	        cmocka_unit_test(defaults_enomem),
	        cmocka_unit_test(empty_texts),
	        cmocka_unit_test(full_example),
	        cmocka_unit_test(flow_style_and_nulls),
	        cmocka_unit_test(message_form),
	        cmocka_unit_test(listen_forms),
	        cmocka_unit_test(unknown_keys),
	        cmocka_unit_test(duplicate_keys),
	        cmocka_unit_test(wrong_types),
	        cmocka_unit_test(nul_in_string),
	        cmocka_unit_test(missing_required),
	        cmocka_unit_test(limits_ranges),
	        cmocka_unit_test(titles),
	        cmocka_unit_test(tls_pairs),
	        cmocka_unit_test(api_root_names),
	        cmocka_unit_test(collection_ids),
	        cmocka_unit_test(collection_duplicates),
	        cmocka_unit_test(accounts),
	        cmocka_unit_test(read_write_entries),
	        cmocka_unit_test(peers),
	        cmocka_unit_test(many_errors),
	        cmocka_unit_test(too_many_errors),
	        cmocka_unit_test(syntax_errors),
	        cmocka_unit_test(binary_input),
	        cmocka_unit_test(anchors_and_aliases),
	        cmocka_unit_test(multiple_documents),
	        cmocka_unit_test(deep_nesting),
	        cmocka_unit_test(size_limit),
	        cmocka_unit_test(files),
	        cmocka_unit_test(alloc_failure),
	        cmocka_unit_test(alloc_failure_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
