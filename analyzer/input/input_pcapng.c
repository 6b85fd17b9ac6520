// SPDX-License-Identifier: Apache-2.0
/*
 * input_pcapng.c - a bounded pcapng block reader (the pcapng specification, IETF draft
 * draft-ietf-opsawg-pcapng): Section Header Blocks in either byte order (a file may hold several
 * sections, each with its own interfaces), Interface Description Blocks with if_name, if_tsresol
 * and if_tsoffset, Enhanced Packet Blocks with epb_flags (direction) and opt_comment, Simple
 * Packet Blocks, the obsolete Packet Block; every other block is skipped unread.
 *
 * Each packet goes to the decoder with its own interface's link type (libpcap refuses a file
 * whose interfaces differ), the interface's name, the direction and the first comment (and
 * the sender it names, when it is the comment pano-agent writes).
 *
 * Every length is checked through the bounded cursor. A block length that cannot be right
 * (under 12, not a multiple of 4, trailer different from header) ends the read: the frames
 * before it were used, the damage is counted, and the result is INPUT_DAMAGED, as for a file
 * that ends inside a block. A packet or option that does not fit its block, or a packet of an
 * interface never described, is counted and skipped, and reading goes on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "counter.h"
#include "cursor.h"
#include "decode.h"
#include "input_file.h"
#include "log.h"
#include "sender.h"

#define NG_SHB		   0x0a0d0d0au
#define NG_IDB		   1u
#define NG_PB		   2u /* obsolete Packet Block */
#define NG_SPB		   3u
#define NG_EPB		   6u
#define NG_BOM		   0x1a2b3c4du
#define NG_MAX_BLOCK	   (1u << 30)  /* a block length beyond this cannot be right */
#define NG_MAX_READ	   (16u << 20) /* blocks we parse are read whole, up to this */
#define NG_MAX_IFACES	   4096	       /* interfaces per section */
#define NG_IFNAME_MAX	   64
#define NG_OPT_END	   0
#define NG_OPT_COMMENT	   1
#define NG_OPT_IF_NAME	   2
#define NG_OPT_IF_TSRESOL  9
#define NG_OPT_IF_TSOFFSET 14
#define NG_OPT_EPB_FLAGS   2

PANO_COUNTER(c_ng_blocks_skipped, "pcapng_blocks_skipped", "event",
	     "pcapng blocks of other types, skipped (name resolution, statistics, ...)");
PANO_COUNTER(c_ng_too_big, "pcapng_block_too_big", "drop",
	     "pcapng packet or interface blocks over 16 MiB, skipped");
PANO_COUNTER(c_ng_bad_packet, "pcapng_bad_record", "weird",
	     "pcapng packet or interface blocks whose fields do not fit the block, skipped");
PANO_COUNTER(c_ng_bad_option, "pcapng_bad_option", "weird",
	     "pcapng options running past their block (the rest of the options ignored)");
PANO_COUNTER(c_ng_no_iface, "pcapng_unknown_interface", "weird",
	     "pcapng packets of an interface not described in their section, skipped");
PANO_COUNTER(c_ng_ifaces_full, "pcapng_interfaces_over_cap", "drop",
	     "pcapng interfaces beyond 4096 per section (their packets are skipped)");

struct ng_iface {
	int linktype;
	uint32_t snaplen;
	uint8_t tsresol;  /* if_tsresol: 10^-n, or 2^-n with the high bit set; default 6 */
	int64_t tsoffset; /* if_tsoffset, seconds */
	char name[NG_IFNAME_MAX];
};

struct ng_reader {
	struct input_buf *in;
	const char *path;
	const struct input_hooks *h;
	bool be;	 /* the section is big-endian */
	bool in_section; /* an SHB was read */
	struct ng_iface *ifs;
	unsigned nifs;
	unsigned long frames;
	uint64_t last_ts_ns; /* for Simple Packet Blocks, which carry no time */
	char comment[PANO_COMMENT_MAX + 1];
	struct pano_sender sender; /* parsed from comment, pointing into it */
};

static uint16_t ng_u16(const struct ng_reader *r, struct cursor *c)
{
	return r->be ? cur_u16(c) : cur_u16_le(c);
}

static uint32_t ng_u32(const struct ng_reader *r, struct cursor *c)
{
	return r->be ? cur_u32(c) : cur_u32_le(c);
}

/* The 32-bit value at p (4 bytes known to be there), big- or little-endian. */
static uint32_t ng_u32_at(bool be, const uint8_t *p)
{
	struct cursor c = cursor_init(p, 4);
	return be ? cur_u32(&c) : cur_u32_le(&c);
}

/*
 * The next option of the option list in c: 1 with *code, *val and *len set; 0 at the end
 * (opt_endofopt, or no room left for another option header); -1 when the option runs past the
 * block (counted). Values are padded to 4 bytes.
 */
static int ng_opt_next(const struct ng_reader *r, struct cursor *c, uint16_t *code,
		       const uint8_t **val, uint16_t *len)
{
	if (cur_left(c) < 4)
		return 0;
	*code = ng_u16(r, c);
	*len = ng_u16(r, c);
	if (*code == NG_OPT_END)
		return 0;
	*val = cur_take(c, *len);
	cur_skip(c, (4 - (*len & 3)) & 3);
	if (!*val) {
		counter_inc(&c_ng_bad_option);
		return -1;
	}
	return 1;
}

/* A new section: byte order from its byte-order magic, no interfaces yet. -1 when the
 * version is not 1.x (counted and reported by the caller as corrupt). */
static int ng_section(struct ng_reader *r, struct cursor *c)
{
	uint16_t major = ng_u16(r, c);

	cur_skip(c, 2 + 8); /* minor version, section length */
	r->nifs = 0;
	r->in_section = true;
	return c->err || major != 1 ? -1 : 0;
}

static void ng_interface(struct ng_reader *r, struct cursor *c)
{
	struct ng_iface ifc = {.tsresol = 6};
	const uint8_t *v;
	uint16_t code, len;

	ifc.linktype = ng_u16(r, c);
	cur_skip(c, 2);
	ifc.snaplen = ng_u32(r, c);
	if (c->err) {
		/* Kept in its place (interfaces are numbered by order), its packets unusable. */
		counter_inc(&c_ng_bad_packet);
		ifc.linktype = -1;
	}
	while (ng_opt_next(r, c, &code, &v, &len) > 0) {
		struct cursor o = cursor_init(v, len);

		if (code == NG_OPT_IF_NAME) {
			size_t n = len < NG_IFNAME_MAX - 1 ? len : NG_IFNAME_MAX - 1;
			memcpy(ifc.name, v, n);
			ifc.name[n] = '\0';
		} else if (code == NG_OPT_IF_TSRESOL && len >= 1) {
			ifc.tsresol = v[0];
		} else if (code == NG_OPT_IF_TSOFFSET && len >= 8) {
			/* a 64-bit value in the section's byte order: two halves, high first in
			 * big-endian */
			uint64_t first = ng_u32(r, &o), second = ng_u32(r, &o);
			ifc.tsoffset =
			    (int64_t)(r->be ? first << 32 | second : second << 32 | first);
		}
	}
	if (r->nifs == NG_MAX_IFACES) {
		counter_inc(&c_ng_ifaces_full);
		return;
	}
	if (!(r->nifs & (r->nifs - 1))) { /* 0, 1, 2, 4...: grow to the next power of two */
		struct ng_iface *n = realloc(r->ifs, sizeof(*n) * (r->nifs ? 2 * r->nifs : 1));
		if (!n) {
			counter_inc(&c_ng_ifaces_full);
			return;
		}
		r->ifs = n;
	}
	r->ifs[r->nifs++] = ifc;
}

/* Time in ns since the epoch from a timestamp in the interface's units, if_tsoffset added
 * (kept within 0..UINT64_MAX). */
static uint64_t ng_time_ns(const struct ng_iface *ifc, uint64_t ts)
{
	__int128 ns = ts; /* 2^64 units * 10^9 stays far below 2^127 */
	unsigned n = ifc->tsresol & 0x7f;

	if (ifc->tsresol & 0x80) {
		ns = n < 64 ? (ns * 1000000000) >> n : 0;
	} else if (n <= 9) {
		for (unsigned i = n; i < 9; i++)
			ns *= 10;
	} else {
		for (unsigned i = 9; i < n && ns; i++)
			ns /= 10;
	}
	ns += (__int128)ifc->tsoffset * 1000000000;
	return ns < 0 ? 0 : ns > (__int128)UINT64_MAX ? UINT64_MAX : (uint64_t)ns;
}

/* Reads the options of a packet block: direction from the flags, the first comment. */
static void ng_packet_options(struct ng_reader *r, struct cursor *c, struct pano_frame *f)
{
	const uint8_t *v;
	uint16_t code, len;

	while (ng_opt_next(r, c, &code, &v, &len) > 0) {
		if (code == NG_OPT_EPB_FLAGS && len >= 4) {
			uint32_t flags = ng_u32_at(r->be, v);
			f->meta.dir = (flags & 3) == 1 ? 0 : (flags & 3) == 2 ? 1 : -1;
		} else if (code == NG_OPT_COMMENT && !f->meta.comment) {
			size_t n = len < PANO_COMMENT_MAX ? len : PANO_COMMENT_MAX;
			memcpy(r->comment, v, n);
			r->comment[n] = '\0';
			f->meta.comment = r->comment;
			/* pano-agent's sender comment ("cgroup=N pid=N pod=NS/POD ...") */
			if (!sender_parse_comment(r->comment, n, &r->sender))
				f->meta.sender = &r->sender;
		}
	}
}

/*
 * Decodes the packet of an EPB, SPB or PB whose body (after the 8-byte block header, without
 * the trailing length) is in c. A packet that does not fit, or of an unknown interface, is
 * counted and skipped.
 */
static void ng_packet(struct ng_reader *r, uint32_t type, struct cursor *c)
{
	struct pano_frame f = {.src = input_file_source(), .meta = {.dir = -1}};
	uint32_t ifid = 0, caplen, len;
	uint64_t ts = 0;

	if (type == NG_SPB) {
		len = ng_u32(r, c);
		caplen = len;
		if (r->nifs && r->ifs[0].snaplen && caplen > r->ifs[0].snaplen)
			caplen = r->ifs[0].snaplen;
		if (caplen > cur_left(c))
			caplen = (uint32_t)cur_left(c);
	} else {
		if (type == NG_PB) {
			ifid = ng_u16(r, c);
			cur_skip(c, 2); /* drops count */
		} else {
			ifid = ng_u32(r, c);
		}
		uint64_t hi = ng_u32(r, c);
		ts = hi << 32 | ng_u32(r, c);
		caplen = ng_u32(r, c);
		len = ng_u32(r, c);
	}
	f.data = cur_take(c, caplen);
	cur_skip(c, (4 - (caplen & 3)) & 3);
	if (c->err || !f.data) {
		counter_inc(&c_ng_bad_packet);
		return;
	}
	if (ifid >= r->nifs) {
		counter_inc(&c_ng_no_iface);
		return;
	}
	const struct ng_iface *ifc = &r->ifs[ifid];
	f.ts_ns = type == NG_SPB ? r->last_ts_ns : ng_time_ns(ifc, ts);
	r->last_ts_ns = f.ts_ns;
	f.caplen = caplen;
	f.len = len; /* below caplen: counted and raised by the decoder */
	f.linktype = ifc->linktype;
	f.meta.iface = ifc->name[0] ? ifc->name : NULL;
	if (type != NG_SPB)
		ng_packet_options(r, c, &f);
	decode_frame(r->h->eng, &f);
	if (++r->frames % INPUT_POLL_EVERY == 0 && r->h->poll)
		r->h->poll(r->h->arg);
}

/*
 * Reads one block and handles it. 1 for the next block, 0 at a clean end of input, -EBADMSG
 * when the file is damaged, -EIO on a read error (all reported). The block is parsed where it
 * lies in the input buffer.
 */
static int ng_block(struct ng_reader *r)
{
	const uint8_t *hdr, *body;
	size_t have = 0, hlen = 8;
	char why[160];

	hdr = input_buf_peek(r->in, 8, &have);
	if (!hdr) {
		if (!have && !r->in->err)
			return 0;
		goto short_read;
	}
	uint32_t type = ng_u32_at(r->be, hdr);
	if (type == NG_SHB) {
		/* The byte-order magic after the length says how to read the length. */
		hdr = input_buf_peek(r->in, 12, &have);
		if (!hdr)
			goto short_read;
		hlen = 12;
		if (ng_u32_at(true, hdr + 8) == NG_BOM) {
			r->be = true;
		} else if (ng_u32_at(false, hdr + 8) == NG_BOM) {
			r->be = false;
		} else {
			snprintf(why, sizeof(why), "section header with a bad byte-order magic");
			goto corrupt;
		}
	} else if (!r->in_section) {
		snprintf(why, sizeof(why), "block type %#x before any section header", type);
		goto corrupt;
	}
	uint32_t tlen = ng_u32_at(r->be, hdr + 4);
	if (tlen < hlen + 4 || tlen % 4 || tlen > NG_MAX_BLOCK) {
		snprintf(why, sizeof(why), "block type %#x with length %u", type, tlen);
		goto corrupt;
	}
	size_t rest = tlen - hlen; /* the body after the header, and the trailing length */
	bool parse =
	    type == NG_SHB || type == NG_IDB || type == NG_EPB || type == NG_SPB || type == NG_PB;
	if (!parse || rest > NG_MAX_READ) {
		if (parse)
			counter_inc(&c_ng_too_big);
		else
			counter_inc(&c_ng_blocks_skipped);
		input_buf_take(r->in, hlen);
		if (input_buf_skip(r->in, rest - 4) || !(body = input_buf_peek(r->in, 4, &have)))
			goto short_read;
		if (ng_u32_at(r->be, body) != tlen)
			goto bad_trailer;
		input_buf_take(r->in, 4);
		return 1;
	}
	hdr = input_buf_peek(r->in, tlen, &have);
	if (!hdr)
		goto short_read;
	body = hdr + hlen;
	if (ng_u32_at(r->be, body + rest - 4) != tlen)
		goto bad_trailer;
	struct cursor c = cursor_init(body, rest - 4);
	switch (type) {
	case NG_SHB:
		if (ng_section(r, &c)) {
			snprintf(why, sizeof(why), "section header of an unsupported version");
			goto corrupt;
		}
		break;
	case NG_IDB:
		ng_interface(r, &c);
		break;
	default:
		ng_packet(r, type, &c);
		break;
	}
	input_buf_take(r->in, tlen);
	return 1;
bad_trailer:
	snprintf(why, sizeof(why), "block type %#x whose trailing length is not %u", type, tlen);
corrupt:
	input_file_damaged(r->path, INPUT_CORRUPT, r->frames, why);
	return -EBADMSG;
short_read:
	if (r->in->err)
		return input_file_read_error(r->path, r->in->err);
	input_file_damaged(r->path, INPUT_TRUNCATED, r->frames, "the file ends inside a block");
	return -EBADMSG;
}

int input_pcapng_read(struct input_buf *in, const char *path, const struct input_hooks *h)
{
	struct ng_reader r = {.in = in, .path = path, .h = h};
	int rc;

	pr_info("reading %s (pcapng)", path);
	while (!*h->stop && (rc = ng_block(&r)) == 1)
		;
	if (*h->stop)
		rc = 0;
	else if (rc == -EBADMSG)
		rc = INPUT_DAMAGED;
	free(r.ifs);
	return rc;
}
