/*
 * Common properties (spec 3.2) and the shared structured types: external-reference
 * (2.5), hashes (2.7), kill-chain-phase (2.11), extensions (3.2, 7.3), granular
 * markings (7.2.3).
 */
#include "internal.h"

const char *const cp__stix_refs_identity[] = {"identity", NULL};
const char *const cp__stix_refs_marking[] = {"marking-definition", NULL};
const char *const cp__stix_refs_sdo[] = {"<sdo>", NULL};
const char *const cp__stix_refs_sdo_sco[] = {"<sdo>", "<sco>", NULL};
const char *const cp__stix_refs_sco[] = {"<sco>", NULL};
const char *const cp__stix_refs_any[] = {"<any>", NULL};

const struct cp__stix_prop cp__stix_granular_props[] = {
	{"lang", PK_STRING, PF_NONEMPTY, NULL, NULL, 0, 0, NULL},
	{"marking_ref", PK_REF, 0, NULL, cp__stix_refs_marking, 0, 0, NULL},
	{"selectors", PK_STRING_LIST, PF_REQUIRED, NULL, NULL, 0, 0, NULL},
	{NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

const struct cp__stix_prop cp__stix_common_sdo[] = {
	{"type", PK_STRING, PF_REQUIRED, NULL, NULL, 0, 0, NULL},
	{"spec_version", PK_STRING, PF_REQUIRED, NULL, NULL, 0, 0, NULL},
	{"id", PK_ANY, 0, NULL, NULL, 0, 0, NULL}, /* required; checked by check_id */
	{"created_by_ref", PK_REF, 0, NULL, cp__stix_refs_identity, 0, 0, NULL},
	{"created", PK_TIMESTAMP, PF_REQUIRED, NULL, NULL, 0, 0, NULL},
	{"modified", PK_TIMESTAMP, PF_REQUIRED, NULL, NULL, 0, 0, NULL},
	{"revoked", PK_BOOL, 0, NULL, NULL, 0, 0, NULL},
	{"labels", PK_STRING_LIST, 0, NULL, NULL, 0, 0, NULL},
	{"confidence", PK_INTEGER, PF_RANGE, NULL, NULL, 0, 100, NULL},
	{"lang", PK_STRING, PF_NONEMPTY, NULL, NULL, 0, 0, NULL},
	{"external_references", PK_EXT_REFS, 0, NULL, NULL, 0, 0, NULL},
	{"object_marking_refs", PK_REF_LIST, 0, NULL, cp__stix_refs_marking, 0, 0, NULL},
	{"granular_markings", PK_OBJECT_LIST, 0, NULL, NULL, 0, 0, cp__stix_granular_props},
	{"extensions", PK_DICT, 0, NULL, NULL, 0, 0, NULL},
	{NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

const struct cp__stix_prop cp__stix_common_sco[] = {
	{"type", PK_STRING, PF_REQUIRED, NULL, NULL, 0, 0, NULL},
	{"spec_version", PK_STRING, 0, NULL, NULL, 0, 0, NULL},
	{"id", PK_ANY, 0, NULL, NULL, 0, 0, NULL}, /* required; checked by check_id */
	{"object_marking_refs", PK_REF_LIST, 0, NULL, cp__stix_refs_marking, 0, 0, NULL},
	{"granular_markings", PK_OBJECT_LIST, 0, NULL, NULL, 0, 0, cp__stix_granular_props},
	{"defanged", PK_BOOL, 0, NULL, NULL, 0, 0, NULL},
	{"extensions", PK_DICT, 0, NULL, NULL, 0, 0, NULL},
	{NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

const struct cp__stix_prop cp__stix_ext_ref_props[] = {
	{"source_name", PK_STRING, PF_REQUIRED | PF_NONEMPTY, NULL, NULL, 0, 0, NULL},
	{"description", PK_STRING, 0, NULL, NULL, 0, 0, NULL},
	{"url", PK_STRING, 0, NULL, NULL, 0, 0, NULL},
	{"hashes", PK_HASHES, 0, NULL, NULL, 0, 0, NULL},
	{"external_id", PK_STRING, 0, NULL, NULL, 0, 0, NULL},
	{NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

const struct cp__stix_prop cp__stix_kill_chain_props[] = {
	{"kill_chain_name", PK_STRING, PF_REQUIRED | PF_NONEMPTY, NULL, NULL, 0, 0, NULL},
	{"phase_name", PK_STRING, PF_REQUIRED | PF_NONEMPTY, NULL, NULL, 0, 0, NULL},
	{NULL, 0, 0, NULL, NULL, 0, 0, NULL},
};

/* -------------------------------------------------- RFC 5646 language tags */

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static size_t subtag_len(const char *p)
{
	size_t n = 0;

	while (p[n] && p[n] != '-')
		n++;
	return n;
}

static bool all_alpha(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_alpha(p[i]))
			return false;
	return true;
}

static bool all_digit(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_digit(p[i]))
			return false;
	return true;
}

/* Step past the current subtag of n bytes; returns the length of the next one (0 at the end). */
static size_t next_subtag(const char **p, size_t n)
{
	*p += n;
	if (**p == '-')
		(*p)++;
	return subtag_len(*p);
}

/*
 * Is tag a well-formed RFC 5646 language tag (section 2.1 ABNF)? Validity against the
 * IANA registry is not checked: the registry changes, and a well-formed tag with an
 * unregistered subtag is still a tag a consumer can match on.
 */
bool cp__stix_lang_tag_ok(const char *tag)
{
	/* grandfathered tags that the langtag production does not cover */
	static const char *const irregular[] = {
		"en-GB-oed", "i-ami",     "i-bnn",     "i-default", "i-enochian", "i-hak",
		"i-klingon", "i-lux",     "i-mingo",   "i-navajo",  "i-pwn",      "i-tao",
		"i-tay",     "i-tsu",     "sgn-BE-FR", "sgn-BE-NL", "sgn-CH-DE",  NULL};
	const char *p = tag;
	size_t n;

	for (const char *const *g = irregular; *g; g++)
		if (strcasecmp(tag, *g) == 0)
			return true;
	/* every subtag is 1 to 8 letters or digits */
	for (const char *q = tag;;) {
		size_t k = subtag_len(q);
		if (k == 0 || k > 8)
			return false;
		for (size_t i = 0; i < k; i++)
			if (!is_alpha(q[i]) && !is_digit(q[i]))
				return false;
		q += k;
		if (!*q)
			break;
		q++;
	}
	n = subtag_len(p);
	if (!(n == 1 && (p[0] == 'x' || p[0] == 'X'))) {
		/* language: 2-3 letters with up to three 3-letter extlangs, or 4-8 letters */
		if (n < 2 || !all_alpha(p, n))
			return false;
		if (n <= 3) {
			n = next_subtag(&p, n);
			for (int ext = 0; ext < 3 && n == 3 && all_alpha(p, n); ext++)
				n = next_subtag(&p, n);
		} else {
			n = next_subtag(&p, n);
		}
		if (n == 4 && all_alpha(p, n)) /* script */
			n = next_subtag(&p, n);
		if ((n == 2 && all_alpha(p, n)) || (n == 3 && all_digit(p, n))) /* region */
			n = next_subtag(&p, n);
		while ((n >= 5 && n <= 8) || (n == 4 && is_digit(p[0]))) /* variants */
			n = next_subtag(&p, n);
		while (n == 1 && p[0] != 'x' && p[0] != 'X') { /* extensions */
			size_t parts = 0;
			n = next_subtag(&p, n);
			while (n >= 2) {
				n = next_subtag(&p, n);
				parts++;
			}
			if (!parts)
				return false;
		}
		if (n == 0)
			return true;
		if (n != 1 || (p[0] != 'x' && p[0] != 'X'))
			return false;
	}
	/* private use: "x" and one or more subtags, which the loop above already checked */
	return next_subtag(&p, n) > 0;
}

/* ------------------------------------------------------------------- hashes */

/* ssdeep: blocksize ':' hash1 ':' hash2, base64 alphabet hashes (max 64 chars each). */
static bool ssdeep_ok(const char *s)
{
	const char *p = s;
	size_t n;

	if (*p < '1' || *p > '9')
		return false;
	while (*p >= '0' && *p <= '9')
		p++;
	for (int part = 0; part < 2; part++) {
		if (*p != ':')
			return false;
		p++;
		n = 0;
		while (*p && *p != ':' && *p != ',') {
			char c = *p;
			if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
			      (c >= '0' && c <= '9') || c == '+' || c == '/'))
				return false;
			p++;
			n++;
		}
		if (n == 0 || n > 64)
			return false;
	}
	/* some tools append ,"filename" */
	return *p == '\0' || *p == ',';
}

static const struct {
	const char *name;
	size_t hex_len;
	const char *common_miss[3]; /* spellings seen in the wild, for a hint */
} hash_lens[] = {
	{"MD5", 32, {"md5", NULL, NULL}},
	{"SHA-1", 40, {"sha1", "SHA1", "sha-1"}},
	{"SHA-256", 64, {"sha256", "SHA256", "sha-256"}},
	{"SHA-512", 128, {"sha512", "SHA512", "sha-512"}},
	{"SHA3-256", 64, {"sha3-256", "SHA3256", NULL}},
	{"SHA3-512", 128, {"sha3-512", "SHA3512", NULL}},
};

size_t cp__stix_hash_hex_len(const char *name, size_t len)
{
	for (size_t i = 0; i < CP_ARRAY_LEN(hash_lens); i++)
		if (strlen(hash_lens[i].name) == len && memcmp(hash_lens[i].name, name, len) == 0)
			return hash_lens[i].hex_len;
	return 0;
}

void cp__stix_check_hashes(struct cp__stix_vctx *v, const json_t *value)
{
	const char *key;
	const json_t *h;

	if (!json_is_object(value)) {
		cp__stix_err(v, "type-mismatch", "must be a hashes dictionary (JSON object)");
		return;
	}
	if (json_object_size(value) == 0) {
		cp__stix_err(v, "empty-dictionary", "hashes must not be empty");
		return;
	}
	json_object_foreach((json_t *)value, key, h)
	{
		size_t klen = strlen(key), n;
		const char *s;
		bool known = false, key_ok = klen >= 3 && klen <= 250;

		for (size_t i = 0; key_ok && i < klen; i++) {
			char c = key[i];
			key_ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
				 (c >= '0' && c <= '9') || c == '-' || c == '_';
		}
		if (!key_ok) {
			cp__stix_err_at(v, key, "hash-key",
					"hash algorithm name '%s' must be 3-250 characters of "
					"a-z, A-Z, 0-9, '-' and '_'",
					key);
			continue;
		}
		if (!json_is_string(h)) {
			cp__stix_err_at(v, key, "type-mismatch", "hash values must be strings");
			continue;
		}
		s = json_string_value(h);
		n = json_string_length(h);
		for (size_t i = 0; i < CP_ARRAY_LEN(hash_lens); i++) {
			if (strcmp(key, hash_lens[i].name) == 0) {
				known = true;
				if (n != hash_lens[i].hex_len || !cp_is_hex(s, n))
					cp__stix_err_at(v, key, "hash-value",
							"a %s hash must be %zu hex digits",
							key, hash_lens[i].hex_len);
				break;
			}
			for (size_t k = 0; k < 3 && hash_lens[i].common_miss[k]; k++)
				if (strcmp(key, hash_lens[i].common_miss[k]) == 0) {
					cp__stix_warn_at(v, key, "hash-algorithm",
							 "'%s' is not a hash-algorithm-ov name; "
							 "use '%s'",
							 key, hash_lens[i].name);
					known = true;
				}
			if (known)
				break;
		}
		if (known)
			continue;
		if (strcmp(key, "SSDEEP") == 0) {
			if (!ssdeep_ok(s))
				cp__stix_err_at(v, key, "hash-value",
						"'%s' is not an ssdeep hash (blocksize:hash:hash)", s);
		} else if (strcmp(key, "TLSH") == 0) {
			/* 70 hex digits, or 72 with the version prefix "T1" */
			bool ok = (n == 70 && cp_is_hex(s, n)) ||
				  (n == 72 && s[0] == 'T' && s[1] == '1' && cp_is_hex(s + 2, 70));
			if (!ok)
				cp__stix_err_at(v, key, "hash-value",
						"a TLSH hash must be 70 hex digits (or 'T1' and 70)");
		} else if (strncmp(key, "x_", 2) != 0) {
			cp__stix_warn_at(v, key, "hash-algorithm",
					 "'%s' is not in the hash-algorithm-ov vocabulary", key);
		}
	}
}

/* --------------------------------------------------------------- extensions */

static void check_ext_def_key(struct cp__stix_vctx *v, const char *key, const json_t *ext)
{
	const json_t *et = json_object_get(ext, "extension_type");
	size_t mark = cp__stix_push(v, key);

	if (!et) {
		cp__stix_err(v, "extension-type",
			     "an extension keyed by an extension-definition id must have "
			     "'extension_type'");
	} else if (!json_is_string(et) ||
		   !cp__stix_in_list(json_string_value(et), cp__stix_vocab_extension_type)) {
		cp__stix_err_at(v, "extension_type", "enum-value",
				"'extension_type' must be one of new-sdo, new-sco, new-sro, "
				"property-extension, toplevel-property-extension");
	} else if (strcmp(json_string_value(et), "toplevel-property-extension") == 0) {
		v->has_toplevel_ext = true;
	}
	cp__stix_pop(v, mark);
}

void cp__stix_check_extensions(struct cp__stix_vctx *v, const json_t *obj,
			       const json_t *exts)
{
	const char *key;
	const json_t *ext;
	const struct cp__stix_type *t = v->type;

	(void)obj;
	json_object_foreach((json_t *)exts, key, ext)
	{
		const struct cp__stix_ext *pre = NULL;

		if (!json_is_object(ext)) {
			cp__stix_err_at(v, key, "type-mismatch", "an extension must be an object");
			continue;
		}
		if (json_object_size(ext) == 0) {
			cp__stix_err_at(v, key, "empty-dictionary", "an extension must not be empty");
			continue;
		}
		if (strncmp(key, "extension-definition--", 22) == 0) {
			if (!cp_stix_id_is_valid(key, NULL))
				cp__stix_err_at(v, key, "id-format",
						"'%s' is not a valid extension-definition id", key);
			else
				check_ext_def_key(v, key, ext);
			continue;
		}
		for (const struct cp__stix_ext *e = t ? t->exts : NULL; e && e->name; e++)
			if (strcmp(e->name, key) == 0)
				pre = e;
		if (pre) {
			size_t mark = cp__stix_push(v, key);
			if (json_object_get(ext, "extension_type"))
				cp__stix_err_at(v, "extension_type", "extension-type",
						"predefined extensions do not carry "
						"'extension_type'");
			cp__stix_check_props(v, ext, pre->props, false);
			{
				/* unknown properties of predefined extensions: name rules only */
				const char *k2;
				const json_t *x;
				json_object_foreach((json_t *)ext, k2, x)
				{
					const char *why = NULL;
					bool known = false;
					(void)x;
					for (const struct cp__stix_prop *p = pre->props; p && p->name;
					     p++)
						known = known || strcmp(p->name, k2) == 0;
					if (!known && strcmp(k2, "extension_type") != 0 &&
					    !cp__stix_prop_name_ok(k2, &why))
						cp__stix_err_at(v, k2, "custom-property-name",
								"custom property name '%s' %s", k2,
								why);
					else if (!known && strncmp(k2, "x_", 2) != 0 &&
						 strcmp(k2, "extension_type") != 0)
						cp__stix_warn_at(v, k2, "unknown-property",
								 "'%s' is not defined for '%s'", k2,
								 key);
				}
			}
			if (pre->check)
				pre->check(v, ext);
			cp__stix_pop(v, mark);
			continue;
		}
		if (json_object_get(ext, "extension_type")) {
			check_ext_def_key(v, key, ext);
			cp__stix_warn_at(v, key, "extension-key",
					 "extensions that use extension_type should be keyed by "
					 "their extension-definition id");
			continue;
		}
		/* spec 11.3: custom extensions (deprecated) */
		cp__stix_warn_at(v, key, "custom-extension",
				 "'%s' is neither a predefined extension of this type nor an "
				 "extension-definition id (custom extensions are deprecated)",
				 key);
	}
}

/* ---------------------------------------------------------- granular marking */

/* Does selector (a.b.[3].c) resolve in obj? */
static bool selector_ok(const json_t *obj, const char *sel, const char **why)
{
	const json_t *cur = obj;
	const char *p = sel;

	if (!*sel) {
		*why = "is empty";
		return false;
	}
	while (*p) {
		const char *end = strchr(p, '.');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		char tok[256];

		if (n == 0 || n >= sizeof(tok)) {
			*why = "has an empty or overlong component";
			return false;
		}
		memcpy(tok, p, n);
		tok[n] = '\0';
		if (tok[0] == '[') {
			char *e = NULL;
			unsigned long idx;
			if (tok[n - 1] != ']' || n < 3 || tok[1] < '0' || tok[1] > '9') {
				*why = "has a malformed list index";
				return false;
			}
			errno = 0;
			idx = strtoul(tok + 1, &e, 10);
			if (errno || e != tok + n - 1) {
				*why = "has a malformed list index";
				return false;
			}
			if (!json_is_array(cur) || idx >= json_array_size(cur)) {
				*why = "refers to a list item that is not present";
				return false;
			}
			cur = json_array_get(cur, idx);
		} else {
			if (!json_is_object(cur) || !(cur = json_object_get(cur, tok))) {
				*why = "refers to a property that is not present";
				return false;
			}
		}
		p += n;
		if (*p == '.') {
			p++;
			if (!*p) {
				*why = "ends with '.'";
				return false;
			}
		}
	}
	return true;
}

void cp__stix_check_granular(struct cp__stix_vctx *v, const json_t *obj, const json_t *gm)
{
	size_t i;
	const json_t *g;

	json_array_foreach(gm, i, g)
	{
		size_t mark = cp__stix_push_index(v, i);
		const json_t *sels = json_object_get(g, "selectors");
		bool has_lang = json_object_get(g, "lang") != NULL;
		bool has_ref = json_object_get(g, "marking_ref") != NULL;

		if (json_is_object(g) && has_lang == has_ref)
			cp__stix_err(v, "granular-marking",
				     "a granular marking must have exactly one of 'lang' and "
				     "'marking_ref'");
		if (has_lang && json_is_string(json_object_get(g, "lang")) &&
		    !cp__stix_lang_tag_ok(json_string_value(json_object_get(g, "lang"))))
			cp__stix_err_at(v, "lang", "language-tag",
					"'%s' is not an RFC 5646 language tag",
					json_string_value(json_object_get(g, "lang")));
		if (json_is_array(sels)) {
			size_t k;
			const json_t *s;
			json_array_foreach(sels, k, s)
			{
				const char *why = NULL;
				if (json_is_string(s) && !selector_ok(obj, json_string_value(s), &why)) {
					size_t m2 = cp__stix_push(v, "selectors");
					cp__stix_push_index(v, k);
					cp__stix_err(v, "granular-selector", "selector '%s' %s",
						     json_string_value(s), why);
					cp__stix_pop(v, m2);
				}
			}
		}
		cp__stix_pop(v, mark);
	}
}
