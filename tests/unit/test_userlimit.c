/* test_userlimit.c: the token bucket of a login user's changes. */
#include <sys/types.h>

#include <stdint.h>

#include "lockerd.h"
#include "master.h"
#include "unit.h"

int
main(void)
{
	uint32_t	retry = 0;
	uint64_t	t = 1000000;
	int		i;

	/* burst 5, 6 a minute: five at once, then one every 10 s */
	for (i = 0; i < 5; i++)
		CHECK_INT(userlimit_take(1000, t, 6, 5, &retry), 0);
	CHECK_INT(userlimit_take(1000, t, 6, 5, &retry), -1);
	CHECK_INT(retry, 10);
	CHECK_INT(userlimit_take(1000, t + 5000, 6, 5, &retry), -1);
	CHECK_INT(retry, 5);
	CHECK_INT(userlimit_take(1000, t + 10000, 6, 5, &retry), 0);
	CHECK_INT(userlimit_take(1000, t + 10000, 6, 5, &retry), -1);
	/* another uid has a bucket of its own */
	CHECK_INT(userlimit_take(1001, t + 10000, 6, 5, &retry), 0);
	/* a long rest fills the bucket up to the burst, not beyond */
	for (i = 0; i < 5; i++)
		CHECK_INT(userlimit_take(1000, t + 3600000, 6, 5, &retry), 0);
	CHECK_INT(userlimit_take(1000, t + 3600000, 6, 5, &retry), -1);
	/* rate 0: no limit */
	for (i = 0; i < 100; i++)
		CHECK_INT(userlimit_take(1002, t, 0, 1, &retry), 0);
	/* more users than slots: each still gets its burst */
	for (i = 0; i < 3000; i++)
		CHECK_INT(userlimit_take(20000 + i, t + 3600000, 6, 2, &retry), 0);
	UNIT_DONE();
}
