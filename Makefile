# lockerd: a plain Makefile.  `make`, `make check`, `make run`, `make bench`,
# `make install` (PREFIX, DESTDIR), `make deps`, `make fuzz`.

PREFIX	?= /usr/local
DESTDIR	?=
SBINDIR	 = $(PREFIX)/sbin
BINDIR	 = $(PREFIX)/bin
SYSCONFDIR ?= /etc/lockerd

CC	?= cc
PKGS	 = sqlite3 libseccomp openssl ldns jansson libpcre2-8 libnghttp2
B	 = build

CFLAGS	?= -O2 -g
# Paths are bounded when the configuration is read (PATH_MAX / 2), so the
# truncation warnings of snprintf into PATH_MAX buffers are noise.
CFLAGS	+= -std=gnu11 -Wall -Wextra -Wpedantic -Werror -Wno-format-truncation -Wno-unknown-warning-option -D_GNU_SOURCE -Isrc \
	   $(shell pkg-config --cflags $(PKGS))
LDLIBS	+= $(shell pkg-config --libs $(PKGS)) -lresolv -lcrypt

ifeq ($(SAN),1)
B	 = build-san
CFLAGS	+= -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS	+= -fsanitize=address,undefined
endif

# The HTTP/1.1 wire format, in three files that share http_int.h.
HTTP_OBJS    = $(B)/http.o $(B)/httppath.o $(B)/httpfield.o
HTTP_SRCS    = src/http.c src/httppath.c src/httpfield.c

# One object per process role or protocol.
LOCKERD_SRCS = lockerd.c proc.c coldstart.c msg.c become.c config.c jail.c directory.c control.c \
	       ctl_lockers.c ctl_vhosts.c ctl_run.c ctl_status.c ctl_limits.c \
	       front.c conn.c respond.c wchan.c fcache.c front_cgi.c front_fcgi.c wire.c http.c httppath.c httpfield.c \
	       route.c route_delta.c route_push.c worker.c webpath.c script.c phppool.c poolpolicy.c \
	       sandbox.c cgroup.c landlock.c seccomp.c \
	       logd.c log.c mime.c util.c cgi.c fcgi.c quota.c stats.c nss.c cgienv.c \
	       linebuf.c errlog.c userlimit.c warm.c startq.c spawner.c pspawn.c bucket.c \
	       cookie.c body.c respbuf.c logarchive.c vhost.c proof.c dnstxt.c dnsupdate.c dns01.c netns.c \
	       verbs.c home.c keyd.c keyop.c keyclient.c keys.c outq.c \
	       acme.c acme_order.c acme_http.c acme_jws.c acme_proto.c acme_master.c challenge.c \
	       ctl_certs.c \
	       cio.c tls.c certs.c tickets.c h2.c h2_stream.c \
	       htaccess.c httable.c htreq.c rewrite.c rw_eval.c rw_vars.c rw_flags.c rw_files.c rw_ht.c \
	       htwalk.c htexpr.c htcore.c access.c access_host.c access_dns.c authbasic.c autoindex.c htdocs.c \
	       phpini.c phprun.c \
	       errdoc.c hdrops.c htwatch.c htmime.c htindex.c htreqhdr.c zygote.c \
	       sqlname.c sql_master.c sql_limit.c ctl_sql.c sqlhome.c crashpoint.c \
	       mail_master.c maillog.c mailout.c mailmsg.c smtp.c ctl_mail.c \
	       crontab.c cron.c cron_task.c cron_dir.c ctl_cron.c cronlog.c lease.c \
	       dir_fleet.c dir_apply.c \
	       lmtp.c maild.c mailin_master.c mailrun.c \
	       ctl_app.c ctl_app_all.c app_task.c app_dir.c app_valid.c app_release.c app_version.c \
	       ctl_node.c dir_feed.c \
	       dir_master.c \
	       h2req.c dirrec.c dirtab.c drain.c health.c proxyproto.c front_proxy.c
# The CLI: no directory, no SQLite, no sandbox; it only talks to the master.
LOCKER_SRCS  = locker.c verbs.c msg.c config.c jail.c route.c log.c util.c cli_cert.c sqlname.c \
	       cli_mail.c cli_cron.c cli_app.c \
	       cli_hesiod.c cli_node.c

# Hesiod's publishing (issue 18): the role, its records, the master's side, the verb.
LOCKERD_SRCS += hesiod.c hesiod_rec.c hesiod_sync.c hesiod_master.c ctl_hesiod.c
LOCKERD_SRCS += acme_share.c

LOCKERD_OBJS = $(LOCKERD_SRCS:%.c=$(B)/%.o)
LOCKER_OBJS  = $(LOCKER_SRCS:%.c=$(B)/%.o)

UNIT_TESTS   = test_http test_route test_directory test_config test_cgi test_fcgi test_stats \
	       test_linebuf test_userlimit test_util test_cookie test_body test_respbuf test_wire test_become \
	       test_msg test_jail test_verbs test_cgienv test_keyclient test_acme \
	       test_htaccess test_rewrite test_access test_autoindex test_htdocs test_phpini test_hdrops \
	       test_htmime test_sqlname test_sqlacct test_poolpolicy test_crontab test_mailmsg test_lmtp test_app test_app_valid test_app_recipe \
	       test_h2req test_dirrec test_dirtab test_proxyproto test_dir_fleet
UNIT_TESTS  += test_hesiod
UNIT_TESTS  += test_lease
UNIT_BINS    = $(UNIT_TESTS:%=$(B)/%)
# What a .htaccess test links: the parser, its table and every part's rows.
HT_OBJS      = $(B)/htaccess.o $(B)/httable.o $(B)/htreq.o $(B)/htexpr.o $(B)/htcore.o $(B)/htwalk.o \
	       $(HTTP_OBJS) $(B)/access.o $(B)/access_host.o $(B)/access_dns.o $(B)/authbasic.o $(B)/htdocs.o \
	       $(B)/autoindex.o $(B)/rw_ht.o $(B)/rewrite.o $(B)/rw_eval.o $(B)/rw_vars.o $(B)/rw_flags.o $(B)/rw_files.o \
	       $(B)/htmime.o $(B)/htindex.o $(B)/htreqhdr.o

all: $(B)/lockerd $(B)/locker $(B)/lockerd-sqld $(B)/lockerd-sendmail $(B)/dns01-tool $(B)/liblockerd-zygote.so \
     $(B)/lockerd-app $(B)/lockerd-dirsync $(B)/dirsync-tool

# The library preloaded into the PHP zygote's php-cgi (zygote.c): lockerd's
# own sandbox code, built position-independent, every symbol hidden but
# fork() (the library must not stand in for anything of PHP's).
ZYGOTE_SRCS  = zygote_lib.c zygote_enter.c sandbox.c become.c landlock.c seccomp.c cgroup.c \
	       jail.c msg.c log.c util.c proc.c coldstart.c netns.c config.c route.c
ZYGOTE_OBJS  = $(ZYGOTE_SRCS:%.c=$(B)/pic/%.o)
$(B)/pic:
	mkdir -p $@
# Never sanitized (SAN=1): php-cgi is not, and ASan's runtime must come first.
ZYGOTE_CFLAGS = $(filter-out -fsanitize=% -fno-sanitize-recover=%,$(CFLAGS))
ZYGOTE_LDFLAGS = $(filter-out -fsanitize=%,$(LDFLAGS))
$(B)/pic/%.o: src/%.c src/*.h | $(B)/pic
	$(CC) $(ZYGOTE_CFLAGS) -fPIC -fvisibility=hidden -ffunction-sections -fdata-sections -c -o $@ $<
$(B)/liblockerd-zygote.so: $(ZYGOTE_OBJS)
	$(CC) $(ZYGOTE_LDFLAGS) -shared -Wl,--gc-sections -Wl,-z,defs -o $@ $^ $(LDLIBS) -ldl

# sqld, the SQL role, is its own program: it alone links MariaDB's client
# library (the master and every other role do not).
SQLD_OBJS = $(B)/sqld.o $(B)/sqlsize.o $(B)/sqlname.o $(B)/sqlacct.o $(B)/msg.o $(B)/log.o $(B)/util.o $(B)/become.o \
	    $(B)/proc.o $(B)/coldstart.o $(B)/seccomp.o
$(B)/sqld.o: src/sqld.c src/*.h | $(B)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags libmariadb) -c -o $@ $<
$(B)/sqlsize.o: src/sqlsize.c src/*.h | $(B)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags libmariadb) -c -o $@ $<
$(B)/lockerd-sqld: $(SQLD_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libmariadb libseccomp)

# lockerd-dirsync, the fleet directory's link (issue 18): it alone links
# libpq (pkg-config libpq), as sqld alone links MariaDB's client.
DIRSYNC_OBJS = $(B)/dirsync.o $(B)/dirpg.o $(B)/dirsync_apply.o $(B)/dirsync_feed.o $(B)/dirrec.o \
	       $(B)/dirtab.o $(B)/msg.o $(B)/log.o $(B)/util.o $(B)/become.o $(B)/proc.o \
	       $(B)/coldstart.o $(B)/seccomp.o
$(B)/dirsync.o $(B)/dirpg.o $(B)/dirsync_apply.o $(B)/dirsync_feed.o: $(B)/%.o: src/%.c src/*.h | $(B)
	$(CC) $(CFLAGS) $(shell pkg-config --cflags libpq) -c -o $@ $<
$(B)/lockerd-dirsync: $(DIRSYNC_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(shell pkg-config --libs libpq libseccomp jansson)
# For the integration tests: the master's end of dirsync's channel.
$(B)/dirsync-tool: tests/tools/dirsync_tool.c $(B)/dirrec.o $(B)/dirtab.o $(B)/msg.o $(B)/config.o \
		   $(B)/jail.o $(B)/log.o $(B)/util.o $(B)/route.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The jails' /usr/sbin/sendmail (sendmail.c): small, and nothing of the
# master's: it links msg.c and what msg.c needs, no more.  Never sanitized
# (SAN=1): it runs under a locker's memory limit (RLIMIT_DATA, set where
# PHP's zygote forks, which is never sanitized), where ASan's shadow memory
# cannot be mapped.
SENDMAIL_OBJS = $(B)/nosan/sendmail.o $(B)/nosan/msg.o $(B)/nosan/log.o $(B)/nosan/util.o
$(B)/nosan:
	mkdir -p $@
$(B)/nosan/%.o: src/%.c src/*.h | $(B)/nosan
	$(CC) $(ZYGOTE_CFLAGS) -c -o $@ $<
$(B)/lockerd-sendmail: $(SENDMAIL_OBJS)
	$(CC) $(ZYGOTE_LDFLAGS) -o $@ $^

# lockerd-app, the autoinstaller (issue 16): run only as a locker, in its
# sandbox; one file per part and one per recipe (src/app.h).
APP_SRCS = app.c app_exec.c app_meta.c app_version.c app_flow.c app_git.c app_copy.c app_recipe.c \
	   app_dokuwiki.c app_wordpress.c app_phpmyadmin.c app_mediawiki.c sqlname.c
APP_OBJS = $(APP_SRCS:%.c=$(B)/%.o)
$(B)/lockerd-app: $(APP_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ -ljansson -lcrypt

$(B):
	mkdir -p $(B)

$(B)/%.o: src/%.c src/*.h | $(B)
	$(CC) $(CFLAGS) -c -o $@ $<

$(B)/lockerd: $(LOCKERD_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/locker: $(LOCKER_OBJS)
	$(CC) $(LDFLAGS) -o $@ $^

# For the integration tests: dns01.c against a real DNS server.
$(B)/dns01-tool: tests/tools/dns01_tool.c $(B)/dns01.o $(B)/dnsupdate.o $(B)/config.o $(B)/jail.o $(B)/log.o \
		 $(B)/util.o $(B)/route.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# Unit tests: one test file per module, linked against that module.
$(B)/test_http: tests/unit/test_http.c $(HTTP_OBJS)
$(B)/test_route: tests/unit/test_route.c $(B)/route.o $(B)/route_delta.o
# The directory and its fleet side (dir_fleet.h), which its write path calls.
DIR_OBJS     = $(B)/directory.o $(B)/dir_fleet.o $(B)/dir_apply.o $(B)/dirtab.o $(B)/dirrec.o \
	       $(B)/route.o $(B)/log.o $(B)/util.o
$(B)/test_directory: tests/unit/test_directory.c $(DIR_OBJS)
$(B)/test_dir_fleet: tests/unit/test_dir_fleet.c $(DIR_OBJS)
$(B)/test_dirtab: tests/unit/test_dirtab.c $(DIR_OBJS)
$(B)/test_hesiod: tests/unit/test_hesiod.c $(B)/hesiod_rec.o $(B)/hesiod_sync.o $(B)/route.o
$(B)/test_lease: tests/unit/test_lease.c $(B)/lease.o $(DIR_OBJS)
$(B)/test_config: tests/unit/test_config.c $(B)/config.o $(B)/jail.o $(B)/log.o $(B)/util.o $(B)/route.o
$(B)/test_cgi: tests/unit/test_cgi.c $(B)/cgi.o $(HTTP_OBJS)
$(B)/test_fcgi: tests/unit/test_fcgi.c $(B)/fcgi.o
$(B)/test_rewrite: tests/unit/test_rewrite.c $(B)/rewrite.o $(B)/rw_eval.o $(B)/rw_vars.o $(B)/rw_flags.o $(B)/rw_files.o
$(B)/test_cookie: tests/unit/test_cookie.c $(B)/cookie.o
$(B)/test_stats: tests/unit/test_stats.c $(B)/stats.o $(B)/msg.o $(B)/util.o $(B)/log.o
$(B)/test_msg: tests/unit/test_msg.c $(B)/msg.o $(B)/log.o $(B)/util.o
$(B)/test_linebuf: tests/unit/test_linebuf.c $(B)/linebuf.o
$(B)/test_userlimit: tests/unit/test_userlimit.c $(B)/userlimit.o
$(B)/test_util: tests/unit/test_util.c $(B)/util.o $(B)/log.o
$(B)/test_body: tests/unit/test_body.c $(B)/body.o $(B)/util.o
$(B)/test_respbuf: tests/unit/test_respbuf.c $(B)/respbuf.o $(B)/util.o
$(B)/test_verbs: tests/unit/test_verbs.c $(B)/verbs.o
$(B)/test_wire: tests/unit/test_wire.c $(B)/wire.o $(HTTP_OBJS)
$(B)/test_cgienv: tests/unit/test_cgienv.c $(B)/cgienv.o $(B)/fcgi.o $(HTTP_OBJS)
$(B)/test_become: tests/unit/test_become.c $(B)/become.o $(B)/proc.o $(B)/coldstart.o $(B)/util.o $(B)/log.o
$(B)/test_jail: tests/unit/test_jail.c $(B)/jail.o $(B)/landlock.o $(B)/config.o $(B)/route.o $(B)/util.o \
		  $(B)/log.o
$(B)/test_acme: tests/unit/test_acme.c $(B)/acme_http.o $(B)/acme_proto.o $(B)/acme_jws.o \
		  $(B)/route.o $(B)/util.o $(B)/log.o
$(B)/test_keyclient: tests/unit/test_keyclient.c $(B)/keyclient.o $(B)/keyd.o $(B)/keyop.o \
		  $(B)/msg.o $(B)/log.o $(B)/util.o $(B)/become.o $(B)/proc.o $(B)/coldstart.o $(B)/seccomp.o
$(B)/test_htaccess: tests/unit/test_htaccess.c $(HT_OBJS)
$(B)/test_access: tests/unit/test_access.c $(HT_OBJS)
$(B)/test_htdocs: tests/unit/test_htdocs.c $(HT_OBJS)
$(B)/test_htmime: tests/unit/test_htmime.c $(HT_OBJS)
$(B)/test_sqlname: tests/unit/test_sqlname.c $(B)/sqlname.o
$(B)/test_sqlacct: tests/unit/test_sqlacct.c $(B)/sqlacct.o
$(B)/test_mailmsg: tests/unit/test_mailmsg.c $(B)/mailmsg.o $(B)/smtp.o $(B)/util.o $(B)/log.o
$(B)/test_lmtp: tests/unit/test_lmtp.c $(B)/lmtp.o
$(B)/test_dirrec: tests/unit/test_dirrec.c $(B)/dirrec.o
$(B)/test_h2req: tests/unit/test_h2req.c $(B)/h2req.o $(HTTP_OBJS)
$(B)/test_proxyproto: tests/unit/test_proxyproto.c $(B)/proxyproto.o
$(B)/test_app_valid: tests/unit/test_app_valid.c $(B)/app_valid.o $(B)/app_release.o \
		      $(B)/app_version.o
$(B)/test_app: tests/unit/test_app.c $(B)/app_meta.o $(B)/app_version.o $(B)/app_exec.o $(B)/app_copy.o $(B)/sqlname.o
$(B)/test_app_recipe: tests/unit/test_app_recipe.c $(B)/app_recipe.o $(B)/app_version.o $(B)/app_meta.o \
		      $(B)/app_exec.o $(B)/sqlname.o
$(B)/test_autoindex: tests/unit/test_autoindex.c $(B)/autoindex.o
$(B)/test_phpini: tests/unit/test_phpini.c $(B)/phpini.o
$(B)/test_poolpolicy: tests/unit/test_poolpolicy.c $(B)/poolpolicy.o
$(B)/test_crontab: tests/unit/test_crontab.c $(B)/crontab.o
$(B)/test_hdrops: tests/unit/test_hdrops.c $(B)/hdrops.o $(B)/wire.o $(HTTP_OBJS)
$(UNIT_BINS): tests/unit/unit.h
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

unit: $(UNIT_BINS)
	@for t in $(UNIT_BINS); do echo "== $$t"; ./$$t || exit 1; done

# Fuzz targets (libFuzzer, clang).  `make fuzz-smoke` runs each briefly.
FUZZ_TARGETS = fuzz_http fuzz_config fuzz_route fuzz_cgi fuzz_fcgi fuzz_wire_script fuzz_wire \
	       fuzz_linebuf fuzz_dnstxt fuzz_keyd fuzz_dns01 fuzz_hesiod fuzz_acme fuzz_rewrite \
	       fuzz_htaccess fuzz_hdrops fuzz_sqlname fuzz_crontab fuzz_mailmsg fuzz_lmtp fuzz_appmeta \
	       fuzz_appargs fuzz_h2req fuzz_h2frames fuzz_dirrec fuzz_proxyproto
FUZZ_SECONDS ?= 8
# Every target is built the same way: libFuzzer with ASan and UBSan.
FUZZ_CC = clang -std=gnu11 -g -O1 -Wall -Wextra -Wpedantic -D_GNU_SOURCE -Isrc -Ifuzz \
	  -fsanitize=fuzzer,address,undefined

$(B)/fuzz:
	mkdir -p $@
$(B)/fuzz/fuzz_http: fuzz/fuzz_http.c $(HTTP_SRCS) src/route.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_config: fuzz/fuzz_config.c src/config.c src/jail.c src/log.c src/util.c src/route.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_route: fuzz/fuzz_route.c src/route.c src/route_delta.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_cgi: fuzz/fuzz_cgi.c src/cgi.c $(HTTP_SRCS) src/cookie.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_fcgi: fuzz/fuzz_fcgi.c src/fcgi.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_wire_script: fuzz/fuzz_wire_script.c src/wire.c $(HTTP_SRCS) | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_wire: fuzz/fuzz_wire.c src/wire.c $(HTTP_SRCS) | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_hdrops: fuzz/fuzz_hdrops.c src/hdrops.c src/wire.c $(HTTP_SRCS) | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lpcre2-8
$(B)/fuzz/fuzz_sqlname: fuzz/fuzz_sqlname.c src/sqlname.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_crontab: fuzz/fuzz_crontab.c src/crontab.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_mailmsg: fuzz/fuzz_mailmsg.c src/mailmsg.c src/smtp.c src/util.c src/log.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_lmtp: fuzz/fuzz_lmtp.c src/lmtp.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_appmeta: fuzz/fuzz_appmeta.c src/app_meta.c src/app_version.c src/app_exec.c src/sqlname.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_appargs: fuzz/fuzz_appargs.c src/app_valid.c src/app_version.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_h2req: fuzz/fuzz_h2req.c src/h2req.c $(HTTP_SRCS) | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
# A real nghttp2 server session in front of h2req, as h2.c has it.
$(B)/fuzz/fuzz_h2frames: fuzz/fuzz_h2frames.c src/h2req.c $(HTTP_SRCS) | $(B)/fuzz
	$(FUZZ_CC) $(shell pkg-config --cflags libnghttp2) -o $@ $^ $(shell pkg-config --libs libnghttp2)
$(B)/fuzz/fuzz_dirrec: fuzz/fuzz_dirrec.c src/dirrec.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_proxyproto: fuzz/fuzz_proxyproto.c src/proxyproto.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_linebuf: fuzz/fuzz_linebuf.c src/linebuf.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^
$(B)/fuzz/fuzz_dnstxt: fuzz/fuzz_dnstxt.c src/dnstxt.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lresolv
$(B)/fuzz/fuzz_dns01: fuzz/fuzz_dns01.c src/dnsupdate.c src/route.c src/util.c src/log.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lldns -lcrypto
$(B)/fuzz/fuzz_hesiod: fuzz/fuzz_hesiod.c src/hesiod_sync.c src/hesiod_rec.c src/route.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lldns -lcrypto
$(B)/fuzz/fuzz_keyd: fuzz/fuzz_keyd.c src/keyop.c src/util.c src/log.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lcrypto
$(B)/fuzz/fuzz_acme: fuzz/fuzz_acme.c src/acme_http.c src/acme_proto.c src/route.c src/util.c \
		      src/log.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lssl -lcrypto -ljansson
$(B)/fuzz/fuzz_rewrite: fuzz/fuzz_rewrite.c src/rewrite.c src/rw_eval.c src/rw_vars.c src/rw_flags.c src/rw_files.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lpcre2-8
# Every file ht_directives[] and ht_modules[] (httable.c) reach: a part
# that adds rows adds its sources here too.
HT_FUZZ_SRCS = src/htaccess.c src/httable.c src/htreq.c src/htexpr.c src/htcore.c src/htwalk.c \
	       $(HTTP_SRCS) src/rw_ht.c src/rewrite.c src/rw_eval.c src/rw_vars.c src/rw_flags.c src/rw_files.c \
	       src/access.c src/access_host.c src/access_dns.c src/authbasic.c src/htdocs.c src/autoindex.c \
	       src/htmime.c src/htindex.c src/htreqhdr.c
$(B)/fuzz/fuzz_htaccess: fuzz/fuzz_htaccess.c $(HT_FUZZ_SRCS) src/phpini.c | $(B)/fuzz
	$(FUZZ_CC) -o $@ $^ -lpcre2-8 -lcrypt -lcrypto
# The long run, by hand: each target FUZZ_LONG seconds on its kept corpus.
FUZZ_LONG ?= 600
fuzz:
	$(MAKE) fuzz-smoke FUZZ_SECONDS=$(FUZZ_LONG)
fuzz-smoke: $(FUZZ_TARGETS:%=$(B)/fuzz/%)
	@for f in $(FUZZ_TARGETS); do \
	  mkdir -p $(B)/fuzz/corpus-$$f; \
	  echo "== $$f ($(FUZZ_SECONDS)s)"; \
	  $(B)/fuzz/$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
	    $(B)/fuzz/corpus-$$f fuzz/seeds/$$f >$(B)/fuzz/$$f.log 2>&1 \
	    || { tail -40 $(B)/fuzz/$$f.log; exit 1; }; \
	done

deps:
	sh scripts/deps.sh

deps-bench:
	sh scripts/deps.sh bench

# The tests run the real daemon as root, with real users and processes.
check: deps
	sh scripts/users.sh
	$(MAKE) all unit
	$(MAKE) fuzz-smoke
	/usr/bin/python3 -m pytest -q -x tests/integration --lockerd-build=$(B)

run: deps
	$(MAKE) all
	sh scripts/run-demo.sh $(B)

bench: deps deps-bench
	$(MAKE) all
	sh bench/run.sh $(B)

# HTTP/2 alone (issue 17): lockerd against nginx (+ php-fpm) with h2load.
bench-h2: deps deps-bench
	$(MAKE) all
	/usr/bin/python3 bench/h2.py $(B)

# Issue 18: three nodes in network namespaces behind HAProxy, on this
# machine (bench/fleet.py: requests/s with 1, 2, 3 nodes; the directory).
bench-fleet: deps deps-bench
	$(MAKE) all
	/usr/bin/python3 bench/fleet.py $(B)

# The long figures of issue 13 (an hour; SCALE_PARTS runs a part alone).
bench-scale: deps deps-bench
	$(MAKE) all
	sh bench/scale.sh $(B)

# What entering a locker's sandbox costs, against a plain fork + exec.
$(B)/bench-jail: bench/jail.c $(B)/sandbox.o $(B)/cgroup.o $(B)/landlock.o $(B)/seccomp.o \
		 $(B)/proc.o $(B)/coldstart.o $(B)/become.o $(B)/jail.o $(B)/log.o $(B)/util.o $(B)/config.o $(B)/route.o \
		 $(B)/netns.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)
bench-jail: $(B)/bench-jail
	$(B)/bench-jail

# What starting a program costs from a parent of 8, 64 and 256 MiB: fork +
# exec against posix_spawn (src/pspawn.c, how a worker starts CGI scripts).
$(B)/bench-spawn: bench/spawn.c $(B)/pspawn.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)
bench-spawn: $(B)/bench-spawn
	for m in 8 64 256; do $(B)/bench-spawn $$m; done

# What a signature costs through keyd, against the key in-process.
$(B)/bench-keyd: bench/keyd.c $(B)/keyclient.o $(B)/keyd.o $(B)/keyop.o $(B)/msg.o $(B)/log.o \
		 $(B)/util.o $(B)/become.o $(B)/proc.o $(B)/coldstart.o $(B)/seccomp.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)
bench-keyd: $(B)/bench-keyd
	$(B)/bench-keyd

install: all
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(SYSCONFDIR)
	install -m 0755 $(B)/lockerd $(DESTDIR)$(SBINDIR)/lockerd
	install -m 0755 $(B)/locker $(DESTDIR)$(BINDIR)/locker
	install -m 0755 $(B)/lockerd-sqld $(DESTDIR)$(SBINDIR)/lockerd-sqld
	install -m 0755 $(B)/lockerd-dirsync $(DESTDIR)$(SBINDIR)/lockerd-dirsync
	install -m 0755 $(B)/lockerd-sendmail $(DESTDIR)$(SBINDIR)/lockerd-sendmail
	install -d $(DESTDIR)$(PREFIX)/lib/lockerd
	install -m 0644 $(B)/liblockerd-zygote.so $(DESTDIR)$(PREFIX)/lib/lockerd/liblockerd-zygote.so
	# Where every jail runs it (APP_JAIL_PROG), whatever PREFIX is.
	install -d $(DESTDIR)/usr/lib/lockerd
	install -m 0755 $(B)/lockerd-app $(DESTDIR)/usr/lib/lockerd/lockerd-app
	install -m 0644 etc/lockerd.conf.example $(DESTDIR)$(SYSCONFDIR)/lockerd.conf.example

clean:
	rm -rf build build-san

.PHONY: all unit fuzz fuzz-smoke deps deps-bench check run bench bench-h2 bench-fleet bench-scale bench-jail bench-keyd bench-spawn install clean
