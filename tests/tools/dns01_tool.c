/*
 * dns01_tool: dns01.c's functions from the command line, for the
 * integration tests (tests/integration/test_dns01.py) against a real knotd.
 *
 *   dns01-tool CONF add|delete NAME TXT	one update, as the ACME client sends it
 *   dns01-tool CONF visible NAME TXT MS	waits until the zone's server has it
 *   dns01-tool CONF resolves NAME		resolves_here()
 *
 * The secret is opened here as the master would open it for the ACME
 * client, and given to dns01_conf_init() as a descriptor.  Exit 0 on
 * success (for resolves and visible: yes), 1 on no, 2 on an error, with
 * the error on stderr.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lockerd.h"
#include "dnsupdate.h"
#include "dns01.h"

static int
usage(void)
{
	fprintf(stderr, "usage: dns01-tool CONF add|delete NAME TXT | visible NAME TXT MS | "
	    "resolves NAME\n");
	return 2;
}

static int
update(const struct config *c, char **argv, int argc)
{
	struct dnsupdate_conf	dc;
	char			err[512];
	int			fd, rc;

	if ((fd = open(c->acme_dns.secret_file, O_RDONLY | O_CLOEXEC)) == -1) {
		perror(c->acme_dns.secret_file);
		return 2;
	}
	rc = dns01_conf_init(&dc, c, fd, err, sizeof(err));
	close(fd);
	if (rc == 0 && strcmp(argv[2], "visible") == 0) {
		if (argc != 6)
			return usage();
		rc = dns01_visible(&dc, argv[3], argv[4], (uint32_t)atoi(argv[5]), err,
		    sizeof(err));
		if (rc == 0)
			fprintf(stderr, "not there\n");
		return rc == 1 ? 0 : rc == 0 ? 1 : (fprintf(stderr, "%s\n", err), 2);
	}
	if (rc == 0)
		rc = dns01_update(&dc, argv[3], argv[4], strcmp(argv[2], "add") == 0, err,
		    sizeof(err));
	if (rc == -1) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct config	c;
	char		err[512];
	int		rc;

	log_init("dns01-tool", 0);
	if (argc < 4)
		return usage();
	if (config_load(&c, argv[1], err, sizeof(err)) == -1) {
		fprintf(stderr, "%s\n", err);
		return 2;
	}
	if (strcmp(argv[2], "resolves") == 0) {
		rc = resolves_here(argv[3], &c, err, sizeof(err));
		if (rc != 1)
			fprintf(stderr, "%s\n", err);
		return rc == 1 ? 0 : rc == 0 ? 1 : 2;
	}
	if (argc < 5 || (strcmp(argv[2], "add") != 0 && strcmp(argv[2], "delete") != 0 &&
	    strcmp(argv[2], "visible") != 0))
		return usage();
	return update(&c, argv, argc);
}
