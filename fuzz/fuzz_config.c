/* fuzz_config.c: the configuration parser against arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"

/* What `lockerd -t -v` prints of a configuration is a file that gives it
 * back, byte for byte. */
static void
round_trip(const struct config *c)
{
	static struct config	back;
	char			err[512], *text = config_text(c);

	if (text == NULL)
		return;
	if (config_parse(&back, c->path, text, strlen(text), err, sizeof(err)) != 0 ||
	    memcmp(c, &back, sizeof(back)) != 0)
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config	c;
	char			err[512];

	if (size > 65536)
		return 0;
	if (config_parse(&c, "fuzz.conf", (const char *)data, size, err, sizeof(err)) == 0) {
		/* A parsed configuration must hold only terminated strings. */
		if (memchr(c.domain, '\0', sizeof(c.domain)) == NULL ||
		    memchr(c.lockers, '\0', sizeof(c.lockers)) == NULL ||
		    c.nlisten > CONF_MAX_LISTEN || c.nstatic_ext > CONF_MAX_EXT ||
		    c.nindex > CONF_MAX_INDEX || c.uid_low > c.uid_high)
			abort();
		config_validate(&c, err, sizeof(err));
		round_trip(&c);
	} else if (strncmp(err, "fuzz.conf:", 10) != 0)
		abort();	/* every error names the file */
	return 0;
}
