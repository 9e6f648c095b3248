/*
 * htwatch.h: the worker's inotify watches on the directories its answers
 * were decided in (htwatch.c), so that front may keep an answer decided
 * under a .htaccess and drop it the moment one of them changes.
 */
#ifndef LOCKERD_HTWATCH_H
#define LOCKERD_HTWATCH_H

/* At start: web_scripts' path (its directories are watched below it). */
void	htwatch_init(const char *webroot);
/* A new channel from a front: an instance of its own, sent as MSG_WATCH. */
void	htwatch_channel(int chan);
void	htwatch_channel_gone(int chan);
/* A request on chan begins: what changed since is forgotten first. */
void	htwatch_begin(int chan);
/* A directory the decision depends on ("", "a/", "a/b/"): watched, if it can be. */
void	htwatch_dir(const char *dir);
/* rel below web_scripts was looked at: its every directory watched; NULL: a
 * place that cannot be (outside web_scripts), so the answer is not. */
void	htwatch_path(const char *rel);
/* Whether every directory the request's decision looked at is watched. */
int	htwatch_ok(void);

#endif
