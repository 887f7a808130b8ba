#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static enum pv_log_level threshold = INFO;
static const char *program = "pv";

static const char *const level_names[] = {
	[FATAL] = "FATAL", [ERROR] = "ERROR", [WARN] = "WARN",
	[INFO] = "INFO",   [DEBUG] = "DEBUG",
};

void pv_log_set_level(enum pv_log_level level)
{
	threshold = level;
}

int pv_log_enabled(enum pv_log_level level)
{
	return level <= threshold;
}

void pv_log_set_program(const char *name)
{
	program = name;
}

void __pv_log(enum pv_log_level level, const char *module, const char *fmt, ...)
{
	char line[1024];
	struct timespec ts;
	struct tm tm;
	va_list ap;
	int n, m;

	if (level > threshold)
		return;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line),
		     "%02d:%02d:%02d.%03ld %s[%s] %s: ", tm.tm_hour, tm.tm_min,
		     tm.tm_sec, ts.tv_nsec / 1000000, program, module,
		     level_names[level]);
	va_start(ap, fmt);
	m = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	if (m < 0)
		m = 0;
	n += m;
	if (n > (int)sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	// One write(2) per line: lines from several processes sharing a
	// log file never interleave, and nothing waits in a stdio buffer.
	if (write(STDERR_FILENO, line, n) < 0)
		return;
}
