/*
 * lib/node/yaml-read.h - the schema-checked YAML reader that the node's files share
 * (the configuration, config.c; the partners, partners.c). Internal to lib/node.
 *
 * libyaml's event API, not its document API: yaml_parser_load() builds the tree
 * recursively and expands aliases, so a hostile file could exhaust the stack or
 * memory. The reader walks events, so each file's schema is checked while they stream
 * by; anchors, aliases and tags are refused (aliases are how "billion laughs" files
 * grow), nesting is capped, and every finding carries the key path of the value
 * ("partners[0].agreement.read[1]: ...") and its line and column.
 */
#ifndef CYBERPACT_NODE_YAML_READ_H
#define CYBERPACT_NODE_YAML_READ_H

#include <stdarg.h>
#include <yaml.h>

#include "common.h"

/* Stop reporting after this many errors: a wrong file should give a readable list. */
#define CP__YR_MAX_ERRORS 100
/* Longest quotation of an input value in a message. */
#define CP__YR_SHOW_MAX 80

struct cp__yr {
	/* set by the caller (cp__yr_init) */
	const char *name;  /* of the file, in messages */
	const char *code;  /* the findings' code */
	bool mark_suffix;  /* end each message with " (NAME:LINE:COLUMN)" */
	unsigned max_depth;
	struct cp_diag *diag;
	/* the reader's state */
	yaml_parser_t yp;
	bool has_yp;
	const char *text;
	size_t len;
	struct cp_buf path; /* key path of the value being read */
	unsigned depth;
	size_t errors;
	enum cp_err fatal; /* set: stop reading */
};

void cp__yr_init(struct cp__yr *r, const char *name, const char *code, bool mark_suffix,
		 unsigned max_depth, struct cp_diag *diag);
/* Start reading text (borrowed). CP_ENOMEM. */
CP_MUST_CHECK enum cp_err cp__yr_start(struct cp__yr *r, const char *text, size_t len);
void cp__yr_release(struct cp__yr *r);

/* Remember the first fatal error; reading stops. */
void cp__yr_fail(struct cp__yr *r, enum cp_err err);

/* Untrusted text quoted for a message: printable ASCII, else \xNN, cut with "...". */
const char *cp__yr_show(char out[CP__YR_SHOW_MAX], const char *s, size_t len);

/* A finding "<key path>: <message>" at line:col (0 when unknown). */
void cp__yr_vreport(struct cp__yr *r, enum cp_severity sev, unsigned line, unsigned col,
		    const char *fmt, va_list ap) CP_PRINTF(5, 0);
/* An error at m (NULL: no position). */
void cp__yr_report(struct cp__yr *r, const yaml_mark_t *m, const char *fmt, ...)
	CP_PRINTF(3, 4);

/* Key path: push a key or an index; each returns the old length for cp__yr_path_pop. */
size_t cp__yr_path_key(struct cp__yr *r, const char *key, size_t len);
size_t cp__yr_path_index(struct cp__yr *r, size_t i);
void cp__yr_path_pop(struct cp__yr *r, size_t old);

/*
 * The next event into ev (delete it with yaml_event_delete). False when reading must
 * stop; ev is then zeroed, so deleting it is harmless.
 */
bool cp__yr_next(struct cp__yr *r, yaml_event_t *ev);
/* Consume the rest of the node that begins with ev. */
void cp__yr_skip(struct cp__yr *r, const yaml_event_t *ev);
/* YAML's null: a plain "", "~" or "null" (three spellings). */
bool cp__yr_is_null(const yaml_event_t *ev);
/* "a mapping", "a list", "a scalar", "nothing (null)", "an alias". */
const char *cp__yr_kind(const yaml_event_t *ev);

enum {
	CP__YR_OPTIONAL = 1, /* null means "not set" (*out NULL, true) */
	CP__YR_EMPTY_OK = 2, /* "" is a value */
};

/* The string scalar ev as a new string; false, reported, if ev is something else. */
bool cp__yr_get_string(struct cp__yr *r, const yaml_event_t *ev, unsigned flags, char **out);

/*
 * Read the mapping that begins with ev: for each key that is one of keys[0..n) (n at
 * most 32), on_value(r, i, value, ctx). Unknown and duplicate keys are reported and
 * their values skipped. *seen gets bit i for each key present (even with a bad value,
 * so that it is not also reported as missing). False if ev is not a mapping (reported
 * and skipped) or reading stopped.
 */
typedef void (*cp__yr_value_fn)(struct cp__yr *r, size_t i, const yaml_event_t *ev, void *ctx);
bool cp__yr_mapping(struct cp__yr *r, const yaml_event_t *ev, const char *const *keys, size_t n,
		    cp__yr_value_fn on_value, void *ctx, unsigned *seen);
/* Report each key whose bit is in `required` but not in `seen`. */
void cp__yr_require(struct cp__yr *r, const yaml_event_t *ev, const char *const *keys,
		    unsigned required, unsigned seen);

/*
 * Read the list that begins with ev (null is an empty list; anything else is
 * reported), calling on_item for each item with its index pushed on the key path.
 */
typedef void (*cp__yr_item_fn)(struct cp__yr *r, const yaml_event_t *item, size_t i, void *ctx);
void cp__yr_list(struct cp__yr *r, const yaml_event_t *ev, cp__yr_item_fn on_item, void *ctx);

/*
 * Read a whole stream: at most one document, whose root (unless it is null or the
 * stream holds nothing but comments) goes to on_root; a second document is reported.
 */
typedef void (*cp__yr_root_fn)(struct cp__yr *r, const yaml_event_t *root, void *ctx);
void cp__yr_document(struct cp__yr *r, cp__yr_root_fn on_root, void *ctx);

#endif
