#include <stdarg.h>

#include "common.h"

static cp_log_fn handler;
static void *handler_ctx;
static enum cp_log_level handler_max = CP_LOG_INFO;

void cp_log_set_handler(cp_log_fn fn, void *ctx, enum cp_log_level max_level)
{
	handler = fn;
	handler_ctx = ctx;
	handler_max = max_level;
}

const char *cp_log_level_name(enum cp_log_level level)
{
	switch (level) {
	case CP_LOG_ERROR:
		return "error";
	case CP_LOG_WARN:
		return "warning";
	case CP_LOG_INFO:
		return "info";
	case CP_LOG_DEBUG:
		return "debug";
	}
	return "?";
}

void cp_log_emit(enum cp_log_level level, const char *module, const char *file, int line,
		 const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!handler || level > handler_max)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	handler(level, module, file, line, msg, handler_ctx);
}
