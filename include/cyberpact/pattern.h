/*
 * cyberpact/pattern.h - the STIX 2.1 patterning language (spec section 9):
 * parse and check patterns, print them canonically.
 *
 * The pattern module works on text and plain JSON observations; it knows nothing
 * of the stix module (which uses it to check indicator patterns).
 *
 * Thread-safety: a parsed struct cp_pattern is immutable; it may be shared between
 * threads for reading. All functions are reentrant.
 */
#ifndef CYBERPACT_PATTERN_H
#define CYBERPACT_PATTERN_H

#include "cyberpact/base.h"

struct cp_pattern;

/*
 * Parse and check len bytes of pattern text (UTF-8; no NUL needed).
 *
 * Syntax follows the normative ANTLR grammar (STIXPattern.g4); on top of it the
 * semantic rules of section 9 are checked: at most one qualifier of each kind per
 * observation expression, positive WITHIN/REPEATS values, valid timestamp, hex and
 * base64 constants, AND operands of one observation that can be satisfied by the same
 * object type, PCRE syntax of MATCHES, IPv4/IPv6 address or CIDR for ISSUBSET and
 * ISSUPERSET, homogeneous IN sets. Limits: CP_LIMIT_PATTERN_BYTES of text and
 * CP_LIMIT_PATTERN_DEPTH of nesting.
 *
 * Findings go to diag (if given) with line and column (1-based, columns count code
 * points) and codes "pattern-syntax", "pattern-semantic", "pattern-limit" (errors) and
 * "pattern-style" (warnings: e.g. a '+' sign the spec says to omit).
 * Returns CP_OK and sets *out (free with cp_pattern_free) when there are no errors,
 * CP_EPARSE when there are, CP_ETOOBIG over the limits, CP_ENOMEM.
 */
CP_MUST_CHECK enum cp_err cp_pattern_parse(const char *text, size_t len, struct cp_pattern **out,
					   struct cp_diag *diag);

void cp_pattern_free(struct cp_pattern *p);

/*
 * Append the canonical text of p to out: single spaces, minimal parentheses,
 * strings with only \' and \\ escapes, keys quoted only when needed, constants in
 * their canonical form. Parsing the output gives a pattern equal to p.
 * Returns the buffer's sticky error.
 */
CP_MUST_CHECK enum cp_err cp_pattern_print(const struct cp_pattern *p, struct cp_buf *out);

/* Structural equality of two parsed patterns (same tree, same constants). */
bool cp_pattern_equal(const struct cp_pattern *a, const struct cp_pattern *b);

/* Number of observation expressions ([...] groups) in p. */
size_t cp_pattern_observation_count(const struct cp_pattern *p);

#endif /* CYBERPACT_PATTERN_H */
