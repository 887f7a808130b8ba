#ifndef PV_LIST_H
#define PV_LIST_H

#include <stddef.h>

// Doubly linked list with the head embedded in the owner (as in hostap's
// list.h that Pantavisor uses).
struct dl_list {
	struct dl_list *next;
	struct dl_list *prev;
};

#define DL_LIST_HEAD_INIT(l)                                                   \
	{                                                                      \
		&(l), &(l)                                                     \
	}

static inline void dl_list_init(struct dl_list *list)
{
	list->next = list;
	list->prev = list;
}

static inline void dl_list_add(struct dl_list *list, struct dl_list *item)
{
	item->next = list->next;
	item->prev = list;
	list->next->prev = item;
	list->next = item;
}

static inline void dl_list_add_tail(struct dl_list *list, struct dl_list *item)
{
	dl_list_add(list->prev, item);
}

static inline void dl_list_del(struct dl_list *item)
{
	item->next->prev = item->prev;
	item->prev->next = item->next;
	item->next = NULL;
	item->prev = NULL;
}

static inline int dl_list_empty(const struct dl_list *list)
{
	return list->next == list;
}

static inline unsigned int dl_list_len(const struct dl_list *list)
{
	struct dl_list *item;
	unsigned int count = 0;
	for (item = list->next; item != list; item = item->next)
		count++;
	return count;
}

#define dl_list_entry(item, type, member)                                      \
	((type *)((char *)(item)-offsetof(type, member)))

#define dl_list_first(list, type, member)                                      \
	(dl_list_empty((list)) ? NULL                                          \
			       : dl_list_entry((list)->next, type, member))

#define dl_list_for_each(item, list, type, member)                             \
	for (item = dl_list_entry((list)->next, type, member);                 \
	     &item->member != (list);                                          \
	     item = dl_list_entry(item->member.next, type, member))

#define dl_list_for_each_safe(item, n, list, type, member)                     \
	for (item = dl_list_entry((list)->next, type, member),                 \
	    n = dl_list_entry(item->member.next, type, member);                \
	     &item->member != (list);                                          \
	     item = n, n = dl_list_entry(n->member.next, type, member))

#endif
