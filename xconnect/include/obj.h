#ifndef PV_XCONNECT_OBJ_H
#define PV_XCONNECT_OBJ_H

// Magic numbers on reference-counted objects (as hitch's and Varnish's
// miniobj.h): each such struct starts with `unsigned magic`, set by its
// _new to the type's PVX_*_MAGIC and cleared when it is freed; every entry
// point checks it, so that a use after free (or a wild pointer) aborts at
// once, naming the object and the place, also in builds without ASan.
// Cheap (one compare), active in every build.

// Says which object failed its check, where, then aborts.
void pvx_obj_fail(const char *what, unsigned magic, const char *want,
		  const char *file, int line, const char *func)
	__attribute__((noreturn));

// Asserts that o is not NULL and carries the magic m.
#define PVX_CHECK_OBJ_NOTNULL(o, m)                                            \
	do {                                                                   \
		if (!(o) || (o)->magic != (m))                                 \
			pvx_obj_fail(#o, (o) ? (o)->magic : 0, #m, __FILE__,   \
				     __LINE__, __func__);                      \
	} while (0)

// The same, with NULL allowed.
#define PVX_CHECK_OBJ_ORNULL(o, m)                                             \
	do {                                                                   \
		if ((o))                                                       \
			PVX_CHECK_OBJ_NOTNULL(o, m);                           \
	} while (0)

#define PVX_FRONTEND_MAGIC     0x7f0e7e01u
#define PVX_BACKEND_MAGIC      0xbac4e7d2u
#define PVX_SESSION_MAGIC      0x5e551043u
#define PVX_HTTP_SITE_MAGIC    0x517e0a15u
#define PVX_HTTP_SESSION_MAGIC 0x4770e55au

#endif
