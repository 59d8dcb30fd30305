/* The schema-checked YAML event reader shared by config.c and partners.c. */
#include "yaml-read.h"

void cp__yr_init(struct cp__yr *r, const char *name, const char *code, bool mark_suffix,
		 unsigned max_depth, struct cp_diag *diag)
{
	memset(r, 0, sizeof(*r));
	r->name = name;
	r->code = code;
	r->mark_suffix = mark_suffix;
	r->max_depth = max_depth;
	r->diag = diag;
	r->text = "";
	cp_buf_init(&r->path, 0);
}

enum cp_err cp__yr_start(struct cp__yr *r, const char *text, size_t len)
{
	r->text = text ? text : "";
	r->len = text ? len : 0;
	if (!yaml_parser_initialize(&r->yp))
		return CP_ENOMEM;
	r->has_yp = true;
	yaml_parser_set_input_string(&r->yp, (const unsigned char *)r->text, r->len);
	return CP_OK;
}

void cp__yr_release(struct cp__yr *r)
{
	if (r->has_yp)
		yaml_parser_delete(&r->yp);
	r->has_yp = false;
	cp_buf_release(&r->path);
}

void cp__yr_fail(struct cp__yr *r, enum cp_err err)
{
	if (!r->fatal)
		r->fatal = err;
}

const char *cp__yr_show(char out[CP__YR_SHOW_MAX], const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (o + 8 > CP__YR_SHOW_MAX) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (ch >= 0x20 && ch < 0x7f && ch != '\\') {
			out[o++] = (char)ch;
		} else {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[ch >> 4];
			out[o++] = hex[ch & 15];
		}
	}
	out[o] = '\0';
	return out;
}

void cp__yr_vreport(struct cp__yr *r, enum cp_severity sev, unsigned line, unsigned col,
		    const char *fmt, va_list ap)
{
	struct cp_buf b = CP_BUF_INIT(0);
	size_t before = r->diag ? r->diag->count : 0;
	const char *name = r->name ? r->name : "(input)";

	if (r->path.len) {
		cp_buf_append(&b, r->path.ptr, r->path.len);
		cp_buf_puts(&b, ": ");
	}
	cp_buf_vprintf(&b, fmt, ap);
	if (r->mark_suffix) {
		if (line)
			cp_buf_printf(&b, " (%s:%u:%u)", name, line, col);
		else
			cp_buf_printf(&b, " (%s)", name);
	}
	if (cp_buf_finish(&b)) {
		cp__yr_fail(r, CP_ENOMEM);
		goto out;
	}
	if (sev == CP_SEV_ERROR)
		r->errors++;
	cp_diag_add_at(r->diag, sev, r->code, line, col, "%s", b.ptr);
	/* a finding that was not recorded would turn into an error without a reason */
	if (r->diag && r->diag->count == before && before < CP_LIMIT_FINDINGS)
		cp__yr_fail(r, CP_ENOMEM);
	if (sev == CP_SEV_ERROR && r->errors == CP__YR_MAX_ERRORS && !r->fatal) {
		cp_diag_add_at(r->diag, CP_SEV_ERROR, r->code, 0, 0,
			       "too many errors in %s; stopped reading", name);
		cp__yr_fail(r, CP_EINVAL);
	}
out:
	cp_buf_release(&b);
}

void cp__yr_report(struct cp__yr *r, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cp__yr_vreport(r, CP_SEV_ERROR, m ? (unsigned)m->line + 1 : 0,
		       m ? (unsigned)m->column + 1 : 0, fmt, ap);
	va_end(ap);
}

size_t cp__yr_path_key(struct cp__yr *r, const char *key, size_t len)
{
	size_t old = r->path.len;
	char shown[CP__YR_SHOW_MAX];

	if (old)
		cp_buf_putc(&r->path, '.');
	cp_buf_puts(&r->path, cp__yr_show(shown, key, len));
	if (cp_buf_finish(&r->path))
		cp__yr_fail(r, CP_ENOMEM);
	return old;
}

size_t cp__yr_path_index(struct cp__yr *r, size_t i)
{
	size_t old = r->path.len;

	cp_buf_printf(&r->path, "[%zu]", i);
	if (cp_buf_finish(&r->path))
		cp__yr_fail(r, CP_ENOMEM);
	return old;
}

void cp__yr_path_pop(struct cp__yr *r, size_t old)
{
	if (!cp_buf_finish(&r->path))
		cp_buf_truncate(&r->path, old);
}

/* libyaml could not read the text: a fatal CP_EPARSE with libyaml's own words. */
static void syntax_error(struct cp__yr *r)
{
	const yaml_parser_t *y = &r->yp;
	yaml_mark_t m = y->problem_mark;
	const char *problem = y->problem ? y->problem : "unknown error";

	if (y->error == YAML_MEMORY_ERROR) {
		cp__yr_fail(r, CP_ENOMEM);
		return;
	}
	cp_buf_reset(&r->path); /* the error may lie ahead of the key being read */
	if (y->error == YAML_READER_ERROR) {
		/* reader errors carry a byte offset, not a mark */
		size_t end = y->problem_offset < r->len ? y->problem_offset : r->len;
		memset(&m, 0, sizeof(m));
		for (size_t i = 0; i < end; i++) {
			if (r->text[i] == '\n') {
				m.line++;
				m.column = 0;
			} else {
				m.column++;
			}
		}
		if (y->problem_value != -1)
			cp__yr_report(r, &m, "invalid YAML: %s (byte 0x%02x)", problem,
				      (unsigned)y->problem_value & 0xffu);
		else
			cp__yr_report(r, &m, "invalid YAML: %s", problem);
	} else if (y->context) {
		cp__yr_report(r, &m, "invalid YAML: %s (%s at line %u, column %u)", problem,
			      y->context, (unsigned)y->context_mark.line + 1,
			      (unsigned)y->context_mark.column + 1);
	} else {
		cp__yr_report(r, &m, "invalid YAML: %s", problem);
	}
	cp__yr_fail(r, CP_EPARSE);
}

static const char *show_z(char out[CP__YR_SHOW_MAX], const yaml_char_t *s)
{
	return cp__yr_show(out, (const char *)s, strlen((const char *)s));
}

bool cp__yr_next(struct cp__yr *r, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char shown[CP__YR_SHOW_MAX];

	memset(ev, 0, sizeof(*ev));
	if (r->fatal || !r->has_yp)
		return false;
	if (!yaml_parser_parse(&r->yp, ev)) {
		memset(ev, 0, sizeof(*ev));
		syntax_error(r);
		return false;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		r->depth++;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		r->depth++;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		r->depth--;
		break;
	case YAML_ALIAS_EVENT:
		cp__yr_report(r, &ev->start_mark, "aliases are not allowed (*%s)",
			      show_z(shown, ev->data.alias.anchor));
		return true;
	default:
		break;
	}
	if (r->depth > r->max_depth) {
		cp__yr_report(r, &ev->start_mark, "nesting deeper than %u levels", r->max_depth);
		cp__yr_fail(r, CP_EINVAL);
		yaml_event_delete(ev);
		return false;
	}
	if (anchor)
		cp__yr_report(r, &ev->start_mark, "anchors are not allowed (&%s)",
			      show_z(shown, anchor));
	if (tag)
		cp__yr_report(r, &ev->start_mark, "tags are not allowed (%s)", show_z(shown, tag));
	return true;
}

void cp__yr_skip(struct cp__yr *r, const yaml_event_t *ev)
{
	unsigned level = 1;

	if (ev->type != YAML_SEQUENCE_START_EVENT && ev->type != YAML_MAPPING_START_EVENT)
		return;
	while (level) {
		yaml_event_t e;
		if (!cp__yr_next(r, &e))
			return;
		if (e.type == YAML_SEQUENCE_START_EVENT || e.type == YAML_MAPPING_START_EVENT)
			level++;
		else if (e.type == YAML_SEQUENCE_END_EVENT || e.type == YAML_MAPPING_END_EVENT)
			level--;
		yaml_event_delete(&e);
	}
}

bool cp__yr_is_null(const yaml_event_t *ev)
{
	const char *v;
	size_t n;

	if (ev->type != YAML_SCALAR_EVENT || ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	v = (const char *)ev->data.scalar.value;
	n = ev->data.scalar.length;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 &&
		(!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) || !memcmp(v, "NULL", 4)));
}

const char *cp__yr_kind(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_SCALAR_EVENT:
		return cp__yr_is_null(ev) ? "nothing (null)" : "a scalar";
	default:
		return "an alias";
	}
}

bool cp__yr_get_string(struct cp__yr *r, const yaml_event_t *ev, unsigned flags, char **out)
{
	const char *v;
	size_t n;

	*out = NULL;
	if (ev->type == YAML_ALIAS_EVENT)
		return false; /* reported by cp__yr_next() */
	if (ev->type != YAML_SCALAR_EVENT) {
		cp__yr_report(r, &ev->start_mark, "expected a string, got %s", cp__yr_kind(ev));
		cp__yr_skip(r, ev);
		return false;
	}
	v = (const char *)ev->data.scalar.value;
	n = ev->data.scalar.length;
	if (cp__yr_is_null(ev) && (flags & CP__YR_OPTIONAL))
		return true;
	if (cp__yr_is_null(ev) || (n == 0 && !(flags & CP__YR_EMPTY_OK))) {
		cp__yr_report(r, &ev->start_mark, "must not be empty");
		return false;
	}
	/* double-quoted "\0" puts a NUL inside; C strings would silently cut there */
	if (memchr(v, '\0', n)) {
		cp__yr_report(r, &ev->start_mark, "must not contain NUL characters");
		return false;
	}
	*out = cp_strndup(v, n);
	if (!*out) {
		cp__yr_fail(r, CP_ENOMEM);
		return false;
	}
	return true;
}

static void key_list(char *out, size_t cap, const char *const *keys, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && o < cap; i++) {
		int w = snprintf(out + o, cap - o, "%s%s", i ? ", " : "", keys[i]);
		if (w < 0)
			break;
		o += (size_t)w;
	}
}

bool cp__yr_mapping(struct cp__yr *r, const yaml_event_t *ev, const char *const *keys, size_t n,
		    cp__yr_value_fn on_value, void *ctx, unsigned *seen)
{
	*seen = 0;
	if (ev->type == YAML_ALIAS_EVENT)
		return false;
	if (ev->type != YAML_MAPPING_START_EVENT) {
		cp__yr_report(r, &ev->start_mark, "expected a mapping, got %s", cp__yr_kind(ev));
		cp__yr_skip(r, ev);
		return false;
	}
	for (;;) {
		yaml_event_t key, val;
		const char *k;
		size_t klen, i, old;
		bool use;

		if (!cp__yr_next(r, &key))
			return false;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return true;
		}
		if (key.type != YAML_SCALAR_EVENT) {
			if (key.type != YAML_ALIAS_EVENT)
				cp__yr_report(r, &key.start_mark, "expected a string key, got %s",
					      cp__yr_kind(&key));
			cp__yr_skip(r, &key);
			yaml_event_delete(&key);
			if (!cp__yr_next(r, &val))
				return false;
			cp__yr_skip(r, &val);
			yaml_event_delete(&val);
			continue;
		}
		k = (const char *)key.data.scalar.value;
		klen = key.data.scalar.length;
		for (i = 0; i < n; i++)
			if (strlen(keys[i]) == klen && !memcmp(keys[i], k, klen))
				break;
		old = cp__yr_path_key(r, k, klen);
		use = false;
		if (i == n) {
			char list[320];
			key_list(list, sizeof(list), keys, n);
			cp__yr_report(r, &key.start_mark, "unknown key (expected one of: %s)", list);
		} else if (*seen & (1u << i)) {
			cp__yr_report(r, &key.start_mark, "duplicate key");
		} else {
			*seen |= 1u << i;
			use = true;
		}
		if (!cp__yr_next(r, &val)) {
			yaml_event_delete(&key);
			return false;
		}
		if (use)
			on_value(r, i, &val, ctx);
		else
			cp__yr_skip(r, &val);
		cp__yr_path_pop(r, old);
		yaml_event_delete(&val);
		yaml_event_delete(&key);
	}
}

void cp__yr_require(struct cp__yr *r, const yaml_event_t *ev, const char *const *keys,
		    unsigned required, unsigned seen)
{
	for (unsigned i = 0; (required >> i) != 0; i++)
		if ((required & (1u << i)) && !(seen & (1u << i)))
			cp__yr_report(r, &ev->start_mark, "missing required key '%s'", keys[i]);
}

void cp__yr_list(struct cp__yr *r, const yaml_event_t *ev, cp__yr_item_fn on_item, void *ctx)
{
	if (ev->type != YAML_SEQUENCE_START_EVENT) {
		if (ev->type != YAML_ALIAS_EVENT && !cp__yr_is_null(ev)) {
			cp__yr_report(r, &ev->start_mark, "expected a list, got %s",
				      cp__yr_kind(ev));
			cp__yr_skip(r, ev);
		}
		return;
	}
	for (size_t i = 0;; i++) {
		yaml_event_t item;
		/* pushed first, so that what cp__yr_next() reports about the item names it */
		size_t old = cp__yr_path_index(r, i);
		bool end;

		if (!cp__yr_next(r, &item))
			return;
		end = item.type == YAML_SEQUENCE_END_EVENT;
		if (!end)
			on_item(r, &item, i, ctx);
		cp__yr_path_pop(r, old);
		yaml_event_delete(&item);
		if (end)
			return;
	}
}

void cp__yr_document(struct cp__yr *r, cp__yr_root_fn on_root, void *ctx)
{
	yaml_event_t ev;

	if (!cp__yr_next(r, &ev)) /* stream start */
		return;
	yaml_event_delete(&ev);
	if (!cp__yr_next(r, &ev))
		return;
	if (ev.type == YAML_STREAM_END_EVENT) { /* nothing but comments */
		yaml_event_delete(&ev);
		return;
	}
	yaml_event_delete(&ev); /* document start */
	if (!cp__yr_next(r, &ev))
		return;
	if (!cp__yr_is_null(&ev))
		on_root(r, &ev, ctx);
	yaml_event_delete(&ev);
	if (!cp__yr_next(r, &ev)) /* document end */
		return;
	yaml_event_delete(&ev);
	if (!cp__yr_next(r, &ev))
		return;
	if (ev.type == YAML_DOCUMENT_START_EVENT)
		cp__yr_report(r, &ev.start_mark, "a second YAML document (only one is allowed)");
	yaml_event_delete(&ev);
}
