/* File input for the subcommands: bounded, whole-file reads. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "common.h"

enum cp_err cp_cli_read_file(const char *path, size_t max_len, char **out, size_t *len)
{
	int fd = strcmp(path, "-") == 0 ? STDIN_FILENO : open(path, O_RDONLY | O_CLOEXEC);
	struct cp_buf b = CP_BUF_INIT(max_len);
	char chunk[65536];
	enum cp_err err = CP_OK;
	struct stat st;

	if (fd < 0)
		return errno == ENOENT ? CP_ENOTFOUND : CP_EIO;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		err = CP_EIO;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = CP_EIO;
			goto out;
		}
		if (n == 0)
			break;
		cp_buf_append(&b, chunk, (size_t)n);
		err = cp_buf_finish(&b);
		if (err)
			goto out;
	}
	*len = b.len;
	*out = cp_buf_take(&b);
	if (!*out)
		err = CP_ENOMEM;
out:
	if (fd != STDIN_FILENO)
		close(fd);
	cp_buf_release(&b);
	return err;
}
