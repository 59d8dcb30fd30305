/*
 * The recent-id table (recent.h): open addressing with linear probing, one slot per
 * version, so the versions of an id sit in one probe run; ids are copied into
 * chunks that are freed together when a merge empties the table.
 */
#include <sys/stat.h>

#include "recent.h"

#include "common.h"

struct cp__recent_ent {
	uint64_t h;
	int64_t cid, seq;
	const char *id; /* NULL: empty slot */
};

#define CHUNK_BYTES (64 * 1024)

struct cp__recent_chunk {
	struct cp__recent_chunk *next;
	size_t used, cap;
	char text[];
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cp__recent *registry;

/* the slot hash: the id's key (a SipHash, recent.h) mixed with its collection */
static uint64_t slot_hash(int64_t cid, int64_t key)
{
	return (uint64_t)key ^ ((uint64_t)cid * 0x9e3779b97f4a7c15ull);
}

static const char *copy_id(struct cp__recent *r, const char *id)
{
	size_t len = strlen(id) + 1;
	struct cp__recent_chunk *c = r->chunks;
	char *out;

	if (!c || c->cap - c->used < len) {
		size_t cap = len > CHUNK_BYTES ? len : CHUNK_BYTES;
		c = cp_malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = r->chunks;
		c->used = 0;
		c->cap = cap;
		r->chunks = c;
	}
	out = c->text + c->used;
	memcpy(out, id, len);
	c->used += len;
	return out;
}

static void insert_slot(struct cp__recent_ent *slots, size_t mask, const struct cp__recent_ent *e)
{
	size_t i = (size_t)e->h & mask;

	while (slots[i].id)
		i = (i + 1) & mask;
	slots[i] = *e;
}

static enum cp_err grow(struct cp__recent *r)
{
	size_t nslots = r->slots ? (r->mask + 1) * 2 : 1024;
	struct cp__recent_ent *s = cp_calloc(nslots, sizeof(*s));

	if (!s)
		return CP_ENOMEM;
	for (size_t i = 0; r->slots && i <= r->mask; i++)
		if (r->slots[i].id)
			insert_slot(s, nslots - 1, &r->slots[i]);
	cp_free(r->slots);
	r->slots = s;
	r->mask = nslots - 1;
	return CP_OK;
}

enum cp_err cp__recent_add(struct cp__recent *r, int64_t cid, int64_t key, const char *id,
			   int64_t seq)
{
	struct cp__recent_ent e;
	enum cp_err err;

	/* at most half full, so that probe runs stay short */
	if ((!r->slots || (r->count + 1) * 2 > r->mask + 1) && (err = grow(r)))
		return err;
	e.h = slot_hash(cid, key);
	e.cid = cid;
	e.seq = seq;
	e.id = copy_id(r, id);
	if (!e.id)
		return CP_ENOMEM;
	insert_slot(r->slots, r->mask, &e);
	r->count++;
	if (seq > r->max)
		r->max = seq;
	return CP_OK;
}

enum cp_err cp__recent_lookup(const struct cp__recent *r, int64_t cid, int64_t key,
			      const char *id, int64_t **seqs, size_t *n, size_t *cap)
{
	uint64_t h;

	if (!r->slots)
		return CP_OK;
	h = slot_hash(cid, key);
	for (size_t i = (size_t)h & r->mask; r->slots[i].id; i = (i + 1) & r->mask) {
		const struct cp__recent_ent *e = &r->slots[i];
		if (e->h != h || e->cid != cid || strcmp(e->id, id) != 0)
			continue;
		if (*n == *cap) {
			size_t ncap = *cap ? *cap * 2 : 8;
			int64_t *p = cp_realloc(*seqs, ncap * sizeof(*p));
			if (!p)
				return CP_ENOMEM;
			*seqs = p;
			*cap = ncap;
		}
		(*seqs)[(*n)++] = e->seq;
	}
	return CP_OK;
}

static void free_entries(struct cp__recent *r)
{
	while (r->chunks) {
		struct cp__recent_chunk *c = r->chunks;
		r->chunks = c->next;
		cp_free(c);
	}
	cp_free(r->slots);
	r->slots = NULL;
	r->mask = 0;
	r->count = 0;
}

void cp__recent_reset(struct cp__recent *r, int64_t base)
{
	free_entries(r);
	r->base = r->max = r->stable = base;
}

struct cp__recent *cp__recent_acquire(const char *path)
{
	struct cp__recent *r;
	struct stat sb;
	bool known = path && stat(path, &sb) == 0;

	pthread_mutex_lock(&registry_lock);
	for (r = known ? registry : NULL; r; r = r->next)
		if (r->dev == (unsigned long long)sb.st_dev &&
		    r->ino == (unsigned long long)sb.st_ino)
			break;
	if (r) {
		r->refs++;
		goto out;
	}
	r = cp_calloc(1, sizeof(*r));
	if (!r)
		goto out;
	pthread_mutex_init(&r->lock, NULL);
	r->refs = 1;
	if (known) {
		r->dev = (unsigned long long)sb.st_dev;
		r->ino = (unsigned long long)sb.st_ino;
		r->next = registry;
		registry = r;
	}
out:
	pthread_mutex_unlock(&registry_lock);
	return r;
}

void cp__recent_release(struct cp__recent *r)
{
	struct cp__recent **pp;

	if (!r)
		return;
	pthread_mutex_lock(&registry_lock);
	if (--r->refs) {
		pthread_mutex_unlock(&registry_lock);
		return;
	}
	for (pp = &registry; *pp; pp = &(*pp)->next)
		if (*pp == r) {
			*pp = r->next;
			break;
		}
	pthread_mutex_unlock(&registry_lock);
	free_entries(r);
	pthread_mutex_destroy(&r->lock);
	cp_free(r);
}
