#!/usr/bin/python3
"""Writes an HAProxy 2.6 `mode http` configuration doing what a graph's
http links ask of pv-xconnect, so that the http scenarios can be run
against a reference proxy (PVX_HTTP_PROXY=haproxy).

    graph2haproxy.py GRAPH.json > haproxy.cfg

Links of type http sharing an address and port are one frontend; each rule
(the link's "ingress" name) is one backend, its links the servers. Routing
is the longest prefix on a segment boundary (`path /api` or `path_beg
/api/`), rules tried longest first; the prefix is stripped in the backend
(`/api` -> `/`, `/api/x` -> `/x`, the query kept, as replace-path leaves
it). No match: a 404 with a short body. X-Forwarded-For (option forwardfor),
-Proto and -Host are set. Per-rule timeouts map to HAProxy's: connect_ms to
`timeout connect`, response_ms to `timeout server`, head_ms to `timeout
http-request`, idle_ms to `timeout http-keep-alive`; maxconn to the
servers' maxconn; check to `check` (and `option httpchk` for an http one).
"""

import json
import re
import sys

graph = json.load(open(sys.argv[1]))
fronts = {}
for link in graph:
    if link.get("type") != "http":
        continue
    target = link["target"]
    slash = target.find("/")
    addr, prefix = (target, "/") if slash < 0 else (target[:slash], target[slash:])
    if len(prefix) > 1:
        prefix = prefix.rstrip("/")
    rules = fronts.setdefault(addr, {})
    rule = rules.setdefault(link["ingress"], {"prefix": prefix, "links": []})
    rule["links"].append(link)


def ms(v):
    return "%dms" % int(v)


out = ["global", "\tnbthread 1", "\tmaxconn 8000", "",
       "defaults", "\tmode http", "\toption forwardfor", "\tretries 1",
       "\toption redispatch",
       "\ttimeout connect 5s", "\ttimeout client 60s", "\ttimeout server 60s",
       "\ttimeout http-request 10s", "\ttimeout http-keep-alive 10s",
       "\ttimeout tunnel 60s", ""]
for fi, (addr, rules) in enumerate(sorted(fronts.items())):
    first = [r["links"][0] for r in rules.values()]
    out += ["frontend f%d" % fi, "\tbind %s" % addr,
            "\thttp-request set-header X-Forwarded-Proto http",
            "\thttp-request set-header X-Forwarded-Host %[req.hdr(host)]"]
    for key, name in (("head_ms", "http-request"), ("idle_ms", "http-keep-alive")):
        vals = [l["timeouts"][key] for l in first if key in l.get("timeouts", {})]
        if vals:
            out.append("\ttimeout %s %s" % (name, ms(max(vals))))
    ordered = sorted(rules.items(), key=lambda kv: -len(kv[1]["prefix"]))
    default = None
    acls = []
    for ri, (name, rule) in enumerate(ordered):
        p = rule["prefix"]
        if p == "/":
            default = "b%d_%d" % (fi, ri)
            continue
        acl = "r%d" % ri
        acls.append(acl)
        out += ["\tacl %s path %s" % (acl, p), "\tacl %s path_beg %s/" % (acl, p),
                "\tuse_backend b%d_%d if %s" % (fi, ri, acl)]
    if default:
        out.append("\tdefault_backend %s" % default)
    else:
        cond = " ".join("!" + a for a in acls)
        out.append('\thttp-request return status 404 content-type text/plain '
                   'string "no route\\n" if %s' % cond if cond else
                   '\thttp-request return status 404 content-type text/plain string "no route\\n"')
    out.append("")
    for ri, (name, rule) in enumerate(ordered):
        p = rule["prefix"]
        l0 = rule["links"][0]
        out += ["backend b%d_%d" % (fi, ri), "\t# rule %s, prefix %s" % (name, p),
                "\tbalance %s" % l0.get("balance", "roundrobin")]
        if p != "/":
            q = re.escape(p)
            out += ["\thttp-request replace-path ^%s$ /" % q,
                    "\thttp-request replace-path ^%s/(.*) /\\1" % q]
        t = l0.get("timeouts", {})
        if "connect_ms" in t:
            out.append("\ttimeout connect %s" % ms(t["connect_ms"]))
        if "response_ms" in t:
            out.append("\ttimeout server %s" % ms(t["response_ms"]))
        chk = l0.get("check")
        srv_opts = ""
        if chk:
            if chk.get("type") == "http":
                out.append("\toption httpchk GET %s" % chk.get("path", "/"))
                if "expect" in chk:
                    out.append("\thttp-check expect status %d" % chk["expect"])
            srv_opts += " check inter %d rise %d fall %d" % (
                chk.get("interval_ms", 2000), chk.get("rise", 1), chk.get("fall", 1))
        if "maxconn" in l0:
            srv_opts += " maxconn %d" % l0["maxconn"]
        for si, link in enumerate(rule["links"]):
            out.append("\tserver s%d %s%s" % (si, link["socket"], srv_opts))
        out.append("")
print("\n".join(out))
