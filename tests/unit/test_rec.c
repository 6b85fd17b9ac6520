// SPDX-License-Identifier: Apache-2.0
/*
 * test_rec.c - the record machinery (analyzer/out/rec.h): for every record type, the field
 * table agrees with its protobuf message (each field's name and number, checked through
 * protoc-c's descriptors), the JSON writer leaves unset fields out, escapes strings, writes
 * arrays and Zeek's dotted names, and the protobuf writer's bytes unpack with protobuf-c to the
 * same values. Also the writer buffer under them (lib/wbuf.h): printf growth, the cap, the
 * sticky cut, the NUL.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dns_rec.h"
#include "http_rec.h"
#include "pano_record.pb-c.h"
#include "rec.h"
#include "ssl_rec.h"

/* One row of a field table, as data: what the X-macro lists. */
struct t_field {
	const char *name, *zname;
	unsigned num;
};
#define T_ROW(T, name, zname, num) {#name, zname, num},
static const struct t_field t_ssl[] = {SSL_REC_FIELDS(T_ROW)};
static const struct t_field t_http[] = {HTTP_REC_FIELDS(T_ROW)};
static const struct t_field t_dns[] = {DNS_REC_FIELDS(T_ROW)};

/* The protobuf names that differ from the JSON ones. */
static const char *const t_renames[][2] = {DNS_REC_PB_RENAMES};

static const char *t_pb_name(const char *name)
{
	for (size_t i = 0; i < sizeof(t_renames) / sizeof(t_renames[0]); i++)
		if (strcmp(t_renames[i][0], name) == 0)
			return t_renames[i][1];
	return name;
}

/* Every table row is a field of the message with that name and number, and the message has
 * no field the table lacks (but path, REC_PB_PATH). */
static void t_table_vs_proto(const struct t_field *f, size_t n, const ProtobufCMessageDescriptor *d)
{
	for (size_t i = 0; i < n; i++) {
		const ProtobufCFieldDescriptor *fd =
		    protobuf_c_message_descriptor_get_field_by_name(d, t_pb_name(f[i].name));
		CHECK(fd != NULL);
		if (!fd) {
			printf("  %s: no field %s\n", d->name, f[i].name);
			continue;
		}
		CHECK_EQ_INT(fd->id, f[i].num);
	}
	CHECK_EQ_INT(d->n_fields, n + 1);
	const ProtobufCFieldDescriptor *p = protobuf_c_message_descriptor_get_field(d, REC_PB_PATH);
	CHECK(p && strcmp(p->name, "path") == 0);
}

static void test_tables(void)
{
	t_table_vs_proto(t_ssl, sizeof(t_ssl) / sizeof(t_ssl[0]),
			 &pano__v1__ssl_record__descriptor);
	t_table_vs_proto(t_http, sizeof(t_http) / sizeof(t_http[0]),
			 &pano__v1__http_record__descriptor);
	t_table_vs_proto(t_dns, sizeof(t_dns) / sizeof(t_dns[0]),
			 &pano__v1__dns_record__descriptor);
}

static void t_fill(struct ssl_rec *r)
{
	static const char fps[] = "aa11\0bb22\0";
	memset(r, 0, sizeof(*r));
	REC_SET(r, ts, 1700000000123456789ull);
	REC_SET(r, uid, REC_LIT("CabcDEF123"));
	REC_SET(r, id_orig_h, REC_LIT("198.18.0.1"));
	REC_SET(r, id_orig_p, 40000);
	REC_SET(r, id_resp_h, REC_LIT("198.18.0.2"));
	REC_SET(r, id_resp_p, 443);
	REC_SET(r, server_name, REC_LIT("a\"b\\c\x01.example"));
	REC_SET(r, established, true);
	REC_SET(r, resumed, false);
	REC_SET(r, cert_chain_fps, ((struct rec_strv){fps, sizeof(fps) - 1, 2}));
}

static void test_json(void)
{
	struct ssl_rec r;
	struct wbuf b = WBUF_INIT(0);

	t_fill(&r);
	ssl_rec_type.json(&r, 0, &b);
	CHECK(!b.cut);
	CHECK(strncmp(b.p, "{\"_path\":\"ssl\",\"ts\":1700000000.123456,", 38) == 0);
	cJSON *j = cJSON_Parse(b.p);
	CHECK(j != NULL);
	if (j) {
		CHECK_EQ_STR(cJSON_GetObjectItem(j, "server_name")->valuestring,
			     "a\"b\\c\x01.example");
		CHECK_EQ_INT(cJSON_GetObjectItem(j, "id_resp_p")->valueint, 443);
		CHECK(cJSON_IsTrue(cJSON_GetObjectItem(j, "established")));
		CHECK(cJSON_IsFalse(cJSON_GetObjectItem(j, "resumed")));
		CHECK(cJSON_GetObjectItem(j, "version") == NULL); /* unset: left out */
		cJSON *fp = cJSON_GetObjectItem(j, "cert_chain_fps");
		CHECK(cJSON_GetArraySize(fp) == 2);
		CHECK_EQ_STR(cJSON_GetArrayItem(fp, 1)->valuestring, "bb22");
		cJSON_Delete(j);
	}
	ssl_rec_type.json(&r, 1, &b);
	CHECK(strstr(b.p, "\"id.orig_h\":\"198.18.0.1\"") != NULL);
	CHECK(strstr(b.p, "id_orig_h") == NULL);
	wbuf_free(&b);
}

static void test_protobuf(void)
{
	struct ssl_rec r;
	struct wbuf b = WBUF_INIT(0);

	t_fill(&r);
	ssl_rec_type.pb(&r, &b);
	CHECK(!b.cut);
	Pano__V1__SslRecord *m = pano__v1__ssl_record__unpack(NULL, b.len, (const uint8_t *)b.p);
	CHECK(m != NULL);
	if (m) {
		CHECK(m->has_ts && m->ts > 1700000000.123456 - 1e-6 && m->ts < 1700000000.123457);
		CHECK_EQ_STR(m->uid, "CabcDEF123");
		CHECK(m->has_id_resp_p && m->id_resp_p == 443);
		CHECK_EQ_STR(m->server_name, "a\"b\\c\x01.example");
		CHECK(m->has_established && m->established);
		CHECK(m->has_resumed && !m->resumed);
		CHECK(m->version == NULL);
		CHECK_EQ_INT(m->n_cert_chain_fps, 2);
		if (m->n_cert_chain_fps == 2)
			CHECK_EQ_STR(m->cert_chain_fps[0], "aa11");
		CHECK_EQ_STR(m->path, "ssl");
		pano__v1__ssl_record__free_unpacked(m, NULL);
	}
	wbuf_free(&b);
}

/* A record larger than its buffer's cap: cut, not half written. */
static void test_cap(void)
{
	struct http_rec r;
	struct wbuf b = WBUF_INIT(4096);
	char *big = malloc(10000);

	memset(&r, 0, sizeof(r));
	memset(big, 'x', 10000);
	REC_SET(&r, uri, rec_str(big, 10000));
	http_rec_type.json(&r, 0, &b);
	CHECK(b.cut);
	REC_SET(&r, uri, rec_str(big, 100));
	http_rec_type.json(&r, 0, &b);
	CHECK(!b.cut && strstr(b.p, "\"_path\":\"http\"") != NULL);
	free(big);
	wbuf_free(&b);
}

/* The buffer holds exactly its text: len bytes, then the NUL. */
static void t_wbuf_text(const struct wbuf *b, size_t len)
{
	CHECK_EQ_INT(b->len, len);
	CHECK(b->p != NULL && b->len < b->cap && b->cap <= b->max);
	if (b->p)
		CHECK_EQ_INT(strlen(b->p), len);
}

static void test_wbuf_printf(void)
{
	struct wbuf b = WBUF_INIT(1024);

	/* the first append allocates, even an empty one */
	wbuf_printf(&b, "%s", "");
	t_wbuf_text(&b, 0);
	/* in the room already there */
	wbuf_put(&b, "a=", 2);
	wbuf_printf(&b, "%u;%s", 17u, "x");
	t_wbuf_text(&b, 6);
	CHECK_EQ_STR(b.p, "a=17;x");
	/* longer than the first allocation: grows, both arguments formatted again */
	wbuf_printf(&b, "%s%0600d", "<", 42);
	t_wbuf_text(&b, 607);
	CHECK(!b.cut && b.cap > 512);
	CHECK(strncmp(b.p, "a=17;x<000", 10) == 0 && strcmp(b.p + 604, "042") == 0);
	/* past max: dropped whole, cut, and the text before it still ends at its NUL */
	wbuf_printf(&b, "%0500d", 1);
	CHECK(b.cut);
	t_wbuf_text(&b, 607);
	CHECK_EQ_INT(b.p[606], '2');
	/* cut is sticky: later appends that would fit are dropped too */
	wbuf_printf(&b, "y");
	wbuf_put(&b, "z", 1);
	CHECK(b.cut);
	t_wbuf_text(&b, 607);
	/* reset: the same memory, writable up to max - 1 bytes exactly */
	wbuf_reset(&b);
	CHECK(!b.cut);
	wbuf_printf(&b, "%01023d", 0);
	CHECK(!b.cut);
	t_wbuf_text(&b, 1023);
	wbuf_printf(&b, "%s", "");
	CHECK(!b.cut);
	wbuf_printf(&b, "!");
	CHECK(b.cut);
	t_wbuf_text(&b, 1023);
	wbuf_free(&b);

	/* one output larger than max from an empty buffer */
	b = (struct wbuf)WBUF_INIT(100);
	wbuf_printf(&b, "%0200d", 3);
	CHECK(b.cut && b.len == 0);
	CHECK(b.p == NULL || b.p[0] == '\0');
	wbuf_free(&b);
}

int main(void)
{
	TEST_CASE("rec_tables_match_proto", test_tables);
	TEST_CASE("rec_json", test_json);
	TEST_CASE("rec_protobuf", test_protobuf);
	TEST_CASE("rec_cap", test_cap);
	TEST_CASE("wbuf_printf", test_wbuf_printf);
	return check_total_failed ? 1 : 0;
}
