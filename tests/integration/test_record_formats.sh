#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# test_record_formats.sh: --format protobuf gives the same records as JSON (every log: the
# message is the one of the JSON record's _path). Every
# length-prefixed record in the file is decoded by Google's protoc against
# proto/pano_record.proto (an independent decoder) and compared field by field with the JSON
# record written for the same capture, in the same order: every field of each, _path included
# (uid too: both runs get one --uid-seed, so that they give the same uids).
. "$(dirname "$0")/../lib/lib.sh"
need_cmd record_formats protoc python3
AN=$PANO_BUILD/pano-analyzer
cat >"$T_TMP/cmp.py" <<'PY'
import json, struct, subprocess, sys
pb, js, protodir = sys.argv[1:4]
data = open(pb, "rb").read()
recs, off = [], 0
while off < len(data):
    (n,) = struct.unpack(">I", data[off:off + 4])
    recs.append(data[off + 4:off + 4 + n])
    off += 4 + n
assert off == len(data), "trailing bytes after the last record"
jrecs = [json.loads(l) for l in open(js)]
assert len(recs) == len(jrecs), f"{len(recs)} protobuf records, {len(jrecs)} JSON records"
# each log's message, and the JSON names whose protobuf field is named otherwise
message = {"dns": "pano.v1.DnsRecord", "ssl": "pano.v1.SslRecord", "http": "pano.v1.HttpRecord"}
renames = {"dns": {"query_size": "query_len", "reply_size": "reply_len"}}
for i, (raw, j) in enumerate(zip(recs, jrecs)):
    rename = dict(renames.get(j["_path"], {}), _path="path")
    text = subprocess.run(["protoc", f"--proto_path={protodir}", f"--decode={message[j['_path']]}",
                           "pano_record.proto"], input=raw, capture_output=True, check=True).stdout
    fields = {}
    for line in text.decode().splitlines():
        k, _, v = line.partition(": ")
        fields.setdefault(k.strip(), []).append(v.strip())
    # every field of one is in the other (both writers come from one field table)
    extra = set(fields) - {rename.get(k, k) for k in j}
    assert not extra, f"record {i}: protobuf only: {sorted(extra)}"
    for k, v in j.items():
        k2 = rename.get(k, k)
        got = fields.get(k2)
        if isinstance(v, list):
            want = [json.dumps(x) if isinstance(x, str) else x for x in v]
            got = got or []
            if k2 == "TTLs":
                got, want = [float(x) for x in got], [float(x) for x in v]
            ok = got == want
        elif isinstance(v, bool):
            ok = got == [str(v).lower()]
        elif isinstance(v, str):
            ok = got == [json.dumps(v)]
        else:
            ok = got is not None and abs(float(got[0]) - float(v)) <= 1e-6 * max(1.0, abs(float(v)))
        assert ok, f"record {i}: {k}: protobuf {got} vs JSON {v!r}"
print(f"{len(recs)} records")
PY
for cap in zeek/Traces/wikipedia.pcap zeek/Traces/dns-edns-ecs.pcap zeek/Traces/dnssec/rrsig.pcap; do
	name=record_formats_$(basename "$cap" .pcap)
	"$AN" --uid-seed 1 --read "$PANO_CORPUS/$cap" --node n1 >"$T_TMP/r.json" 2>/dev/null &&
		"$AN" --uid-seed 1 --read "$PANO_CORPUS/$cap" --node n1 --format protobuf \
			-o "$T_TMP/r.pb" 2>/dev/null ||
		{ fail "$name: analyzer failed"; continue; }
	if out=$(python3 "$T_TMP/cmp.py" "$T_TMP/r.pb" "$T_TMP/r.json" "$PANO_ROOT/proto" 2>&1); then
		pass "$name: $out"
	else
		fail "$name: $(tail -n 3 <<<"$out")"
	fi
done
t_done
