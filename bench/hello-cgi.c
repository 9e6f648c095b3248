/*
 * hello-cgi: the smallest useful compiled CGI program, for the "C CGI"
 * case of bench/run.sh.  The same binary runs under Apache + suexec (as the
 * bench user) and under lockerd (as a locker's hello.cgi), so the figures
 * compare only what each server costs around one fork + exec.
 */
#include <unistd.h>

int
main(void)
{
	static const char out[] = "Content-Type: text/plain\r\n\r\nhello\n";

	return write(1, out, sizeof(out) - 1) == (ssize_t)(sizeof(out) - 1) ? 0 : 1;
}
