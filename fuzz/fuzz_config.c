/* fuzz_config.c: the configuration parser against arbitrary bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lockerd.h"

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
	} else if (strncmp(err, "fuzz.conf:", 10) != 0)
		abort();	/* every error names the file */
	return 0;
}
