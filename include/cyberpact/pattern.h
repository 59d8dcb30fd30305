/*
 * cyberpact/pattern.h - the STIX 2.1 patterning language (spec section 9):
 * parse and check patterns, print them canonically, evaluate them against observed-data.
 *
 * The pattern module works on text and plain JSON observations; it knows nothing
 * of the stix module (which uses it to check indicator patterns).
 *
 * Thread-safety: a parsed struct cp_pattern and a struct cp_pattern_obs_set are
 * immutable once built; they may be shared between threads for reading. A struct
 * cp_pattern_evaluator holds scratch state: one thread at a time. All functions are
 * reentrant.
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

/* ------------------------------------------------------------ evaluation */

/*
 * Exact evaluation of a pattern against observations (spec section 9), following the
 * choices documented in docs/PATTERNS.md. In short:
 *
 *  - an Observation is one observed-data object; its time is the interval
 *    [first_observed, last_observed]. FOLLOWEDBY needs every observation of the right
 *    side to start (first_observed) at or after the end (last_observed) of every
 *    observation of the left side; WITHIN x needs latest last_observed < earliest
 *    first_observed + x over all matched observations; START s STOP e needs
 *    s <= first_observed and last_observed < e for each of them;
 *  - observation AND, FOLLOWEDBY and REPEATS bind distinct observed-data objects;
 *  - a missing path is false for every operator, NOT included; only NOT EXISTS is true
 *    for a missing path; incompatible types are false except for != (and NOT);
 *  - strings compare by code point, *_bin and *_hex properties as decoded bytes,
 *    numbers by value, t'' constants as instants; = and IN on the value of an
 *    ipv4-addr / ipv6-addr object compare addresses and CIDR blocks, not text.
 *
 * The work of one evaluation is bounded: at most CP_PATTERN_EVAL_MAX_STEPS steps of the
 * search for an assignment of observations to observation expressions, and at most
 * CP_PATTERN_EVAL_MAX_VISITS property values visited (and string bytes scanned by LIKE)
 * while evaluating comparisons. Going over either limit fails with CP_ETOOBIG: the
 * answer is then unknown, neither match nor no match. Each MATCHES run is bounded by
 * the PCRE2 match limit CP_PATTERN_REGEX_MATCH_LIMIT, depth limit
 * CP_PATTERN_REGEX_DEPTH_LIMIT and a 16 MiB heap limit; reaching one is CP_ETOOBIG too.
 */
#define CP_PATTERN_EVAL_MAX_STEPS 1000000u
#define CP_PATTERN_EVAL_MAX_VISITS 4000000u
#define CP_PATTERN_REGEX_MATCH_LIMIT 1000000u
#define CP_PATTERN_REGEX_DEPTH_LIMIT 10000u

struct json_t;
struct cp_pattern_obs_set;
struct cp_pattern_evaluator;

/*
 * A prepared set of observations. cp_pattern_obs_set_new() makes an empty set;
 * cp_pattern_obs_set_add_json() adds the observed-data objects of one document:
 *
 *  - doc is a bundle, a JSON array of STIX objects, or a single STIX object; every
 *    object of type "observed-data" in it becomes one observation, in document order,
 *    other objects are only used as the targets of object_refs;
 *  - the SCOs of an observation are those its object_refs name, looked up among the
 *    top-level objects of the same document (ids not found there draw the warning
 *    "unresolved-ref" and are left out), and those of the deprecated `objects`
 *    dictionary, whose *_ref properties name its local keys ("0", "1", ...). A *_ref
 *    is followed only to an SCO of the same observation (spec 9.7.4);
 *  - id, first_observed and last_observed are required (errors "missing-property",
 *    "type-mismatch", "timestamp-format", "time-order" with the JSON pointer of the
 *    value in doc); modified, when present, must be a timestamp. Other properties are
 *    not checked: validate with the stix module first if the input is untrusted;
 *  - observed-data sharing an id (versions, or one document added twice) are one
 *    observation: the one with the latest `modified` is kept (on a tie, or without
 *    `modified`, the first added), so cp_pattern_obs_set_count() may grow by less than
 *    the number of observed-data added.
 *
 * The set keeps a reference to doc (json_incref) and borrows strings from it, so doc
 * must not be modified while the set lives. On error nothing is added to the set.
 * Returns CP_OK, CP_EINVAL (errors in diag), CP_ETOOBIG (over 2^32-1 observations or
 * SCOs), CP_ENOMEM. cp_pattern_obs_set_from_json() is new + add_json; *out is set only
 * on success.
 */
CP_MUST_CHECK enum cp_err cp_pattern_obs_set_new(struct cp_pattern_obs_set **out);
CP_MUST_CHECK enum cp_err cp_pattern_obs_set_add_json(struct cp_pattern_obs_set *set,
						       const struct json_t *doc,
						       struct cp_diag *diag);
CP_MUST_CHECK enum cp_err cp_pattern_obs_set_from_json(const struct json_t *doc,
							struct cp_pattern_obs_set **out,
							struct cp_diag *diag);
void cp_pattern_obs_set_free(struct cp_pattern_obs_set *set);

/* Number of observations in set, and the id of observation i (borrowed from the JSON). */
size_t cp_pattern_obs_set_count(const struct cp_pattern_obs_set *set);
const char *cp_pattern_obs_set_id(const struct cp_pattern_obs_set *set, size_t i);

/*
 * The outcome of an evaluation. When is_match, obs[0..count) are the indexes (in the
 * set) of the distinct observations that bound the match, in the order of the
 * observation expressions of the pattern (REPEATS repetitions in first_observed
 * order); the first match found is reported: OR tries its left side first. When
 * !is_match, count is 0 and obs is NULL. Release with cp_pattern_match_release().
 */
struct cp_pattern_match {
	bool is_match;
	size_t count;
	size_t *obs;
};

void cp_pattern_match_release(struct cp_pattern_match *m);

/*
 * An evaluator: p prepared for evaluation, with every MATCHES regular expression
 * compiled once (PCRE2, DOTALL and UTF; without UTF for *_bin / *_hex properties) and
 * LIKE constants NFC-normalized. It borrows p, which must outlive it. An evaluator
 * holds scratch state: use one per thread (p and sets may be shared).
 * Returns CP_OK, CP_ENOMEM.
 */
CP_MUST_CHECK enum cp_err cp_pattern_evaluator_new(const struct cp_pattern *p,
						    struct cp_pattern_evaluator **out);
void cp_pattern_evaluator_free(struct cp_pattern_evaluator *ev);

/*
 * Evaluate ev's pattern against set. On CP_OK *result is written (match or not, see
 * struct cp_pattern_match). Errors: CP_ETOOBIG (a work limit above was reached: no
 * answer), CP_ENOMEM; *result is untouched then.
 */
CP_MUST_CHECK enum cp_err cp_pattern_evaluator_run(struct cp_pattern_evaluator *ev,
						    const struct cp_pattern_obs_set *set,
						    struct cp_pattern_match *result);

/* One-shot evaluation: evaluator_new + run + free. Same results and errors. */
CP_MUST_CHECK enum cp_err cp_pattern_eval(const struct cp_pattern *p,
					   const struct cp_pattern_obs_set *set,
					   struct cp_pattern_match *result);

#endif /* CYBERPACT_PATTERN_H */
