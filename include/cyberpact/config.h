/*
 * cyberpact/config.h - the node's configuration (YAML, read with libyaml) and its
 * defaults. `cyberpact serve --config FILE`; flags override the file; with no file
 * at all the defaults give a working loopback node.
 *
 * Example (every key optional):
 *
 *   listen: 127.0.0.1:8443
 *   data_dir: ./data
 *   title: cyberpact node
 *   tls:
 *     cert: pki/server.crt        # relative paths are relative to data_dir
 *     key: pki/server.key
 *     client_ca: pki/ca.crt       # verify client certificates against this CA
 *   limits:
 *     max_content_length: 10485760
 *     page_size: 1000             # server-chosen maximum objects per page
 *     connection_timeout: 30      # seconds before an idle or slow client is dropped
 *   api_roots:
 *     - name: api1
 *       title: Default API root
 *       collections:
 *         - id: 9ee8a8b4-3e5e-4b7e-9cde-7c7f6a2d9a10
 *           title: Shared indicators
 *           alias: indicators
 *   accounts:
 *     - name: analyst
 *       password_hash: "$argon2id$..."   # crypto_pwhash_str format (libsodium)
 *       client_cert_fingerprint: "sha256:..." # SPKI SHA-256 of a client certificate
 *       read: ["*"]                   # collection ids or aliases, or "*"
 *       write: [indicators]
 *
 * What the loader checks (every finding has code "config", severity error, the
 * 1-based line and column, and a message that starts with the key path and ends with
 * "(NAME:LINE:COLUMN)"); docs/CONFIG.md lists every key:
 *  - YAML syntax; one document at most; no anchors, aliases or tags; nesting at most
 *    CP_CONFIG_MAX_DEPTH levels; at most CP_CONFIG_MAX_BYTES of text;
 *  - unknown and duplicate keys, wrong types (a list where a mapping is expected...),
 *    missing required keys (api root name and title, collection id and title,
 *    account name), strings with NUL characters;
 *  - listen syntax (host an IPv4 address, localhost or [IPv6]) and port range;
 *    page_size 1..10000; max_content_length 1024..CP_LIMIT_DOC_BYTES; tls cert and
 *    key given together;
 *  - API root names [A-Za-z0-9_-]+ and not "taxii2" (the discovery path), unique;
 *    titles non-empty; collection ids lowercase RFC 4122 UUIDs; ids and aliases
 *    unique within their API root; an alias is not "*";
 *  - account names unique, without ':' or control characters; password_hash a
 *    crypto_pwhash_str string ("$argon2..."); client_cert_fingerprint "sha256:" and
 *    64 hex digits (stored lowercase); an account has at least one of the two; every
 *    read/write entry is "*" or the id or alias of a configured collection.
 * The loader stops after 100 errors. Strings are kept as written: relative TLS paths
 * are resolved against data_dir by whoever opens them.
 *
 * Thread-safety: a loaded struct cp_config is read-only and may be shared.
 */
#ifndef CYBERPACT_CONFIG_H
#define CYBERPACT_CONFIG_H

#include "cyberpact/base.h"

/* Largest configuration text the loader accepts, and deepest nesting of YAML
 * collections (the real schema needs 4; the cap keeps hostile input cheap). */
#define CP_CONFIG_MAX_BYTES (1u << 20)
#define CP_CONFIG_MAX_DEPTH 64

struct cp_config_collection {
	char *id;    /* UUID */
	char *title;
	char *description; /* may be NULL */
	char *alias;       /* may be NULL */
};

struct cp_config_api_root {
	char *name;  /* URL path segment: [A-Za-z0-9_-]+ */
	char *title;
	char *description; /* may be NULL */
	struct cp_config_collection *collections;
	size_t collection_count;
};

struct cp_config_account {
	char *name;
	char *password_hash;           /* libsodium crypto_pwhash_str string, or NULL */
	char *client_cert_fingerprint; /* "sha256:<64 hex>" of the SPKI, or NULL */
	char **read;                   /* collection ids/aliases or "*" */
	size_t read_count;
	char **write;
	size_t write_count;
};

/* One sync subscription (docs/SYNC.md). */
struct cp_config_subscription {
	char *remote;      /* the peer's collection id */
	char *local;       /* this node's collection id or alias */
	unsigned interval; /* seconds between passes, 1..86400, default 10 */
};

/*
 * A peer this node syncs with over TAXII 2.1: another cyberpact node or any TAXII
 * 2.1 server. Relative file names are resolved against data_dir by whoever opens them.
 */
struct cp_config_peer {
	char *name;        /* [A-Za-z0-9._-]+, unique; also the partner whose agreement
			    * the egress gate applies to what is pushed to it, and the
			    * origin recorded for what is pulled from it */
	char *url;         /* its API root: "https://HOST:PORT/api1/" */
	char *cacert;      /* CA file of its server certificate (required) */
	char *client_cert, *client_key; /* mutual TLS, both or neither */
	char *token_file;  /* file with the API token this node presents, or NULL */
	char *user, *password_file; /* HTTP Basic, both or neither */
	struct cp_config_subscription *pull; /* its collections -> ours */
	size_t pull_count;
	struct cp_config_subscription *push; /* ours -> its collections */
	size_t push_count;
};

struct cp_config {
	char *listen_host;  /* default "127.0.0.1"; an IPv4 address, "localhost", or an
			     * IPv6 address (written without its brackets); "listen: :PORT"
			     * gives "0.0.0.0" */
	unsigned listen_port; /* default 8443; 0 = pick a free port */
	char *data_dir;     /* default "./data" */
	char *title;        /* discovery title, default "cyberpact node" */
	char *tls_cert, *tls_key, *tls_client_ca; /* NULL = the generated ones in data_dir/pki */
	size_t max_content_length; /* default 10 MiB */
	size_t page_size;          /* default 1000 */
	unsigned connection_timeout; /* seconds an idle or slow connection may last, 1..3600, default 30 */
	struct cp_config_api_root *api_roots;
	size_t api_root_count;
	struct cp_config_account *accounts;
	size_t account_count;
	struct cp_config_peer *peers;
	size_t peer_count;
};

/*
 * Fill c with the defaults (no API roots, no accounts). c is an output: what it held
 * before is neither read nor freed. Returns CP_ENOMEM (c zeroed) if allocation fails.
 */
CP_MUST_CHECK enum cp_err cp_config_defaults(struct cp_config *c);

/*
 * Load a YAML file over the defaults. Unknown keys and wrong types are errors that
 * name the file, line and column and the key path ("api_roots[0].collections[1].id")
 * in diag. c is left released on failure.
 *
 * c is an output, as for cp_config_defaults; on failure it is zeroed, so releasing it
 * again is harmless. diag may be NULL. Errors: CP_EINVAL (the configuration is
 * wrong; findings say where), CP_EPARSE (not YAML), CP_ETOOBIG (more than
 * CP_CONFIG_MAX_BYTES), CP_ENOTFOUND (no such file), CP_EIO (cannot read the file),
 * CP_ENOMEM.
 */
CP_MUST_CHECK enum cp_err cp_config_load(const char *path, struct cp_config *c,
					 struct cp_diag *diag);
/* Same, from text in memory (for tests and fuzzing); name is used in messages. */
CP_MUST_CHECK enum cp_err cp_config_load_text(const char *text, size_t len, const char *name,
					      struct cp_config *c, struct cp_diag *diag);

/* Free everything c owns and zero it. c may be NULL, and so may any of its pointers. */
void cp_config_release(struct cp_config *c);

#endif /* CYBERPACT_CONFIG_H */
