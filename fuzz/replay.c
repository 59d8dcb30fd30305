/*
 * Replays every file of the given directories (or files) through the fuzz target,
 * like SQLite's fuzzcheck: crashing inputs kept in fuzz/regress/ stay fixed.
 * A target signals a broken property with abort(); the name of the input being run
 * is printed when that (or a sanitizer report, with abort_on_error=1) ends the process.
 */
#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char current[4096];

static void on_fatal(int sig)
{
	static const char msg[] = "\nreplay: fatal signal while running input: ";
	ssize_t rc;

	rc = write(STDERR_FILENO, msg, sizeof(msg) - 1);
	rc = write(STDERR_FILENO, current, strlen(current));
	rc = write(STDERR_FILENO, "\n", 1);
	(void)rc;
	signal(sig, SIG_DFL);
	raise(sig);
}

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0, n;

	if (!f) {
		perror(path);
		return 1;
	}
	do {
		if (len == cap) {
			uint8_t *p = realloc(buf, cap ? cap * 2 : 4096);
			if (!p) {
				fclose(f);
				free(buf);
				return 1;
			}
			buf = p;
			cap = cap ? cap * 2 : 4096;
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	fclose(f);
	snprintf(current, sizeof(current), "%s", path);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int files = 0, failed = 0;

	/* sanitizers keep their own SEGV handlers and end in abort() (abort_on_error=1) */
	signal(SIGABRT, on_fatal);
	for (int i = 1; i < argc; i++) {
		struct stat st;
		DIR *dir;
		struct dirent *de;

		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			return 1;
		}
		if (!S_ISDIR(st.st_mode)) {
			failed += run_file(argv[i]);
			files++;
			continue;
		}
		dir = opendir(argv[i]);
		if (!dir) {
			perror(argv[i]);
			return 1;
		}
		while ((de = readdir(dir))) {
			char path[4096];
			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			failed += run_file(path);
			files++;
		}
		closedir(dir);
	}
	printf("replayed %d inputs, %d unreadable\n", files, failed);
	return failed ? 1 : 0;
}
