#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer) && !defined(__SANITIZE_ADDRESS__)
#define __SANITIZE_ADDRESS__ 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define CP_ASAN_POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define CP_ASAN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define CP_ASAN_POISON(p, n) ((void)(p), (void)(n))
#define CP_ASAN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#include "common.h"

/*
 * Failure injection for tests (curl's torture mode): fail_at is the allocation
 * number (counted from 1) that fails; 0 disables injection.
 */
static atomic_ulong alloc_count;
static atomic_ulong fail_at;
static atomic_bool fail_sticky;

void cp_alloc_fail_after(unsigned long n, bool sticky)
{
	atomic_store(&fail_sticky, sticky);
	atomic_store(&fail_at, n ? atomic_load(&alloc_count) + n : 0);
}

unsigned long cp_alloc_count(void)
{
	return atomic_load(&alloc_count);
}

/* failed allocations of this thread, so callers of libraries that report OOM poorly
 * (jansson says "invalid token") can tell out-of-memory from bad input */
static _Thread_local unsigned long thread_failures;

unsigned long cp_alloc_thread_failures(void)
{
	return thread_failures;
}

static bool should_fail(void)
{
	unsigned long n = atomic_fetch_add(&alloc_count, 1) + 1;
	unsigned long at = atomic_load(&fail_at);
	if (!at)
		return false;
	if (n == at)
		return true;
	return n > at && atomic_load(&fail_sticky);
}

static void *counted(void *p)
{
	if (!p)
		thread_failures++;
	return p;
}

void *cp_malloc(size_t len)
{
	if (should_fail())
		return counted(NULL);
	return counted(malloc(len ? len : 1));
}

void *cp_calloc(size_t count, size_t len)
{
	if (should_fail())
		return counted(NULL);
	if (!count || !len)
		return counted(calloc(1, 1));
	return counted(calloc(count, len));
}

void *cp_realloc(void *ptr, size_t len)
{
	if (should_fail())
		return counted(NULL);
	return counted(realloc(ptr, len ? len : 1));
}

void cp_free(void *ptr)
{
	free(ptr);
}

char *cp_strndup(const char *ptr, size_t len)
{
	char *s;

	if (len == SIZE_MAX)
		return NULL;
	s = cp_malloc(len + 1);
	if (!s)
		return NULL;
	if (len)
		memcpy(s, ptr, len);
	s[len] = '\0';
	return s;
}

char *cp_strdup(const char *s)
{
	return cp_strndup(s, strlen(s));
}

/*
 * The jansson arena (cp_json_arena_begin/end in base.h). Chunks are carved front to
 * back; each new chunk of a window is twice the size of the one before (from
 * ARENA_CHUNK), so a window holds a handful of chunks even for a large tree, and a
 * pointer belongs to the arena if it lies in one of them. A window that ends keeps up
 * to ARENA_KEEP bytes of chunks for the thread's next window (no page faults for fresh
 * memory every request) and frees the rest.
 */
#define ARENA_CHUNK ((size_t)1 << 20)
#define ARENA_KEEP ((size_t)8 << 20)
#define ARENA_ALIGN 16

struct arena_chunk {
	struct arena_chunk *next;
	size_t cap, used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
};

struct arena {
	struct arena_chunk *used; /* chunks of the open window, newest first */
	struct arena_chunk *spare;
	size_t spare_bytes;
	unsigned nused;
	bool on;
};

static _Thread_local struct arena arena;
static pthread_key_t arena_key;
static pthread_once_t arena_once = PTHREAD_ONCE_INIT;

static void chunks_free(struct arena_chunk *c)
{
	while (c) {
		struct arena_chunk *next = c->next;
		free(c);
		c = next;
	}
}

/* at thread exit: the spare chunks (a window never stays open past its thread) */
static void arena_exit(void *unused)
{
	(void)unused;
	chunks_free(arena.spare);
	chunks_free(arena.used);
	memset(&arena, 0, sizeof(arena));
}

static void arena_key_make(void)
{
	pthread_key_create(&arena_key, arena_exit);
}

static void *arena_alloc(size_t len)
{
	struct arena_chunk *c = arena.used;

	len = (len + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (!c || c->cap - c->used < len) {
		size_t cap = ARENA_CHUNK << (arena.nused < 8 ? arena.nused : 8);
		if (cap < len)
			cap = len;
		struct arena_chunk **pp = &arena.spare;
		while (*pp && (*pp)->cap < cap)
			pp = &(*pp)->next;
		if (*pp) {
			c = *pp;
			*pp = c->next;
			arena.spare_bytes -= c->cap;
			CP_ASAN_UNPOISON(c->data, c->cap);
		} else {
			c = malloc(sizeof(*c) + cap);
			if (!c)
				return NULL;
			c->cap = cap;
		}
		c->used = 0;
		c->next = arena.used;
		arena.used = c;
		arena.nused++;
	}
	c->used += len;
	return c->data + c->used - len;
}

static bool in_arena(const void *p)
{
	const unsigned char *b = p;
	for (const struct arena_chunk *c = arena.used; c; c = c->next)
		if (b >= c->data && b < c->data + c->cap)
			return true;
	return false;
}

bool cp_json_arena_begin(void)
{
	if (arena.on)
		return false;
	pthread_once(&arena_once, arena_key_make);
	pthread_setspecific(arena_key, &arena);
	arena.on = true;
	return true;
}

void cp_json_arena_end(void)
{
	struct arena_chunk *c = arena.used;

	arena.on = false;
	arena.used = NULL;
	arena.nused = 0;
	while (c) {
		struct arena_chunk *next = c->next;
		if (arena.spare_bytes + c->cap <= ARENA_KEEP) {
			CP_ASAN_POISON(c->data, c->cap);
			c->next = arena.spare;
			arena.spare = c;
			arena.spare_bytes += c->cap;
		} else {
			free(c);
		}
		c = next;
	}
}

static void *json_malloc(size_t len)
{
	if (!arena.on)
		return cp_malloc(len);
	if (should_fail())
		return counted(NULL);
	return counted(arena_alloc(len ? len : 1));
}

static void json_free(void *p)
{
	if (p && arena.on && in_arena(p))
		return;
	free(p);
}

void cp_json_use_cp_alloc(void)
{
	static atomic_bool done;
	if (!atomic_exchange(&done, true))
		json_set_alloc_funcs(json_malloc, json_free);
}

bool cp_str_eq(struct cp_str a, const char *b)
{
	size_t n = strlen(b);
	return a.len == n && (n == 0 || memcmp(a.ptr, b, n) == 0);
}

int cp_hex_digit(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int cp_base64_digit(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

bool cp_is_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (cp_hex_digit((unsigned char)s[i]) < 0)
			return false;
	return true;
}

bool cp_array_grow(void **ptr, size_t *cap, size_t need, size_t elem_len)
{
	size_t ncap;
	void *p;

	if (need <= *cap)
		return true;
	ncap = *cap ? *cap : 16;
	while (ncap < need) {
		if (ncap > SIZE_MAX / 2)
			return false;
		ncap *= 2;
	}
	if (elem_len && ncap > SIZE_MAX / elem_len)
		return false;
	p = cp_realloc(*ptr, ncap * elem_len);
	if (!p)
		return false;
	*ptr = p;
	*cap = ncap;
	return true;
}
