#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""l7_live_check.py - the oracle side of test_l7_live.sh: ssl.log and http.log records against
what the clients reported and what tshark decoded from a tcpdump capture of the same run.

usage: l7_live_check.py fields      (tshark's -e options for TSHARK_TSV)
       l7_live_check.py oracle EXPECT TSHARK_TSV
       l7_live_check.py records LABEL EXPECT TSHARK_TSV RECORDS_JSONL

EXPECT is JSON lines written by the test, one per TLS connection ({"kind":"ssl","case":...,
"port": client port, "version": "TLSv12", "cipher": IANA name, "server_name", "next_protocol",
"cert_chain_fps": [...] or null, "client_cert_chain_fps", "sni_matches_cert", "curve",
"ja4_group"}) and one per HTTP transaction ({"kind":"http","case","port","trans_depth",
"method","host","uri","version","status_code","request_body_len","response_body_len"}).
A key left out (or null where a value is optional) is not compared; a list value of [] means
the record must not carry the field (nothing of it was visible on the wire).

TSHARK_TSV: `tshark -Y tls.handshake -T fields -E occurrence=a` with the fields of TSHARK_FIELDS
below, one line per frame holding handshake messages.

`oracle` checks that tshark saw on the wire what the clients reported (the expectations are
right); `records` checks the analyzer's records against the expectations, and each record's ja4
against JA4 computed from tshark's decode of the ClientHello (FoxIO's definition). Prints one
PASS/FAIL line per case; exit 0 always (the shell test counts the FAIL lines).

ja4() below was checked against FoxIO's own values for every TCP ClientHello of
../shared/corpus/ja4 (144 hellos, all equal), decoded by tshark 4.0 as here.
"""
import collections
import hashlib
import json
import subprocess
import sys

TSHARK_FIELDS = ["tcp.srcport", "tcp.dstport", "tls.handshake.type",
                 "tls.handshake.extensions_server_name", "tls.handshake.ciphersuite",
                 "tls.handshake.extension.type", "tls.handshake.extensions_alpn_str",
                 "tls.handshake.extensions.supported_version", "tls.handshake.version",
                 "tls.handshake.certificate", "tls.handshake.sig_hash_alg",
                 "tls.handshake.sig_hash_alg_len"]
# Extensions whose body is a list of signature algorithms (tshark's sig_hash_alg fields hold
# all of them in extension order): signature_algorithms, delegated_credentials,
# signature_algorithms_cert. JA4 takes the first one's only.
SIGALG_EXTS = (13, 34, 50)

SERVER_PORT = 443  # every TLS server of the test listens there
GREASE = {0x0a0a + 0x1010 * i for i in range(16)}
VERSIONS = {0x0304: "TLSv13", 0x0303: "TLSv12", 0x0302: "TLSv11", 0x0301: "TLSv10"}
JA4_VER = {0x0304: "13", 0x0303: "12", 0x0302: "11", 0x0301: "10", 0x0300: "s3"}


def ints(s):
    return [int(x, 0) for x in s.split(",") if x] if s else []


def sigalgs(exts, algs, lens):
    """The signature_algorithms extension's list out of tshark's list of every such list."""
    at = 0
    for e, n in zip((e for e in exts if e in SIGALG_EXTS), lens):
        if e == 13:
            return algs[at:at + n // 2]
        at += n // 2
    return []


def wire(path):
    """Per client port: what the hellos and certificate messages said (tshark's decode)."""
    conns = collections.defaultdict(dict)
    for line in open(path):
        v = dict(zip(TSHARK_FIELDS, line.rstrip("\n").split("\t")))
        types = ints(v.get("tls.handshake.type", ""))
        sport, dport = int(v["tcp.srcport"]), int(v["tcp.dstport"])
        # the first ClientHello of a connection (a HelloRetryRequest brings a second)
        if 1 in types and "ciphers" not in conns[sport]:
            c = conns[sport]
            c["sni"] = v["tls.handshake.extensions_server_name"] or None
            c["ciphers"] = ints(v["tls.handshake.ciphersuite"])
            c["exts"] = ints(v["tls.handshake.extension.type"])
            c["alpn"] = [a for a in v["tls.handshake.extensions_alpn_str"].split(",") if a]
            c["versions"] = ints(v["tls.handshake.extensions.supported_version"])
            c["hello_version"] = ints(v["tls.handshake.version"])[:1]
            c["sigalgs"] = sigalgs(c["exts"], ints(v["tls.handshake.sig_hash_alg"]),
                                   ints(v["tls.handshake.sig_hash_alg_len"]))
        if 2 in types:
            c = conns[dport]
            c["cipher"] = ints(v["tls.handshake.ciphersuite"])[0]
            sv = ints(v["tls.handshake.extensions.supported_version"])
            c["version"] = VERSIONS.get(sv[0] if sv else ints(v["tls.handshake.version"])[0])
            alpn = [a for a in v["tls.handshake.extensions_alpn_str"].split(",") if a]
            c["next_protocol"] = alpn[0] if alpn else None
        if 11 in types:
            fps = [hashlib.sha256(bytes.fromhex(h)).hexdigest()
                   for h in v["tls.handshake.certificate"].split(",") if h]
            if sport == SERVER_PORT:
                conns[dport]["cert_chain_fps"] = fps
            else:
                conns[sport]["client_cert_chain_fps"] = fps
    return conns


def ja4(c):
    """JA4 (FoxIO) of a ClientHello as tshark decoded it."""
    vers = [x for x in c["versions"] if x not in GREASE] or c["hello_version"]
    ver = JA4_VER.get(max(vers), "00")
    ciphers = [x for x in c["ciphers"] if x not in GREASE]
    exts = [x for x in c["exts"] if x not in GREASE]
    alpn = c["alpn"][0] if c["alpn"] else ""
    if not alpn:
        a = "00"
    elif alpn[0].isascii() and alpn[0].isalnum() and alpn[-1].isascii() and alpn[-1].isalnum():
        a = alpn[0] + alpn[-1]
    else:
        h = alpn.encode().hex()
        a = h[0] + h[-1]
    part_a = "t%s%s%02d%02d%s" % (ver, "d" if c["sni"] else "i", min(len(ciphers), 99),
                                 min(len(exts), 99), a)

    def h12(s):
        return hashlib.sha256(s.encode()).hexdigest()[:12] if s else "000000000000"
    part_b = h12(",".join("%04x" % x for x in sorted(ciphers)))
    ext_c = ",".join("%04x" % x for x in sorted(x for x in exts if x not in (0, 0x10)))
    sig = ",".join("%04x" % x for x in c["sigalgs"])
    part_c = h12(ext_c + ("_" + sig if sig else ""))
    return "_".join((part_a, part_b, part_c))


def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]


def same(want, got):
    if want == []:
        return got in (None, [])
    return want == got


def iana_names():
    """Cipher suite code -> IANA name, from OpenSSL's table (`openssl ciphers -V -stdname`)."""
    out = subprocess.run(["openssl", "ciphers", "-V", "-stdname", "ALL:COMPLEMENTOFALL"],
                         capture_output=True, text=True, check=True).stdout
    names = {}
    for line in out.splitlines():
        f = line.split()  # 0xC0,0x2F - TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 - ECDHE-RSA-...
        if len(f) > 2 and f[0].startswith("0x"):
            hi, lo = f[0].split(",")
            names[int(hi, 16) << 8 | int(lo, 16)] = f[2]
    return names


def oracle(expect, conns):
    iana = iana_names()
    names = {"server_name": "sni", "cipher": "cipher_name", "version": "version",
             "next_protocol": "next_protocol", "cert_chain_fps": "cert_chain_fps",
             "client_cert_chain_fps": "client_cert_chain_fps"}
    for e in expect:
        if e["kind"] != "ssl":
            continue
        c = conns.get(e["port"])
        if not c or "cipher" not in c:
            print("FAIL l7_live_oracle_%s: tshark saw no hellos from port %d" % (e["case"], e["port"]))
            continue
        c["cipher_name"] = iana.get(c["cipher"])
        bad = []
        for k, tk in names.items():
            if k in e and e[k] is not None and not same(e[k], c.get(tk)):
                bad.append("%s: clients say %r, tshark %r" % (k, e[k], c.get(tk)))
        if bad:
            print("FAIL l7_live_oracle_%s: %s" % (e["case"], "; ".join(bad)))
        else:
            print("PASS l7_live_oracle_%s (tshark agrees with the client)" % e["case"])


def records(label, expect, conns, recs):
    ssl = [r for r in recs if r.get("_path") == "ssl"]
    http = [r for r in recs if r.get("_path") == "http"]
    groups = collections.defaultdict(set)
    seen = set()
    for e in expect:
        name = "l7_live_%s_%s_%s" % (label, e["kind"], e["case"])
        if e["kind"] == "ssl":
            got = [r for r in ssl if r.get("id_orig_p") == e["port"]]
        else:
            got = [r for r in http if r.get("id_orig_p") == e["port"] and
                   r.get("trans_depth") == e["trans_depth"]]
        if len(got) != 1:
            print("FAIL %s: %d %s records from client port %d%s" % (
                name, len(got), e["kind"], e["port"],
                "" if e["kind"] == "ssl" else " with trans_depth %d" % e["trans_depth"]))
            continue
        r = got[0]
        seen.add(id(r))
        bad, checked = [], []
        for k, want in e.items():
            if k in ("kind", "case", "port", "ja4_group") or want is None:
                continue
            checked.append(k)
            if not same(want, r.get(k)):
                bad.append("%s %r, want %r" % (k, r.get(k), want))
        if e["kind"] == "ssl":
            checked.append("ja4")
            c = conns.get(e["port"])
            want = ja4(c) if c and "ciphers" in c else None
            if want is None:
                bad.append("ja4: tshark saw no ClientHello")
            elif r.get("ja4") != want:
                bad.append("ja4 %r, want %r (JA4 of tshark's decode)" % (r.get("ja4"), want))
            if e.get("ja4_group"):
                groups[e["ja4_group"]].add(r.get("ja4"))
        if bad:
            print("FAIL %s: %s" % (name, "; ".join(bad)))
        else:
            print("PASS %s (%s)" % (name, " ".join(checked)))
    for g, v in sorted(groups.items()):
        if len(v) == 1 and None not in v:
            print("PASS l7_live_%s_ja4_same_client_%s (%s)" % (label, g, v.pop()))
        else:
            print("FAIL l7_live_%s_ja4_same_client_%s: %r" % (label, g, sorted(map(str, v))))
    extra = [r for r in ssl + http if id(r) not in seen]
    if extra:
        print("FAIL l7_live_%s_no_other_records: %d more: %s" % (
            label, len(extra), json.dumps(extra[0])[:300]))
    else:
        print("PASS l7_live_%s_no_other_records (%d ssl, %d http)" % (label, len(ssl), len(http)))


def main():
    if sys.argv[1] == "fields":
        print(" ".join("-e " + f for f in TSHARK_FIELDS))
    elif sys.argv[1] == "oracle":
        oracle(load(sys.argv[2]), wire(sys.argv[3]))
    elif sys.argv[1] == "records":
        records(sys.argv[2], load(sys.argv[3]), wire(sys.argv[4]), load(sys.argv[5]))
    else:
        sys.exit("usage: see the docstring")


if __name__ == "__main__":
    main()
