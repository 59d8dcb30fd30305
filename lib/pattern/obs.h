/*
 * lib/pattern/obs.h - the prepared observation set (obs.c) as the evaluator (eval.c)
 * reads it, and the NFC helper (nfc.c).
 */
#ifndef CYBERPACT_PATTERN_OBS_H
#define CYBERPACT_PATTERN_OBS_H

#include <jansson.h>

#include "cyberpact/pattern.h"
#include "common.h"

/* One SCO of one observation. An SCO listed by two observed-data appears twice. */
struct cp__pat_sco {
	const json_t *obj;
	const char *type; /* obj's "type", borrowed */
	const char *key;  /* its id (object_refs) or local key (deprecated `objects`) */
	size_t key_len;
	uint32_t obs;     /* index of its observation */
};

struct cp__pat_observation {
	const char *id;
	struct cp_time first, last;
	struct cp_time modified; /* sec INT64_MIN when absent */
	uint32_t rank;           /* position in by_time */
	bool is_superseded;      /* only while loading */
	/* scos[sco_begin .. sco_begin + sco_count), sorted by key, keys unique */
	size_t sco_begin, sco_count;
};

struct cp_pattern_obs_set {
	json_t **docs; /* referenced */
	size_t doc_count, doc_cap;
	struct cp__pat_observation *obs;
	size_t count, cap;
	struct cp__pat_sco *scos;
	size_t sco_count, sco_cap;
	/* indexes into scos sorted by (type, obs, position): all SCOs of a type together */
	uint32_t *by_type;
	/* indexes into obs sorted by (first_observed, index): the evaluator's order */
	uint32_t *by_time;
};

/* The SCO of observation o whose key is key (len bytes), or NULL. */
const struct cp__pat_sco *cp__pat_obs_lookup(const struct cp_pattern_obs_set *set, uint32_t o,
					     const char *key, size_t len);

/* Range [*begin, *end) of set->by_type holding the SCOs of type `type`. */
void cp__pat_obs_type_range(const struct cp_pattern_obs_set *set, const char *type,
			    size_t *begin, size_t *end);

/*
 * NFC-normalize len bytes of UTF-8 at s. When s is already in NFC (always so for text
 * below U+0300), *out_ptr = s and *out_len = len and scratch is untouched; otherwise
 * the normalized text is written to scratch (reset first) and *out_ptr points into
 * it. Without ICU at build time the text is returned unchanged (docs/PATTERNS.md).
 * Returns CP_OK, CP_ENOMEM, CP_ETOOBIG (scratch cap), CP_EINVAL (invalid UTF-8).
 */
enum cp_err cp__pat_nfc(const char *s, size_t len, struct cp_buf *scratch, const char **out_ptr,
			size_t *out_len);

#endif
