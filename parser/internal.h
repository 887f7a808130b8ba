#ifndef PV_PARSER_INTERNAL_H
#define PV_PARSER_INTERNAL_H

// Shared by the parser's files: the state file and the state directory
// both become a list of entries (one per file) that parser_system1.c turns
// into a state.

#include "state.h"
#include "utils/errors.h"
#include "utils/json.h"

// The largest state file and the largest file of a state directory.
#define PV_PARSER_MAX_FILE PV_JSON_MAX_SIZE
// The most containers a state may hold; far more than a device runs, and
// it bounds the cross checks, which compare containers pairwise.
#define PV_PARSER_MAX_CONTAINERS 1024

enum pv_entry_kind {
	PV_ENTRY_DEVICE,
	PV_ENTRY_RUN,
	PV_ENTRY_SERVICES,
};

// One file of the state: device.json, NAME/run.json or NAME/services.json.
struct pv_parser_entry {
	enum pv_entry_kind kind;
	const char *key;	   // "nginx/run.json", as errors name it
	const char *name;	   // "nginx"; NULL for device.json
	const struct pv_json *doc; // NULL: unreadable, already reported
	int tok;		   // the file's value in doc
};

// Classifies a state key: 0 with *kind set and *name_len the length of
// NAME (0 for device.json), or -1 for a key the state does not read.
int pv_parser_classify_key(const char *key, enum pv_entry_kind *kind,
			   size_t *name_len);

// 1 if name may name a container (and a NAME/ directory): letters,
// digits, '.', '_', '-', not starting with '.', at most 64 characters.
int pv_parser_valid_name(const char *name);

// Builds a state from entries in container order. Every problem is added
// to errs; returns NULL if there was any.
struct pv_state *pv_parser_build(const struct pv_parser_entry *entries, int n,
				 const char *spec, struct pv_errors *errs);

#endif
