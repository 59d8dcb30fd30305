/*
 * STIX pattern lexer and recursive-descent parser (grammar: STIXPattern.g4), with
 * the semantic checks of spec section 9. Errors carry line and column.
 *
 * Precedence, lowest first: FOLLOWEDBY, OR, AND between observations (all left
 * associative); qualifiers are postfix on the observation expression just before
 * them ([..] or (..)); inside brackets OR, then AND.
 */
#include <arpa/inet.h>
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "ast.h"

/* ------------------------------------------------------------------ arena */

struct cp__pat_chunk {
	struct cp__pat_chunk *next;
	size_t used, cap;
	max_align_t data[];
};

void *cp__pat_alloc(struct cp_pattern *p, size_t len)
{
	struct cp__pat_chunk *c = p->chunks;
	size_t align = sizeof(max_align_t);
	void *r;

	len = (len + align - 1) / align * align;
	if (!c || c->cap - c->used < len) {
		size_t cap = len > 4096 ? len : 4096;
		c = cp_malloc(sizeof(*c) + cap);
		if (!c)
			return NULL;
		c->next = p->chunks;
		c->used = 0;
		c->cap = cap;
		p->chunks = c;
	}
	r = (char *)c->data + c->used;
	c->used += len;
	memset(r, 0, len);
	return r;
}

void cp_pattern_free(struct cp_pattern *p)
{
	struct cp__pat_chunk *c, *next;

	if (!p)
		return;
	for (c = p->chunks; c; c = next) {
		next = c->next;
		cp_free(c);
	}
	cp_free(p);
}

/* ------------------------------------------------------------------ lexer */

enum tok {
	T_EOF,
	T_ERROR,
	T_LBRACK,
	T_RBRACK,
	T_LPAREN,
	T_RPAREN,
	T_COLON,
	T_DOT,
	T_COMMA,
	T_STAR,
	T_EQ,
	T_NEQ,
	T_LT,
	T_LE,
	T_GT,
	T_GE,
	T_IDENT,   /* [a-zA-Z_][a-zA-Z0-9_-]* that is not a keyword */
	T_STRING,  /* '...' */
	T_INT,
	T_FLOAT,
	T_HEX,     /* h'...' */
	T_BINARY,  /* b'...' */
	T_TIMESTAMP, /* t'...' */
	T_BOOL,
	/* keywords */
	T_AND,
	T_OR,
	T_NOT,
	T_FOLLOWEDBY,
	T_LIKE,
	T_MATCHES,
	T_ISSUPERSET,
	T_ISSUBSET,
	T_EXISTS,
	T_IN,
	T_START,
	T_STOP,
	T_SECONDS,
	T_WITHIN,
	T_REPEATS,
	T_TIMES,
	T_LAST,
};

static const struct {
	const char *word;
	enum tok tok;
} keywords[] = {
	{"AND", T_AND},           {"OR", T_OR},           {"NOT", T_NOT},
	{"FOLLOWEDBY", T_FOLLOWEDBY}, {"LIKE", T_LIKE},   {"MATCHES", T_MATCHES},
	{"ISSUPERSET", T_ISSUPERSET}, {"ISSUBSET", T_ISSUBSET}, {"EXISTS", T_EXISTS},
	{"IN", T_IN},             {"START", T_START},     {"STOP", T_STOP},
	{"SECONDS", T_SECONDS},   {"WITHIN", T_WITHIN},   {"REPEATS", T_REPEATS},
	{"TIMES", T_TIMES},       {"LAST", T_LAST},
};

struct token {
	enum tok kind;
	size_t start, len; /* byte offsets into the text */
	/* decoded value of T_STRING/T_HEX/T_BINARY (arena), numbers, timestamps */
	const char *str;
	size_t str_len;
	int64_t i;
	double f;
	bool b;
	bool has_plus;
	struct cp_time t;
};

struct parser {
	const char *text;
	size_t len, pos;
	struct token tok;
	struct cp_pattern *pat;
	struct cp_diag *diag;
	unsigned depth;
	bool failed;
	enum cp_err err; /* CP_ENOMEM / CP_ETOOBIG beyond plain syntax errors */
};

/* 1-based line and column (in code points) of byte offset off. */
static void locate(const struct parser *ps, size_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < off && i < ps->len; i++) {
		unsigned char ch = (unsigned char)ps->text[i];
		if (ch == '\n') {
			l++;
			c = 1;
		} else if ((ch & 0xc0) != 0x80) {
			c++;
		}
	}
	*line = l;
	*col = c;
}

static void report(struct parser *ps, enum cp_severity sev, const char *code, size_t off,
		   const char *fmt, ...) CP_PRINTF(5, 6);

static void report(struct parser *ps, enum cp_severity sev, const char *code, size_t off,
		   const char *fmt, ...)
{
	char msg[512];
	unsigned line, col;
	va_list ap;

	if (sev == CP_SEV_ERROR) {
		/* one syntax error is enough: the rest of the parse would be noise */
		if (ps->failed && strcmp(code, "pattern-syntax") == 0)
			return;
		ps->failed = true;
	}
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	locate(ps, off, &line, &col);
	cp_diag_add_at(ps->diag, sev, code, line, col, "%s", msg);
}

#define SYNTAX(ps, off, ...) report((ps), CP_SEV_ERROR, "pattern-syntax", (off), __VA_ARGS__)
#define SEMANTIC(ps, off, ...) report((ps), CP_SEV_ERROR, "pattern-semantic", (off), __VA_ARGS__)
#define STYLE(ps, off, ...) report((ps), CP_SEV_WARNING, "pattern-style", (off), __VA_ARGS__)

static void *palloc(struct parser *ps, size_t len)
{
	void *r = cp__pat_alloc(ps->pat, len);
	if (!r && !ps->err) {
		ps->err = CP_ENOMEM;
		ps->failed = true;
	}
	return r;
}

/* Unicode White_Space (the grammar's WS set) at text[i]; returns its byte length or 0. */
static size_t ws_len(const char *s, size_t n)
{
	unsigned char c = (unsigned char)s[0];

	if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f')
		return 1;
	if (n >= 2 && c == 0xc2 && ((unsigned char)s[1] == 0x85 || (unsigned char)s[1] == 0xa0))
		return 2;
	if (n >= 3 && c == 0xe1 && (unsigned char)s[1] == 0x9a && (unsigned char)s[2] == 0x80)
		return 3; /* U+1680 */
	if (n >= 3 && c == 0xe2 && (unsigned char)s[1] == 0x80) {
		unsigned char d = (unsigned char)s[2];
		if ((d >= 0x80 && d <= 0x8a) || d == 0xa8 || d == 0xa9 || d == 0xaf)
			return 3; /* U+2000..200A, 2028, 2029, 202F */
	}
	if (n >= 3 && c == 0xe2 && (unsigned char)s[1] == 0x81 && (unsigned char)s[2] == 0x9f)
		return 3; /* U+205F */
	if (n >= 3 && c == 0xe3 && (unsigned char)s[1] == 0x80 && (unsigned char)s[2] == 0x80)
		return 3; /* U+3000 */
	return 0;
}

static void skip_space(struct parser *ps)
{
	for (;;) {
		size_t n;
		if (ps->pos >= ps->len)
			return;
		n = ws_len(ps->text + ps->pos, ps->len - ps->pos);
		if (n) {
			ps->pos += n;
			continue;
		}
		if (ps->pos + 1 < ps->len && ps->text[ps->pos] == '/' &&
		    ps->text[ps->pos + 1] == '*') {
			size_t end = ps->pos + 2;
			while (end + 1 < ps->len && !(ps->text[end] == '*' && ps->text[end + 1] == '/'))
				end++;
			if (end + 1 >= ps->len) {
				SYNTAX(ps, ps->pos, "unterminated /* comment");
				ps->pos = ps->len;
				return;
			}
			ps->pos = end + 2;
			continue;
		}
		if (ps->pos + 1 < ps->len && ps->text[ps->pos] == '/' &&
		    ps->text[ps->pos + 1] == '/') {
			while (ps->pos < ps->len && ps->text[ps->pos] != '\n' &&
			       ps->text[ps->pos] != '\r')
				ps->pos++;
			continue;
		}
		return;
	}
}

static bool is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9') || c == '-';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Find the closing quote of a quoted literal starting at text[q] == '\''. */
static bool quoted_end(struct parser *ps, size_t q, size_t *end)
{
	size_t i = q + 1;

	while (i < ps->len) {
		char c = ps->text[i];
		if (c == '\\') {
			i += 2;
			continue;
		}
		if (c == '\'') {
			*end = i;
			return true;
		}
		i++;
	}
	return false;
}

static bool lex_string(struct parser *ps, struct token *t, size_t q)
{
	size_t end, o = 0;
	char *out;

	if (!quoted_end(ps, q, &end)) {
		SYNTAX(ps, q, "unterminated string constant");
		return false;
	}
	out = palloc(ps, end - q);
	if (!out)
		return false;
	for (size_t i = q + 1; i < end; i++) {
		char c = ps->text[i];
		if (c == '\\') {
			char e = ps->text[i + 1];
			if (e != '\\' && e != '\'') {
				SYNTAX(ps, i, "invalid escape '\\%c' in a string constant (only \\' and "
					      "\\\\ are allowed)",
				       e);
				return false;
			}
			out[o++] = e;
			i++;
			continue;
		}
		out[o++] = c;
	}
	out[o] = '\0';
	t->str = out;
	t->str_len = o;
	t->len = end + 1 - t->start;
	return true;
}

static bool lex_hex(struct parser *ps, struct token *t, size_t q)
{
	size_t end, n;
	uint8_t *out;

	if (!quoted_end(ps, q, &end)) {
		SYNTAX(ps, t->start, "unterminated hex constant");
		return false;
	}
	n = end - q - 1;
	for (size_t i = q + 1; i < end; i++)
		if (cp_hex_digit((unsigned char)ps->text[i]) < 0) {
			SYNTAX(ps, i, "hex constants may only contain 0-9 and a-f");
			return false;
		}
	if (n % 2) {
		SYNTAX(ps, t->start, "a hex constant must have an even number of digits");
		return false;
	}
	out = palloc(ps, n / 2 + 1);
	if (!out)
		return false;
	for (size_t i = 0; i < n / 2; i++)
		out[i] = (uint8_t)(cp_hex_digit((unsigned char)ps->text[q + 1 + 2 * i]) * 16 +
				   cp_hex_digit((unsigned char)ps->text[q + 2 + 2 * i]));
	t->str = (const char *)out;
	t->str_len = n / 2;
	t->len = end + 1 - t->start;
	return true;
}

static bool lex_binary(struct parser *ps, struct token *t, size_t q)
{
	size_t end, nchars = 0, pad = 0, o = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	uint8_t *out;

	if (!quoted_end(ps, q, &end)) {
		SYNTAX(ps, t->start, "unterminated binary constant");
		return false;
	}
	out = palloc(ps, (end - q) * 3 / 4 + 4);
	if (!out)
		return false;
	for (size_t i = q + 1; i < end; i++) {
		char c = ps->text[i];
		int v;
		if (c == '\n' || c == '\r')
			continue; /* spec 9.3: line feeds in base64 are ignored */
		if (c == '=') {
			pad++;
			nchars++;
			continue;
		}
		v = cp_base64_digit((unsigned char)c);
		if (v < 0 || pad) {
			SYNTAX(ps, i, "binary constants must be base64 (RFC 4648)");
			return false;
		}
		nchars++;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	if (nchars == 0 || nchars % 4 || pad > 2) {
		SYNTAX(ps, t->start,
		       "a binary constant must be non-empty base64 in groups of 4 characters");
		return false;
	}
	t->str = (const char *)out;
	t->str_len = o;
	t->len = end + 1 - t->start;
	return true;
}

static bool lex_timestamp(struct parser *ps, struct token *t, size_t q)
{
	size_t end;
	const char *why = NULL;

	if (!quoted_end(ps, q, &end)) {
		SYNTAX(ps, t->start, "unterminated timestamp constant");
		return false;
	}
	if (cp_time_parse(ps->text + q + 1, end - q - 1, &t->t, &why)) {
		SYNTAX(ps, q + 1, "invalid timestamp constant: %s", why);
		return false;
	}
	t->len = end + 1 - t->start;
	return true;
}

static bool lex_number(struct parser *ps, struct token *t)
{
	size_t i = ps->pos, int_start;
	bool neg = false, is_float = false;
	char buf[64];

	if (ps->text[i] == '+' || ps->text[i] == '-') {
		neg = ps->text[i] == '-';
		t->has_plus = !neg;
		i++;
	}
	int_start = i;
	while (i < ps->len && is_digit(ps->text[i]))
		i++;
	if (i < ps->len && ps->text[i] == '.') {
		size_t frac = ++i;
		while (i < ps->len && is_digit(ps->text[i]))
			i++;
		if (i == frac) {
			SYNTAX(ps, t->start, "a decimal point must be followed by digits");
			return false;
		}
		is_float = true;
	} else {
		if (i == int_start) {
			SYNTAX(ps, t->start, "expected a number after '%c'", ps->text[t->start]);
			return false;
		}
		if (ps->text[int_start] == '0' && i - int_start > 1) {
			SYNTAX(ps, t->start, "integers must not have leading zeros");
			return false;
		}
	}
	if (i < ps->len && (is_ident_start(ps->text[i]) || is_digit(ps->text[i]))) {
		SYNTAX(ps, i, "unexpected character after a number");
		return false;
	}
	t->len = i - t->start;
	if (t->len >= sizeof(buf)) {
		SYNTAX(ps, t->start, "numeric constant is too long");
		return false;
	}
	memcpy(buf, ps->text + t->start, t->len);
	buf[t->len] = '\0';
	errno = 0;
	if (is_float) {
		t->kind = T_FLOAT;
		t->f = strtod(buf, NULL);
	} else {
		t->kind = T_INT;
		t->i = strtoll(buf, NULL, 10);
	}
	if (errno == ERANGE) {
		SYNTAX(ps, t->start, "numeric constant is out of range");
		return false;
	}
	(void)neg;
	return true;
}

static void next(struct parser *ps)
{
	struct token *t = &ps->tok;
	char c;

	memset(t, 0, sizeof(*t));
	skip_space(ps);
	t->start = ps->pos;
	if (ps->failed) {
		t->kind = T_ERROR;
		return;
	}
	if (ps->pos >= ps->len) {
		t->kind = T_EOF;
		return;
	}
	c = ps->text[ps->pos];
	t->len = 1;
	switch (c) {
	case '[':
		t->kind = T_LBRACK;
		break;
	case ']':
		t->kind = T_RBRACK;
		break;
	case '(':
		t->kind = T_LPAREN;
		break;
	case ')':
		t->kind = T_RPAREN;
		break;
	case ':':
		t->kind = T_COLON;
		break;
	case ',':
		t->kind = T_COMMA;
		break;
	case '*':
		t->kind = T_STAR;
		break;
	case '=':
		t->kind = T_EQ;
		if (ps->pos + 1 < ps->len && ps->text[ps->pos + 1] == '=')
			t->len = 2;
		break;
	case '!':
		if (ps->pos + 1 < ps->len && ps->text[ps->pos + 1] == '=') {
			t->kind = T_NEQ;
			t->len = 2;
		} else {
			SYNTAX(ps, ps->pos, "'!' must be followed by '='");
			t->kind = T_ERROR;
		}
		break;
	case '<':
		t->kind = T_LT;
		if (ps->pos + 1 < ps->len && ps->text[ps->pos + 1] == '=') {
			t->kind = T_LE;
			t->len = 2;
		} else if (ps->pos + 1 < ps->len && ps->text[ps->pos + 1] == '>') {
			t->kind = T_NEQ;
			t->len = 2;
		}
		break;
	case '>':
		t->kind = T_GT;
		if (ps->pos + 1 < ps->len && ps->text[ps->pos + 1] == '=') {
			t->kind = T_GE;
			t->len = 2;
		}
		break;
	case '\'':
		t->kind = T_STRING;
		if (!lex_string(ps, t, ps->pos))
			t->kind = T_ERROR;
		break;
	case '.':
		if (ps->pos + 1 < ps->len && is_digit(ps->text[ps->pos + 1])) {
			if (!lex_number(ps, t))
				t->kind = T_ERROR;
		} else {
			t->kind = T_DOT;
		}
		break;
	default:
		if (is_digit(c) || c == '+' || c == '-') {
			if (!lex_number(ps, t))
				t->kind = T_ERROR;
			break;
		}
		if ((c == 'h' || c == 'b' || c == 't') && ps->pos + 1 < ps->len &&
		    ps->text[ps->pos + 1] == '\'') {
			bool ok;
			t->kind = c == 'h' ? T_HEX : c == 'b' ? T_BINARY : T_TIMESTAMP;
			ok = c == 'h'	? lex_hex(ps, t, ps->pos + 1)
			     : c == 'b' ? lex_binary(ps, t, ps->pos + 1)
					: lex_timestamp(ps, t, ps->pos + 1);
			if (!ok)
				t->kind = T_ERROR;
			break;
		}
		if (is_ident_start(c)) {
			size_t i = ps->pos;
			while (i < ps->len && is_ident_char(ps->text[i]))
				i++;
			t->len = i - ps->pos;
			t->kind = T_IDENT;
			for (size_t k = 0; k < CP_ARRAY_LEN(keywords); k++)
				if (strlen(keywords[k].word) == t->len &&
				    memcmp(keywords[k].word, ps->text + ps->pos, t->len) == 0)
					t->kind = keywords[k].tok;
			if (t->len == 4 && memcmp(ps->text + ps->pos, "true", 4) == 0) {
				t->kind = T_BOOL;
				t->b = true;
			} else if (t->len == 5 && memcmp(ps->text + ps->pos, "false", 5) == 0) {
				t->kind = T_BOOL;
				t->b = false;
			}
			break;
		}
		if ((unsigned char)c >= 0x80)
			SYNTAX(ps, ps->pos, "unexpected non-ASCII character");
		else if ((unsigned char)c < 0x20 || c == 0x7f)
			SYNTAX(ps, ps->pos, "unexpected control character 0x%02x", (unsigned)c);
		else
			SYNTAX(ps, ps->pos, "unexpected character '%c'", c);
		t->kind = T_ERROR;
		break;
	}
	if (t->kind != T_ERROR)
		ps->pos = t->start + t->len;
}

static const char *tok_name(enum tok k)
{
	switch (k) {
	case T_EOF:
		return "end of pattern";
	case T_ERROR:
		return "invalid token";
	case T_LBRACK:
		return "'['";
	case T_RBRACK:
		return "']'";
	case T_LPAREN:
		return "'('";
	case T_RPAREN:
		return "')'";
	case T_COLON:
		return "':'";
	case T_DOT:
		return "'.'";
	case T_COMMA:
		return "','";
	case T_STAR:
		return "'*'";
	case T_EQ:
	case T_NEQ:
	case T_LT:
	case T_LE:
	case T_GT:
	case T_GE:
		return "comparison operator";
	case T_IDENT:
		return "identifier";
	case T_STRING:
		return "string constant";
	case T_INT:
		return "integer";
	case T_FLOAT:
		return "float";
	case T_HEX:
		return "hex constant";
	case T_BINARY:
		return "binary constant";
	case T_TIMESTAMP:
		return "timestamp constant";
	case T_BOOL:
		return "boolean";
	default:
		return "keyword";
	}
}

/* Describe the current token for an error message: its text, cut short. */
static void expected(struct parser *ps, const char *what)
{
	const struct token *t = &ps->tok;
	int n = (int)(t->len > 24 ? 24 : t->len);

	if (t->kind == T_ERROR)
		return; /* the lexer already said what is wrong */
	if (t->kind == T_EOF)
		SYNTAX(ps, t->start, "expected %s, found the end of the pattern", what);
	else if (t->kind >= T_LBRACK && t->kind <= T_STAR)
		SYNTAX(ps, t->start, "expected %s, found %s", what, tok_name(t->kind));
	else
		SYNTAX(ps, t->start, "expected %s, found %s '%.*s'", what, tok_name(t->kind), n,
		       ps->text + t->start);
}

static bool eat(struct parser *ps, enum tok k)
{
	if (ps->tok.kind != k)
		return false;
	next(ps);
	return true;
}

static bool expect(struct parser *ps, enum tok k, const char *what)
{
	if (eat(ps, k))
		return true;
	expected(ps, what);
	return false;
}

static bool enter(struct parser *ps)
{
	if (++ps->depth > CP_LIMIT_PATTERN_DEPTH) {
		if (!ps->failed)
			report(ps, CP_SEV_ERROR, "pattern-limit", ps->tok.start,
			       "pattern nests deeper than %d levels", CP_LIMIT_PATTERN_DEPTH);
		ps->failed = true;
		ps->err = CP_ETOOBIG;
		return false;
	}
	return true;
}

/* ------------------------------------------------------------- literals */

static bool literal_from_token(struct parser *ps, struct cp__pat_lit *lit)
{
	const struct token *t = &ps->tok;

	switch (t->kind) {
	case T_INT:
		lit->kind = LIT_INT;
		lit->i = t->i;
		lit->f = (double)t->i;
		break;
	case T_FLOAT: {
		size_t off = t->has_plus ? 1 : 0;
		char *txt = palloc(ps, t->len + 1);
		if (!txt)
			return false;
		memcpy(txt, ps->text + t->start + off, t->len - off);
		lit->kind = LIT_FLOAT;
		lit->f = t->f;
		lit->text = txt;
		break;
	}
	case T_STRING:
		lit->kind = LIT_STRING;
		lit->str = t->str;
		lit->len = t->str_len;
		break;
	case T_BOOL:
		lit->kind = LIT_BOOL;
		lit->b = t->b;
		break;
	case T_HEX:
		lit->kind = LIT_HEX;
		lit->str = t->str;
		lit->len = t->str_len;
		break;
	case T_BINARY:
		lit->kind = LIT_BINARY;
		lit->str = t->str;
		lit->len = t->str_len;
		break;
	case T_TIMESTAMP:
		lit->kind = LIT_TIMESTAMP;
		lit->t = t->t;
		break;
	default:
		return false;
	}
	if (t->has_plus)
		STYLE(ps, t->start, "positive numbers must be written without '+' (spec 9.3)");
	next(ps);
	return true;
}

static bool is_literal_tok(enum tok k)
{
	return k == T_INT || k == T_FLOAT || k == T_STRING || k == T_BOOL || k == T_HEX ||
	       k == T_BINARY || k == T_TIMESTAMP;
}

static const char *lit_kind_name(enum cp__pat_lit_kind k)
{
	switch (k) {
	case LIT_INT:
		return "integer";
	case LIT_FLOAT:
		return "float";
	case LIT_STRING:
		return "string";
	case LIT_BOOL:
		return "boolean";
	case LIT_BINARY:
		return "binary";
	case LIT_HEX:
		return "hex";
	case LIT_TIMESTAMP:
		return "timestamp";
	case LIT_SET:
		return "set";
	}
	return "?";
}

static bool parse_set(struct parser *ps, struct cp__pat_lit *lit)
{
	size_t cap = 8, start = ps->tok.start;
	struct cp__pat_lit *items;

	lit->kind = LIT_SET;
	next(ps); /* ( */
	items = palloc(ps, cap * sizeof(*items));
	if (!items)
		return false;
	if (eat(ps, T_RPAREN)) {
		lit->items = items;
		return true;
	}
	for (;;) {
		if (!is_literal_tok(ps->tok.kind)) {
			expected(ps, "a constant in the set");
			return false;
		}
		if (lit->count == cap) {
			struct cp__pat_lit *bigger = palloc(ps, cap * 2 * sizeof(*items));
			if (!bigger)
				return false;
			memcpy(bigger, items, cap * sizeof(*items));
			items = bigger;
			cap *= 2;
		}
		if (!literal_from_token(ps, &items[lit->count]))
			return false;
		lit->count++;
		if (eat(ps, T_RPAREN))
			break;
		if (!expect(ps, T_COMMA, "',' or ')' in the set"))
			return false;
	}
	lit->items = items;
	for (size_t i = 1; i < lit->count; i++) {
		enum cp__pat_lit_kind a = items[0].kind, b = items[i].kind;
		bool numeric = (a == LIT_INT || a == LIT_FLOAT) && (b == LIT_INT || b == LIT_FLOAT);
		if (a != b && !numeric) {
			SEMANTIC(ps, start,
				 "the constants of an IN set must all have the same type (%s and %s)",
				 lit_kind_name(a), lit_kind_name(b));
			return false;
		}
	}
	return true;
}

/* ---------------------------------------------------------- object paths */

static bool add_step(struct parser *ps, struct cp__pat_path *path, size_t *cap,
		     const struct cp__pat_step *step)
{
	if (path->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 4;
		struct cp__pat_step *s = palloc(ps, ncap * sizeof(*s));
		if (!s)
			return false;
		if (path->count)
			memcpy(s, path->steps, path->count * sizeof(*s));
		path->steps = s;
		*cap = ncap;
	}
	path->steps[path->count++] = *step;
	return true;
}

static bool key_step(struct parser *ps, struct cp__pat_step *step)
{
	const struct token *t = &ps->tok;

	step->kind = STEP_KEY;
	if (t->kind == T_STRING) {
		step->key = t->str;
		step->key_len = t->str_len;
		next(ps);
		return true;
	}
	/* keywords are valid property names too (an SCO could have a property "in") */
	if (t->kind == T_IDENT || (t->kind >= T_AND && t->kind <= T_LAST) || t->kind == T_BOOL) {
		char *k;
		if (memchr(ps->text + t->start, '-', t->len)) {
			SYNTAX(ps, t->start,
			       "property names containing '-' must be quoted, e.g. 'SHA-256'");
			return false;
		}
		k = palloc(ps, t->len + 1);
		if (!k)
			return false;
		memcpy(k, ps->text + t->start, t->len);
		step->key = k;
		step->key_len = t->len;
		next(ps);
		return true;
	}
	expected(ps, "a property name");
	return false;
}

static bool type_name_ok(const char *s, size_t n)
{
	if (n < 3 || n > 250 || !(s[0] >= 'a' && s[0] <= 'z') || s[n - 1] == '-')
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-'))
			return false;
		if (c == '-' && i + 1 < n && s[i + 1] == '-')
			return false;
	}
	return true;
}

static bool parse_path(struct parser *ps, struct cp__pat_path *path)
{
	const struct token *t = &ps->tok;
	size_t cap = 0;
	struct cp__pat_step step;
	char *type;

	if (t->kind != T_IDENT) {
		expected(ps, "an object path (object-type:property)");
		return false;
	}
	if (!type_name_ok(ps->text + t->start, t->len)) {
		SEMANTIC(ps, t->start,
			 "'%.*s' is not a valid STIX object type (3-250 characters of a-z, 0-9 "
			 "and '-')",
			 (int)(t->len > 64 ? 64 : t->len), ps->text + t->start);
		return false;
	}
	type = palloc(ps, t->len + 1);
	if (!type)
		return false;
	memcpy(type, ps->text + t->start, t->len);
	path->type = type;
	next(ps);
	if (!expect(ps, T_COLON, "':' after the object type"))
		return false;
	memset(&step, 0, sizeof(step));
	if (!key_step(ps, &step) || !add_step(ps, path, &cap, &step))
		return false;
	for (;;) {
		memset(&step, 0, sizeof(step));
		if (ps->tok.kind == T_DOT) {
			next(ps);
			if (!key_step(ps, &step))
				return false;
		} else if (ps->tok.kind == T_LBRACK) {
			next(ps);
			if (ps->tok.kind == T_STAR) {
				step.kind = STEP_ANY;
			} else if (ps->tok.kind == T_INT) {
				step.kind = STEP_INDEX;
				step.index = ps->tok.i;
				if (ps->tok.has_plus)
					STYLE(ps, ps->tok.start, "list indexes are written without '+'");
				if (step.index < 0)
					STYLE(ps, ps->tok.start,
					      "a negative list index is always out of range (spec 9.7.2: "
					      "0..N-1), so this comparison is always false");
			} else {
				expected(ps, "a list index or '*'");
				return false;
			}
			next(ps);
			if (!expect(ps, T_RBRACK, "']' after the list index"))
				return false;
		} else {
			break;
		}
		if (!add_step(ps, path, &cap, &step))
			return false;
	}
	return true;
}

/* ------------------------------------------------------ semantic helpers */

static bool valid_ip_or_cidr(const char *s, size_t n)
{
	char buf[64];
	const char *slash;
	unsigned char addr[16];
	int family, maxbits;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	slash = strchr(buf, '/');
	if (slash)
		buf[slash - buf] = '\0';
	family = strchr(buf, ':') ? AF_INET6 : AF_INET;
	maxbits = family == AF_INET6 ? 128 : 32;
	if (inet_pton(family, buf, addr) != 1)
		return false;
	if (slash) {
		const char *p = slash + 1;
		long bits = 0;
		if (!*p || (p[0] == '0' && p[1]))
			return false;
		for (; *p; p++) {
			if (!is_digit(*p))
				return false;
			bits = bits * 10 + (*p - '0');
			if (bits > maxbits)
				return false;
		}
	}
	return true;
}

static void check_regex(struct parser *ps, const struct cp__pat_lit *lit, size_t off)
{
	int code;
	PCRE2_SIZE erroff;
	pcre2_code *re;

	re = pcre2_compile((PCRE2_SPTR)lit->str, lit->len, PCRE2_UTF | PCRE2_DOTALL, &code,
			   &erroff, NULL);
	if (re) {
		pcre2_code_free(re);
		return;
	}
	if (code == PCRE2_ERROR_NOMEMORY) {
		ps->err = CP_ENOMEM;
		ps->failed = true;
		return;
	}
	{
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(code, msg, sizeof(msg));
		SEMANTIC(ps, off, "MATCHES needs a valid PCRE regular expression: %s at offset %zu",
			 (const char *)msg, (size_t)erroff);
	}
}

/* ------------------------------------------------ comparison expressions */

static struct cp__pat_cmp *parse_cmp_or(struct parser *ps);

static struct cp__pat_cmp *parse_prop_test(struct parser *ps)
{
	struct cp__pat_cmp *c;
	size_t start = ps->tok.start;
	bool neg = false;

	if (ps->tok.kind == T_LPAREN) {
		next(ps);
		if (!enter(ps))
			return NULL;
		c = parse_cmp_or(ps);
		ps->depth--;
		if (!c || !expect(ps, T_RPAREN, "')'"))
			return NULL;
		return c;
	}
	c = palloc(ps, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = CMP_TEST;
	c->offset = start;
	if (ps->tok.kind == T_NOT || ps->tok.kind == T_EXISTS) {
		/* NOT? EXISTS path */
		if (eat(ps, T_NOT))
			neg = true;
		if (!expect(ps, T_EXISTS, "EXISTS after NOT (use 'path NOT op value' otherwise)"))
			return NULL;
		c->op = OP_EXISTS;
		c->negated = neg;
		return parse_path(ps, &c->path) ? c : NULL;
	}
	if (!parse_path(ps, &c->path))
		return NULL;
	if (eat(ps, T_NOT))
		c->negated = true;
	switch (ps->tok.kind) {
	case T_EQ:
	case T_NEQ:
		c->op = ps->tok.kind == T_EQ ? OP_EQ : OP_NEQ;
		next(ps);
		if (!is_literal_tok(ps->tok.kind)) {
			expected(ps, "a constant");
			return NULL;
		}
		return literal_from_token(ps, &c->lit) ? c : NULL;
	case T_LT:
	case T_LE:
	case T_GT:
	case T_GE:
		c->op = ps->tok.kind == T_LT ? OP_LT
			: ps->tok.kind == T_LE ? OP_LE
			: ps->tok.kind == T_GT ? OP_GT
					       : OP_GE;
		next(ps);
		if (ps->tok.kind == T_BOOL) {
			SEMANTIC(ps, ps->tok.start, "booleans cannot be ordered with <, <=, > or >=");
			return NULL;
		}
		if (!is_literal_tok(ps->tok.kind)) {
			expected(ps, "a constant");
			return NULL;
		}
		return literal_from_token(ps, &c->lit) ? c : NULL;
	case T_IN:
		c->op = OP_IN;
		next(ps);
		if (ps->tok.kind != T_LPAREN) {
			expected(ps, "'(' starting the IN set");
			return NULL;
		}
		return parse_set(ps, &c->lit) ? c : NULL;
	case T_LIKE:
	case T_MATCHES:
	case T_ISSUBSET:
	case T_ISSUPERSET: {
		enum tok k = ps->tok.kind;
		size_t off;
		c->op = k == T_LIKE ? OP_LIKE
			: k == T_MATCHES ? OP_MATCHES
			: k == T_ISSUBSET ? OP_ISSUBSET
					  : OP_ISSUPERSET;
		next(ps);
		off = ps->tok.start;
		if (ps->tok.kind != T_STRING) {
			expected(ps, "a string constant");
			return NULL;
		}
		if (!literal_from_token(ps, &c->lit))
			return NULL;
		if (k == T_MATCHES)
			check_regex(ps, &c->lit, off);
		if ((k == T_ISSUBSET || k == T_ISSUPERSET) &&
		    !valid_ip_or_cidr(c->lit.str, c->lit.len))
			SEMANTIC(ps, off, "%s needs an IPv4 or IPv6 address or CIDR block, not '%.*s'",
				 k == T_ISSUBSET ? "ISSUBSET" : "ISSUPERSET",
				 (int)(c->lit.len > 64 ? 64 : c->lit.len), c->lit.str);
		return ps->failed ? NULL : c;
	}
	default:
		expected(ps, c->negated ? "a comparison operator after NOT"
					: "a comparison operator (=, !=, <, <=, >, >=, IN, LIKE, "
					  "MATCHES, ISSUBSET, ISSUPERSET)");
		return NULL;
	}
}

static struct cp__pat_cmp *cmp_node(struct parser *ps, enum cp__pat_cmp_kind kind,
				    struct cp__pat_cmp *l, struct cp__pat_cmp *r)
{
	struct cp__pat_cmp *c = palloc(ps, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = kind;
	c->left = l;
	c->right = r;
	return c;
}

static struct cp__pat_cmp *parse_cmp_and(struct parser *ps)
{
	struct cp__pat_cmp *l = parse_prop_test(ps);

	while (l && ps->tok.kind == T_AND) {
		struct cp__pat_cmp *r;
		next(ps);
		r = parse_prop_test(ps);
		if (!r)
			return NULL;
		l = cmp_node(ps, CMP_AND, l, r);
	}
	return l;
}

static struct cp__pat_cmp *parse_cmp_or(struct parser *ps)
{
	struct cp__pat_cmp *l = parse_cmp_and(ps);

	while (l && ps->tok.kind == T_OR) {
		struct cp__pat_cmp *r;
		next(ps);
		r = parse_cmp_and(ps);
		if (!r)
			return NULL;
		l = cmp_node(ps, CMP_OR, l, r);
	}
	return l;
}

/*
 * Spec 9.5: all operands of AND in one observation must be satisfiable by the same
 * object, so they must share an object type. types() collects the object types a
 * subtree can match (OR: union, AND: intersection) into an arena array.
 */
struct typeset {
	const char **v;
	size_t count;
};

static bool typeset_has(const struct typeset *s, const char *t)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->v[i], t) == 0)
			return true;
	return false;
}

static bool types(struct parser *ps, const struct cp__pat_cmp *c, struct typeset *out)
{
	struct typeset l = {NULL, 0}, r = {NULL, 0};

	if (c->kind == CMP_TEST) {
		out->v = palloc(ps, sizeof(*out->v));
		if (!out->v)
			return false;
		out->v[0] = c->path.type;
		out->count = 1;
		return true;
	}
	if (!types(ps, c->left, &l) || !types(ps, c->right, &r))
		return false;
	out->v = palloc(ps, (l.count + r.count) * sizeof(*out->v));
	if (!out->v)
		return false;
	out->count = 0;
	if (c->kind == CMP_OR) {
		for (size_t i = 0; i < l.count; i++)
			out->v[out->count++] = l.v[i];
		for (size_t i = 0; i < r.count; i++)
			if (!typeset_has(out, r.v[i]))
				out->v[out->count++] = r.v[i];
		return true;
	}
	for (size_t i = 0; i < l.count; i++)
		if (typeset_has(&r, l.v[i]))
			out->v[out->count++] = l.v[i];
	if (out->count == 0)
		SEMANTIC(ps, c->right->kind == CMP_TEST ? c->right->offset : c->left->offset,
			 "both sides of AND inside one observation must be able to match the same "
			 "object, but they test different object types (%s and %s); use OR, or "
			 "separate [..] observations",
			 l.v[0], r.v[0]);
	return out->count > 0;
}

/* ---------------------------------------------- observation expressions */

static struct cp__pat_obs *parse_obs_followedby(struct parser *ps);

static struct cp__pat_obs *obs_node(struct parser *ps, enum cp__pat_obs_kind kind,
				    struct cp__pat_obs *l, struct cp__pat_obs *r)
{
	struct cp__pat_obs *o = palloc(ps, sizeof(*o));
	if (!o)
		return NULL;
	o->kind = kind;
	o->left = l;
	o->right = r;
	return o;
}

static struct cp__pat_obs *parse_qualifiers(struct parser *ps, struct cp__pat_obs *o)
{
	bool seen_within = false, seen_repeats = false, seen_startstop = false;

	for (;;) {
		size_t start = ps->tok.start;
		struct cp__pat_obs *q;
		if (ps->tok.kind == T_WITHIN) {
			char *txt;
			const struct token *t;
			if (seen_within) {
				SEMANTIC(ps, start, "an observation expression may have only one WITHIN");
				return NULL;
			}
			seen_within = true;
			next(ps);
			t = &ps->tok;
			if (t->kind != T_INT && t->kind != T_FLOAT) {
				expected(ps, "a number of seconds after WITHIN");
				return NULL;
			}
			if ((t->kind == T_INT ? (double)t->i : t->f) <= 0) {
				SEMANTIC(ps, t->start, "WITHIN needs a positive number of seconds");
				return NULL;
			}
			if (t->has_plus)
				STYLE(ps, t->start, "positive numbers are written without '+'");
			q = obs_node(ps, OBS_WITHIN, o, NULL);
			txt = palloc(ps, t->len + 1);
			if (!q || !txt)
				return NULL;
			memcpy(txt, ps->text + t->start + (t->has_plus ? 1 : 0),
			       t->len - (t->has_plus ? 1 : 0));
			q->within = t->kind == T_INT ? (double)t->i : t->f;
			q->within_text = txt;
			next(ps);
			if (ps->tok.kind == T_IDENT && ps->tok.len == 7 &&
			    memcmp(ps->text + ps->tok.start, "MINUTES", 7) == 0) {
				SYNTAX(ps, ps->tok.start,
				       "the STIX grammar allows only SECONDS as the unit of WITHIN "
				       "(write minutes as seconds)");
				return NULL;
			}
			if (!expect(ps, T_SECONDS, "SECONDS after the WITHIN value"))
				return NULL;
		} else if (ps->tok.kind == T_REPEATS) {
			if (seen_repeats) {
				SEMANTIC(ps, start, "an observation expression may have only one REPEATS");
				return NULL;
			}
			seen_repeats = true;
			next(ps);
			if (ps->tok.kind != T_INT) {
				expected(ps, "a positive integer after REPEATS");
				return NULL;
			}
			if (ps->tok.i <= 0) {
				SEMANTIC(ps, ps->tok.start, "REPEATS needs a positive integer");
				return NULL;
			}
			q = obs_node(ps, OBS_REPEATS, o, NULL);
			if (!q)
				return NULL;
			q->repeats = ps->tok.i;
			next(ps);
			if (!expect(ps, T_TIMES, "TIMES after the REPEATS count"))
				return NULL;
		} else if (ps->tok.kind == T_START) {
			size_t stop_off;
			if (seen_startstop) {
				SEMANTIC(ps, start,
					 "an observation expression may have only one START/STOP");
				return NULL;
			}
			seen_startstop = true;
			next(ps);
			q = obs_node(ps, OBS_STARTSTOP, o, NULL);
			if (!q)
				return NULL;
			if (ps->tok.kind != T_TIMESTAMP) {
				expected(ps, "a timestamp constant t'...' after START");
				return NULL;
			}
			q->start = ps->tok.t;
			next(ps);
			if (!expect(ps, T_STOP, "STOP after the START timestamp"))
				return NULL;
			stop_off = ps->tok.start;
			if (ps->tok.kind != T_TIMESTAMP) {
				expected(ps, "a timestamp constant t'...' after STOP");
				return NULL;
			}
			q->stop = ps->tok.t;
			next(ps);
			if (cp_time_cmp(&q->stop, &q->start) <= 0)
				STYLE(ps, stop_off,
				      "STOP is not after START: the window [START, STOP) is empty, so "
				      "this observation can never match");
		} else {
			return o;
		}
		o = q;
	}
}

static struct cp__pat_obs *parse_obs_primary(struct parser *ps)
{
	struct cp__pat_obs *o;
	size_t start = ps->tok.start;

	if (!enter(ps))
		return NULL;
	if (ps->tok.kind == T_LBRACK) {
		struct typeset ts;
		next(ps);
		o = obs_node(ps, OBS_SIMPLE, NULL, NULL);
		if (!o)
			return NULL;
		o->cmp = parse_cmp_or(ps);
		if (!o->cmp)
			return NULL;
		if (!expect(ps, T_RBRACK, "']' closing the observation expression"))
			return NULL;
		if (!types(ps, o->cmp, &ts))
			return NULL;
		ps->pat->observations++;
	} else if (ps->tok.kind == T_LPAREN) {
		next(ps);
		o = parse_obs_followedby(ps);
		if (!o || !expect(ps, T_RPAREN, "')'"))
			return NULL;
	} else {
		expected(ps, start == 0 ? "'[' starting an observation expression"
					: "'[' or '(' starting an observation expression");
		return NULL;
	}
	ps->depth--;
	return parse_qualifiers(ps, o);
}

static struct cp__pat_obs *parse_obs_and(struct parser *ps)
{
	struct cp__pat_obs *l = parse_obs_primary(ps);

	while (l && ps->tok.kind == T_AND) {
		struct cp__pat_obs *r;
		next(ps);
		r = parse_obs_primary(ps);
		if (!r)
			return NULL;
		l = obs_node(ps, OBS_AND, l, r);
	}
	return l;
}

static struct cp__pat_obs *parse_obs_or(struct parser *ps)
{
	struct cp__pat_obs *l = parse_obs_and(ps);

	while (l && ps->tok.kind == T_OR) {
		struct cp__pat_obs *r;
		next(ps);
		r = parse_obs_and(ps);
		if (!r)
			return NULL;
		l = obs_node(ps, OBS_OR, l, r);
	}
	return l;
}

static struct cp__pat_obs *parse_obs_followedby(struct parser *ps)
{
	struct cp__pat_obs *l = parse_obs_or(ps);

	while (l && ps->tok.kind == T_FOLLOWEDBY) {
		struct cp__pat_obs *r;
		next(ps);
		r = parse_obs_or(ps);
		if (!r)
			return NULL;
		l = obs_node(ps, OBS_FOLLOWEDBY, l, r);
	}
	return l;
}

/* UTF-8 validity (the spec requires Unicode text). */
static size_t bad_utf8_at(const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		size_t k;
		uint32_t cp;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			k = 1;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			k = 2;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			k = 3;
			cp = c & 0x07;
		} else {
			return i;
		}
		for (size_t j = 1; j <= k; j++) {
			if (i + j >= n || ((unsigned char)s[i + j] & 0xc0) != 0x80)
				return i;
			cp = (cp << 6) | ((unsigned char)s[i + j] & 0x3f);
		}
		if ((k == 2 && cp < 0x800) || (k == 3 && (cp < 0x10000 || cp > 0x10ffff)) ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return i;
		i += k + 1;
	}
	return SIZE_MAX;
}

enum cp_err cp_pattern_parse(const char *text, size_t len, struct cp_pattern **out,
			     struct cp_diag *diag)
{
	struct parser ps;
	struct cp__pat_obs *root;
	size_t bad;

	memset(&ps, 0, sizeof(ps));
	ps.text = text;
	ps.len = len;
	ps.diag = diag;
	if (len > CP_LIMIT_PATTERN_BYTES) {
		cp_diag_add_at(diag, CP_SEV_ERROR, "pattern-limit", 1, 1,
			       "pattern is %zu bytes; the limit is %u", len, CP_LIMIT_PATTERN_BYTES);
		return CP_ETOOBIG;
	}
	bad = bad_utf8_at(text, len);
	if (bad != SIZE_MAX) {
		SYNTAX(&ps, bad, "pattern is not valid UTF-8");
		return CP_EPARSE;
	}
	if (memchr(text, '\0', len)) {
		SYNTAX(&ps, (size_t)((const char *)memchr(text, '\0', len) - text),
		       "pattern contains a NUL character");
		return CP_EPARSE;
	}
	ps.pat = cp_calloc(1, sizeof(*ps.pat));
	if (!ps.pat)
		return CP_ENOMEM;
	next(&ps);
	root = parse_obs_followedby(&ps);
	if (root && ps.tok.kind != T_EOF)
		expected(&ps, "AND, OR, FOLLOWEDBY, a qualifier or the end of the pattern");
	if (ps.failed || !root) {
		enum cp_err err = ps.err ? ps.err : CP_EPARSE;
		cp_pattern_free(ps.pat);
		return err;
	}
	ps.pat->root = root;
	*out = ps.pat;
	return CP_OK;
}

size_t cp_pattern_observation_count(const struct cp_pattern *p)
{
	return p->observations;
}
