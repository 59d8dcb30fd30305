/*
 * lib/store/sqlite/recent.h - the ids of the versions added since the last merge, in
 * memory, shared by every connection of the process to one database file.
 *
 * The objects table has no index on ids: every version would land on a random page
 * of it, and each commit would write those pages again (docs/PERFORMANCE.md, "Sixth
 * measurement"). The id index is the ids table instead, filled in sorted batches
 * (a merge) from the rows with seq above meta 'ids_merged'; the rows above it are
 * found through this table. It is a cache of what the objects table holds: rebuilt
 * from it when a process first needs it, and every seq it gives is checked against
 * the row (cid and id) before use, so an entry left over from a rolled back
 * transaction, or for a deleted row, is harmless.
 */
#ifndef CYBERPACT_STORE_SQLITE_RECENT_H
#define CYBERPACT_STORE_SQLITE_RECENT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cyberpact/base.h"

struct cp__recent_ent;
struct cp__recent_chunk;

struct cp__recent {
	pthread_mutex_t lock;
	bool loaded;  /* base and the entries above it have been read from the store */
	int64_t base; /* the rows with seq <= base were in the ids table when loaded/merged */
	int64_t max;  /* every row with base < seq <= max has an entry */
	int64_t stable; /* <= max: the rows up to it are committed (or gone) */
	size_t count, mask;
	struct cp__recent_ent *slots;
	struct cp__recent_chunk *chunks; /* the id texts */
	size_t merge_retry;              /* after a failed merge: entries before the next try */
	/* registry of the process (recent.c) */
	unsigned long long dev, ino;
	unsigned refs;
	struct cp__recent *next;
};

/* The table shared by the connections to the file at path (a private one when the
 * file cannot be identified), or NULL without memory. */
struct cp__recent *cp__recent_acquire(const char *path);
void cp__recent_release(struct cp__recent *r);

/* With r->lock held; key is the id's key in the ids table (a keyed SipHash of it): */
CP_MUST_CHECK enum cp_err cp__recent_add(struct cp__recent *r, int64_t cid, int64_t key,
					 const char *id, int64_t seq);
/* Append the seqs of (cid, id) to *seqs (cp_realloc'd, *n entries, *cap slots). */
CP_MUST_CHECK enum cp_err cp__recent_lookup(const struct cp__recent *r, int64_t cid,
					    int64_t key, const char *id, int64_t **seqs,
					    size_t *n, size_t *cap);
/* Forget every entry: the rows up to base are in the ids table. */
void cp__recent_reset(struct cp__recent *r, int64_t base);

#endif
