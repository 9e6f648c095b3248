/*
 * hesiod_rec.c: a locker's Hesiod records (hesiod.h), built from its name,
 * uid and gid and the configuration alone: the master's `locker export
 * hesiod` prints them and the hesiod role sends them, from this one code.
 * The name is checked again here as a DNS label (the role does not take
 * the master's word for it: a record's owner is built from it).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lockerd.h"
#include "route.h"
#include "hesiod.h"

static const char *const types[] = { "filsys", "passwd", "uid", "group", "gid", "url" };
#define NTYPES	(sizeof(types) / sizeof(types[0]))

/* "ns.example.org." for lhs ".ns" (or "none", or "") and zone example.org. */
static int
suffix(const struct config *c, char *out, size_t outlen)
{
	const char *lhs = c->hesiod.lhs;

	if (strcmp(lhs, "none") == 0)
		lhs = "";
	while (*lhs == '.')
		lhs++;
	return (size_t)snprintf(out, outlen, "%s%s%s.", lhs, lhs[0] ? "." : "",
	    c->hesiod.zone) >= outlen ? -1 : 0;
}

/* hesiod-filsys with name for each %s; -1 if it does not fit a TXT. */
static int
filsys(const struct config *c, const char *name, char *out, size_t outlen)
{
	char		 dflt[256];
	const char	*t = c->hesiod.filsys, *p;
	size_t		 n = 0;

	if (t[0] == '\0') {
		snprintf(dflt, sizeof(dflt), "NFS %s/%%s %s w /mit/%%s", c->lockers, c->domain);
		t = dflt;
	}
	for (p = t; *p; p++) {
		const char	*piece = p;
		size_t		 len = 1;

		if (p[0] == '%' && p[1] == 's') {
			piece = name;
			len = strlen(name);
			p++;
		} else if (p[0] == '%')
			return -1;	/* hesiod_conf_check() says so */
		if (n + len >= outlen)
			return -1;
		memcpy(out + n, piece, len);
		n += len;
	}
	out[n] = '\0';
	return 0;
}

static int
rec(struct hesiod_rec *r, int type, const char *sfx, const char *label, const char *kind,
    const char *data)
{
	r->type = type;
	if ((size_t)snprintf(r->owner, sizeof(r->owner), "%s.%s.%s", label, kind, sfx) >=
	    sizeof(r->owner) || strlen(data) > HESIOD_TXT_MAX)
		return -1;
	snprintf(r->data, sizeof(r->data), "%s", data);
	return 0;
}

int
hesiod_records(const struct config *c, const struct hesiod_locker *l,
    struct hesiod_rec out[HESIOD_RECS], char *err, size_t errlen)
{
	char	sfx[HOSTNAME_MAX + 2], text[HESIOD_TXT_MAX + 64], target[HOSTNAME_MAX + 2];
	char	num[16], why[128];
	size_t	len = strnlen(l->name, sizeof(l->name));

	if (len == sizeof(l->name) || locker_label_check(l->name, len, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "not a locker's name: %s", why);
		return -1;
	}
	if (suffix(c, sfx, sizeof(sfx)) == -1)
		goto toolong;
	if (filsys(c, l->name, text, sizeof(text)) == -1 ||
	    rec(&out[0], HESIOD_TXT, sfx, l->name, "filsys", text) == -1)
		goto toolong;
	snprintf(text, sizeof(text), "%s:*:%u:%u:Locker %s:%s/%s:/usr/sbin/nologin", l->name,
	    l->uid, l->gid, l->name, c->lockers, l->name);
	if (rec(&out[1], HESIOD_TXT, sfx, l->name, "passwd", text) == -1)
		goto toolong;
	snprintf(num, sizeof(num), "%u", l->uid);
	snprintf(target, sizeof(target), "%s", out[1].owner);
	if (rec(&out[2], HESIOD_CNAME, sfx, num, "uid", target) == -1)
		goto toolong;
	snprintf(text, sizeof(text), "%s:*:%u:", l->name, l->gid);
	if (rec(&out[3], HESIOD_TXT, sfx, l->name, "group", text) == -1)
		goto toolong;
	snprintf(num, sizeof(num), "%u", l->gid);
	snprintf(target, sizeof(target), "%s", out[3].owner);
	if (rec(&out[4], HESIOD_CNAME, sfx, num, "gid", target) == -1)
		goto toolong;
	snprintf(text, sizeof(text), "%s://%s.%s/", c->https_only ? "https" : "http", l->name,
	    c->domain);
	if (rec(&out[5], HESIOD_TXT, sfx, l->name, "url", text) == -1)
		goto toolong;
	return 0;
toolong:
	snprintf(err, errlen, "locker %s: a record longer than DNS allows (hesiod-filsys, "
	    "hesiod-lhs, hesiod-zone)", l->name);
	return -1;
}

int
hesiod_conf_check(const struct config *c, char *err, size_t errlen)
{
	static const struct hesiod_locker probe = {
		"abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk",
		4294967294u, 4294967294u
	};
	struct hesiod_rec	 r[HESIOD_RECS];
	const char		*lhs = c->hesiod.lhs, *p;
	char			 why[256];

	if (strcmp(lhs, "none") != 0 && lhs[0] != '\0') {
		if (lhs[0] != '.' || strlen(lhs) < 2) {
			snprintf(err, errlen, "hesiod-lhs: expected .LABEL (like .ns) or none, "
			    "not \"%s\"", lhs);
			return -1;
		}
		for (p = lhs + 1; *p; p++)
			if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.') {
				snprintf(err, errlen, "hesiod-lhs: \"%s\" is not a DNS name", lhs);
				return -1;
			}
	}
	for (p = c->hesiod.filsys; *p; p++)
		if ((p[0] == '%' && p[1] != 's') || *p == '"' || *p == '\\') {
			snprintf(err, errlen, "hesiod-filsys: only %%s (the locker's name) may "
			    "follow a %%, and no \" or \\ may appear");
			return -1;
		} else if (p[0] == '%')
			p++;
	/* The longest name and numbers must fit, or some locker's would not. */
	if (hesiod_records(c, &probe, r, why, sizeof(why)) == -1) {
		snprintf(err, errlen, "hesiod-filsys, hesiod-lhs, hesiod-zone: a locker of "
		    "%d characters would have a record longer than DNS allows",
		    LOCKER_NAME_MAX);
		return -1;
	}
	return 0;
}

/* s[0..n) ends with ".sfx" (sfx absolute) or "sfx" without its dot. */
int
hesiod_owner_ours(const struct config *c, const char *owner)
{
	char	 sfx[HOSTNAME_MAX + 2], kind[HOSTNAME_MAX + 2];
	size_t	 n = strlen(owner), sl, i;
	const char *dot;

	if (suffix(c, sfx, sizeof(sfx)) == -1)
		return 0;
	if (n > 0 && owner[n - 1] != '.') {
		sfx[strlen(sfx) - 1] = '\0';	/* compare without the root's dot */
	}
	sl = strlen(sfx);
	/* LABEL.KIND.SUFFIX: one label, one of ours, then the suffix. */
	if ((dot = strchr(owner, '.')) == NULL || dot == owner)
		return 0;
	for (i = 0; i < NTYPES; i++) {
		size_t kl = strlen(types[i]);

		snprintf(kind, sizeof(kind), "%s.", types[i]);
		if (strncasecmp(dot + 1, kind, kl + 1) == 0 &&
		    strlen(dot + 1 + kl + 1) == sl && strcasecmp(dot + 1 + kl + 1, sfx) == 0)
			return 1;
	}
	return 0;
}
