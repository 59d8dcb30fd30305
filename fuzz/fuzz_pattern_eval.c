/*
 * Fuzz target: the pattern evaluator. Input: a pattern on the first line, then JSON
 * observations (a bundle, an array or one observed-data). Properties: no crash, no
 * leak, no unbounded work (the evaluator's budget returns CP_ETOOBIG), the same answer
 * twice, and a match names distinct observations of the set.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nl = memchr(text, '\n', size);
	struct cp_pattern *p = NULL;
	struct cp_pattern_obs_set *set = NULL;
	json_t *doc = NULL;
	size_t plen;

	if (!nl)
		return 0;
	plen = (size_t)(nl - text);
	if (cp_pattern_parse(text, plen, &p, NULL) != CP_OK)
		return 0;
	doc = json_loadb(nl + 1, size - plen - 1, JSON_REJECT_DUPLICATES, NULL);
	if (doc && cp_pattern_obs_set_from_json(doc, &set, NULL) == CP_OK) {
		struct cp_pattern_match m1, m2;
		enum cp_err e1 = cp_pattern_eval(p, set, &m1);
		enum cp_err e2 = cp_pattern_eval(p, set, &m2);
		if (e1 != e2)
			abort();
		if (e1 == CP_OK) {
			if (m1.is_match != m2.is_match || m1.count != m2.count)
				abort();
			for (size_t i = 0; i < m1.count; i++) {
				if (m1.obs[i] >= cp_pattern_obs_set_count(set))
					abort();
				if (m1.obs[i] != m2.obs[i])
					abort();
			}
			if (m1.is_match && m1.count == 0)
				abort();
			cp_pattern_match_release(&m1);
			cp_pattern_match_release(&m2);
		}
		cp_pattern_obs_set_free(set);
	}
	json_decref(doc);
	cp_pattern_free(p);
	return 0;
}
