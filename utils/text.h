#ifndef PV_TEXT_H
#define PV_TEXT_H

// Replaces *field, a text an object keeps for its status (an error, how
// it last ended), with a copy of text (NULL clears it). A copy that
// cannot be made is said in the log, "OWNER: out of memory, "TEXT" not
// kept for WHERE", so that the text is there at least rather than
// silently missing; *field is then NULL. Returns 0 or -1.
int pv_text_set(char **field, const char *text, const char *owner,
		const char *where);

#endif
