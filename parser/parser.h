#ifndef PV_PARSER_H
#define PV_PARSER_H

#include <stddef.h>

#include "state.h"
#include "utils/errors.h"

// Loads a state from path: a state file (one JSON object keyed by file
// names) or a directory laid out like one. Validates everything, adding one
// line per error to errs (each naming the key, the field and the reason).
// Returns the state (caller frees with pv_state_free), or NULL when any
// error was found. Addresses are not leased yet.
struct pv_state *pv_parser_load(const char *path, struct pv_errors *errs);

// The same from a state file's text (len bytes, need not be
// NUL-terminated); errors about the whole document name it "state".
struct pv_state *pv_parser_parse_system1(const char *text, size_t len,
					 struct pv_errors *errs);

// The same, naming the document origin (its path) in errors.
struct pv_state *pv_parser_parse_text(const char *origin, const char *text,
				      size_t len, struct pv_errors *errs);

#endif
