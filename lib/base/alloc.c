#include <jansson.h>
#include <stdatomic.h>

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

static void *json_malloc(size_t len)
{
	return cp_malloc(len);
}

void cp_json_use_cp_alloc(void)
{
	static atomic_bool done;
	if (!atomic_exchange(&done, true))
		json_set_alloc_funcs(json_malloc, cp_free);
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
