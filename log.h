#ifndef PV_LOG_H
#define PV_LOG_H

enum pv_log_level {
	FATAL = 0,
	ERROR,
	WARN,
	INFO,
	DEBUG,
};

// Sets the threshold; messages above it are dropped. Default INFO.
void pv_log_set_level(enum pv_log_level level);

// Returns 1 when messages of this level are printed.
int pv_log_enabled(enum pv_log_level level);

// Names the program in each line ("pvd", "pv-xconnect").
void pv_log_set_program(const char *name);

// Writes one line to stderr: "program[module] LEVEL: message".
void __pv_log(enum pv_log_level level, const char *module, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

// Each .c file defines MODULE_NAME before including this header.
#define pv_log(level, ...) __pv_log(level, MODULE_NAME, __VA_ARGS__)

#endif
