/*
 * cyberpact/base.h - errors, allocation, bounded buffers, strings, RFC 3339 time,
 * and the logging hook shared by every libcyberpact module.
 *
 * Thread-safety: everything here is thread-safe except cp_log_set_handler() and
 * cp_alloc_fail_after(), which are meant to be called once at start-up (or by tests).
 */
#ifndef CYBERPACT_BASE_H
#define CYBERPACT_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__) || defined(__clang__)
#define CP_MUST_CHECK __attribute__((warn_unused_result))
#define CP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define CP_MUST_CHECK
#define CP_PRINTF(f, a)
#endif

/* ---------------------------------------------------------------- errors */

/*
 * The one error enum of libcyberpact. CP_OK is zero so `if (err)` works.
 * The HTTP layer maps these to statuses in one table (see the taxii module).
 */
enum cp_err {
	CP_OK = 0,
	CP_ENOMEM,    /* allocation failed */
	CP_EINVAL,    /* invalid argument or invalid input value */
	CP_EPARSE,    /* input could not be parsed */
	CP_ENOTFOUND, /* no such object, file or resource */
	CP_ECONFLICT, /* conflicting state (duplicate, version clash) */
	CP_EDENIED,   /* not permitted */
	CP_ETOOBIG,   /* a configured limit was exceeded */
	CP_EBACKEND,  /* a storage or library backend failed */
	CP_EIO,       /* an I/O operation failed */
	CP_ETIMEOUT,  /* an operation timed out */
	CP_EUNSUPPORTED, /* valid request for something not supported */
	CP_ERR_COUNT_
};

/* Human-readable message for err ("out of memory"). Never NULL. */
const char *cp_strerror(enum cp_err err);
/* Stable symbolic name for err ("CP_ENOMEM"). Never NULL. */
const char *cp_err_name(enum cp_err err);

/* ------------------------------------------------------------ allocation */

/*
 * Every allocation in libcyberpact goes through these. They behave like the libc
 * functions (cp_free(NULL) is a no-op). Returning NULL means out of memory.
 */
void *cp_malloc(size_t len);
void *cp_calloc(size_t count, size_t len);
void *cp_realloc(void *ptr, size_t len);
void cp_free(void *ptr);
/* Duplicate a NUL-terminated string / the first len bytes of ptr (NUL-terminated). */
char *cp_strdup(const char *s);
char *cp_strndup(const char *ptr, size_t len);

/*
 * Test hook: make the n-th allocation from now on fail (n = 1 fails the next one),
 * and every later one while `sticky` is set. n = 0 turns failure injection off.
 * Process-global; not for production use.
 */
void cp_alloc_fail_after(unsigned long n, bool sticky);
/* Number of allocations made since start (for torture loops in tests). */
unsigned long cp_alloc_count(void);
/* Number of failed cp_malloc/cp_calloc/cp_realloc calls made by the calling thread. */
unsigned long cp_alloc_thread_failures(void);

/*
 * Route jansson's allocator through cp_malloc/cp_free. Called by modules that use
 * jansson before they parse; idempotent.
 */
void cp_json_use_cp_alloc(void);

/*
 * The calling thread's jansson arena. Between cp_json_arena_begin() and
 * cp_json_arena_end(), jansson's allocations on this thread come from a bump arena
 * (whole chunks, reused from one window to the next) and freeing them costs nothing;
 * _end() takes them all back at once. Parsing a large envelope spends about a third of
 * its time in malloc and free otherwise (docs/PERFORMANCE.md).
 *
 * The rule that makes it safe: every jansson value made in the window is released or
 * abandoned before _end(), on the same thread; none is kept or handed to another
 * thread. Values made before the window may be used and released in it as usual.
 * Builds with AddressSanitizer poison the arena after _end(), so a value that
 * outlives its window is reported. _begin() returns false (and does nothing) if the
 * thread's arena is already in use; call _end() only after a _begin() that returned
 * true.
 */
bool cp_json_arena_begin(void);
void cp_json_arena_end(void);

/* --------------------------------------------------------------- strings */

/* Unterminated text: ptr points at len bytes. */
struct cp_str {
	const char *ptr;
	size_t len;
};

#define CP_STR_LIT(s) ((struct cp_str){(s), sizeof(s) - 1})

static inline struct cp_str cp_str_from(const char *s)
{
	struct cp_str r = {s, 0};
	while (s && s[r.len])
		r.len++;
	return r;
}

bool cp_str_eq(struct cp_str a, const char *b);

/* Value of a hexadecimal digit (0-9, a-f, A-F), or -1. */
int cp_hex_digit(int c);
/* Value of a base64 character of RFC 4648 (A-Z, a-z, 0-9, '+', '/'), or -1. */
int cp_base64_digit(int c);
/* Are all len bytes of s hexadecimal digits? */
bool cp_is_hex(const char *s, size_t len);

/*
 * Make the array *ptr (of *cap elements of elem_len bytes) hold at least need
 * elements, doubling its capacity (from 16). False on overflow or out of memory; the
 * array is unchanged then.
 */
CP_MUST_CHECK bool cp_array_grow(void **ptr, size_t *cap, size_t need, size_t elem_len);

/* --------------------------------------------------------- bounded buffer */

/*
 * A growable byte buffer with a hard cap and a sticky error (like SQLite's
 * mallocFailed): append calls return nothing; cp_buf_finish() reports the first
 * failure. The content is always NUL-terminated while no error occurred.
 */
struct cp_buf {
	char *ptr;
	size_t len;
	size_t cap;     /* allocated bytes */
	size_t max_len; /* hard limit on len; 0 means CP_BUF_DEFAULT_MAX */
	enum cp_err err;
};

#define CP_BUF_INIT(max) {NULL, 0, 0, (max), CP_OK}

void cp_buf_init(struct cp_buf *b, size_t max_len);
void cp_buf_release(struct cp_buf *b);
void cp_buf_reset(struct cp_buf *b);
void cp_buf_append(struct cp_buf *b, const void *ptr, size_t len);
void cp_buf_puts(struct cp_buf *b, const char *s);
void cp_buf_putc(struct cp_buf *b, char c);
void cp_buf_printf(struct cp_buf *b, const char *fmt, ...) CP_PRINTF(2, 3);
void cp_buf_vprintf(struct cp_buf *b, const char *fmt, va_list ap) CP_PRINTF(2, 0);
/* Make room for len more bytes now (at most up to the cap), so that appends up to
 * that size copy nothing again; a failure here is not sticky. */
void cp_buf_reserve(struct cp_buf *b, size_t len);
/* Shrink to len (len <= b->len). */
void cp_buf_truncate(struct cp_buf *b, size_t len);
/* First error of any append since init/reset, or CP_OK. */
CP_MUST_CHECK enum cp_err cp_buf_finish(const struct cp_buf *b);
/*
 * Hand the content to the caller (who frees it with cp_free) and reset the buffer.
 * Returns NULL on a sticky error (and resets). An empty buffer gives "".
 */
char *cp_buf_take(struct cp_buf *b);

/* ------------------------------------------------------------ timestamps */

/*
 * A STIX/RFC 3339 timestamp in UTC: YYYY-MM-DDTHH:MM:SS[.fraction]Z.
 * `sec` counts seconds since 1970-01-01T00:00:00Z (negative before), `nsec` the
 * sub-second part (a leap second 23:59:60.f is stored as 23:59:59 with nsec 1e9 + f,
 * so it orders correctly and formats back as :60), and `frac_digits` how many
 * fraction digits the text had (0..9),
 * so that formatting gives back exactly the digits that were parsed.
 * Comparison is by value: "...:00.1Z" and "...:00.100Z" are the same instant.
 */
struct cp_time {
	int64_t sec;
	uint32_t nsec;
	uint8_t frac_digits;
};

/* Longest text cp_time_format writes, with its NUL. */
#define CP_TIME_TEXT_MAX 32

/*
 * Parse the STIX timestamp in s (len bytes, no NUL needed). Accepts only the
 * profile STIX requires: 'T' separator, 'Z' offset, at most 9 fraction digits,
 * years 0000..9999, leap second 60 allowed only as RFC 3339 allows (23:59:60).
 * Returns CP_EPARSE (and sets *why, if given, to a static message) on bad text.
 */
CP_MUST_CHECK enum cp_err cp_time_parse(const char *s, size_t len, struct cp_time *out,
					const char **why);
/* Write t to out (at least CP_TIME_TEXT_MAX bytes) with t->frac_digits digits. */
void cp_time_format(const struct cp_time *t, char out[CP_TIME_TEXT_MAX]);
/* Same, with a fixed number of fraction digits (0..9), e.g. 6 for TAXII date_added. */
void cp_time_format_digits(const struct cp_time *t, unsigned digits, char out[CP_TIME_TEXT_MAX]);
/* <0, 0, >0 as a is before, equal to, after b. */
int cp_time_cmp(const struct cp_time *a, const struct cp_time *b);
/* The current time with microsecond precision (6 digits). */
struct cp_time cp_time_now(void);


/* ------------------------------------------------------------ diagnostics */

/*
 * Parsers and validators report what is wrong as findings in a struct cp_diag:
 * severity, a stable code ("id-format"), a message, and where: a JSON pointer
 * ("/objects/3/pattern") and/or a 1-based line and column (0 when unknown).
 * A validator never stops at the first finding; the list is capped at
 * CP_LIMIT_FINDINGS (later ones are counted in `dropped`).
 */
enum cp_severity {
	CP_SEV_ERROR = 0,
	CP_SEV_WARNING,
};

struct cp_finding {
	enum cp_severity severity;
	const char *code; /* static string */
	char *message;    /* owned */
	char *pointer;    /* owned; "" for the document root */
	unsigned line, column;
};

struct cp_diag {
	struct cp_finding *items;
	size_t count, cap;
	size_t errors, warnings, dropped;
	enum cp_err err; /* sticky: CP_ENOMEM if a finding could not be recorded */
};

void cp_diag_init(struct cp_diag *d);
void cp_diag_release(struct cp_diag *d);
/* Forget all findings, keep the storage. */
void cp_diag_clear(struct cp_diag *d);
/* Record a finding. d may be NULL (then only nothing happens). pointer may be NULL. */
void cp_diag_add(struct cp_diag *d, enum cp_severity sev, const char *code, const char *pointer,
		 const char *fmt, ...) CP_PRINTF(5, 6);
void cp_diag_addv(struct cp_diag *d, enum cp_severity sev, const char *code, const char *pointer,
		  const char *fmt, va_list ap) CP_PRINTF(5, 0);
/* Same, with a line/column position instead of (or besides) a pointer. */
void cp_diag_add_at(struct cp_diag *d, enum cp_severity sev, const char *code, unsigned line,
		    unsigned column, const char *fmt, ...) CP_PRINTF(6, 7);
/* Append each of src's findings to dst with prefix put before their pointers. */
void cp_diag_merge(struct cp_diag *dst, const struct cp_diag *src, const char *prefix);
/* Number of findings with severity sev (including dropped ones). */
size_t cp_diag_count(const struct cp_diag *d, enum cp_severity sev);
const char *cp_severity_name(enum cp_severity sev);

/*
 * Append a JSON pointer reference token to b, escaped per RFC 6901 ('~' -> "~0",
 * '/' -> "~1"), preceded by '/'.
 */
void cp_buf_pointer_push(struct cp_buf *b, const char *token);
void cp_buf_pointer_push_index(struct cp_buf *b, size_t index);

/* --------------------------------------------------------------- logging */

enum cp_log_level {
	CP_LOG_ERROR = 0,
	CP_LOG_WARN,
	CP_LOG_INFO,
	CP_LOG_DEBUG,
};

/*
 * The library never prints. It hands log records to a handler the program installs;
 * with none installed, records are dropped. module/file/line say where the record
 * comes from. Messages are lowercase and never contain secrets or whole objects.
 */
typedef void (*cp_log_fn)(enum cp_log_level level, const char *module, const char *file,
			  int line, const char *msg, void *ctx);

void cp_log_set_handler(cp_log_fn fn, void *ctx, enum cp_log_level max_level);
void cp_log_emit(enum cp_log_level level, const char *module, const char *file, int line,
		 const char *fmt, ...) CP_PRINTF(5, 6);
const char *cp_log_level_name(enum cp_log_level level);

#define CP_LOG(level, module, ...) cp_log_emit((level), (module), __FILE__, __LINE__, __VA_ARGS__)
#define CP_LOG_ERR(module, ...) CP_LOG(CP_LOG_ERROR, module, __VA_ARGS__)
#define CP_LOG_WRN(module, ...) CP_LOG(CP_LOG_WARN, module, __VA_ARGS__)
#define CP_LOG_INF(module, ...) CP_LOG(CP_LOG_INFO, module, __VA_ARGS__)
#define CP_LOG_DBG(module, ...) CP_LOG(CP_LOG_DEBUG, module, __VA_ARGS__)

#endif /* CYBERPACT_BASE_H */
