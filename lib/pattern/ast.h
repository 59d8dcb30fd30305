/*
 * lib/pattern/ast.h - the parsed form of a STIX pattern, shared by the parser, the
 * printer and (later) the evaluator and matcher compiler. All nodes of one pattern
 * live in one arena and are freed together.
 */
#ifndef CYBERPACT_PATTERN_AST_H
#define CYBERPACT_PATTERN_AST_H

#include "cyberpact/pattern.h"
#include "common.h"

enum cp__pat_lit_kind {
	LIT_INT,
	LIT_FLOAT,
	LIT_STRING,
	LIT_BOOL,
	LIT_BINARY, /* b'...': bytes in str/len */
	LIT_HEX,    /* h'...': bytes in str/len */
	LIT_TIMESTAMP,
	LIT_SET,    /* (a, b, ...) for IN */
};

struct cp__pat_lit {
	enum cp__pat_lit_kind kind;
	int64_t i;
	double f;
	const char *text; /* LIT_FLOAT: the lexeme without a '+' sign, for exact printing */
	const char *str;  /* LIT_STRING (unescaped UTF-8), LIT_BINARY/LIT_HEX (bytes) */
	size_t len;
	bool b;
	struct cp_time t;
	struct cp__pat_lit *items; /* LIT_SET */
	size_t count;
};

enum cp__pat_step_kind {
	STEP_KEY,   /* .name or .'quoted name' */
	STEP_INDEX, /* [n] (n may be negative: never matches, spec 9.7.2) */
	STEP_ANY,   /* [*] */
};

struct cp__pat_step {
	enum cp__pat_step_kind kind;
	const char *key; /* STEP_KEY */
	size_t key_len;
	int64_t index; /* STEP_INDEX */
};

struct cp__pat_path {
	const char *type; /* object type, NUL-terminated */
	struct cp__pat_step *steps; /* steps[0] is the first property name */
	size_t count;
};

enum cp__pat_op {
	OP_EQ,
	OP_NEQ,
	OP_LT,
	OP_LE,
	OP_GT,
	OP_GE,
	OP_IN,
	OP_LIKE,
	OP_MATCHES,
	OP_ISSUBSET,
	OP_ISSUPERSET,
	OP_EXISTS,
};

enum cp__pat_cmp_kind {
	CMP_TEST,
	CMP_AND,
	CMP_OR,
};

/* A comparison expression inside [...]. */
struct cp__pat_cmp {
	enum cp__pat_cmp_kind kind;
	struct cp__pat_cmp *left, *right; /* CMP_AND, CMP_OR */
	/* CMP_TEST */
	struct cp__pat_path path;
	enum cp__pat_op op;
	bool negated;
	struct cp__pat_lit lit; /* unused for OP_EXISTS */
	size_t offset; /* byte offset in the source text, for messages */
};

enum cp__pat_obs_kind {
	OBS_SIMPLE,     /* [ cmp ] */
	OBS_AND,
	OBS_OR,
	OBS_FOLLOWEDBY,
	OBS_WITHIN,     /* child WITHIN seconds SECONDS */
	OBS_REPEATS,    /* child REPEATS n TIMES */
	OBS_STARTSTOP,  /* child START t STOP t */
};

struct cp__pat_obs {
	enum cp__pat_obs_kind kind;
	struct cp__pat_obs *left, *right; /* AND/OR/FOLLOWEDBY; left is the child of qualifiers */
	struct cp__pat_cmp *cmp;          /* OBS_SIMPLE */
	double within;                    /* OBS_WITHIN seconds */
	const char *within_text;          /* its lexeme, for printing */
	int64_t repeats;                  /* OBS_REPEATS */
	struct cp_time start, stop;       /* OBS_STARTSTOP */
};

/* Arena: chunks of memory released together. */
struct cp__pat_chunk;

struct cp_pattern {
	struct cp__pat_obs *root;
	struct cp__pat_chunk *chunks;
	size_t observations;
};

void *cp__pat_alloc(struct cp_pattern *p, size_t len);

#endif
