/* Canonical printing and structural equality of parsed patterns. */
#include "ast.h"

static void print_bytes_quoted(struct cp_buf *b, const char *s, size_t n)
{
	cp_buf_putc(b, '\'');
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'' || s[i] == '\\')
			cp_buf_putc(b, '\\');
		cp_buf_putc(b, s[i]);
	}
	cp_buf_putc(b, '\'');
}

static void print_b64(struct cp_buf *b, const uint8_t *s, size_t n)
{
	static const char tbl[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
		char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], tbl[v & 63]};
		cp_buf_append(b, q, 4);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)s[i] << 16;
		char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], '=', '='};
		cp_buf_append(b, q, 4);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
		char q[4] = {tbl[v >> 18], tbl[(v >> 12) & 63], tbl[(v >> 6) & 63], '='};
		cp_buf_append(b, q, 4);
	}
}

static void print_lit(struct cp_buf *b, const struct cp__pat_lit *l)
{
	char ts[CP_TIME_TEXT_MAX];

	switch (l->kind) {
	case LIT_INT:
		cp_buf_printf(b, "%" PRId64, l->i);
		break;
	case LIT_FLOAT:
		cp_buf_puts(b, l->text);
		break;
	case LIT_STRING:
		print_bytes_quoted(b, l->str, l->len);
		break;
	case LIT_BOOL:
		cp_buf_puts(b, l->b ? "true" : "false");
		break;
	case LIT_HEX:
		cp_buf_puts(b, "h'");
		for (size_t i = 0; i < l->len; i++)
			cp_buf_printf(b, "%02x", (unsigned char)l->str[i]);
		cp_buf_putc(b, '\'');
		break;
	case LIT_BINARY:
		cp_buf_puts(b, "b'");
		print_b64(b, (const uint8_t *)l->str, l->len);
		cp_buf_putc(b, '\'');
		break;
	case LIT_TIMESTAMP:
		cp_time_format(&l->t, ts);
		cp_buf_printf(b, "t'%s'", ts);
		break;
	case LIT_SET:
		cp_buf_putc(b, '(');
		for (size_t i = 0; i < l->count; i++) {
			if (i)
				cp_buf_puts(b, ", ");
			print_lit(b, &l->items[i]);
		}
		cp_buf_putc(b, ')');
		break;
	}
}

static bool plain_name(const char *s, size_t n)
{
	if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	/* a key spelled like a keyword or boolean still parses unquoted as a key */
	return true;
}

static void print_path(struct cp_buf *b, const struct cp__pat_path *p)
{
	cp_buf_puts(b, p->type);
	cp_buf_putc(b, ':');
	for (size_t i = 0; i < p->count; i++) {
		const struct cp__pat_step *s = &p->steps[i];
		switch (s->kind) {
		case STEP_KEY:
			if (i)
				cp_buf_putc(b, '.');
			if (plain_name(s->key, s->key_len))
				cp_buf_append(b, s->key, s->key_len);
			else
				print_bytes_quoted(b, s->key, s->key_len);
			break;
		case STEP_INDEX:
			cp_buf_printf(b, "[%" PRId64 "]", s->index);
			break;
		case STEP_ANY:
			cp_buf_puts(b, "[*]");
			break;
		}
	}
}

static const char *op_text(enum cp__pat_op op)
{
	static const char *const t[] = {
		[OP_EQ] = "=",		   [OP_NEQ] = "!=",	       [OP_LT] = "<",
		[OP_LE] = "<=",		   [OP_GT] = ">",	       [OP_GE] = ">=",
		[OP_IN] = "IN",		   [OP_LIKE] = "LIKE",	       [OP_MATCHES] = "MATCHES",
		[OP_ISSUBSET] = "ISSUBSET", [OP_ISSUPERSET] = "ISSUPERSET", [OP_EXISTS] = "EXISTS",
	};
	return t[op];
}

static int cmp_prec(const struct cp__pat_cmp *c)
{
	return c->kind == CMP_OR ? 1 : c->kind == CMP_AND ? 2 : 3;
}

static void print_cmp(struct cp_buf *b, const struct cp__pat_cmp *c)
{
	if (c->kind == CMP_TEST) {
		if (c->op == OP_EXISTS) {
			cp_buf_puts(b, c->negated ? "NOT EXISTS " : "EXISTS ");
			print_path(b, &c->path);
			return;
		}
		print_path(b, &c->path);
		cp_buf_puts(b, c->negated ? " NOT " : " ");
		cp_buf_puts(b, op_text(c->op));
		cp_buf_putc(b, ' ');
		print_lit(b, &c->lit);
		return;
	}
	/* left associative: a right operand of equal precedence needs parentheses */
	{
		int p = cmp_prec(c);
		bool lp = cmp_prec(c->left) < p, rp = cmp_prec(c->right) <= p;
		if (lp)
			cp_buf_putc(b, '(');
		print_cmp(b, c->left);
		if (lp)
			cp_buf_putc(b, ')');
		cp_buf_puts(b, c->kind == CMP_AND ? " AND " : " OR ");
		if (rp)
			cp_buf_putc(b, '(');
		print_cmp(b, c->right);
		if (rp)
			cp_buf_putc(b, ')');
	}
}

static int obs_prec(const struct cp__pat_obs *o)
{
	switch (o->kind) {
	case OBS_FOLLOWEDBY:
		return 1;
	case OBS_OR:
		return 2;
	case OBS_AND:
		return 3;
	default:
		return 4;
	}
}

static void print_obs(struct cp_buf *b, const struct cp__pat_obs *o)
{
	char t1[CP_TIME_TEXT_MAX], t2[CP_TIME_TEXT_MAX];

	switch (o->kind) {
	case OBS_SIMPLE:
		cp_buf_putc(b, '[');
		print_cmp(b, o->cmp);
		cp_buf_putc(b, ']');
		return;
	case OBS_WITHIN:
	case OBS_REPEATS:
	case OBS_STARTSTOP: {
		/* a qualifier applies to a bracket group, another qualifier, or (..) */
		bool paren = obs_prec(o->left) < 4;
		if (paren)
			cp_buf_putc(b, '(');
		print_obs(b, o->left);
		if (paren)
			cp_buf_putc(b, ')');
		if (o->kind == OBS_WITHIN) {
			cp_buf_printf(b, " WITHIN %s SECONDS", o->within_text);
		} else if (o->kind == OBS_REPEATS) {
			cp_buf_printf(b, " REPEATS %" PRId64 " TIMES", o->repeats);
		} else {
			cp_time_format(&o->start, t1);
			cp_time_format(&o->stop, t2);
			cp_buf_printf(b, " START t'%s' STOP t'%s'", t1, t2);
		}
		return;
	}
	case OBS_AND:
	case OBS_OR:
	case OBS_FOLLOWEDBY: {
		int p = obs_prec(o);
		bool lp = obs_prec(o->left) < p, rp = obs_prec(o->right) <= p;
		if (lp)
			cp_buf_putc(b, '(');
		print_obs(b, o->left);
		if (lp)
			cp_buf_putc(b, ')');
		cp_buf_puts(b, o->kind == OBS_AND  ? " AND "
			       : o->kind == OBS_OR ? " OR "
						   : " FOLLOWEDBY ");
		if (rp)
			cp_buf_putc(b, '(');
		print_obs(b, o->right);
		if (rp)
			cp_buf_putc(b, ')');
		return;
	}
	}
}

enum cp_err cp_pattern_print(const struct cp_pattern *p, struct cp_buf *out)
{
	print_obs(out, p->root);
	return cp_buf_finish(out);
}

/* ------------------------------------------------------------- equality */

static bool lit_equal(const struct cp__pat_lit *a, const struct cp__pat_lit *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case LIT_INT:
		return a->i == b->i;
	case LIT_FLOAT:
		return a->f == b->f;
	case LIT_BOOL:
		return a->b == b->b;
	case LIT_STRING:
	case LIT_HEX:
	case LIT_BINARY:
		return a->len == b->len && (a->len == 0 || memcmp(a->str, b->str, a->len) == 0);
	case LIT_TIMESTAMP:
		return cp_time_cmp(&a->t, &b->t) == 0 && a->t.frac_digits == b->t.frac_digits;
	case LIT_SET:
		if (a->count != b->count)
			return false;
		for (size_t i = 0; i < a->count; i++)
			if (!lit_equal(&a->items[i], &b->items[i]))
				return false;
		return true;
	}
	return false;
}

static bool path_equal(const struct cp__pat_path *a, const struct cp__pat_path *b)
{
	if (strcmp(a->type, b->type) != 0 || a->count != b->count)
		return false;
	for (size_t i = 0; i < a->count; i++) {
		const struct cp__pat_step *x = &a->steps[i], *y = &b->steps[i];
		if (x->kind != y->kind)
			return false;
		if (x->kind == STEP_INDEX && x->index != y->index)
			return false;
		if (x->kind == STEP_KEY &&
		    (x->key_len != y->key_len || memcmp(x->key, y->key, x->key_len) != 0))
			return false;
	}
	return true;
}

static bool cmp_equal(const struct cp__pat_cmp *a, const struct cp__pat_cmp *b)
{
	if (a->kind != b->kind)
		return false;
	if (a->kind != CMP_TEST)
		return cmp_equal(a->left, b->left) && cmp_equal(a->right, b->right);
	return a->op == b->op && a->negated == b->negated && path_equal(&a->path, &b->path) &&
	       (a->op == OP_EXISTS || lit_equal(&a->lit, &b->lit));
}

static bool obs_equal(const struct cp__pat_obs *a, const struct cp__pat_obs *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case OBS_SIMPLE:
		return cmp_equal(a->cmp, b->cmp);
	case OBS_WITHIN:
		return a->within == b->within && obs_equal(a->left, b->left);
	case OBS_REPEATS:
		return a->repeats == b->repeats && obs_equal(a->left, b->left);
	case OBS_STARTSTOP:
		return cp_time_cmp(&a->start, &b->start) == 0 &&
		       cp_time_cmp(&a->stop, &b->stop) == 0 && obs_equal(a->left, b->left);
	default:
		return obs_equal(a->left, b->left) && obs_equal(a->right, b->right);
	}
}

bool cp_pattern_equal(const struct cp_pattern *a, const struct cp_pattern *b)
{
	return obs_equal(a->root, b->root);
}
