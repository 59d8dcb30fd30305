#include <stdarg.h>

#include "common.h"

void cp_buf_init(struct cp_buf *b, size_t max_len)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max_len = max_len;
	b->err = CP_OK;
}

void cp_buf_release(struct cp_buf *b)
{
	cp_free(b->ptr);
	cp_buf_init(b, b->max_len);
}

void cp_buf_reset(struct cp_buf *b)
{
	b->len = 0;
	b->err = CP_OK;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static size_t limit_of(const struct cp_buf *b)
{
	return b->max_len ? b->max_len : CP_BUF_DEFAULT_MAX;
}

/* Make room for `extra` more bytes plus the NUL; false (and sticky error) if not. */
static bool grow(struct cp_buf *b, size_t extra)
{
	size_t need, cap;
	char *p;

	if (b->err)
		return false;
	if (extra > limit_of(b) - b->len) {
		b->err = CP_ETOOBIG;
		return false;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return true;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	p = cp_realloc(b->ptr, cap);
	if (!p) {
		b->err = CP_ENOMEM;
		return false;
	}
	b->ptr = p;
	b->cap = cap;
	return true;
}

void cp_buf_reserve(struct cp_buf *b, size_t len)
{
	size_t need;
	char *p;

	if (b->err)
		return;
	if (len > limit_of(b) - b->len)
		len = limit_of(b) - b->len;
	need = b->len + len + 1;
	if (need <= b->cap)
		return;
	p = cp_realloc(b->ptr, need);
	if (!p)
		return; /* the appends will grow it, or fail, themselves */
	if (!b->ptr)
		p[0] = '\0';
	b->ptr = p;
	b->cap = need;
}

void cp_buf_append(struct cp_buf *b, const void *ptr, size_t len)
{
	if (!grow(b, len))
		return;
	if (len)
		memcpy(b->ptr + b->len, ptr, len);
	b->len += len;
	b->ptr[b->len] = '\0';
}

void cp_buf_puts(struct cp_buf *b, const char *s)
{
	cp_buf_append(b, s, strlen(s));
}

void cp_buf_putc(struct cp_buf *b, char c)
{
	cp_buf_append(b, &c, 1);
}

void cp_buf_vprintf(struct cp_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	if (b->err)
		return;
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		b->err = CP_EINVAL;
		return;
	}
	if (!grow(b, (size_t)n))
		return;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void cp_buf_printf(struct cp_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	cp_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

void cp_buf_truncate(struct cp_buf *b, size_t len)
{
	if (len < b->len) {
		b->len = len;
		b->ptr[len] = '\0';
	}
}

enum cp_err cp_buf_finish(const struct cp_buf *b)
{
	return b->err;
}

char *cp_buf_take(struct cp_buf *b)
{
	char *p;

	if (b->err) {
		cp_buf_release(b);
		return NULL;
	}
	if (!b->ptr)
		return cp_strdup("");
	p = b->ptr;
	cp_buf_init(b, b->max_len);
	return p;
}
