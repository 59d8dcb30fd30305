/*
 * Fuzz target: STIX pattern parser. Properties: no crash or leak; a pattern that
 * parses prints canonically, the print parses back to an equal tree, and printing
 * that tree again gives the same text (print is a fixed point).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cyberpact/pattern.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cp_pattern *a = NULL, *b = NULL;
	struct cp_buf p1 = CP_BUF_INIT(0), p2 = CP_BUF_INIT(0);
	struct cp_diag d;

	cp_diag_init(&d);
	if (cp_pattern_parse((const char *)data, size, &a, &d) == CP_OK) {
		if (cp_pattern_print(a, &p1) != CP_OK)
			abort();
		if (cp_pattern_parse(p1.ptr, p1.len, &b, &d) != CP_OK)
			abort(); /* the canonical print of a valid pattern must parse */
		if (!cp_pattern_equal(a, b))
			abort();
		if (cp_pattern_print(b, &p2) != CP_OK || strcmp(p1.ptr, p2.ptr) != 0)
			abort();
	} else if (d.errors == 0) {
		abort(); /* a rejected pattern must say why */
	}
	cp_pattern_free(a);
	cp_pattern_free(b);
	cp_buf_release(&p1);
	cp_buf_release(&p2);
	cp_diag_release(&d);
	return 0;
}
