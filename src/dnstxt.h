#ifndef DNSTXT_H
#define DNSTXT_H

/* 1: the answer section holds a TXT record one of whose strings is token;
 * 0: it does not; -1: the message does not parse. */
int	dns_txt_answer_has(const unsigned char *ans, int len, const char *token);

#endif
