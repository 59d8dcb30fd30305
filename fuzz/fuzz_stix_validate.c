/*
 * Fuzz target: STIX JSON parse + validate. Properties checked beyond "no crash,
 * no leak": every finding has a code and a pointer that starts with '/' (or is the
 * root ""), and validating the same document twice gives the same findings.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/stix.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_diag d1, d2;
	json_t *doc = NULL;

	cp_diag_init(&d1);
	cp_diag_init(&d2);
	if (cp_stix_json_parse((const char *)data, size, &doc, &d1) == CP_OK) {
		if (cp_stix_validate(doc, 0, &d1) == CP_OK &&
		    cp_stix_validate(doc, 0, &d2) == CP_OK) {
			if (d1.count != d2.count || d1.errors != d2.errors)
				abort();
			for (size_t i = 0; i < d1.count; i++) {
				const struct cp_finding *f = &d1.items[i];
				if (!f->code || !f->message || !f->pointer)
					abort();
				if (f->pointer[0] && f->pointer[0] != '/')
					abort();
				if (strcmp(f->code, d2.items[i].code) != 0 ||
				    strcmp(f->pointer, d2.items[i].pointer) != 0)
					abort();
			}
		}
		json_decref(doc);
	}
	cp_diag_release(&d1);
	cp_diag_release(&d2);
	return 0;
}
