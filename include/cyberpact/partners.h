/*
 * cyberpact/partners.h - the node's partners: who they are, how they authenticate
 * (client certificates, API tokens) and what their sharing agreement lets them have.
 * Kept in DIR/partners.yaml (YAML, read with libyaml), managed with
 * `cyberpact partner ...` and explained by `cyberpact agreement check`
 * (docs/PARTNERS.md).
 *
 *   partners:
 *     - name: jp-mod                       # [A-Za-z0-9._-]+, at most 64 characters
 *       identity: identity--<uuid>         # optional: its STIX identity
 *       title: Japan Ministry of Defense   # optional
 *       community: pacific                 # optional, for TLP:GREEN third-party sharing
 *       certificates:                      # mutual TLS client certificates
 *         - fingerprint: "sha256:<64 hex>" # SPKI SHA-256 (cp_pki_spki_fingerprint_*)
 *         - subject: "CN=jp-node,O=JMOD"   # or a subject DN, as GnuTLS prints it
 *       tokens:                            # API tokens; only hashes are stored
 *         - id: 3f9a1c2d
 *           hash: "<64 hex>"               # BLAKE2b-256 of the 32-byte secret
 *           created: 2026-11-26T10:00:00Z
 *           expires: 2027-02-24T10:00:00Z  # optional
 *           revoked: 2026-12-01T00:00:00Z  # optional
 *       agreement:                         # absent = nothing is shared
 *         read: ["*"]                      # collection ids or aliases, or "*"
 *         write: [sightings]
 *         tlp_ceiling: amber+strict        # clear|green|amber|amber+strict|red, default clear
 *         pap_ceiling: amber               # clear|green|amber|red; absent = no PAP limit
 *         default_tlp: amber               # TLP of unmarked objects, default amber
 *         red: []                          # collections where it is a named RED recipient
 *         types_allowed: []                # empty = every type
 *         types_excluded: []
 *         third_party: false
 *         sightings: false
 *         consultations: false
 *         no_redistribution: false
 *         anonymise: false
 *
 * Credentials. A client certificate entry holds a fingerprint, a subject, or both
 * (then both must match). Fingerprints are unique across all partners; so are the
 * subjects of subject-only entries. A certificate whose fingerprint a partner pins
 * authenticates as that partner or not at all (never through another partner's
 * subject entry). Subject-only entries trust whatever the client CA signed with that
 * subject, so prefer fingerprints.
 *
 * Tokens are "cpt_<id>_<secret>": id 8 lowercase hex digits (public, unique across all
 * partners), secret 32 random bytes in URL-safe base64 without padding (43
 * characters). The file stores the BLAKE2b-256 hash of the secret bytes: tokens have
 * 256 bits of entropy, so a fast unkeyed hash is enough and verification costs about a
 * microsecond (a password hash would cost ~50 ms per request).
 *
 * Thread-safety: a loaded struct cp_partners is read-only and may be shared between
 * threads (lookups and cp_partners_check_token() are reentrant and allocate nothing).
 * The mutation functions are for a private set (the CLI): the server reloads by loading
 * a new set and swapping the pointer, never by mutating the one in use.
 */
#ifndef CYBERPACT_PARTNERS_H
#define CYBERPACT_PARTNERS_H

#include "cyberpact/base.h"
#include "cyberpact/config.h"
#include "cyberpact/policy.h"

/* Largest partners file the loader accepts, and deepest YAML nesting. */
#define CP_PARTNERS_MAX_BYTES (1u << 20)
#define CP_PARTNERS_MAX_DEPTH 64
/* Longest partner name. */
#define CP_PARTNER_NAME_MAX 64

/* Token text: "cpt_" + 8 hex + "_" + 43 base64url characters. */
#define CP_PARTNER_TOKEN_PREFIX "cpt_"
#define CP_PARTNER_TOKEN_ID_LEN 8
#define CP_PARTNER_TOKEN_SECRET_BYTES 32
#define CP_PARTNER_TOKEN_HASH_BYTES 32
#define CP_PARTNER_TOKEN_TEXT_LEN (4 + CP_PARTNER_TOKEN_ID_LEN + 1 + 43)
#define CP_PARTNER_TOKEN_TEXT_MAX (CP_PARTNER_TOKEN_TEXT_LEN + 1)

/*
 * The structures below are read-only views for callers: change a set only through
 * the functions further down. `line`/`column` say where an element was read (1-based;
 * 0 for elements added through the API).
 */

struct cp_partner_cert {
	char *fingerprint; /* "sha256:<64 lowercase hex>", or NULL */
	char *subject;     /* subject DN, or NULL; at least one of the two is set */
	unsigned line, column;
};

struct cp_partner_token {
	char id[CP_PARTNER_TOKEN_ID_LEN + 1];
	unsigned char hash[CP_PARTNER_TOKEN_HASH_BYTES];
	struct cp_time created;
	bool has_expires, is_revoked;
	struct cp_time expires; /* when has_expires: invalid from this instant on */
	struct cp_time revoked; /* when is_revoked: when it was revoked */
	unsigned line, column;
};

/* A list of collection references. */
struct cp_partner_colls {
	char **names; /* as written: an id, an alias, or "*" */
	char **ids;   /* resolved collection ids ("*" stays "*"); the names when the set
	               * was loaded without a configuration */
	size_t count;
};

struct cp_partner_agreement {
	struct cp_partner_colls read;  /* what it may read (TAXII GET, sync push) */
	struct cp_partner_colls write; /* where it may add objects (TAXII POST) */
	struct cp_partner_colls red;   /* where it is a named TLP:RED recipient (no "*") */
	char **types_allowed;          /* empty = every type */
	size_t types_allowed_count;
	char **types_excluded;
	size_t types_excluded_count;
	enum cp_tlp tlp_ceiling; /* default CP_TLP_CLEAR */
	enum cp_tlp default_tlp; /* default CP_TLP_AMBER */
	enum cp_pap pap_ceiling; /* CP_PAP_NONE = no PAP limit */
	bool third_party, sightings, consultations, no_redistribution;
	/* what it receives names the node's neutral identity instead of created_by_ref */
	bool anonymise;
};

struct cp_partner {
	char *name;      /* unique; the name the egress gate and the audit trail use */
	char *identity;  /* "identity--<uuid>", or NULL */
	char *title;     /* or NULL */
	char *community; /* or NULL */
	struct cp_partner_cert *certs;
	size_t cert_count;
	struct cp_partner_token *tokens;
	size_t token_count;
	struct cp_partner_agreement agreement;
	unsigned line, column; /* of its name */
};

struct cp_partners;

/* ------------------------------------------------------------- loading */

/*
 * Load the partners file at path. A missing file is an empty set. With cfg non-NULL,
 * every read, write and red entry must be "*" or the id or alias of a collection that
 * cfg configures, and is resolved to that collection's id (aliases are per API root:
 * an alias that names different collections in two API roots is ambiguous, an error).
 * Without cfg the entries are kept as written (ids = names).
 *
 * Findings: code "partners", severity error (warning for an object type that is not a
 * STIX 2.1 type and does not start with "x-"), the 1-based line and column, and a
 * message that starts with the key path ("partners[0].agreement.read[1]: ..."). What
 * is checked: YAML syntax, one document, no anchors, aliases or tags, nesting and size
 * caps; unknown, duplicate and missing keys, wrong types, NUL characters; partner
 * names (syntax, unique), identity ids, fingerprints ("sha256:" + 64 hex, stored
 * lowercase, unique across partners), subjects (unique among subject-only entries),
 * certificate entries with neither, token ids (8 hex, unique across partners), token
 * hashes (64 hex), timestamps (RFC 3339, expiry after creation), TLP and PAP levels,
 * "*" in a red list, type names, and collection references (with cfg). The loader
 * stops after 100 errors.
 *
 * *out is written only on success. Errors: CP_EINVAL (findings say what is wrong),
 * CP_EPARSE (not YAML), CP_ETOOBIG (larger than CP_PARTNERS_MAX_BYTES), CP_EIO (the
 * file cannot be read; a finding says why), CP_ENOMEM. diag may be NULL.
 */
CP_MUST_CHECK enum cp_err cp_partners_load(const char *path, const struct cp_config *cfg,
                                           struct cp_partners **out, struct cp_diag *diag);
/* Same, from text in memory; name is used in messages. */
CP_MUST_CHECK enum cp_err cp_partners_load_text(const char *text, size_t len, const char *name,
                                                const struct cp_config *cfg,
                                                struct cp_partners **out, struct cp_diag *diag);

/* An empty set. */
CP_MUST_CHECK enum cp_err cp_partners_new(struct cp_partners **out);
void cp_partners_free(struct cp_partners *p);

/*
 * The id of the collection that name (an id or alias) stands for in cfg, borrowed
 * from cfg: CP_OK, CP_ENOTFOUND (no collection has that id or alias), CP_ECONFLICT (it
 * names different collections in two API roots). "*" is CP_EINVAL.
 */
CP_MUST_CHECK enum cp_err cp_partners_resolve_collection(const struct cp_config *cfg,
                                                         const char *name, const char **id);

/* ------------------------------------------------------------- saving */

/*
 * The set as YAML text (cp_free it), in the layout above, which
 * cp_partners_load_text() reads back into an equal set. Comments of the file it was
 * loaded from are not kept. CP_ENOMEM or CP_EBACKEND (libyaml failed).
 */
CP_MUST_CHECK enum cp_err cp_partners_format(const struct cp_partners *p, char **text, size_t *len);
/*
 * Write the set to path atomically: PATH.tmp (mode 0600) is written, fsync'd and
 * renamed over path, then the directory is fsync'd, so a reader sees the old file or
 * the new one, never a mix. CP_EIO with errno set on failure: path is unchanged,
 * except when only the final directory fsync failed (the new file is in place but a
 * crash may still bring the old one back).
 * Does not lock: callers that load, change and save hold a lock around all three
 * (`cyberpact partner` flocks PATH.lock).
 */
CP_MUST_CHECK enum cp_err cp_partners_save(const struct cp_partners *p, const char *path);

/* ------------------------------------------------------------- lookups */

size_t cp_partners_count(const struct cp_partners *p);
/* The i-th partner in file order (i < count). */
const struct cp_partner *cp_partners_at(const struct cp_partners *p, size_t i);
/* The partner with this name (exact), or NULL. */
const struct cp_partner *cp_partners_find(const struct cp_partners *p, const char *name);

/*
 * The partner a client certificate authenticates as, or NULL. fingerprint is the
 * certificate's "sha256:<hex>" SPKI fingerprint (case-insensitive), subject its
 * subject DN as GnuTLS prints it (exact); either may be NULL. An entry with a
 * fingerprint matches when the fingerprints are equal and, if the entry has a
 * subject, the subjects too; a subject-only entry matches on the subject. When the
 * fingerprint is pinned by some entry, only fingerprint entries are considered. The
 * caller has verified the chain against the client CA.
 */
const struct cp_partner *cp_partners_find_cert(const struct cp_partners *p, const char *fingerprint,
                                               const char *subject);

/* Result of a token check. */
struct cp_partners_token_check {
	const struct cp_partner *partner; /* the authenticated partner; NULL unless accepted */
	const struct cp_partner *owner;   /* whose token id was presented, also when refused
	                                   * (for the audit trail); NULL for unknown ids */
	const char *reason;               /* static: "ok", "malformed-token", "unknown-token",
	                                   * "bad-secret", "revoked-token", "expired-token" */
};

/*
 * Verify token text (as sent by a client) at time now. CP_OK if it is a token of some
 * partner, not revoked (a revoked token fails whatever its revocation time says) and
 * not expired (now < expires); CP_EDENIED otherwise, with the reason in *out. The HTTP
 * layer answers every refusal the same way (401) and records the reason in the
 * audit. Text is read up to CP_PARTNER_TOKEN_TEXT_LEN + 1 bytes, so a huge header costs
 * nothing. Secrets are compared in constant time (sodium_memcmp). Cost: one BLAKE2b
 * over 32 bytes and a scan over the token ids. CP_EINVAL for NULL p or out.
 */
CP_MUST_CHECK enum cp_err cp_partners_check_token(const struct cp_partners *p,
                                                  const char *token_text, struct cp_time now,
                                                  struct cp_partners_token_check *out);

/* May partner read / add to the collection with this id? ("*" in its list: any.) */
bool cp_partner_may_read(const struct cp_partner *partner, const char *collection_id);
bool cp_partner_may_write(const struct cp_partner *partner, const char *collection_id);

/*
 * The egress gate's policy (cp_policy_new) built from every partner's agreement, with
 * resolved collection ids. The policy's warnings (red-without-red-ceiling,
 * red-not-readable) and errors go to diag with the policy's codes, at the line of the
 * partner's name, with messages that start "partners[i] (NAME): ". *out only on
 * success; CP_EINVAL (the policy refused the agreements), CP_ENOMEM.
 */
CP_MUST_CHECK enum cp_err cp_partners_policy(const struct cp_partners *p, struct cp_policy **out,
                                             struct cp_diag *diag);

/* ------------------------------------------------------------- changes */

/*
 * Add a partner: a deep copy of draft's name, identity, title, community,
 * certificates and agreement (draft's tokens, positions and collection ids are
 * ignored). With cfg, the collection names of the agreement are checked and resolved
 * as by the loader; without, ids are the names. Checks everything the loader checks;
 * findings have no line (their message starts with the key path, "agreement.read[0]:
 * ..."). CP_ECONFLICT (finding) for a name, fingerprint, subject or token id another
 * partner has, CP_EINVAL (findings) for bad values, CP_ENOMEM. The set is unchanged on
 * failure.
 */
CP_MUST_CHECK enum cp_err cp_partners_add(struct cp_partners *p, const struct cp_partner *draft,
                                          const struct cp_config *cfg, struct cp_diag *diag);
/*
 * Replace identity, title, community, certificates and agreement of the partner named
 * draft->name with copies of draft's (its tokens stay). draft may point into that very
 * partner (copy it, change some fields, update). CP_ENOTFOUND if there is no such
 * partner; otherwise as cp_partners_add.
 */
CP_MUST_CHECK enum cp_err cp_partners_update(struct cp_partners *p, const struct cp_partner *draft,
                                             const struct cp_config *cfg, struct cp_diag *diag);
/* Remove the partner with this name (and its credentials). CP_ENOTFOUND if none. */
CP_MUST_CHECK enum cp_err cp_partners_remove(struct cp_partners *p, const char *name);

/*
 * Issue a new token for the partner with this name, created at `created` (whole
 * seconds are kept), expiring at *expires (NULL: never; it must be after created,
 * CP_EINVAL otherwise). The token text goes to text (shown to the operator once:
 * only its hash is kept) and its id to id. CP_ENOTFOUND, CP_ENOMEM.
 */
CP_MUST_CHECK enum cp_err cp_partners_issue_token(struct cp_partners *p, const char *name,
                                                  struct cp_time created,
                                                  const struct cp_time *expires,
                                                  char text[CP_PARTNER_TOKEN_TEXT_MAX],
                                                  char id[CP_PARTNER_TOKEN_ID_LEN + 1]);
/*
 * Mark the partner's token id revoked at `when` (whole seconds). CP_ENOTFOUND if the
 * partner has no such token; CP_ECONFLICT if it is already revoked (the first
 * revocation time stays).
 */
CP_MUST_CHECK enum cp_err cp_partners_revoke_token(struct cp_partners *p, const char *name,
                                                   const char *id, struct cp_time when);

/* ------------------------------------------------------------- names */

/* "clear", "green", "amber", "amber+strict", "red" (NULL for CP_TLP_NONE and others). */
const char *cp_partners_tlp_name(enum cp_tlp tlp);
/* "clear", "green", "amber", "red" (NULL for CP_PAP_NONE and others). */
const char *cp_partners_pap_name(enum cp_pap pap);
/*
 * A TLP / PAP level from its name, case-insensitive, with or without "tlp:"/"pap:":
 * false if s names none.
 */
bool cp_partners_parse_tlp(const char *s, enum cp_tlp *out);
bool cp_partners_parse_pap(const char *s, enum cp_pap *out);

#endif /* CYBERPACT_PARTNERS_H */
