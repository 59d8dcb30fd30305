/*
 * cyberpact/pattern-walk.h - read-only traversal of a parsed pattern, for callers
 * that check patterns against knowledge the pattern module does not have (the stix
 * module checks object types, property names and constant formats of SCOs).
 */
#ifndef CYBERPACT_PATTERN_WALK_H
#define CYBERPACT_PATTERN_WALK_H

#include "cyberpact/pattern.h"

/* One comparison expression (a propTest of the grammar), as the walker reports it. */
struct cp_pattern_comparison {
	const char *object_type; /* "file" */
	size_t path_count;       /* number of path components after the type */
	/* the first two components when they are keys (file:hashes.'SHA-256'), else NULL */
	const char *key[2];
	size_t key_len[2];
	const char *op; /* "=", "!=", "<", "<=", ">", ">=", "IN", "LIKE", "MATCHES",
			   "ISSUBSET", "ISSUPERSET", "EXISTS" */
	bool negated;
	/* the constant when it is a string (unescaped), else NULL; IN sets report each
	 * string member through `set_strings` */
	const char *string;
	size_t string_len;
	const char *const *set_strings; /* IN: NULL-terminated string members, else NULL */
	const size_t *set_lens;
	size_t offset; /* byte offset of the comparison in the pattern text */
};

typedef void (*cp_pattern_comparison_fn)(const struct cp_pattern_comparison *c, void *ctx);

/*
 * Call fn for every comparison of p in text order. The struct and its strings are
 * valid only during the call. Returns CP_ENOMEM if a temporary could not be made
 * (fn may have been called for some comparisons before).
 */
CP_MUST_CHECK enum cp_err cp_pattern_foreach_comparison(const struct cp_pattern *p,
							cp_pattern_comparison_fn fn, void *ctx);

/* 1-based line and column (in code points) of byte offset off in text. */
void cp_pattern_locate(const char *text, size_t len, size_t off, unsigned *line, unsigned *column);

#endif
