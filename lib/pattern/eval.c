/*
 * The exact evaluator of STIX patterns (spec section 9). docs/PATTERNS.md states the
 * semantics; this file is organised in three layers:
 *
 *  1. Comparison expressions: a [..] group is tested against one SCO at a time (the
 *     same-object rule of 9.5); object paths are walked with an explicit stack (paths
 *     may be long and *_refs[*] fan out) and every value visited is charged to the
 *     visit budget.
 *  2. Leaves: for each [..] group, the list of observations having an SCO that
 *     satisfies it, in time order (the set's rank: first_observed, then position),
 *     computed on first use through the set's type index, so SCOs of other types cost
 *     nothing.
 *  3. Observation expressions: compiled to a small backtracking program (a choice per
 *     leaf over its candidates, a choice per OR) run on an explicit stack with an undo
 *     trail, so neither deep patterns nor long REPEATS recurse in C. Qualifiers and
 *     FOLLOWEDBY become "scopes" checked each time an observation is bound; all of
 *     them are monotone (binding more observations never repairs a violation), so
 *     checking at bind time prunes without losing matches. Because candidates are in
 *     first_observed order, the lower bounds (FOLLOWEDBY, START) are found by binary
 *     search and the upper ones (STOP, an open WITHIN window) end the scan. REPEATS
 *     repetitions are interchangeable, so each repetition must start with a later
 *     observation (by rank) than the previous one (symmetry breaking).
 */
#include <arpa/inet.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "obs.h"
#include "ast.h"

/* ------------------------------------------------------------ program */

enum iop {
	I_LEAF,      /* a: leaf index */
	I_SPLIT,     /* try pc + 1, on failure a */
	I_JMP,       /* a: target */
	I_MARK,      /* a: variable := number of bound observations */
	I_FOLLOW,    /* a: mark variable; scope: later observations start >= left's end */
	I_WITHIN,    /* scope: node->within */
	I_STARTSTOP, /* scope: node->start, node->stop */
	I_POP,       /* end of the innermost scope */
	I_REP_INIT,  /* a: first of 3 variables (count, first of last repetition, mark) */
	I_REP_BODY,  /* a: as REP_INIT */
	I_REP_NEXT,  /* a: as REP_INIT, b: body pc */
	I_END,
};

struct insn {
	enum iop op;
	uint32_t a, b;
	const struct cp__pat_obs *node;
	uint64_t need;        /* I_REP_*: observations one repetition needs at least */
	struct cp_time delta; /* I_WITHIN: the window as seconds + nanoseconds */
	bool unbounded;       /* I_WITHIN: window longer than any timestamp range */
};

/* Per-node preparation of a MATCHES or LIKE comparison. */
struct prep {
	uintptr_t key; /* the struct cp__pat_cmp */
	pcre2_code *re_utf, *re_bytes;
	bool bytes_tried;
	char *like; /* LIKE constant in NFC */
	size_t like_len;
};

struct cp_pattern_evaluator {
	const struct cp_pattern *p;
	pcre2_general_context *gctx;
	pcre2_compile_context *cctx;
	pcre2_match_context *mctx;
	pcre2_match_data *md;
	struct prep *preps;
	size_t prep_count, prep_cap;
	struct insn *code;
	size_t code_len, code_cap;
	const struct cp__pat_obs **leaves;
	size_t leaf_count, leaf_cap;
	size_t var_count;   /* node variables of the program */
	size_t scope_max;   /* scope instructions: a bound on open scopes */
	uint64_t root_need; /* observations any match needs */
	enum cp_err err;
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	return b && a > UINT64_MAX / b ? UINT64_MAX : a * b;
}

static uint32_t emit(struct cp_pattern_evaluator *ev, enum iop op, uint32_t a,
		     const struct cp__pat_obs *node)
{
	if (ev->err || ev->code_len >= UINT32_MAX - 1 ||
	    !cp_array_grow((void **)&ev->code, &ev->code_cap, ev->code_len + 1, sizeof(*ev->code))) {
		ev->err = ev->err ? ev->err : CP_ENOMEM;
		return 0;
	}
	memset(&ev->code[ev->code_len], 0, sizeof(*ev->code));
	ev->code[ev->code_len].op = op;
	ev->code[ev->code_len].a = a;
	ev->code[ev->code_len].node = node;
	if (op == I_WITHIN || op == I_STARTSTOP || op == I_FOLLOW)
		ev->scope_max++;
	return (uint32_t)ev->code_len++;
}

static uint32_t new_vars(struct cp_pattern_evaluator *ev, size_t n)
{
	size_t v = ev->var_count;
	ev->var_count += n;
	return (uint32_t)v;
}

/*
 * The operands of a left-associated chain of one operator ((a OP b) OP c ...), in
 * order, so that chains thousands long are not walked recursively.
 */
static const struct cp__pat_obs **spine(struct cp_pattern_evaluator *ev,
					const struct cp__pat_obs *node, size_t *count)
{
	const struct cp__pat_obs *n;
	const struct cp__pat_obs **ops;
	size_t k = 1;

	for (n = node; n->kind == node->kind; n = n->left)
		k++;
	ops = cp_malloc(k * sizeof(*ops));
	if (!ops) {
		ev->err = CP_ENOMEM;
		return NULL;
	}
	*count = k;
	for (n = node; n->kind == node->kind; n = n->left)
		ops[--k] = n->right;
	ops[0] = n;
	return ops;
}

static void window(struct insn *in, double x)
{
	double whole;

	/* beyond ~300000 years no two STIX timestamps are that far apart */
	if (!(x < 1e13)) {
		in->unbounded = true;
		return;
	}
	/* x > 0 (the parser checks), so truncation is floor */
	in->delta.sec = (int64_t)x;
	whole = (double)in->delta.sec;
	in->delta.nsec = (uint32_t)((x - whole) * 1e9 + 0.5);
	if (in->delta.nsec >= 1000000000u) {
		in->delta.sec++;
		in->delta.nsec -= 1000000000u;
	}
}

/* Compile node; *need receives the number of observations it needs at least. */
static void compile(struct cp_pattern_evaluator *ev, const struct cp__pat_obs *node,
		    uint64_t *need)
{
	const struct cp__pat_obs **ops = NULL;
	size_t k = 0;
	uint64_t n = 0, sub = 0;
	uint32_t at, v;

	*need = 0;
	if (ev->err)
		return;
	switch (node->kind) {
	case OBS_SIMPLE:
		if (ev->leaf_count >= UINT32_MAX ||
		    !cp_array_grow((void **)&ev->leaves, &ev->leaf_cap, ev->leaf_count + 1,
			  sizeof(*ev->leaves))) {
			ev->err = CP_ENOMEM;
			return;
		}
		ev->leaves[ev->leaf_count] = node;
		emit(ev, I_LEAF, (uint32_t)ev->leaf_count++, node);
		*need = 1;
		return;
	case OBS_AND:
		ops = spine(ev, node, &k);
		for (size_t i = 0; ops && i < k; i++) {
			compile(ev, ops[i], &sub);
			n = sat_add(n, sub);
		}
		break;
	case OBS_OR: {
		uint32_t *jumps = NULL;
		ops = spine(ev, node, &k);
		jumps = ops ? cp_malloc(k * sizeof(*jumps)) : NULL;
		if (ops && !jumps) {
			ev->err = CP_ENOMEM;
			break;
		}
		n = UINT64_MAX;
		for (size_t i = 0; ops && i < k; i++) {
			uint32_t split = 0;
			if (i + 1 < k)
				split = emit(ev, I_SPLIT, 0, node);
			compile(ev, ops[i], &sub);
			if (sub < n)
				n = sub;
			if (i + 1 < k) {
				jumps[i] = emit(ev, I_JMP, 0, node);
				if (!ev->err)
					ev->code[split].a = (uint32_t)ev->code_len;
			}
		}
		for (size_t i = 0; ops && !ev->err && i + 1 < k; i++)
			ev->code[jumps[i]].a = (uint32_t)ev->code_len;
		cp_free(jumps);
		break;
	}
	case OBS_FOLLOWEDBY:
		ops = spine(ev, node, &k);
		if (!ops)
			break;
		v = new_vars(ev, 1);
		emit(ev, I_MARK, v, node);
		for (size_t i = 0; i < k; i++) {
			if (i > 0)
				emit(ev, I_FOLLOW, v, node);
			compile(ev, ops[i], &sub);
			n = sat_add(n, sub);
			if (i > 0)
				emit(ev, I_POP, 0, node);
		}
		break;
	case OBS_WITHIN:
		at = emit(ev, I_WITHIN, 0, node);
		if (!ev->err)
			window(&ev->code[at], node->within);
		compile(ev, node->left, &n);
		emit(ev, I_POP, 0, node);
		break;
	case OBS_STARTSTOP:
		emit(ev, I_STARTSTOP, 0, node);
		compile(ev, node->left, &n);
		emit(ev, I_POP, 0, node);
		break;
	case OBS_REPEATS: {
		uint32_t init, body, next;
		v = new_vars(ev, 3);
		init = emit(ev, I_REP_INIT, v, node);
		body = emit(ev, I_REP_BODY, v, node);
		compile(ev, node->left, &sub);
		next = emit(ev, I_REP_NEXT, v, node);
		if (ev->err)
			break;
		ev->code[next].b = body;
		ev->code[init].need = ev->code[next].need = sub;
		n = sat_mul(sub, (uint64_t)node->repeats);
		break;
	}
	}
	cp_free(ops);
	*need = n;
}

/* --------------------------------------------------------- preparation */

static void *re_malloc(PCRE2_SIZE len, void *ctx)
{
	(void)ctx;
	return cp_malloc(len);
}

static void re_free(void *ptr, void *ctx)
{
	(void)ctx;
	cp_free(ptr);
}

static int prep_cmp(const void *a, const void *b)
{
	uintptr_t x = ((const struct prep *)a)->key, y = ((const struct prep *)b)->key;
	return x < y ? -1 : x > y;
}

static struct prep *prep_find(const struct cp_pattern_evaluator *ev, const struct cp__pat_cmp *c)
{
	struct prep key;

	key.key = (uintptr_t)c;
	return ev->prep_count ? bsearch(&key, ev->preps, ev->prep_count, sizeof(key), prep_cmp)
			      : NULL;
}

static void collect_preps(struct cp_pattern_evaluator *ev, const struct cp__pat_cmp *c)
{
	/* recursion only on right operands (bounded by the parser's nesting limit) */
	for (; !ev->err; c = c->left) {
		if (c->kind == CMP_TEST) {
			if (c->op != OP_MATCHES && c->op != OP_LIKE)
				return;
			if (!cp_array_grow((void **)&ev->preps, &ev->prep_cap, ev->prep_count + 1,
				  sizeof(*ev->preps))) {
				ev->err = CP_ENOMEM;
				return;
			}
			memset(&ev->preps[ev->prep_count], 0, sizeof(*ev->preps));
			ev->preps[ev->prep_count++].key = (uintptr_t)c;
			return;
		}
		collect_preps(ev, c->right);
	}
}

static pcre2_code *compile_re(struct cp_pattern_evaluator *ev, const struct cp__pat_cmp *c,
			      bool utf)
{
	int code;
	PCRE2_SIZE off;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)c->lit.str, c->lit.len,
				       PCRE2_DOTALL | (utf ? PCRE2_UTF : 0), &code, &off, ev->cctx);

	if (!re && code == PCRE2_ERROR_NOMEMORY)
		ev->err = CP_ENOMEM;
	return re;
}

static enum cp_err prepare(struct cp_pattern_evaluator *ev, struct prep *pr)
{
	const struct cp__pat_cmp *c = (const struct cp__pat_cmp *)pr->key;

	if (c->op == OP_MATCHES) {
		pr->re_utf = compile_re(ev, c, true);
		/* the parser compiled it already, so only memory can fail here */
		if (!pr->re_utf)
			return ev->err ? ev->err : CP_ENOMEM;
		return CP_OK;
	} else {
		struct cp_buf scratch = CP_BUF_INIT(0);
		const char *s;
		size_t n;
		enum cp_err err = cp__pat_nfc(c->lit.str, c->lit.len, &scratch, &s, &n);
		if (!err) {
			pr->like = cp_strndup(s, n);
			pr->like_len = n;
			if (!pr->like)
				err = CP_ENOMEM;
		}
		cp_buf_release(&scratch);
		return err;
	}
}

void cp_pattern_evaluator_free(struct cp_pattern_evaluator *ev)
{
	if (!ev)
		return;
	for (size_t i = 0; i < ev->prep_count; i++) {
		pcre2_code_free(ev->preps[i].re_utf);
		pcre2_code_free(ev->preps[i].re_bytes);
		cp_free(ev->preps[i].like);
	}
	cp_free(ev->preps);
	pcre2_match_data_free(ev->md);
	pcre2_match_context_free(ev->mctx);
	pcre2_compile_context_free(ev->cctx);
	pcre2_general_context_free(ev->gctx);
	cp_free(ev->code);
	cp_free(ev->leaves);
	cp_free(ev);
}

enum cp_err cp_pattern_evaluator_new(const struct cp_pattern *p, struct cp_pattern_evaluator **out)
{
	struct cp_pattern_evaluator *ev;
	enum cp_err err = CP_OK;

	if (!p || !out)
		return CP_EINVAL;
	ev = cp_calloc(1, sizeof(*ev));
	if (!ev)
		return CP_ENOMEM;
	ev->p = p;
	ev->gctx = pcre2_general_context_create(re_malloc, re_free, NULL);
	ev->cctx = ev->gctx ? pcre2_compile_context_create(ev->gctx) : NULL;
	ev->mctx = ev->gctx ? pcre2_match_context_create(ev->gctx) : NULL;
	ev->md = ev->gctx ? pcre2_match_data_create(1, ev->gctx) : NULL;
	if (!ev->cctx || !ev->mctx || !ev->md) {
		err = CP_ENOMEM;
		goto out;
	}
	pcre2_set_match_limit(ev->mctx, CP_PATTERN_REGEX_MATCH_LIMIT);
	pcre2_set_depth_limit(ev->mctx, CP_PATTERN_REGEX_DEPTH_LIMIT);
	pcre2_set_heap_limit(ev->mctx, 16384); /* KiB */
	compile(ev, p->root, &ev->root_need);
	emit(ev, I_END, 0, NULL);
	for (size_t i = 0; i < ev->leaf_count && !ev->err; i++)
		collect_preps(ev, ev->leaves[i]->cmp);
	if (ev->err) {
		err = ev->err;
		goto out;
	}
	if (ev->prep_count)
		qsort(ev->preps, ev->prep_count, sizeof(*ev->preps), prep_cmp);
	for (size_t i = 0; i < ev->prep_count && !err; i++)
		err = prepare(ev, &ev->preps[i]);
out:
	if (err) {
		cp_pattern_evaluator_free(ev);
		return err;
	}
	*out = ev;
	return CP_OK;
}

/* ------------------------------------------------------------ the run */

/* A value reached while walking an object path. */
struct item {
	const json_t *v;
	const json_t *owner; /* the SCO whose property (tree) v belongs to */
	const char *key;     /* the last property name on the way, for _bin/_hex/value */
	size_t key_len;
	uint32_t step;       /* next step to apply */
	uint8_t flags;
};

enum {
	F_REF = 1,     /* a string that names an SCO (a *_ref value, a *_refs element) */
	F_REFLIST = 2, /* a *_refs list */
	F_DIRECT = 4,  /* a top-level property of owner */
};

struct leafc {
	uint32_t *cand; /* observations satisfying the leaf, in time order (rank) */
	size_t count;
	bool done;
};

struct trail {
	uint32_t idx;
	bool is_used;
	int64_t old;
};

struct choice {
	uint32_t pc, pos; /* pos: next candidate of a leaf; UINT32_MAX for a SPLIT */
	size_t trail;
};

/* Scope records live in vars: pc of the opening instruction, has-any, two timestamps. */
enum { SC_PC, SC_HAS, SC_A_SEC, SC_A_NSEC, SC_B_SEC, SC_B_NSEC, SC_FIELDS };
/* bound observations, open scopes, the lowest rank the next leaf may bind */
enum { V_TOP, V_SCOPES, V_MINOBS, V_FIXED };

struct run {
	struct cp_pattern_evaluator *ev;
	const struct cp_pattern_obs_set *set;
	uint64_t steps, visits;
	enum cp_err err;
	struct leafc *leaves;
	/* comparison scratch */
	struct item *stack;
	size_t stack_len, stack_cap;
	struct cp_buf vbytes, lbytes, nfc;
	uint8_t *hit;
	uint32_t *hits;
	/* search */
	int64_t *vars;
	size_t scope_base;
	uint8_t *used;
	uint32_t *bind;
	struct trail *trail;
	size_t trail_len, trail_cap;
	struct choice *choices;
	size_t choice_len, choice_cap;
};

static bool charge(struct run *r, uint64_t n)
{
	r->visits += n;
	if (r->visits > CP_PATTERN_EVAL_MAX_VISITS) {
		if (!r->err)
			r->err = CP_ETOOBIG;
		return false;
	}
	return true;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);
	return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

/* Decode a hex or base64 (RFC 4648, padded) property value into out; false if invalid. */
static bool decode(struct run *r, const char *s, size_t n, bool hex, struct cp_buf *out)
{
	cp_buf_reset(out);
	if (hex) {
		if (n % 2)
			return false;
		for (size_t i = 0; i < n; i += 2) {
			int hi = cp_hex_digit((unsigned char)s[i]), lo = cp_hex_digit((unsigned char)s[i + 1]);
			if (hi < 0 || lo < 0)
				return false;
			cp_buf_putc(out, (char)(hi * 16 + lo));
		}
	} else {
		uint32_t acc = 0;
		unsigned bits = 0;
		size_t pad = 0;
		if (n % 4)
			return false;
		for (size_t i = 0; i < n; i++) {
			int v;
			if (s[i] == '=' && i + 2 >= n) {
				pad++;
				continue;
			}
			v = cp_base64_digit((unsigned char)s[i]);
			if (v < 0 || pad)
				return false;
			acc = (acc << 6) | (uint32_t)v;
			bits += 6;
			if (bits >= 8) {
				bits -= 8;
				cp_buf_putc(out, (char)(acc >> bits));
			}
		}
	}
	if (cp_buf_finish(out)) {
		r->err = cp_buf_finish(out);
		return false;
	}
	return true;
}

/* Next code point of valid UTF-8 at s[*i] (advancing *i). */
static uint32_t utf8_next(const char *s, size_t n, size_t *i)
{
	unsigned char c = (unsigned char)s[*i];
	uint32_t cp;
	size_t k;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	k = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : 1;
	cp = c & (0x3f >> k);
	for (size_t j = 1; j <= k && *i + j < n; j++)
		cp = (cp << 6) | ((unsigned char)s[*i + j] & 0x3f);
	*i += k + 1;
	return cp;
}

/* Spec 9.2/9.6.4: a string of code points below U+0100 as bytes; false otherwise. */
static bool latin1(struct run *r, const char *s, size_t n, struct cp_buf *out)
{
	size_t i = 0;

	cp_buf_reset(out);
	while (i < n) {
		uint32_t cp = utf8_next(s, n, &i);
		if (cp > 0xff)
			return false;
		cp_buf_putc(out, (char)cp);
	}
	if (cp_buf_finish(out)) {
		r->err = cp_buf_finish(out);
		return false;
	}
	return true;
}

static int bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = n ? memcmp(a, b, n) : 0;

	if (c)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

/* Exact sign of i - d (spec 9.2: an integer is compared with a float by full value). */
static int int_double_cmp(int64_t i, double d)
{
	int64_t t;
	double frac;

	if (d >= 9223372036854775808.0)
		return -1;
	if (d < -9223372036854775808.0)
		return 1;
	t = (int64_t)d;
	if (i != t)
		return i < t ? -1 : 1;
	frac = d - (double)t;
	return frac > 0 ? -1 : frac < 0 ? 1 : 0;
}

/* -------------------------------------------------------- IP addresses */

struct ipnet {
	int family;
	unsigned bits;
	unsigned char a[16];
};

static bool ip_parse(const char *s, size_t n, struct ipnet *out)
{
	char buf[64];
	char *slash;
	unsigned max;

	if (n == 0 || n >= sizeof(buf) || memchr(s, '\0', n))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	out->family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	max = out->family == AF_INET6 ? 128 : 32;
	memset(out->a, 0, sizeof(out->a));
	if (inet_pton(out->family, buf, out->a) != 1)
		return false;
	out->bits = max;
	if (slash) {
		const char *p = slash + 1;
		unsigned bits = 0;
		if (!*p || strlen(p) > 3)
			return false;
		for (; *p; p++) {
			if (*p < '0' || *p > '9')
				return false;
			bits = bits * 10 + (unsigned)(*p - '0');
		}
		if (bits > max)
			return false;
		out->bits = bits;
	}
	return true;
}

/* Do a and b agree on their first `bits` bits? */
static bool prefix_eq(const unsigned char *a, const unsigned char *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest) {
		unsigned char mask = (unsigned char)(0xff << (8 - rest));
		return (a[whole] & mask) == (b[whole] & mask);
	}
	return true;
}

/* Is the block a contained in the block b? */
static bool ip_subset(const struct ipnet *a, const struct ipnet *b)
{
	return a->family == b->family && a->bits >= b->bits && prefix_eq(a->a, b->a, b->bits);
}

/* ------------------------------------------------------- comparisons */

enum ord {
	ORD_LT,
	ORD_EQ,
	ORD_GT,
	ORD_NE,       /* unequal and unordered (booleans, addresses) */
	ORD_MISMATCH, /* incompatible types */
	ORD_MISSING,  /* the value cannot be obtained (undecodable _bin/_hex) */
};

static enum ord ord_of(int c)
{
	return c < 0 ? ORD_LT : c > 0 ? ORD_GT : ORD_EQ;
}

/* What a value looks like to the comparisons, decoded at most once. */
struct value {
	const json_t *v;
	const char *s; /* string values */
	size_t len;
	bool is_binary;  /* a *_bin / *_hex property */
	bool is_ip;      /* the value of an ipv4-addr / ipv6-addr */
	int bytes_state; /* binary: 0 not decoded, 1 decoded into run->vbytes, -1 invalid */
};

static enum ord value_bytes(struct run *r, struct value *val, bool hex)
{
	if (val->bytes_state == 0)
		val->bytes_state = decode(r, val->s, val->len, hex, &r->vbytes) ? 1 : -1;
	return val->bytes_state > 0 ? ORD_EQ : ORD_MISSING;
}

static enum ord compare(struct run *r, struct value *val, const struct item *it,
			const struct cp__pat_lit *lit, bool equality)
{
	const json_t *v = val->v;

	switch (lit->kind) {
	case LIT_INT:
		if (json_is_integer(v)) {
			json_int_t x = json_integer_value(v);
			return ord_of(x < lit->i ? -1 : x > lit->i);
		}
		if (json_is_real(v))
			return ord_of(-int_double_cmp(lit->i, json_real_value(v)));
		return ORD_MISMATCH;
	case LIT_FLOAT:
		if (json_is_integer(v))
			return ord_of(int_double_cmp(json_integer_value(v), lit->f));
		if (json_is_real(v)) {
			double x = json_real_value(v);
			return ord_of(x < lit->f ? -1 : x > lit->f);
		}
		return ORD_MISMATCH;
	case LIT_BOOL:
		if (!json_is_boolean(v))
			return ORD_MISMATCH;
		return json_is_true(v) == lit->b ? ORD_EQ : ORD_NE;
	case LIT_TIMESTAMP: {
		struct cp_time t;
		if (!val->s || cp_time_parse(val->s, val->len, &t, NULL))
			return ORD_MISMATCH;
		return ord_of(cp_time_cmp(&t, &lit->t));
	}
	case LIT_STRING:
		if (!val->s)
			return ORD_MISMATCH;
		if (val->is_binary) {
			enum ord o = value_bytes(r, val, ends_with(it->key, it->key_len, "_hex"));
			if (o != ORD_EQ)
				return o;
			if (!latin1(r, lit->str, lit->len, &r->lbytes))
				return ORD_MISMATCH;
			return ord_of(bytes_cmp(r->vbytes.ptr, r->vbytes.len, r->lbytes.ptr,
						r->lbytes.len));
		}
		if (val->is_ip && equality) {
			struct ipnet a, b;
			if (ip_parse(val->s, val->len, &a) && ip_parse(lit->str, lit->len, &b))
				return ip_subset(&a, &b) && ip_subset(&b, &a) ? ORD_EQ : ORD_NE;
		}
		return ord_of(bytes_cmp(val->s, val->len, lit->str, lit->len));
	case LIT_HEX:
	case LIT_BINARY:
		if (!val->s)
			return ORD_MISMATCH;
		if (val->is_binary) {
			enum ord o = value_bytes(r, val, ends_with(it->key, it->key_len, "_hex"));
			if (o != ORD_EQ)
				return o;
			return ord_of(bytes_cmp(r->vbytes.ptr, r->vbytes.len, lit->str, lit->len));
		}
		if (!latin1(r, val->s, val->len, &r->lbytes))
			return ORD_MISMATCH;
		return ord_of(bytes_cmp(r->lbytes.ptr, r->lbytes.len, lit->str, lit->len));
	case LIT_SET:
		break;
	}
	return ORD_MISMATCH;
}

/*
 * LIKE over whole values: '%' any run, '_' one code point (one byte when utf8 is
 * false). Greedy matching that returns to the last '%' on a mismatch; its work is
 * charged to the visit budget since it can be quadratic.
 */
static bool like(struct run *r, const char *s, size_t n, const char *p, size_t m, bool utf8)
{
	size_t si = 0, pi = 0, star_p = SIZE_MAX, star_s = 0;
	uint64_t work = 0;

	while (si < n) {
		if (++work == 4096) {
			if (!charge(r, work))
				return false;
			work = 0;
		}
		if (pi < m && p[pi] == '%') {
			star_p = ++pi;
			star_s = si;
		} else if (pi < m && p[pi] == '_') {
			pi++;
			if (utf8)
				(void)utf8_next(s, n, &si);
			else
				si++;
		} else if (pi < m && p[pi] == s[si]) {
			pi++;
			si++;
		} else if (star_p != SIZE_MAX) {
			pi = star_p;
			if (utf8)
				(void)utf8_next(s, n, &star_s);
			else
				star_s++;
			si = star_s;
		} else {
			return false;
		}
	}
	while (pi < m && p[pi] == '%')
		pi++;
	return charge(r, work) && pi == m;
}

static bool matches(struct run *r, const struct cp__pat_cmp *c, const char *s, size_t n, bool utf)
{
	struct cp_pattern_evaluator *ev = r->ev;
	struct prep *pr = prep_find(ev, c);
	pcre2_code *re;
	int rc;

	if (!pr)
		return false;
	if (!utf && !pr->bytes_tried) {
		pr->bytes_tried = true;
		pr->re_bytes = compile_re(ev, c, false);
		if (ev->err) {
			r->err = ev->err;
			ev->err = CP_OK;
			pr->bytes_tried = false;
			return false;
		}
	}
	re = utf ? pr->re_utf : pr->re_bytes;
	if (!re)
		return false; /* e.g. \x{100} has no meaning for bytes */
	if (!charge(r, 1 + n / 64))
		return false;
	rc = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, ev->md, ev->mctx);
	if (rc >= 0)
		return true;
	if (rc == PCRE2_ERROR_NOMATCH)
		return false;
	if (rc == PCRE2_ERROR_NOMEMORY)
		r->err = CP_ENOMEM;
	else if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
		 rc == PCRE2_ERROR_HEAPLIMIT)
		r->err = CP_ETOOBIG;
	return false;
}

enum tv { TV_FALSE, TV_TRUE, TV_MISSING };

static enum tv apply(enum cp__pat_op op, enum ord o)
{
	if (o == ORD_MISSING)
		return TV_MISSING;
	if (o == ORD_MISMATCH)
		return op == OP_NEQ ? TV_TRUE : TV_FALSE;
	switch (op) {
	case OP_EQ:
		return o == ORD_EQ ? TV_TRUE : TV_FALSE;
	case OP_NEQ:
		return o != ORD_EQ ? TV_TRUE : TV_FALSE;
	case OP_LT:
		return o == ORD_LT ? TV_TRUE : TV_FALSE;
	case OP_LE:
		return o == ORD_LT || o == ORD_EQ ? TV_TRUE : TV_FALSE;
	case OP_GT:
		return o == ORD_GT ? TV_TRUE : TV_FALSE;
	case OP_GE:
		return o == ORD_GT || o == ORD_EQ ? TV_TRUE : TV_FALSE;
	default:
		return TV_FALSE;
	}
}

static bool is_ip_owner(const json_t *owner)
{
	const char *t = json_string_value(json_object_get(owner, "type"));
	return t && (strcmp(t, "ipv4-addr") == 0 || strcmp(t, "ipv6-addr") == 0);
}

/* One final value of the path against the operator of c (not EXISTS). */
static enum tv test_value(struct run *r, const struct cp__pat_cmp *c, const struct item *it)
{
	struct value val;
	bool hex;

	memset(&val, 0, sizeof(val));
	val.v = it->v;
	if (json_is_string(it->v)) {
		val.s = json_string_value(it->v);
		val.len = json_string_length(it->v);
	}
	val.is_binary = it->key && (ends_with(it->key, it->key_len, "_bin") ||
				    ends_with(it->key, it->key_len, "_hex"));
	hex = val.is_binary && ends_with(it->key, it->key_len, "_hex");
	val.is_ip = !val.is_binary && (it->flags & F_DIRECT) && it->key_len == 5 &&
		    memcmp(it->key, "value", 5) == 0 && is_ip_owner(it->owner);

	switch (c->op) {
	case OP_EQ:
	case OP_NEQ:
	case OP_LT:
	case OP_LE:
	case OP_GT:
	case OP_GE:
		return apply(c->op, compare(r, &val, it, &c->lit, c->op == OP_EQ || c->op == OP_NEQ));
	case OP_IN:
		for (size_t i = 0; i < c->lit.count && !r->err; i++) {
			enum ord o = compare(r, &val, it, &c->lit.items[i], true);
			if (o == ORD_MISSING)
				return TV_MISSING;
			if (o == ORD_EQ)
				return TV_TRUE;
		}
		return TV_FALSE;
	case OP_LIKE:
	case OP_MATCHES: {
		const char *s;
		size_t n;
		if (!val.s)
			return TV_FALSE;
		if (val.is_binary) {
			if (value_bytes(r, &val, hex) != ORD_EQ)
				return TV_MISSING;
			if (c->op == OP_MATCHES)
				return matches(r, c, r->vbytes.ptr, r->vbytes.len, false) ? TV_TRUE
											   : TV_FALSE;
			if (!latin1(r, c->lit.str, c->lit.len, &r->lbytes))
				return TV_FALSE;
			return like(r, r->vbytes.ptr, r->vbytes.len, r->lbytes.ptr, r->lbytes.len,
				    false)
				       ? TV_TRUE
				       : TV_FALSE;
		}
		{
			enum cp_err err = cp__pat_nfc(val.s, val.len, &r->nfc, &s, &n);
			if (err) {
				if (err != CP_EINVAL)
					r->err = err;
				return TV_FALSE;
			}
		}
		if (c->op == OP_MATCHES)
			return matches(r, c, s, n, true) ? TV_TRUE : TV_FALSE;
		{
			const struct prep *pr = prep_find(r->ev, c);
			if (!pr)
				return TV_FALSE;
			return like(r, s, n, pr->like, pr->like_len, true) ? TV_TRUE : TV_FALSE;
		}
	}
	case OP_ISSUBSET:
	case OP_ISSUPERSET: {
		struct ipnet a, b;
		if (!val.s || !ip_parse(val.s, val.len, &a) || !ip_parse(c->lit.str, c->lit.len, &b))
			return TV_FALSE;
		if (c->op == OP_ISSUBSET)
			return ip_subset(&a, &b) ? TV_TRUE : TV_FALSE;
		return ip_subset(&b, &a) ? TV_TRUE : TV_FALSE;
	}
	case OP_EXISTS:
		break;
	}
	return TV_FALSE;
}

static bool push_item(struct run *r, const struct item *it)
{
	if (!charge(r, 1))
		return false;
	if (!cp_array_grow((void **)&r->stack, &r->stack_cap, r->stack_len + 1, sizeof(*r->stack))) {
		r->err = CP_ENOMEM;
		return false;
	}
	r->stack[r->stack_len++] = *it;
	return true;
}

/*
 * Walk c's object path from sco. *found tells whether the path reached any value;
 * the result tells whether one of them satisfies the operator (EXISTS: found).
 */
static bool walk(struct run *r, const struct cp__pat_cmp *c, const struct cp__pat_sco *sco,
		 bool *found)
{
	const struct cp__pat_path *path = &c->path;
	struct item it;

	*found = false;
	r->stack_len = 0;
	memset(&it, 0, sizeof(it));
	it.v = it.owner = sco->obj;
	if (!push_item(r, &it))
		return false;
	while (r->stack_len) {
		const struct cp__pat_step *st;
		it = r->stack[--r->stack_len];
		if (it.step == path->count) {
			enum tv t;
			if (json_is_null(it.v))
				continue;
			if (c->op == OP_EXISTS) {
				*found = true;
				return true;
			}
			t = test_value(r, c, &it);
			if (r->err)
				return false;
			if (t == TV_MISSING)
				continue;
			*found = true;
			if (t == TV_TRUE)
				return true;
			continue;
		}
		st = &path->steps[it.step];
		if (st->kind == STEP_KEY) {
			const json_t *v = it.v, *m;
			struct item next;
			if (json_is_string(v) && (it.flags & F_REF)) {
				const struct cp__pat_sco *target = cp__pat_obs_lookup(
					r->set, sco->obs, json_string_value(v), json_string_length(v));
				if (!target)
					continue;
				v = it.owner = target->obj;
			}
			if (!json_is_object(v))
				continue;
			m = json_object_get(v, st->key); /* keys hold no NUL: the parser rejects it */
			if (!m)
				continue;
			memset(&next, 0, sizeof(next));
			next.v = m;
			next.owner = it.owner;
			next.key = st->key;
			next.key_len = st->key_len;
			next.step = it.step + 1;
			if (ends_with(st->key, st->key_len, "_ref"))
				next.flags |= F_REF;
			else if (ends_with(st->key, st->key_len, "_refs"))
				next.flags |= F_REFLIST;
			if (v == it.owner)
				next.flags |= F_DIRECT;
			if (!push_item(r, &next))
				return false;
		} else {
			size_t n = json_array_size(it.v);
			struct item next = it;
			if (!json_is_array(it.v))
				continue;
			next.step = it.step + 1;
			next.flags = (it.flags & F_REFLIST) ? F_REF : 0;
			if (st->kind == STEP_INDEX) {
				if (st->index < 0 || (uint64_t)st->index >= n)
					continue;
				next.v = json_array_get(it.v, (size_t)st->index);
				if (!push_item(r, &next))
					return false;
			} else {
				/* pushed last first, so elements are tried in list order */
				for (size_t i = n; i-- > 0;) {
					next.v = json_array_get(it.v, i);
					if (!push_item(r, &next))
						return false;
				}
			}
		}
	}
	return false;
}

static bool eval_test(struct run *r, const struct cp__pat_cmp *c, const struct cp__pat_sco *sco)
{
	bool found, any;

	/* the object type of the path must be the type of the SCO the group starts from */
	if (strcmp(c->path.type, sco->type) != 0)
		return false;
	any = walk(r, c, sco, &found);
	if (r->err)
		return false;
	if (c->op == OP_EXISTS)
		return c->negated ? !found : found;
	if (!found)
		return false; /* 9.6: a missing path is false whatever the operator */
	return c->negated ? !any : any;
}

static bool eval_cmp(struct run *r, const struct cp__pat_cmp *c, const struct cp__pat_sco *sco)
{
	/* left-associated chains are walked in a loop; recursion only on right operands */
	while (c->kind != CMP_TEST) {
		bool right = eval_cmp(r, c->right, sco);
		if (r->err)
			return false;
		if (c->kind == CMP_AND && !right)
			return false;
		if (c->kind == CMP_OR && right)
			return true;
		c = c->left;
	}
	return eval_test(r, c, sco);
}

/* ----------------------------------------------------------- leaves */

static int str_ptr_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int rank_cmp(const void *a, const void *b, void *ctx)
{
	const struct cp__pat_observation *obs = ctx;
	uint32_t x = obs[*(const uint32_t *)a].rank, y = obs[*(const uint32_t *)b].rank;
	return x < y ? -1 : x > y;
}

static bool collect_types(struct run *r, const struct cp__pat_cmp *c, const char ***types,
			  size_t *count, size_t *cap)
{
	for (;; c = c->left) {
		if (c->kind == CMP_TEST) {
			if (!cp_array_grow((void **)types, cap, *count + 1, sizeof(**types))) {
				r->err = CP_ENOMEM;
				return false;
			}
			(*types)[(*count)++] = c->path.type;
			return true;
		}
		if (!collect_types(r, c->right, types, count, cap))
			return false;
	}
}

static bool leaf_candidates(struct run *r, size_t li)
{
	const struct cp_pattern_obs_set *set = r->set;
	const struct cp__pat_cmp *cmp = r->ev->leaves[li]->cmp;
	struct leafc *lc = &r->leaves[li];
	const char **types = NULL;
	size_t ntypes = 0, cap = 0, nhits = 0;
	bool ok = false;

	if (!collect_types(r, cmp, &types, &ntypes, &cap))
		goto out;
	qsort(types, ntypes, sizeof(*types), str_ptr_cmp);
	for (size_t t = 0; t < ntypes; t++) {
		size_t begin, end;
		if (t > 0 && strcmp(types[t], types[t - 1]) == 0)
			continue;
		cp__pat_obs_type_range(set, types[t], &begin, &end);
		for (size_t k = begin; k < end; k++) {
			const struct cp__pat_sco *sco = &set->scos[set->by_type[k]];
			if (r->hit[sco->obs])
				continue;
			if (!charge(r, 1))
				goto out;
			if (eval_cmp(r, cmp, sco)) {
				r->hit[sco->obs] = 1;
				r->hits[nhits++] = sco->obs;
			}
			if (r->err)
				goto out;
		}
	}
	qsort_r(r->hits, nhits, sizeof(*r->hits), rank_cmp, set->obs);
	lc->cand = cp_malloc((nhits ? nhits : 1) * sizeof(*lc->cand));
	if (!lc->cand) {
		r->err = CP_ENOMEM;
		goto out;
	}
	memcpy(lc->cand, r->hits, nhits * sizeof(*lc->cand));
	lc->count = nhits;
	lc->done = true;
	ok = true;
out:
	for (size_t i = 0; i < nhits; i++)
		r->hit[r->hits[i]] = 0;
	cp_free(types);
	return ok;
}

/* ----------------------------------------------------------- search */

static bool set_var(struct run *r, size_t idx, int64_t value)
{
	if (r->vars[idx] == value)
		return true;
	if (!cp_array_grow((void **)&r->trail, &r->trail_cap, r->trail_len + 1, sizeof(*r->trail))) {
		r->err = CP_ENOMEM;
		return false;
	}
	r->trail[r->trail_len++] = (struct trail){(uint32_t)idx, false, r->vars[idx]};
	r->vars[idx] = value;
	return true;
}

static void undo(struct run *r, size_t mark)
{
	while (r->trail_len > mark) {
		const struct trail *t = &r->trail[--r->trail_len];
		if (t->is_used)
			r->used[t->idx] = (uint8_t)t->old;
		else
			r->vars[t->idx] = t->old;
	}
}

static int64_t *scope(struct run *r, int64_t i)
{
	return &r->vars[r->scope_base + (size_t)i * SC_FIELDS];
}

static size_t scope_idx(struct run *r, int64_t i, int field)
{
	return r->scope_base + (size_t)i * SC_FIELDS + (size_t)field;
}

static struct cp_time tm(int64_t sec, int64_t nsec)
{
	struct cp_time t = {sec, (uint32_t)nsec, 0};
	return t;
}

static struct cp_time add_delta(struct cp_time t, const struct cp_time *d)
{
	t.sec += d->sec;
	t.nsec += d->nsec;
	if (t.nsec >= 1000000000u) {
		t.sec++;
		t.nsec -= 1000000000u;
	}
	return t;
}

/* May observation o be bound under every open scope? */
static bool scopes_ok(struct run *r, uint32_t o)
{
	const struct cp__pat_observation *ob = &r->set->obs[o];
	int64_t n = r->vars[V_SCOPES];

	for (int64_t i = 0; i < n; i++) {
		const int64_t *s = scope(r, i);
		const struct insn *in = &r->ev->code[s[SC_PC]];
		switch (in->op) {
		case I_FOLLOW: {
			struct cp_time bound = tm(s[SC_A_SEC], s[SC_A_NSEC]);
			if (cp_time_cmp(&ob->first, &bound) < 0)
				return false;
			break;
		}
		case I_STARTSTOP:
			if (cp_time_cmp(&ob->first, &in->node->start) < 0 ||
			    cp_time_cmp(&ob->last, &in->node->stop) >= 0)
				return false;
			break;
		case I_WITHIN: {
			struct cp_time lo = ob->first, hi = ob->last, limit;
			if (in->unbounded)
				break;
			if (s[SC_HAS]) {
				struct cp_time a = tm(s[SC_A_SEC], s[SC_A_NSEC]);
				struct cp_time b = tm(s[SC_B_SEC], s[SC_B_NSEC]);
				if (cp_time_cmp(&a, &lo) < 0)
					lo = a;
				if (cp_time_cmp(&b, &hi) > 0)
					hi = b;
			}
			limit = add_delta(lo, &in->delta);
			if (cp_time_cmp(&hi, &limit) >= 0)
				return false;
			break;
		}
		default:
			break;
		}
	}
	return true;
}

static bool bind_obs(struct run *r, uint32_t o)
{
	const struct cp__pat_observation *ob = &r->set->obs[o];
	int64_t top = r->vars[V_TOP], n = r->vars[V_SCOPES];

	if (!cp_array_grow((void **)&r->trail, &r->trail_cap, r->trail_len + 1, sizeof(*r->trail))) {
		r->err = CP_ENOMEM;
		return false;
	}
	r->trail[r->trail_len++] = (struct trail){o, true, r->used[o]};
	r->used[o] = 1;
	r->bind[top] = o;
	if (!set_var(r, V_TOP, top + 1) || !set_var(r, V_MINOBS, 0))
		return false;
	for (int64_t i = 0; i < n; i++) {
		const int64_t *s = scope(r, i);
		struct cp_time a, b;
		if (r->ev->code[s[SC_PC]].op != I_WITHIN)
			continue;
		a = ob->first;
		b = ob->last;
		if (s[SC_HAS]) {
			struct cp_time oa = tm(s[SC_A_SEC], s[SC_A_NSEC]);
			struct cp_time ob2 = tm(s[SC_B_SEC], s[SC_B_NSEC]);
			if (cp_time_cmp(&oa, &a) < 0)
				a = oa;
			if (cp_time_cmp(&ob2, &b) > 0)
				b = ob2;
		}
		if (!set_var(r, scope_idx(r, i, SC_HAS), 1) ||
		    !set_var(r, scope_idx(r, i, SC_A_SEC), a.sec) ||
		    !set_var(r, scope_idx(r, i, SC_A_NSEC), a.nsec) ||
		    !set_var(r, scope_idx(r, i, SC_B_SEC), b.sec) ||
		    !set_var(r, scope_idx(r, i, SC_B_NSEC), b.nsec))
			return false;
	}
	return true;
}

static bool push_scope(struct run *r, uint32_t pc, struct cp_time a)
{
	int64_t i = r->vars[V_SCOPES];

	return set_var(r, scope_idx(r, i, SC_PC), pc) && set_var(r, scope_idx(r, i, SC_HAS), 0) &&
	       set_var(r, scope_idx(r, i, SC_A_SEC), a.sec) &&
	       set_var(r, scope_idx(r, i, SC_A_NSEC), a.nsec) && set_var(r, V_SCOPES, i + 1);
}

static bool push_choice(struct run *r, uint32_t pc, uint32_t pos)
{
	if (!cp_array_grow((void **)&r->choices, &r->choice_cap, r->choice_len + 1, sizeof(*r->choices))) {
		r->err = CP_ENOMEM;
		return false;
	}
	r->choices[r->choice_len++] = (struct choice){pc, pos, r->trail_len};
	return true;
}

static bool step(struct run *r)
{
	if (++r->steps > CP_PATTERN_EVAL_MAX_STEPS) {
		r->err = CP_ETOOBIG;
		return false;
	}
	return true;
}

/* Can `count` more repetitions needing `need` observations each still fit? */
static bool room_for(struct run *r, uint64_t count, uint64_t need)
{
	return sat_mul(count, need) <= r->set->count - (uint64_t)r->vars[V_TOP];
}

/* Position of the first candidate of lc whose rank is >= rank. */
static size_t first_rank_at_least(struct run *r, const struct leafc *lc, int64_t rank)
{
	size_t lo = 0, hi = lc->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if ((int64_t)r->set->obs[lc->cand[mid]].rank < rank)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Position of the first candidate of lc with first_observed >= t (they are sorted). */
static size_t first_time_at_least(struct run *r, const struct leafc *lc, const struct cp_time *t)
{
	size_t lo = 0, hi = lc->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (cp_time_cmp(&r->set->obs[lc->cand[mid]].first, t) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The latest first_observed lower bound of the open scopes (FOLLOWEDBY, START). */
static bool time_floor(struct run *r, struct cp_time *lb)
{
	int64_t n = r->vars[V_SCOPES];
	bool has = false;

	for (int64_t i = 0; i < n; i++) {
		const int64_t *s = scope(r, i);
		const struct insn *in = &r->ev->code[s[SC_PC]];
		struct cp_time t;
		if (in->op == I_FOLLOW)
			t = tm(s[SC_A_SEC], s[SC_A_NSEC]);
		else if (in->op == I_STARTSTOP)
			t = in->node->start;
		else
			continue;
		if (!has || cp_time_cmp(&t, lb) > 0)
			*lb = t;
		has = true;
	}
	return has;
}

/*
 * The earliest bound that first_observed must stay below under the open scopes: STOP,
 * and for a WITHIN holding observations, its earliest first_observed plus the window.
 */
static bool time_ceiling(struct run *r, struct cp_time *ub)
{
	int64_t n = r->vars[V_SCOPES];
	bool has = false;

	for (int64_t i = 0; i < n; i++) {
		const int64_t *s = scope(r, i);
		const struct insn *in = &r->ev->code[s[SC_PC]];
		struct cp_time t;
		if (in->op == I_STARTSTOP) {
			t = in->node->stop;
		} else if (in->op == I_WITHIN && s[SC_HAS] && !in->unbounded) {
			struct cp_time lo = tm(s[SC_A_SEC], s[SC_A_NSEC]);
			t = add_delta(lo, &in->delta);
		} else {
			continue;
		}
		if (!has || cp_time_cmp(&t, ub) < 0)
			*ub = t;
		has = true;
	}
	return has;
}

static bool search(struct run *r)
{
	const struct insn *code = r->ev->code;
	uint32_t pc = 0, pos = 0;
	bool resume = false;

	for (;;) {
		const struct insn *in = &code[pc];
		int64_t top = r->vars[V_TOP];

		if (!step(r))
			return false;
		switch (in->op) {
		case I_LEAF: {
			struct leafc *lc = &r->leaves[in->a];
			size_t i;
			if (!lc->done && !leaf_candidates(r, in->a))
				return false;
			if (resume) {
				i = pos;
			} else {
				struct cp_time lb;
				size_t j;
				i = first_rank_at_least(r, lc, r->vars[V_MINOBS]);
				if (time_floor(r, &lb)) {
					j = first_time_at_least(r, lc, &lb);
					if (j > i)
						i = j;
				}
			}
			resume = false;
			{
				struct cp_time ub;
				bool has_ub = time_ceiling(r, &ub);
				for (; i < lc->count; i++) {
					const struct cp__pat_observation *ob = &r->set->obs[lc->cand[i]];
					if (!step(r))
						return false;
					/* candidates come in first_observed order: none later fits */
					if (has_ub && cp_time_cmp(&ob->first, &ub) >= 0) {
						i = lc->count;
						break;
					}
					if (!r->used[lc->cand[i]] && scopes_ok(r, lc->cand[i]))
						break;
				}
			}
			if (i == lc->count)
				goto fail;
			if ((i + 1 < lc->count && !push_choice(r, pc, (uint32_t)(i + 1))) ||
			    !bind_obs(r, lc->cand[i]))
				return false;
			pc++;
			break;
		}
		case I_SPLIT:
			if (!push_choice(r, in->a, UINT32_MAX))
				return false;
			pc++;
			break;
		case I_JMP:
			pc = in->a;
			break;
		case I_MARK:
			if (!set_var(r, V_FIXED + in->a, top))
				return false;
			pc++;
			break;
		case I_FOLLOW: {
			/* the left side is complete: its latest last_observed bounds the right */
			struct cp_time bound = {INT64_MIN, 0, 0};
			r->steps += (uint64_t)(top - r->vars[V_FIXED + in->a]);
			if (!step(r))
				return false;
			for (int64_t k = r->vars[V_FIXED + in->a]; k < top; k++) {
				const struct cp_time *t = &r->set->obs[r->bind[k]].last;
				if (cp_time_cmp(t, &bound) > 0)
					bound = *t;
			}
			if (!push_scope(r, pc, bound))
				return false;
			pc++;
			break;
		}
		case I_WITHIN:
		case I_STARTSTOP:
			if (!push_scope(r, pc, tm(0, 0)))
				return false;
			pc++;
			break;
		case I_POP:
			if (!set_var(r, V_SCOPES, r->vars[V_SCOPES] - 1))
				return false;
			pc++;
			break;
		case I_REP_INIT:
			if (!room_for(r, (uint64_t)in->node->repeats, in->need))
				goto fail;
			if (!set_var(r, V_FIXED + in->a, 0) || !set_var(r, V_FIXED + in->a + 1, -1))
				return false;
			pc++;
			break;
		case I_REP_BODY: {
			int64_t min = r->vars[V_FIXED + in->a + 1] + 1;
			if (r->vars[V_MINOBS] > min)
				min = r->vars[V_MINOBS]; /* an enclosing REPEATS' bound still applies */
			if (!set_var(r, V_FIXED + in->a + 2, top) || !set_var(r, V_MINOBS, min))
				return false;
			pc++;
			break;
		}
		case I_REP_NEXT: {
			int64_t done = r->vars[V_FIXED + in->a] + 1;
			int64_t first = r->set->obs[r->bind[r->vars[V_FIXED + in->a + 2]]].rank;
			if (!set_var(r, V_FIXED + in->a, done) || !set_var(r, V_FIXED + in->a + 1, first))
				return false;
			if (done < in->node->repeats) {
				if (!room_for(r, (uint64_t)(in->node->repeats - done), in->need))
					goto fail;
				pc = in->b;
			} else {
				pc++;
			}
			break;
		}
		case I_END:
			return true;
		}
		continue;
fail:
		if (r->choice_len == 0)
			return false;
		{
			struct choice ch = r->choices[--r->choice_len];
			undo(r, ch.trail);
			pc = ch.pc;
			resume = ch.pos != UINT32_MAX;
			pos = ch.pos;
		}
	}
}

static void run_release(struct run *r)
{
	if (r->leaves)
		for (size_t i = 0; i < r->ev->leaf_count; i++)
			cp_free(r->leaves[i].cand);
	cp_free(r->leaves);
	cp_free(r->stack);
	cp_buf_release(&r->vbytes);
	cp_buf_release(&r->lbytes);
	cp_buf_release(&r->nfc);
	cp_free(r->hit);
	cp_free(r->hits);
	cp_free(r->vars);
	cp_free(r->used);
	cp_free(r->bind);
	cp_free(r->trail);
	cp_free(r->choices);
}

void cp_pattern_match_release(struct cp_pattern_match *m)
{
	if (!m)
		return;
	cp_free(m->obs);
	m->obs = NULL;
	m->count = 0;
	m->is_match = false;
}

enum cp_err cp_pattern_evaluator_run(struct cp_pattern_evaluator *ev,
				     const struct cp_pattern_obs_set *set,
				     struct cp_pattern_match *result)
{
	struct run r;
	size_t n, nvars, k = 0;
	bool found = false;
	size_t *obs = NULL;

	if (!ev || !set || !result)
		return CP_EINVAL;
	memset(&r, 0, sizeof(r));
	r.ev = ev;
	r.set = set;
	n = set->count;
	cp_buf_init(&r.vbytes, 0);
	cp_buf_init(&r.lbytes, 0);
	cp_buf_init(&r.nfc, 0);
	if (ev->root_need > n)
		goto done; /* more observation expressions than observations */
	nvars = V_FIXED + ev->var_count + ev->scope_max * SC_FIELDS;
	r.scope_base = V_FIXED + ev->var_count;
	r.leaves = cp_calloc(ev->leaf_count ? ev->leaf_count : 1, sizeof(*r.leaves));
	r.hit = cp_calloc(n ? n : 1, 1);
	r.hits = cp_malloc((n ? n : 1) * sizeof(*r.hits));
	r.vars = cp_calloc(nvars, sizeof(*r.vars));
	r.used = cp_calloc(n ? n : 1, 1);
	r.bind = cp_malloc((n ? n : 1) * sizeof(*r.bind));
	if (!r.leaves || !r.hit || !r.hits || !r.vars || !r.used || !r.bind) {
		r.err = CP_ENOMEM;
		goto done;
	}
	found = search(&r);
	if (!r.err && found) {
		k = (size_t)r.vars[V_TOP];
		obs = cp_malloc((k ? k : 1) * sizeof(*obs));
		if (!obs)
			r.err = CP_ENOMEM;
		for (size_t i = 0; obs && i < k; i++)
			obs[i] = r.bind[i];
	}
done:
	run_release(&r);
	if (r.err) {
		cp_free(obs);
		return r.err;
	}
	result->is_match = found;
	result->count = found ? k : 0;
	result->obs = obs;
	return CP_OK;
}

enum cp_err cp_pattern_eval(const struct cp_pattern *p, const struct cp_pattern_obs_set *set,
			    struct cp_pattern_match *result)
{
	struct cp_pattern_evaluator *ev = NULL;
	enum cp_err err;

	if (!p || !set || !result)
		return CP_EINVAL;
	err = cp_pattern_evaluator_new(p, &ev);
	if (err)
		return err;
	err = cp_pattern_evaluator_run(ev, set, result);
	cp_pattern_evaluator_free(ev);
	return err;
}
