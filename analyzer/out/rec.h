/* SPDX-License-Identifier: Apache-2.0 */
/*
 * rec.h - log records as data: one field table per record type drives both writers.
 *
 * A protocol lists its record's fields once, as an X-macro of rows
 *
 *     X(TYPE, name, "zeek.name", pb_number)
 *
 * in the order of Zeek's log (then PANO's own fields), and gets from it, with the macros below:
 *   - the record struct (REC_STRUCT): a member per field plus a has_<name> flag (unset fields
 *     are left out of the JSON, as Zeek's JSON writer does, and unset in protobuf); REC_CLEAR
 *     unsets them all (cheaper than a memset of the whole struct, on the hot path);
 *   - the JSON writer (REC_JSON_FN): {"_path":"<path>","ts":...} with either spelling of the
 *     names (id_orig_h, or Zeek's dotted id.orig_h with --zeek-names);
 *   - the protobuf writer (REC_PB_FN): the pano.v1 message of proto/pano_record.proto with
 *     those field numbers, and the log path in field REC_PB_PATH of every record message.
 * The writers are generated code, a straight line of field writes (no table walk at run time);
 * the JSON writer reserves the record's worst case once and writes in place.
 *
 * TYPE is one of
 *   TIME, INTERVAL   uint64_t nanoseconds -> seconds with six decimals / protobuf double
 *   COUNT            uint64_t -> number / varint
 *   BOOL             bool -> true/false / varint
 *   STR              struct rec_str -> escaped string / string
 *   RAW              struct rec_str that needs no escaping (addresses, uids, names from
 *                    tables) -> string copied between quotes / string
 *   STRV             struct rec_strv: strings packed NUL-terminated one after the other ->
 *                    array of escaped strings / repeated string
 *   SECV             struct rec_secv: uint32_t seconds -> array of "N.0" / repeated double
 *
 * A protocol hands finished records to a struct rec_emit (the transaction code knows nothing of
 * formats, sinks or summaries); the out stage (records.h) encodes and ships them.
 */
#ifndef PANO_REC_H
#define PANO_REC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "json.h"
#include "wbuf.h"

struct rec_str {
	const char *p; /* not NUL-terminated necessarily */
	size_t len;
};

struct rec_strv {
	const char *p; /* n strings, each followed by a NUL */
	size_t len;    /* bytes at p */
	unsigned n;
};

struct rec_secv {
	const void *v; /* n uint32_t (host order, any alignment) */
	unsigned n;
};

#define REC_CT_TIME	uint64_t
#define REC_CT_INTERVAL uint64_t
#define REC_CT_COUNT	uint64_t
#define REC_CT_BOOL	bool
#define REC_CT_STR	struct rec_str
#define REC_CT_RAW	struct rec_str
#define REC_CT_STRV	struct rec_strv
#define REC_CT_SECV	struct rec_secv

/* A literal as a struct rec_str. */
#define REC_LIT(s) ((struct rec_str){(s), sizeof(s) - 1})
static inline struct rec_str rec_str(const char *p, size_t len)
{
	return (struct rec_str){p, len};
}
static inline struct rec_str rec_cstr(const char *s)
{
	return (struct rec_str){s, strlen(s)};
}

/* Sets field f of record r to v (and marks it present). */
#define REC_SET(r, f, v) ((r)->f = (v), (r)->has_##f = true)

/* Rows every connection log starts with (Zeek's ts, uid and conn id), and the rows that say
 * who sent each side's frames (the agent's node, then the Kubernetes namespace, pod,
 * container, process id and name of the client's and of the server's socket). A table lists
 * them with REC_ID_FIELDS(X) and REC_WHO_FIELDS(X). */
#define REC_ID_FIELDS(X)                                                                           \
	X(TIME, ts, "ts", 1)                                                                       \
	X(RAW, uid, "uid", 2)                                                                      \
	X(RAW, id_orig_h, "id.orig_h", 3)                                                          \
	X(COUNT, id_orig_p, "id.orig_p", 4)                                                        \
	X(RAW, id_resp_h, "id.resp_h", 5)                                                          \
	X(COUNT, id_resp_p, "id.resp_p", 6)
#define REC_WHO_FIELDS(X)                                                                          \
	X(STR, orig_k8s_namespace, "orig_k8s_namespace", 62)                                       \
	X(STR, orig_k8s_pod, "orig_k8s_pod", 63)                                                   \
	X(STR, orig_container, "orig_container", 64)                                               \
	X(COUNT, orig_pid, "orig_pid", 65)                                                         \
	X(STR, orig_comm, "orig_comm", 66)                                                         \
	X(STR, resp_k8s_namespace, "resp_k8s_namespace", 67)                                       \
	X(STR, resp_k8s_pod, "resp_k8s_pod", 68)                                                   \
	X(STR, resp_container, "resp_container", 69)                                               \
	X(COUNT, resp_pid, "resp_pid", 70)                                                         \
	X(STR, resp_comm, "resp_comm", 71)

/* ---- the record struct --------------------------------------------------------------- */
/* The presence flags first, together, then the values: REC_CLEAR resets a record by clearing
 * the flags alone (a few wide stores), leaving the values as they were (unread while unset). */
#define REC_HAS(T, name, zname, num)	bool has_##name;
#define REC_MEMBER(T, name, zname, num) REC_CT_##T name;
#define REC_STRUCT(FIELDS)		FIELDS(REC_HAS) FIELDS(REC_MEMBER)
#define REC_UNSET(T, name, zname, num)	(r_)->has_##name = false;
/* Marks every field of record r (a table FIELDS struct) unset. */
#define REC_CLEAR(r, FIELDS)                                                                       \
	do {                                                                                       \
		__typeof__(r) r_ = (r);                                                            \
		FIELDS(REC_UNSET)                                                                  \
	} while (0)

/* ---- JSON ---------------------------------------------------------------------------- */
static inline void rec_json_TIME(struct wbuf *b, const uint64_t *v)
{
	json_secs(b, *v);
}
static inline void rec_json_INTERVAL(struct wbuf *b, const uint64_t *v)
{
	json_secs(b, *v);
}
static inline void rec_json_COUNT(struct wbuf *b, const uint64_t *v)
{
	json_uint(b, *v);
}
static inline void rec_json_BOOL(struct wbuf *b, const bool *v)
{
	if (*v)
		wbuf_put(b, "true", 4);
	else
		wbuf_put(b, "false", 5);
}
static inline void rec_json_STR(struct wbuf *b, const struct rec_str *v)
{
	json_str(b, v->p, v->len);
}
static inline void rec_json_RAW(struct wbuf *b, const struct rec_str *v)
{
	json_raw(b, v->p, v->len);
}
void rec_json_STRV(struct wbuf *b, const struct rec_strv *v);
void rec_json_SECV(struct wbuf *b, const struct rec_secv *v);

#define REC_JSON_KEY(b, k) wbuf_put((b), k, sizeof(k) - 1)
#define REC_JSON_FIELD(T, name, zname, num)                                                        \
	if (r->has_##name) {                                                                       \
		if (dotted)                                                                        \
			REC_JSON_KEY(b, ",\"" zname "\":");                                        \
		else                                                                               \
			REC_JSON_KEY(b, ",\"" #name "\":");                                        \
		rec_json_##T(b, &r->name);                                                         \
	}

/*
 * The fast path: the record's worst case is reserved once (wbuf_room) and every field written
 * in place, with no check per field. The worst case is a constant (every key, and the longest
 * text of each fixed-size value) plus, for each string or array set, its bytes escaped (6 per
 * byte at most) with quotes and commas. A record whose worst case does not fit under the
 * buffer's cap takes the exact path (appends checked one by one), so it is cut exactly where
 * it would be anyway.
 */
#define REC_JFIX_TIME	  27 /* "18446744073.709551" seconds with six decimals */
#define REC_JFIX_INTERVAL 27
#define REC_JFIX_COUNT	  20
#define REC_JFIX_BOOL	  5
#define REC_JFIX_STR	  2 /* the quotes */
#define REC_JFIX_RAW	  2
#define REC_JFIX_STRV	  2 /* the brackets */
#define REC_JFIX_SECV	  2
static inline size_t rec_jvar_TIME(const uint64_t *v)
{
	(void)v;
	return 0;
}
#define rec_jvar_INTERVAL rec_jvar_TIME
#define rec_jvar_COUNT	  rec_jvar_TIME
static inline size_t rec_jvar_BOOL(const bool *v)
{
	(void)v;
	return 0;
}
static inline size_t rec_jvar_STR(const struct rec_str *v)
{
	return 6 * v->len;
}
static inline size_t rec_jvar_RAW(const struct rec_str *v)
{
	return v->len;
}
static inline size_t rec_jvar_STRV(const struct rec_strv *v)
{
	return 6 * v->len + 3 * (size_t)v->n; /* each string: its quotes and a comma */
}
static inline size_t rec_jvar_SECV(const struct rec_secv *v)
{
	return 13 * (size_t)v->n; /* ",4294967295.0" */
}

/* Out of line, so that the generated writer stays small (one copy per field would not). */
char *rec_jto_secs(char *p, uint64_t ns);
char *rec_jto_uint(char *p, uint64_t v);
static inline __attribute__((always_inline)) char *rec_jto_TIME(char *p, const uint64_t *v)
{
	return rec_jto_secs(p, *v);
}
#define rec_jto_INTERVAL rec_jto_TIME
static inline __attribute__((always_inline)) char *rec_jto_COUNT(char *p, const uint64_t *v)
{
	if (*v < 10) { /* flags, codes, classes: most numbers of a record */
		*p = (char)('0' + *v);
		return p + 1;
	}
	return rec_jto_uint(p, *v);
}
static inline __attribute__((always_inline)) char *rec_jto_BOOL(char *p, const bool *v)
{
	return json_bool_to(p, *v);
}
static inline char *rec_jto_STR(char *p, const struct rec_str *v)
{
	return json_str_to(p, v->p, v->len);
}
/* Copies n bytes from s to d: short ones (addresses, uids, names from tables) without a call,
 * as two overlapping words. */
static inline __attribute__((always_inline)) void rec_copy(char *d, const char *s, size_t n)
{
	if (n >= 8 && n <= 16) {
		memcpy(d, s, 8);
		memcpy(d + n - 8, s + n - 8, 8);
	} else if (n >= 4 && n < 8) {
		memcpy(d, s, 4);
		memcpy(d + n - 4, s + n - 4, 4);
	} else {
		memcpy(d, s, n);
	}
}
static inline __attribute__((always_inline)) char *rec_jto_RAW(char *p, const struct rec_str *v)
{
	*p = '"';
	rec_copy(p + 1, v->p, v->len);
	p[v->len + 1] = '"';
	return p + v->len + 2;
}
char *rec_jto_STRV(char *p, const struct rec_strv *v);
char *rec_jto_SECV(char *p, const struct rec_secv *v);

/* The longer spelling of a key, as ,"key": */
#define REC_JKEYLEN(name, zname)                                                                   \
	((sizeof(zname) > sizeof(#name) ? sizeof(zname) : sizeof(#name)) - 1 + 4)
#define REC_JSON_FIX(T, name, zname, num) +REC_JKEYLEN(name, zname) + REC_JFIX_##T
#define REC_JSON_VAR(T, name, zname, num) +(r->has_##name ? rec_jvar_##T(&r->name) : 0)
/* Whether a field's two spellings are the same (a constant: the key needs no branch). */
#define REC_JSAME(name, zname)                                                                     \
	(sizeof(zname) == sizeof(#name) && __builtin_memcmp(zname, #name, sizeof(zname)) == 0)
#define REC_JSON_PUT(T, name, zname, num)                                                          \
	if (r->has_##name) {                                                                       \
		if (REC_JSAME(name, zname) || !dotted)                                             \
			JSON_LIT(p, ",\"" #name "\":");                                            \
		else                                                                               \
			JSON_LIT(p, ",\"" zname "\":");                                            \
		p = rec_jto_##T(p, &r->name);                                                      \
	}

/* Defines void fn(const void *rec, int dotted, struct wbuf *b): the record as one JSON object
 * (no newline) in b, which is reset first. (Used as `static REC_JSON_FN(...)`: the static
 * applies to the first declaration; the exact path is a cold function of its own, so that the
 * hot one stays small.) */
#define REC_JSON_FN(fn, rtype, path, FIELDS)                                                       \
	void fn(const void *rec, int dotted, struct wbuf *b);                                      \
	static __attribute__((cold, noinline)) void fn##_exact(const rtype *r, int dotted,         \
							       struct wbuf *b)                     \
	{                                                                                          \
		REC_JSON_KEY(b, "{\"_path\":\"" path "\"");                                        \
		FIELDS(REC_JSON_FIELD)                                                             \
		wbuf_put(b, "}", 1);                                                               \
	}                                                                                          \
	void fn(const void *rec, int dotted, struct wbuf *b)                                       \
	{                                                                                          \
		const rtype *r = rec;                                                              \
		size_t worst =                                                                     \
		    sizeof("{\"_path\":\"" path "\"}") FIELDS(REC_JSON_FIX) FIELDS(REC_JSON_VAR);  \
		wbuf_reset(b);                                                                     \
		char *p = wbuf_room(b, worst);                                                     \
		if (!p) {                                                                          \
			fn##_exact(r, dotted, b);                                                  \
			return;                                                                    \
		}                                                                                  \
		JSON_LIT(p, "{\"_path\":\"" path "\"");                                            \
		FIELDS(REC_JSON_PUT)                                                               \
		*p++ = '}';                                                                        \
		wbuf_done(b, p);                                                                   \
	}

/* ---- protobuf (proto2 wire format, fields unpacked as protoc-c writes proto2) ---------- */
#define REC_PB_PATH 100 /* string field every record message has: its log path */

void rec_pb_varint(struct wbuf *b, uint64_t v);
void rec_pb_bytes(struct wbuf *b, unsigned num, const char *p, size_t len);
void rec_pb_double(struct wbuf *b, unsigned num, double v);
static inline void rec_pb_uint(struct wbuf *b, unsigned num, uint64_t v)
{
	rec_pb_varint(b, (uint64_t)num << 3);
	rec_pb_varint(b, v);
}
static inline void rec_pb_TIME(struct wbuf *b, unsigned num, const uint64_t *v)
{
	rec_pb_double(b, num, (double)(*v / 1000) / 1e6);
}
static inline void rec_pb_INTERVAL(struct wbuf *b, unsigned num, const uint64_t *v)
{
	rec_pb_double(b, num, (double)(*v / 1000) / 1e6);
}
static inline void rec_pb_COUNT(struct wbuf *b, unsigned num, const uint64_t *v)
{
	rec_pb_uint(b, num, *v);
}
static inline void rec_pb_BOOL(struct wbuf *b, unsigned num, const bool *v)
{
	rec_pb_uint(b, num, *v);
}
static inline void rec_pb_STR(struct wbuf *b, unsigned num, const struct rec_str *v)
{
	rec_pb_bytes(b, num, v->p, v->len);
}
static inline void rec_pb_RAW(struct wbuf *b, unsigned num, const struct rec_str *v)
{
	rec_pb_bytes(b, num, v->p, v->len);
}
void rec_pb_STRV(struct wbuf *b, unsigned num, const struct rec_strv *v);
void rec_pb_SECV(struct wbuf *b, unsigned num, const struct rec_secv *v);

#define REC_PB_FIELD(T, name, zname, num)                                                          \
	if (r->has_##name)                                                                         \
		rec_pb_##T(b, num, &r->name);

/* Defines void fn(const void *rec, struct wbuf *b): the record as a packed protobuf message in
 * b (reset first). */
#define REC_PB_FN(fn, rtype, path, FIELDS)                                                         \
	void fn(const void *rec, struct wbuf *b)                                                   \
	{                                                                                          \
		const rtype *r = rec;                                                              \
		wbuf_reset(b);                                                                     \
		FIELDS(REC_PB_FIELD)                                                               \
		rec_pb_bytes(b, REC_PB_PATH, path, sizeof(path) - 1);                              \
	}

/* ---- record types and where records go ---------------------------------------------- */
struct rec_type {
	const char *path; /* "dns", "ssl", "http": _path, the Kafka topic pano-<path>, summaries;
			   * NULL for an event only summaries see (no JSON, no protobuf) */
	void (*json)(const void *rec, int dotted, struct wbuf *b);
	void (*pb)(const void *rec, struct wbuf *b);
	size_t key_off; /* offset of the struct rec_str the Kafka key is (the client address) */
};

/* Defines const struct rec_type var for record struct rtype with field table FIELDS: its two
 * writers, its log path, and its Kafka key, the client address (every table starts with
 * REC_ID_FIELDS). One line in the record's .c file. */
#define REC_TYPE(var, rtype, path_, FIELDS)                                                        \
	static REC_JSON_FN(var##_json, rtype, path_, FIELDS)                                       \
	static REC_PB_FN(var##_pb, rtype, path_, FIELDS)                                           \
	const struct rec_type var = {                                                              \
	    .path = path_,                                                                         \
	    .json = var##_json,                                                                    \
	    .pb = var##_pb,                                                                        \
	    .key_off = offsetof(rtype, id_orig_h),                                                 \
	};

/* Where a protocol hands its finished records (and summary-only events). */
struct rec_emit {
	void (*fn)(void *arg, const struct rec_type *t, const void *rec);
	void *arg;
};

static inline void rec_emit(const struct rec_emit *e, const struct rec_type *t, const void *rec)
{
	e->fn(e->arg, t, rec);
}

#endif
