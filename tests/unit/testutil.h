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
#include "cyberpact/stix.h"

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
		fprintf(stderr, "  finding: %s [%s] %s: %s\n",
		        cp_severity_name(d->items[i].severity), d->items[i].code,
		        d->items[i].pointer, d->items[i].message);
}

#define assert_finding(d, sev, code, ptr)                                                          \
	do {                                                                                       \
		if (!tu_find((d), (sev), (code), (ptr))) {                                         \
			tu_dump(d);                                                                \
			fail_msg("expected %s [%s] at %s", cp_severity_name(sev), (code),          \
			         (ptr) ? (const char *)(ptr) : "(any)");                           \
		}                                                                                  \
	} while (0)

#define assert_no_finding(d, sev, code)                                                            \
	do {                                                                                       \
		if (tu_find((d), (sev), (code), NULL)) {                                           \
			tu_dump(d);                                                                \
			fail_msg("unexpected %s [%s]", cp_severity_name(sev), (code));             \
		}                                                                                  \
	} while (0)

#define assert_clean(d)                                                                            \
	do {                                                                                       \
		if ((d)->count) {                                                                  \
			tu_dump(d);                                                                \
			fail_msg("expected no findings, got %zu", (d)->count);                     \
		}                                                                                  \
	} while (0)

/*
 * A test that found a bug in code outside its author's reach: print what is wrong and
 * skip the rest of the test while `cond` (the buggy behaviour) holds, so the suite stays
 * green but the skip shows in every run. Free heap state before using it (skip()
 * longjmps out of the test).
 */
#define TU_KNOWN_BUG(cond, ...)                                                                    \
	do {                                                                                       \
		if (cond) {                                                                        \
			print_message("known bug: " __VA_ARGS__);                                  \
			print_message("\n");                                                       \
			skip();                                                                    \
		}                                                                                  \
	} while (0)

/* Parse text and validate it; both must run (not necessarily find it valid). */
static inline void tu_validate_text(const char *text, size_t len, unsigned flags, struct cp_diag *d)
{
	json_t *j = NULL;
	enum cp_err err = cp_stix_json_parse(text, len, &j, d);

	if (err) {
		tu_dump(d);
		fail_msg("parse failed: %s", cp_err_name(err));
	}
	err = cp_stix_validate(j, flags, d);
	json_decref(j);
	if (err) {
		tu_dump(d);
		fail_msg("validation did not run: %s", cp_err_name(err));
	}
}

/*
 * Build a document from base (JSON text of an object), with every member of patch (JSON
 * text of an object, may be NULL) set on it and the comma-separated names in remove
 * (may be NULL) deleted, then validate it with cp_stix_validate into d (initialised by
 * the caller). Lets a test change one property of a known-good object.
 */
static inline void tu_validate_patched(const char *base, const char *patch, const char *remove,
                                       unsigned flags, struct cp_diag *d)
{
	json_error_t jerr;
	json_t *doc = json_loads(base, JSON_REJECT_DUPLICATES, &jerr);
	json_t *p = NULL;
	enum cp_err err;

	if (!doc)
		fail_msg("bad base document: %s", jerr.text);
	if (patch) {
		p = json_loads(patch, JSON_REJECT_DUPLICATES, &jerr);
		if (!p)
			fail_msg("bad patch '%s': %s", patch, jerr.text);
		if (json_object_update(doc, p))
			fail_msg("cannot apply patch");
		json_decref(p);
	}
	while (remove && *remove) {
		char name[256];
		size_t n = strcspn(remove, ",");
		if (n >= sizeof(name))
			fail_msg("name too long");
		memcpy(name, remove, n);
		name[n] = '\0';
		if (json_object_del(doc, name))
			fail_msg("base has no property '%s' to remove", name);
		remove += n;
		if (*remove == ',')
			remove++;
	}
	err = cp_stix_validate(doc, flags, d);
	json_decref(doc);
	if (err) {
		tu_dump(d);
		fail_msg("validation did not run: %s", cp_err_name(err));
	}
}

/* Exactly one finding with this code, severity and pointer, and nothing else. */
#define assert_only_finding(d, sev, code, ptr)                                                     \
	do {                                                                                       \
		assert_finding((d), (sev), (code), (ptr));                                         \
		if ((d)->count != 1) {                                                             \
			tu_dump(d);                                                                \
			fail_msg("expected only [%s] at %s, got %zu findings", (code),             \
			         (const char *)(ptr), (d)->count);                                 \
		}                                                                                  \
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
