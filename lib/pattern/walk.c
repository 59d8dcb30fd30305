/* Read-only traversal of parsed patterns (cyberpact/pattern-walk.h). */
#include "cyberpact/pattern-walk.h"
#include "ast.h"

static const char *const op_names[] = {
	[OP_EQ] = "=",		   [OP_NEQ] = "!=",	       [OP_LT] = "<",
	[OP_LE] = "<=",		   [OP_GT] = ">",	       [OP_GE] = ">=",
	[OP_IN] = "IN",		   [OP_LIKE] = "LIKE",	       [OP_MATCHES] = "MATCHES",
	[OP_ISSUBSET] = "ISSUBSET", [OP_ISSUPERSET] = "ISSUPERSET", [OP_EXISTS] = "EXISTS",
};

static enum cp_err visit_cmp(const struct cp__pat_cmp *c, cp_pattern_comparison_fn fn, void *ctx)
{
	struct cp_pattern_comparison out;
	const char **strs = NULL;
	size_t *lens = NULL, n = 0;
	enum cp_err err;

	if (c->kind != CMP_TEST) {
		err = visit_cmp(c->left, fn, ctx);
		return err ? err : visit_cmp(c->right, fn, ctx);
	}
	memset(&out, 0, sizeof(out));
	out.object_type = c->path.type;
	out.path_count = c->path.count;
	for (size_t i = 0; i < 2 && i < c->path.count; i++) {
		if (c->path.steps[i].kind != STEP_KEY)
			break;
		out.key[i] = c->path.steps[i].key;
		out.key_len[i] = c->path.steps[i].key_len;
	}
	out.op = op_names[c->op];
	out.negated = c->negated;
	out.offset = c->offset;
	if (c->op != OP_EXISTS && c->lit.kind == LIT_STRING) {
		out.string = c->lit.str;
		out.string_len = c->lit.len;
	}
	if (c->op == OP_IN && c->lit.kind == LIT_SET) {
		strs = cp_calloc(c->lit.count + 1, sizeof(*strs));
		lens = cp_calloc(c->lit.count + 1, sizeof(*lens));
		if (!strs || !lens) {
			cp_free(strs);
			cp_free(lens);
			return CP_ENOMEM;
		}
		for (size_t i = 0; i < c->lit.count; i++)
			if (c->lit.items[i].kind == LIT_STRING) {
				strs[n] = c->lit.items[i].str;
				lens[n++] = c->lit.items[i].len;
			}
		out.set_strings = strs;
		out.set_lens = lens;
	}
	fn(&out, ctx);
	cp_free(strs);
	cp_free(lens);
	return CP_OK;
}

static enum cp_err visit_obs(const struct cp__pat_obs *o, cp_pattern_comparison_fn fn, void *ctx)
{
	enum cp_err err;

	switch (o->kind) {
	case OBS_SIMPLE:
		return visit_cmp(o->cmp, fn, ctx);
	case OBS_WITHIN:
	case OBS_REPEATS:
	case OBS_STARTSTOP:
		return visit_obs(o->left, fn, ctx);
	default:
		err = visit_obs(o->left, fn, ctx);
		return err ? err : visit_obs(o->right, fn, ctx);
	}
}

enum cp_err cp_pattern_foreach_comparison(const struct cp_pattern *p, cp_pattern_comparison_fn fn,
					  void *ctx)
{
	return visit_obs(p->root, fn, ctx);
}

void cp_pattern_locate(const char *text, size_t len, size_t off, unsigned *line, unsigned *column)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (ch == '\n') {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*column = c;
}
