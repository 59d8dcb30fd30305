/*
 * Fuzz target: the partners file loader (cp_partners_load_text) on arbitrary bytes,
 * without a configuration (collection names kept as written). Properties checked
 * beyond "no crash, no leak, no undefined behaviour":
 *  - a rejected text comes with at least one error finding with code "partners";
 *  - an accepted text round-trips: format -> load -> format gives the same text and the
 *    same partners, and the set builds a gate policy or reports why not;
 *  - a token check of the fuzz input itself never accepts (the hashes are random
 *    with respect to the input) unless the input is a token the file holds.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/partners.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_partners *p = NULL, *again = NULL;
	struct cp_diag d, d2;
	struct cp_policy *pol = NULL;
	char *text = NULL, *text2 = NULL, *tok;
	size_t len = 0, len2 = 0;
	enum cp_err err;

	cp_diag_init(&d);
	cp_diag_init(&d2);
	err = cp_partners_load_text((const char *)data, size, "fuzz.yaml", NULL, &p, &d);
	if (err != CP_OK) {
		check(p == NULL);
		check(d.errors >= 1);
		for (size_t i = 0; i < d.count; i++)
			check(!strcmp(d.items[i].code, "partners") && d.items[i].message[0]);
		goto out;
	}
	check(cp_partners_format(p, &text, &len) == CP_OK);
	check(cp_partners_load_text(text, len, "again.yaml", NULL, &again, &d2) == CP_OK);
	check(cp_partners_count(again) == cp_partners_count(p));
	for (size_t i = 0; i < cp_partners_count(p); i++) {
		const struct cp_partner *a = cp_partners_at(p, i), *b = cp_partners_at(again, i);
		check(!strcmp(a->name, b->name) && a->token_count == b->token_count &&
		      a->cert_count == b->cert_count);
	}
	check(cp_partners_format(again, &text2, &len2) == CP_OK);
	check(len == len2 && memcmp(text, text2, len) == 0);
	/* the policy is built, or refused with a finding: never silently */
	cp_diag_clear(&d2);
	if (cp_partners_policy(p, &pol, &d2) != CP_OK)
		check(d2.errors >= 1);
	/* the input as a token: accepted only if some partner holds exactly that token */
	tok = malloc(size + 1);
	if (tok) {
		struct cp_partners_token_check chk;
		memcpy(tok, data, size);
		tok[size] = '\0';
		if (cp_partners_check_token(p, tok, cp_time_now(), &chk) == CP_OK)
			check(chk.partner != NULL && !strcmp(chk.reason, "ok"));
		else
			check(chk.partner == NULL);
		free(tok);
	}
out:
	cp_policy_free(pol);
	cp_partners_free(p);
	cp_partners_free(again);
	cp_free(text);
	cp_free(text2);
	cp_diag_release(&d);
	cp_diag_release(&d2);
	return 0;
}
