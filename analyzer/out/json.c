// SPDX-License-Identifier: Apache-2.0
/*
 * json.c - the JSON value writers (see json.h): string escaping, with an eight-bytes-at-a-time
 * scan for the common plain-ASCII run, and the exact-append fallbacks for a record near its
 * buffer's cap.
 */
#include <stdio.h>

#include "json.h"

/* Length of a valid UTF-8 sequence at s (n bytes left), or 0 if invalid. */
static size_t json_utf8_len(const unsigned char *s, size_t n)
{
	size_t k;
	uint32_t cp;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		k = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		k = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		k = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;
	}
	if (k > n)
		return 0;
	for (size_t i = 1; i < k; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return k;
}

/* Bytes that are not plain printable ASCII to copy as they are. */
static const uint8_t json_special[256] = {
    [0 ... 0x1f] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x7f ... 0xff] = 1,
};

/* json_str by exact appends: the path of a record close to the buffer's max. */
static void json_str_slow(struct wbuf *b, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, run = 0;

	wbuf_put(b, "\"", 1);
	while (i < n) {
		unsigned char ch = s[i];
		if (!json_special[ch]) { /* plain ASCII: the common case, one table look-up */
			i++;
			run++;
			continue;
		}
		size_t k = json_utf8_len(s + i, n - i);
		if (k && ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f) {
			i += k;
			run += k;
			continue;
		}
		wbuf_put(b, str + i - run, run);
		run = 0;
		char e[8];
		if (ch == '"' || ch == '\\') {
			e[0] = '\\';
			e[1] = (char)ch;
			wbuf_put(b, e, 2);
		} else if (k) { /* control character or DEL */
			snprintf(e, sizeof(e), "\\u%04x", ch);
			wbuf_put(b, e, 6);
		} else { /* not UTF-8: the text \xNN, as Zeek shows it */
			e[0] = '\\';
			e[1] = '\\';
			e[2] = 'x';
			e[3] = hex[ch >> 4];
			e[4] = hex[ch & 15];
			wbuf_put(b, e, 5);
		}
		i++;
	}
	wbuf_put(b, str + i - run, run);
	wbuf_put(b, "\"", 1);
}

/*
 * Writes str as a JSON string (quotes included) at q, which must have room for 6 * n + 2
 * bytes (an escaped byte takes at most 6: "\u00XX"); returns the end. No bounds check per
 * byte: the caller reserved the worst case.
 */
char *json_str_to(char *q, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	*q++ = '"';
	while (i < n) {
		unsigned char ch;
		if (n - i >= 8) { /* eight plain bytes at a time */
			uint64_t x;
			memcpy(&x, s + i, 8);
			if (!json_special8(x)) {
				memcpy(q, &x, 8);
				q += 8;
				i += 8;
				continue;
			}
		}
		ch = s[i];
		if (!json_special[ch]) {
			*q++ = (char)ch;
			i++;
			continue;
		}
		size_t k = json_utf8_len(s + i, n - i);
		if (k && ch >= 0x20 && ch != '"' && ch != '\\' && ch != 0x7f) {
			memcpy(q, s + i, k);
			q += k;
			i += k;
			continue;
		}
		*q++ = '\\';
		if (ch == '"' || ch == '\\') {
			*q++ = (char)ch;
		} else if (k) { /* control character or DEL */
			memcpy(q, "u00", 3);
			q[3] = hex[ch >> 4];
			q[4] = hex[ch & 15];
			q += 5;
		} else { /* not UTF-8: the text \xNN, as Zeek shows it */
			q[0] = '\\';
			q[1] = 'x';
			q[2] = hex[ch >> 4];
			q[3] = hex[ch & 15];
			q += 4;
		}
		i++;
	}
	*q++ = '"';
	return q;
}

/* Appends str as a JSON string: in place after reserving the worst case, else (a record close
 * to the buffer's max) by exact appends. */
void json_str(struct wbuf *b, const char *str, size_t n)
{
	char *q = wbuf_room(b, 6 * n + 2);

	if (!q) {
		json_str_slow(b, str, n);
		return;
	}
	wbuf_done(b, json_str_to(q, str, n));
}

void json_uint(struct wbuf *b, uint64_t v)
{
	char n[24];
	char *p = wbuf_room(b, 20);
	if (p) {
		wbuf_done(b, json_utoa(p, v));
		return;
	}
	wbuf_put(b, n, (size_t)(json_utoa(n, v) - n));
}

void json_secs(struct wbuf *b, uint64_t ns)
{
	char t[32];
	char *p = wbuf_room(b, 27);

	if (p) {
		wbuf_done(b, json_secs_to(p, ns));
		return;
	}
	wbuf_put(b, t, (size_t)(json_secs_to(t, ns) - t));
}

void json_raw(struct wbuf *b, const char *v, size_t n)
{
	char *p = wbuf_room(b, n + 2);

	if (!p) {
		json_str(b, v, n);
		return;
	}
	p[0] = '"';
	memcpy(p + 1, v, n);
	p[n + 1] = '"';
	wbuf_done(b, p + n + 2);
}
