#include "common.h"

static const struct {
	const char *name;
	const char *msg;
} errs[CP_ERR_COUNT_] = {
	[CP_OK] = {"CP_OK", "success"},
	[CP_ENOMEM] = {"CP_ENOMEM", "out of memory"},
	[CP_EINVAL] = {"CP_EINVAL", "invalid argument or value"},
	[CP_EPARSE] = {"CP_EPARSE", "parse error"},
	[CP_ENOTFOUND] = {"CP_ENOTFOUND", "not found"},
	[CP_ECONFLICT] = {"CP_ECONFLICT", "conflict"},
	[CP_EDENIED] = {"CP_EDENIED", "permission denied"},
	[CP_ETOOBIG] = {"CP_ETOOBIG", "limit exceeded"},
	[CP_EBACKEND] = {"CP_EBACKEND", "backend failure"},
	[CP_EIO] = {"CP_EIO", "input/output error"},
	[CP_ETIMEOUT] = {"CP_ETIMEOUT", "timed out"},
	[CP_EUNSUPPORTED] = {"CP_EUNSUPPORTED", "not supported"},
};

const char *cp_strerror(enum cp_err err)
{
	if ((unsigned)err >= CP_ERR_COUNT_)
		return "unknown error";
	return errs[err].msg;
}

const char *cp_err_name(enum cp_err err)
{
	if ((unsigned)err >= CP_ERR_COUNT_)
		return "CP_E?";
	return errs[err].name;
}
