/*
 * ctl_hesiod.c: `locker export hesiod [--sync]` (root): every locker's
 * Hesiod records as zone-file lines (or JSON), built by hesiod_rec.c as
 * the role sends them, and how the role's last round went; --sync asks
 * the role to compare the zone with them and fix it now.  The output goes
 * to the CLI as a memfd, so a large directory is not held in the control
 * socket's queue.
 */
#include <sys/mman.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "hesiod.h"
#include "lease.h"

struct out {
	FILE			*f;
	const struct config	*c;
	int			 json;
	uint32_t		 lockers, records;
	int			 failed;
};

/* Every string here is the configuration's or built from a locker's name
 * and numbers (printable, no quote or backslash: hesiod_conf_check()),
 * but a JSON string is escaped all the same. */
static void
json_put(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
	fputc('"', f);
}

/* A zone-file line; the text in strings of 255 (as the role sends it). */
static void
txt_put(FILE *f, const struct hesiod_rec *r)
{
	size_t	n = strlen(r->data), off;

	fprintf(f, "%s %d IN TXT", r->owner, HESIOD_TTL);
	for (off = 0; off < n; off += HESIOD_STR_MAX)
		fprintf(f, " \"%.*s\"", (int)(n - off > HESIOD_STR_MAX ? HESIOD_STR_MAX :
		    n - off), r->data + off);
	fputc('\n', f);
}

static int
locker_cb(const struct locker_rec *lr, void *arg)
{
	struct out		*o = arg;
	struct hesiod_locker	 l;
	struct hesiod_rec	 r[HESIOD_RECS];
	char			 err[256];
	int			 i;

	memset(&l, 0, sizeof(l));
	snprintf(l.name, sizeof(l.name), "%s", lr->name);
	l.uid = lr->uid;
	l.gid = lr->gid;
	if (hesiod_records(o->c, &l, r, err, sizeof(err)) == -1) {
		o->failed++;
		return 0;
	}
	for (i = 0; i < HESIOD_RECS; i++) {
		const char *type = r[i].type == HESIOD_TXT ? "TXT" : "CNAME";

		if (o->json) {
			fprintf(o->f, "%s\n  {\"owner\": ", o->records ? "," : "");
			json_put(o->f, r[i].owner);
			fprintf(o->f, ", \"ttl\": %d, \"type\": \"%s\", \"data\": ", HESIOD_TTL,
			    type);
			json_put(o->f, r[i].data);
			fprintf(o->f, ", \"locker\": ");
			json_put(o->f, lr->name);
			fputc('}', o->f);
		} else if (r[i].type == HESIOD_TXT)
			txt_put(o->f, &r[i]);
		else
			fprintf(o->f, "%s %d IN CNAME %s\n", r[i].owner, HESIOD_TTL, r[i].data);
		o->records++;
	}
	o->lockers++;
	return 0;
}

/* The role's last round: a comment of the zone file, or JSON's "status". */
static void
status_put(struct out *o)
{
	struct msg_hesiod_status	s;
	const char			*state;
	char				at[32] = "";
	int				had = hesiod_last(&s);

	if (o->c->hesiod.server.host[0] == '\0')
		state = "off";
	else if (!hesiod_publishing()) {
		/* Another node holds the lease: its export says how it goes. */
		state = "elsewhere";
		snprintf(s.why, sizeof(s.why), "node %s holds the hesiod lease and publishes",
		    lease_holder("hesiod")[0] ? lease_holder("hesiod") : "(none yet)");
		s.at = 0;
		s.ok = 0;
		had = 1;
	} else if (!had)
		state = hesiod_child()->pid > 0 ? "starting" : "not running";
	else
		state = s.ok ? "ok" : "failing";
	if (s.at != 0) {
		time_t t = (time_t)s.at;

		strftime(at, sizeof(at), "%Y-%m-%d %H:%M:%S", localtime(&t));
	}
	if (o->json) {
		fprintf(o->f, "{\"zone\": ");
		json_put(o->f, o->c->hesiod.zone);
		fprintf(o->f, ", \"server\": ");
		json_put(o->f, o->c->hesiod.server.host);
		fprintf(o->f, ", \"state\": \"%s\", \"at\": %lld, \"why\": ", state,
		    had ? (long long)s.at : 0LL);
		json_put(o->f, had && !s.ok ? s.why : "");
		fprintf(o->f, ", \"records\": [");
		return;
	}
	fprintf(o->f, "; Hesiod records of lockerd's lockers, zone %s (hesiod-server %s)\n",
	    o->c->hesiod.zone, o->c->hesiod.server.host[0] ? o->c->hesiod.server.host : "unset");
	fprintf(o->f, "; last update: %s%s%s%s%s\n", state, at[0] ? " at " : "", at,
	    had && !s.ok ? ": " : "", had && !s.ok ? s.why : "");
}

void
do_export_hesiod(struct ctl_client *c)
{
	struct out		 o = { .c = &M->conf, .json = (c->req.flags & CTL_F_JSON) != 0 };
	struct ctl_hesiod	 h;
	int			 fd, sync = (c->req.flags & CTL_F_SYNC) != 0;

	if (M->conf.hesiod.zone[0] == '\0') {
		done(c, 1, "hesiod-zone is not set in %s: no records to export", M->conf_path);
		return;
	}
	if (sync && hesiod_child()->pid <= 0) {
		done(c, 1, "no hesiod role runs here (hesiod-server unset, restarting, or "
		    "another node holds the hesiod lease: --sync there)");
		return;
	}
	if ((fd = memfd_create("lockerd-export", MFD_CLOEXEC)) == -1 ||
	    (o.f = fdopen(dup(fd), "w")) == NULL) {
		if (fd != -1)
			close(fd);
		done(c, 1, "out of memory");
		return;
	}
	status_put(&o);
	if (dir_locker_foreach(M->dir, locker_cb, &o) != 0)
		o.failed = -1;
	if (o.json)
		fprintf(o.f, "%s]}\n", o.records ? "\n" : "");
	if (fclose(o.f) != 0 || o.failed == -1) {
		close(fd);
		done(c, 1, "the directory failed, or out of memory");
		return;
	}
	if (sync)
		hesiod_push_all(1);
	memset(&h, 0, sizeof(h));
	h.lockers = o.lockers;
	h.records = o.records;
	reply_fd(c, MSG_CTL_HESIOD, &h, sizeof(h), fd);
	close(fd);
	if (o.failed > 0)
		done(c, 1, "%d lockers have records longer than DNS allows", o.failed);
	else if (sync)
		done(c, 0, "the hesiod role compares the zone with these %u records now; "
		    "locker export hesiod says how it went", o.records);
	else
		done(c, 0, NULL);
}
