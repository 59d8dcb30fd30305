#include <stdarg.h>

#include "common.h"

void cp_diag_init(struct cp_diag *d)
{
	memset(d, 0, sizeof(*d));
}

void cp_diag_clear(struct cp_diag *d)
{
	for (size_t i = 0; i < d->count; i++) {
		cp_free(d->items[i].message);
		cp_free(d->items[i].pointer);
	}
	d->count = 0;
	d->errors = d->warnings = d->dropped = 0;
	d->err = CP_OK;
}

void cp_diag_release(struct cp_diag *d)
{
	if (!d)
		return;
	cp_diag_clear(d);
	cp_free(d->items);
	cp_diag_init(d);
}

const char *cp_severity_name(enum cp_severity sev)
{
	return sev == CP_SEV_ERROR ? "error" : "warning";
}

static void add(struct cp_diag *d, enum cp_severity sev, const char *code, const char *pointer,
		unsigned line, unsigned column, const char *fmt, va_list ap) CP_PRINTF(7, 0);

static void add(struct cp_diag *d, enum cp_severity sev, const char *code, const char *pointer,
		unsigned line, unsigned column, const char *fmt, va_list ap)
{
	struct cp_finding *f;
	/* messages quote input values, which can be huge: keep the first KiB */
	char msg[1024];
	int n;

	if (!d)
		return;
	if (sev == CP_SEV_ERROR)
		d->errors++;
	else
		d->warnings++;
	if (d->count >= CP_LIMIT_FINDINGS) {
		d->dropped++;
		return;
	}
	if (d->count == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct cp_finding *p = cp_realloc(d->items, cap * sizeof(*p));
		if (!p)
			goto oom;
		d->items = p;
		d->cap = cap;
	}
	f = &d->items[d->count];
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n >= (int)sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);
	f->message = cp_strdup(n < 0 ? "(unprintable message)" : msg);
	f->pointer = cp_strdup(pointer ? pointer : "");
	if (!f->message || !f->pointer) {
		cp_free(f->message);
		cp_free(f->pointer);
		goto oom;
	}
	f->severity = sev;
	f->code = code;
	f->line = line;
	f->column = column;
	d->count++;
	return;
oom:
	d->dropped++;
	d->err = CP_ENOMEM;
}

void cp_diag_addv(struct cp_diag *d, enum cp_severity sev, const char *code, const char *pointer,
		  const char *fmt, va_list ap)
{
	add(d, sev, code, pointer, 0, 0, fmt, ap);
}

void cp_diag_add(struct cp_diag *d, enum cp_severity sev, const char *code, const char *pointer,
		 const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, sev, code, pointer, 0, 0, fmt, ap);
	va_end(ap);
}

void cp_diag_add_at(struct cp_diag *d, enum cp_severity sev, const char *code, unsigned line,
		    unsigned column, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	add(d, sev, code, NULL, line, column, fmt, ap);
	va_end(ap);
}

void cp_diag_merge(struct cp_diag *dst, const struct cp_diag *src, const char *prefix)
{
	struct cp_buf p = CP_BUF_INIT(0);

	for (size_t i = 0; i < src->count; i++) {
		const struct cp_finding *f = &src->items[i];
		cp_buf_reset(&p);
		cp_buf_puts(&p, prefix ? prefix : "");
		cp_buf_puts(&p, f->pointer);
		if (cp_buf_finish(&p)) {
			dst->err = CP_ENOMEM;
			break;
		}
		size_t before = dst->count;
		cp_diag_add(dst, f->severity, f->code, p.ptr, "%s", f->message);
		if (dst->count > before) {
			dst->items[before].line = f->line;
			dst->items[before].column = f->column;
		}
	}
	cp_buf_release(&p);
	dst->dropped += src->dropped;
}

size_t cp_diag_count(const struct cp_diag *d, enum cp_severity sev)
{
	return sev == CP_SEV_ERROR ? d->errors : d->warnings;
}

/* (validation pushes a token per property it visits: whole runs, not characters) */
void cp_buf_pointer_push(struct cp_buf *b, const char *token)
{
	cp_buf_putc(b, '/');
	for (;;) {
		size_t run = strcspn(token, "~/");
		cp_buf_append(b, token, run);
		token += run;
		if (!*token)
			break;
		cp_buf_append(b, *token == '~' ? "~0" : "~1", 2);
		token++;
	}
}

void cp_buf_pointer_push_index(struct cp_buf *b, size_t index)
{
	char digits[24];
	size_t n = sizeof(digits);

	do {
		digits[--n] = (char)('0' + index % 10);
		index /= 10;
	} while (index);
	digits[--n] = '/';
	cp_buf_append(b, digits + n, sizeof(digits) - n);
}
