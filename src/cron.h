/*
 * cron.h: cron scripts (issue 15): a locker's cron_scripts/crontab,
 * compiled in its sandbox (crontab.h), kept by the master in the directory
 * and run at its times in the sandbox.  What the CLI shows of it, and the
 * master's parts:
 *
 *   cron_task.c   the sandboxed tasks: the crontab read and compiled as the
 *                 locker (MSG_CRON_SCHED back), and a job run as the locker
 *                 with its output to the locker's cron log (MSG_LOG_CRON)
 *   cron.c        the scheduler: minute ticks, desync, the lease, a job not
 *                 started twice, the time limit, a changed crontab noticed
 *   cron_dir.c    the directory's cron table (the lease: lease.c)
 *   ctl_cron.c    `locker cron status|list|run|log|reload NAME`
 */
#ifndef LOCKERD_CRON_H
#define LOCKERD_CRON_H

#include <stdint.h>

#include "lockerd.h"
#include "crontab.h"

#define CRON_FILE		"cron_scripts/crontab"	/* below the home */
#define CRON_OUTPUT_MAX		(64 * 1024)	/* of a job's output, logged and mailed */
#define CRON_LEASE_MAX		64		/* the lease holder's name */

/* One row of `locker cron status` (CRON_ROW_STATUS) or `list` (ENTRY). */
#define CRON_ROW_STATUS		1
#define CRON_ROW_ENTRY		2
#define CRON_NEVER		INT32_MIN	/* last_status: never ran */
struct ctl_cron {
	char		locker[LOCKER_NAME_MAX + 1];
	uint32_t	kind;
	/* CRON_ROW_STATUS */
	char		state[16];		/* ok, error, none (no crontab), new */
	char		error[CRON_ERR_MAX];	/* the last refused crontab's, "" none */
	int64_t		compiled_at;		/* the schedule in effect: unix time */
	uint32_t	nentries;
	uint32_t	running;
	char		lease[CRON_LEASE_MAX];	/* who runs cron ("" none) */
	uint8_t		lease_ours;
	/* CRON_ROW_ENTRY */
	uint32_t	index;			/* N of `locker cron run NAME N`, from 1 */
	uint32_t	line;
	char		spec[CRON_SPEC_MAX];
	char		cmd[CRON_CMD_MAX];
	int32_t		pid;			/* running now, else 0 */
	int32_t		last_status;		/* exit code, -signal, CRON_NEVER */
	int64_t		last_start;		/* unix time, 0 never */
	uint32_t	runs, skipped;		/* since lockerd started */
};

/* cron_task.c: the tasks, as the locker in its sandbox (master side). */
struct cron_task {
	struct sandbox_spec	 spec;
	char			 home[PATH_MAX];
	int			 chan;		/* compile: its end of the master's channel */
	int			 logfd;		/* job: a logd channel bound to the locker, or -1 */
	int			 outfd;		/* job: a memfd for its output's mail, or -1 */
	unsigned		 index;		/* job: N, from 1 */
	int			 nvars;
	char			 vars[CRON_VARS_MAX][CRON_VAR_MAX];
	char			 cmd[CRON_CMD_MAX];
};
struct locker_rec;
struct child;
struct child *cron_compile_start(const struct locker_rec *lr, struct cron_task *t, int chan);
struct child *cron_job_start(const struct locker_rec *lr, struct cron_task *t);

/* cron.c, the master's (ctl_cron.c asks it).  cron_run_now, cron_reload:
 * 0, or -1 with why in err. */
void	cron_start(void);		/* schedules from the directory; at the master's start */
void	cron_tick(void);		/* from the master's loop */
int	cron_status(const char *locker, struct ctl_cron *out);
int	cron_entry(const char *locker, unsigned index, struct ctl_cron *out);	/* 1 .. */
int	cron_run_now(const char *locker, unsigned index, char *err, size_t errlen);
int	cron_reload(const char *locker, char *err, size_t errlen);

/* cron_dir.c: the directory's cron table (sched NULL: none) and lease. */
struct directory;
struct cron_row {
	char			 locker[LOCKER_NAME_MAX + 1];
	const struct cron_sched	*sched;		/* checked again; NULL: none */
	char			 stamp[129];
	char			 error[CRON_ERR_MAX];
	int64_t			 compiled;
};
int	cron_dir_set_sched(struct directory *d, const char *locker, const struct cron_sched *s,
	    const char *stamp, int64_t compiled);
int	cron_dir_set_error(struct directory *d, const char *locker, const char *stamp,
	    const char *error);
int	cron_dir_foreach(struct directory *d, int (*cb)(const struct cron_row *, void *),
	    void *arg);

/* cli_cron.c: the CLI's printing (first: the first row). */
void	cli_print_cron(const struct ctl_cron *c, int json, int first);
void	cli_cron_end(int json, int n, uint32_t verb);

#endif
