// Texts kept for a status, copied in one place so that a copy that
// cannot be made is never dropped without a word.
#define MODULE_NAME "text"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utils/text.h"

int pv_text_set(char **field, const char *text, const char *owner,
		const char *where)
{
	free(*field);
	*field = text ? strdup(text) : NULL;
	if (!text || *field)
		return 0;
	pv_log(ERROR, "%s: out of memory, \"%s\" not kept for %s", owner, text,
	       where);
	return -1;
}
