/* Helpers shared by the cmocka unit tests. */
#ifndef CP_TESTUTIL_H
#define CP_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cyberpact/base.h"

/* Is there a finding with this code (and pointer, unless NULL) and severity? */
static inline const struct cp_finding *tu_find(const struct cp_diag *d, enum cp_severity sev,
					       const char *code, const char *pointer)
{
	for (size_t i = 0; i < d->count; i++) {
		const struct cp_finding *f = &d->items[i];
		if (f->severity == sev && strcmp(f->code, code) == 0 &&
		    (!pointer || strcmp(f->pointer, pointer) == 0))
			return f;
	}
	return NULL;
}

static inline void tu_dump(const struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++)
		fprintf(stderr, "  finding: %s [%s] %s: %s\n", cp_severity_name(d->items[i].severity),
			d->items[i].code, d->items[i].pointer, d->items[i].message);
}

#define assert_finding(d, sev, code, ptr)                                                  \
	do {                                                                               \
		if (!tu_find((d), (sev), (code), (ptr))) {                                 \
			tu_dump(d);                                                        \
			fail_msg("expected %s [%s] at %s", cp_severity_name(sev), (code),  \
				 (ptr) ? (const char *)(ptr) : "(any)");                   \
		}                                                                          \
	} while (0)

#define assert_no_finding(d, sev, code)                                                    \
	do {                                                                               \
		if (tu_find((d), (sev), (code), NULL)) {                                   \
			tu_dump(d);                                                        \
			fail_msg("unexpected %s [%s]", cp_severity_name(sev), (code));     \
		}                                                                          \
	} while (0)

#define assert_clean(d)                                                                    \
	do {                                                                               \
		if ((d)->count) {                                                          \
			tu_dump(d);                                                        \
			fail_msg("expected no findings, got %zu", (d)->count);             \
		}                                                                          \
	} while (0)

/* Read a file of the shared data set (../shared/data or $CP_SHARED_DATA). */
static inline char *tu_read_shared(const char *rel, size_t *len)
{
	const char *root = getenv("CP_SHARED_DATA");
	char path[4096];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/%s", root ? root : "../shared/data", rel);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	if (buf) {
		buf[n] = '\0';
		*len = (size_t)n;
	}
	return buf;
}

#endif
