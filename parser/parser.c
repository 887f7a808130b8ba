// Reading a state from disk: a state file, or a directory laid out like
// one (device.json, NAME/run.json, NAME/services.json).

#define MODULE_NAME "parser"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "parser/internal.h"
#include "parser/parser.h"

// Subdirectories looked at in a state directory; a state has at most
// PV_PARSER_MAX_CONTAINERS containers, other directories are skipped.
#define MAX_DIR_ENTRIES 4096

// Reads a regular file of at most PV_PARSER_MAX_FILE bytes at dirfd/path.
// Returns 0 with *text (caller frees) and *len, or -1 with an error line
// naming key added to errs.
static int read_file(int dirfd, const char *path, const char *key, char **text,
		     size_t *len, struct pv_errors *errs)
{
	size_t cap = 0, n = 0;
	char *buf = NULL, *nb;
	struct stat st;
	ssize_t r;
	int fd;

	// O_NONBLOCK: a FIFO in place of a file must not hang us.
	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd == -1) {
		pv_errors_add(errs, "%s: cannot open: %s", key,
			      strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1) {
		pv_errors_add(errs, "%s: cannot stat: %s", key,
			      strerror(errno));
		goto out_close;
	}
	if (!S_ISREG(st.st_mode)) {
		pv_errors_add(errs, "%s: is not a regular file", key);
		goto out_close;
	}
	for (;;) {
		if (n == cap) {
			if (cap > PV_PARSER_MAX_FILE) {
				pv_errors_add(errs, "%s: larger than %d bytes",
					      key, PV_PARSER_MAX_FILE);
				goto out_close;
			}
			cap = cap ? cap * 2 : 16384;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				pv_log(ERROR, "%s: out of memory", key);
				pv_errors_add(errs, "%s: out of memory", key);
				goto out_close;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			pv_errors_add(errs, "%s: cannot read: %s", key,
				      strerror(errno));
			goto out_close;
		}
		if (r == 0)
			break;
		n += r;
	}
	if (n > PV_PARSER_MAX_FILE) {
		pv_errors_add(errs, "%s: larger than %d bytes", key,
			      PV_PARSER_MAX_FILE);
		goto out_close;
	}
	close(fd);
	buf = buf ? buf : malloc(1);
	if (!buf) {
		pv_errors_add(errs, "%s: out of memory", key);
		return -1;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	return 0;

out_close:
	free(buf);
	close(fd);
	return -1;
}

// qsort comparator for container names: byte order, locale-free.
static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

// One file of a state directory, parsed on its own.
struct dir_file {
	char *key;
	char *name;
	struct pv_json doc;
	int ok;
};

// Reads and parses key (a path relative to dirfd) into f; a missing file
// is fine when optional (returns 0 with f->key NULL).
static int load_one(int dirfd, const char *key, const char *name, int optional,
		    struct dir_file *f, struct pv_errors *errs)
{
	const char *reason;
	struct stat st;
	size_t len;
	char *text;

	memset(f, 0, sizeof(*f));
	if (fstatat(dirfd, key, &st, 0) == -1 && errno == ENOENT && optional)
		return 0;
	f->key = strdup(key);
	f->name = name ? strdup(name) : NULL;
	if (!f->key || (name && !f->name)) {
		pv_errors_add(errs, "%s: out of memory", key);
		return -1;
	}
	if (read_file(dirfd, key, key, &text, &len, errs))
		return 0;
	if (pv_json_parse(&f->doc, text, len, &reason))
		pv_errors_add(errs, "%s: invalid JSON (%s)", key,
			      pv_parser_json_reason(reason));
	else
		f->ok = 1;
	free(text);
	return 0;
}

// Lists the subdirectories of dirfd that hold run.json or services.json,
// sorted by name (a directory has no order of its own, and sorting makes
// container order, and so IPAM leases, the same on every machine).
static int list_containers(int dirfd, const char *path, char ***names, int *n,
			   struct pv_errors *errs)
{
	struct dirent *d;
	struct stat st;
	char sub[300];
	DIR *dir;
	int fd, seen = 0;

	fd = dup(dirfd);
	if (fd == -1 || !(dir = fdopendir(fd))) {
		pv_errors_add(errs, "%s: cannot list: %s", path,
			      strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	*names = NULL;
	*n = 0;
	// readdir returns NULL both at the end and on an error: errno tells.
	for (errno = 0; (d = readdir(dir)); errno = 0) {
		if (d->d_name[0] == '.')
			continue;
		if (++seen > MAX_DIR_ENTRIES) {
			pv_errors_add(errs, "%s: more than %d entries", path,
				      MAX_DIR_ENTRIES);
			break;
		}
		if (fstatat(dirfd, d->d_name, &st, 0) == -1 ||
		    !S_ISDIR(st.st_mode))
			continue;
		snprintf(sub, sizeof(sub), "%s/run.json", d->d_name);
		if (faccessat(dirfd, sub, F_OK, 0) == -1) {
			snprintf(sub, sizeof(sub), "%s/services.json",
				 d->d_name);
			if (faccessat(dirfd, sub, F_OK, 0) == -1)
				continue;
		}
		char **nn = realloc(*names, (*n + 1) * sizeof(**names));
		if (!nn || !(nn[*n] = strdup(d->d_name))) {
			if (nn)
				*names = nn;
			pv_errors_add(errs, "%s: out of memory", path);
			closedir(dir);
			return -1;
		}
		*names = nn;
		(*n)++;
	}
	if (errno && seen <= MAX_DIR_ENTRIES) {
		pv_errors_add(errs, "%s: cannot list: %s", path,
			      strerror(errno));
		closedir(dir);
		return -1;
	}
	closedir(dir);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

// The directory's reader of other files (a container's
// lxc.container.conf): arg points at the directory's fd.
static int read_dir_file(void *arg, const char *key, char **text, char *why,
			 size_t n)
{
	struct pv_errors errs;
	size_t len, klen = strlen(key);
	int ret;

	pv_errors_init(&errs);
	ret = read_file(*(int *)arg, key, key, text, &len, &errs);
	// read_file's line is "KEY: REASON"; the caller names the key.
	if (ret)
		snprintf(why, n, "%s",
			 errs.count && !strncmp(errs.lines[0], key, klen) &&
					 errs.lines[0][klen] == ':'
				 ? errs.lines[0] + klen + 2
				 : "cannot be read");
	else if (memchr(*text, '\0', len)) {
		snprintf(why, n, "is not text (it holds a NUL byte)");
		free(*text);
		*text = NULL;
		ret = -1;
	}
	pv_errors_clear(&errs);
	return ret;
}

// The directory form: device.json and NAME/{run,services}.json, each
// parsed on its own; containers in name order.
static struct pv_state *load_dir(const char *path, struct pv_errors *errs)
{
	struct pv_parser_entry *entries = NULL;
	struct dir_file *files = NULL;
	int dirfd, i, nnames = 0, nfiles = 0, n = 0;
	int before = errs->count;
	struct pv_state *s = NULL;
	char **names = NULL;
	char key[300];

	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd == -1) {
		pv_errors_add(errs, "%s: cannot open: %s", path,
			      strerror(errno));
		return NULL;
	}
	if (list_containers(dirfd, path, &names, &nnames, errs))
		goto out;
	// device.json, then run.json and services.json per container.
	files = calloc(1 + 2 * nnames, sizeof(*files));
	entries = calloc(1 + 2 * nnames, sizeof(*entries));
	if (!files || !entries) {
		pv_errors_add(errs, "%s: out of memory", path);
		goto out;
	}
	if (load_one(dirfd, "device.json", NULL, 1, &files[nfiles++], errs))
		goto out;
	for (i = 0; i < nnames; i++) {
		snprintf(key, sizeof(key), "%s/run.json", names[i]);
		if (load_one(dirfd, key, names[i], 1, &files[nfiles++], errs))
			goto out;
		snprintf(key, sizeof(key), "%s/services.json", names[i]);
		if (load_one(dirfd, key, names[i], 1, &files[nfiles++], errs))
			goto out;
	}
	for (i = 0; i < nfiles; i++) {
		if (!files[i].key)
			continue;
		pv_parser_classify_key(files[i].key, &entries[n].kind,
				       &(size_t){ 0 });
		entries[n].key = files[i].key;
		entries[n].name = files[i].name;
		entries[n].doc = files[i].ok ? &files[i].doc : NULL;
		entries[n].tok = 0;
		n++;
	}
	// Most likely the wrong directory: say so rather than run nothing.
	if (!n) {
		pv_errors_add(errs,
			      "%s: not a state directory (no device.json, no "
			      "NAME/run.json)",
			      path);
		goto out;
	}
	s = pv_parser_build(entries, n, NULL,
			    &(struct pv_parser_files){ .read = read_dir_file,
						       .arg = &dirfd },
			    errs);
	// A file that could not be read was reported before the build.
	if (s && errs->count != before) {
		pv_state_free(s);
		s = NULL;
	}
out:
	for (i = 0; files && i < nfiles; i++) {
		free(files[i].key);
		free(files[i].name);
		pv_json_free(&files[i].doc);
	}
	free(files);
	free(entries);
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	close(dirfd);
	return s;
}

struct pv_state *pv_parser_load(const char *path, struct pv_errors *errs)
{
	struct pv_state *s;
	struct stat st;
	size_t len;
	char *text;

	if (stat(path, &st) == -1) {
		pv_errors_add(errs, "%s: cannot open: %s", path,
			      strerror(errno));
		return NULL;
	}
	if (S_ISDIR(st.st_mode))
		return load_dir(path, errs);
	if (read_file(AT_FDCWD, path, path, &text, &len, errs))
		return NULL;
	s = pv_parser_parse_text(path, text, len, errs);
	free(text);
	return s;
}
