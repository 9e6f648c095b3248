/*
 * route_int.h: the loaded routing table's layout, shared by route.c (the
 * loader and lookups) and route_delta.c (one change at a time).
 */
#ifndef LOCKERD_ROUTE_INT_H
#define LOCKERD_ROUTE_INT_H

#include <stddef.h>
#include <stdint.h>

/* A string of the loaded table: NUL-terminated in the arena, length kept. */
struct rt_str {
	const char	*s;
	size_t		 len;
};

struct rt_vhost {
	struct rt_str	host;
	struct rt_str	subdir;
	struct rt_str	locker;		/* the string of its entry in lockers */
	int		https;		/* ROUTE_HTTPS_* */
};

struct route_table {
	char		*arena;
	struct rt_str	 domain;
	struct rt_str	*hostnames;
	size_t		 nhostnames;
	struct rt_str	*lockers;
	size_t		 nlockers;
	struct rt_vhost	*vhosts;
	size_t		 nvhosts;
	/* route_delta.c's changes: the arrays' room, and the strings they
	 * added (kept until the table goes: a removed name may still be
	 * pointed at by a vhost being dropped, or by nothing, at no cost). */
	size_t		 caplockers, capvhosts;
	char		**heap;
	size_t		 nheap, capheap;
};

int	str_cmp(const char *a, size_t alen, const char *b, size_t blen);
int	rt_label_ok(const char *s, size_t len);
int	rt_host_ok(const char *s, size_t len);
int	rt_subdir_ok(const char *s, size_t len);

#endif
