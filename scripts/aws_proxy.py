"""Loopback HTTP proxy in front of moto that adds latency, injects AWS faults, can cut a client off at the
k-th request, pages like AWS where moto does not, and keeps a timeline of requests for counting rounds.

envctl's own copy of the team's proxy (../shared/tools/aws_proxy.py), extended for scripts/bench-rounds.sh:
request start/end times, AWS-style paging and AWS's 10-service limit on DescribeServices.

  python aws_proxy.py --listen PORT --upstream http://127.0.0.1:MOTO [--latency-ms 50] \
      [--page-size 10] [--throttle 0.3] [--error5xx 0.05] [--seed 1] [--log FILE]

Features:

* Faults are answered in the wire format of the service's protocol, so the SDK can parse and classify them
  (the service is read from the SigV4 credential scope):
    awsJson (X-Amz-Target: ECS, ECR, Logs, SSM, ...)  400 {"__type":"ThrottlingException"} / 503 ServiceUnavailableException
    restJson1 (scheduler)                              429 x-amzn-ErrorType: ThrottlingException / 503 ServiceUnavailableException
    awsQuery (iam, sts, elasticloadbalancing, ...)     400 <ErrorResponse> Code Throttling / 503 ServiceUnavailable
    ec2Query (ec2)                                     503 <Response><Errors> RequestLimitExceeded / 503 Unavailable
    restXml (s3)                                       503 SlowDown / 503 ServiceUnavailable

* A kill switch, driven over a control path that envctl never uses:
    POST /__proxy/arm     {"kill_at": K, "pid_file": F}  count requests from 0; forward the K-th request to
                         the upstream, read its reply, then SIGKILL the pid in F (only if its cmdline names
                         envctl) and never answer it. Requests that arrive after the K-th are held and never
                         forwarded, so the upstream sees exactly the first K requests.
    POST /__proxy/arm     {"kill_op": OP, "kill_what": W, "kill_nth": N, "pid_file": F}  the same, but the cut is
                         the N-th request (default 1st) whose operation is OP (and whose resource, as in
                         "reqs" below, is W when W is given), whatever its position.
    POST /__proxy/disarm  {}  count from 0, no kill.
    GET  /__proxy/state   {"count", "killed", "cut_op", "cut_what", "killed_pid", "ops": [...],
                          "reqs": [[op, what], ...], "faults", "timeline": [...]}.

* A timeline: one entry per forwarded request, in arrival order, {"op", "what", "method", "start_ms", "end_ms",
  "status", "max_results", "items"}: start is when the request arrived, end when its reply was sent (latency
  included). A request that started after another ended may have waited for it: scripts/bench-rounds.sh counts
  rounds as the longest such chain.

* Paging as AWS does it, where moto returns everything in one reply: ECS ListServices and Scheduler
  ListSchedules answer at most maxResults (else --page-size, AWS's default 10) items with a nextToken.
  DescribeServices with more than 10 services is refused with InvalidParameterException, as on AWS.
"""
import argparse, http.client, json, os, random, re, signal, threading, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlparse, parse_qs, urlencode

PAGE_TOKEN = "proxy-page-"
DESCRIBE_SERVICES_MAX = 10


def paged_op(op, method, path):
    """'ListServices' / 'ListSchedules' when this request is one the proxy pages, else None."""
    if op == "ListServices":
        return op
    if method == "GET" and path.split("?")[0] == "/schedules":
        return "ListSchedules"
    return None


def page_request(kind, body, path):
    """(body, path, offset, size) with maxResults/nextToken taken out, so moto sees a plain list call."""
    if kind == "ListServices":
        j = json.loads(body or b"{}")
        size = j.pop("maxResults", None)
        token = j.pop("nextToken", None)
        body = json.dumps(j).encode()
    else:
        base, _, query = path.partition("?")
        q = parse_qs(query)
        size = (q.pop("MaxResults", [None])[0])
        token = (q.pop("NextToken", [None])[0])
        path = base + ("?" + urlencode(q, doseq=True) if q else "")
    offset = int(token[len(PAGE_TOKEN):]) if token and token.startswith(PAGE_TOKEN) else 0
    return body, path, offset, (int(size) if size else None)


def page_reply(kind, payload, offset, size):
    """The page [offset, offset+size) of moto's full list, with a nextToken when more remain."""
    j = json.loads(payload or b"{}")
    key, token_key = ("serviceArns", "nextToken") if kind == "ListServices" else ("Schedules", "NextToken")
    items = j.get(key) or []
    j[key] = items[offset:offset + size]
    j.pop(token_key, None)
    if offset + size < len(items):
        j[token_key] = f"{PAGE_TOKEN}{offset + size}"
    return json.dumps(j).encode(), len(j[key])

QUERY_XML_NS = "https://example.invalid/doc/"


def service_of(headers):
    auth = headers.get("Authorization") or ""
    m = re.search(r"Credential=[^/]+/\d+/[^/]+/([^/]+)/aws4_request", auth)
    return m.group(1) if m else ""


def describe(op, body, path):
    """A short 'what' for a request: the resource it names."""
    what = ""
    try:
        if body[:1] == b"{":
            j = json.loads(body)
            for k in ("serviceName", "service", "family", "taskDefinition", "logGroupName", "repositoryName",
                      "Name", "name", "Names", "names", "Path", "resourceArn", "ResourceArn", "services"):
                if k in j:
                    v = j[k]
                    what = f"{k}={v if not isinstance(v, list) else ','.join(map(str, v))}"
                    break
        elif b"Action=" in body:
            q = parse_qs(body.decode("utf-8", "replace"))
            for k in ("Name", "Names.member.1", "RoleName", "TargetGroupArn", "TargetGroupArns.member.1", "RuleArn",
                      "ListenerArn", "ResourceArns.member.1", "LoadBalancerArn", "Priority"):
                if k in q:
                    v = q[k][0]
                    what = f"{k}={v.rsplit('/', 2)[-2] if v.startswith('arn:') and v.count('/') >= 2 else v}"
                    break
        else:
            what = path.split("?")[0]
    except Exception:
        pass
    return what[:120]


def fault(service, target, kind):
    """(status, headers, body) of an injected throttle or 503 for this service's protocol."""
    if target:
        code = "ThrottlingException" if kind == "throttle" else "ServiceUnavailableException"
        body = json.dumps({"__type": code, "message": "injected by bench proxy"}).encode()
        return (400 if kind == "throttle" else 503), {"Content-Type": "application/x-amz-json-1.1"}, body
    if service == "scheduler":
        code = "ThrottlingException" if kind == "throttle" else "ServiceUnavailableException"
        return ((429 if kind == "throttle" else 503),
                {"Content-Type": "application/json", "x-amzn-ErrorType": code},
                json.dumps({"Message": "injected by bench proxy"}).encode())
    if service == "ec2":
        code = "RequestLimitExceeded" if kind == "throttle" else "Unavailable"
        body = (f'<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>{code}</Code>'
                f'<Message>injected by bench proxy</Message></Error></Errors><RequestID>bench</RequestID></Response>')
        return 503, {"Content-Type": "text/xml;charset=UTF-8"}, body.encode()
    if service == "s3":
        code = "SlowDown" if kind == "throttle" else "ServiceUnavailable"
        body = f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code><Message>injected</Message></Error>'
        return 503, {"Content-Type": "application/xml"}, body.encode()
    # awsQuery: iam, sts, elasticloadbalancing, ...
    if kind == "throttle":
        status, typ, code = 400, "Sender", "Throttling"
    else:
        status, typ, code = 503, "Receiver", "ServiceUnavailable"
    body = (f'<ErrorResponse xmlns="{QUERY_XML_NS}"><Error><Type>{typ}</Type><Code>{code}</Code>'
            f'<Message>injected by bench proxy</Message></Error><RequestId>bench</RequestId></ErrorResponse>')
    return status, {"Content-Type": "text/xml"}, body.encode()


def read_pid(pid_file, wait_s=10.0):
    deadline = time.time() + wait_s
    while time.time() < deadline:
        try:
            txt = open(pid_file).read().strip()
            if txt:
                return int(txt)
        except (OSError, ValueError):
            pass
        time.sleep(0.01)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--listen", type=int, required=True)
    ap.add_argument("--upstream", required=True)
    ap.add_argument("--latency-ms", type=float, default=0)
    ap.add_argument("--throttle", type=float, default=0)
    ap.add_argument("--error5xx", type=float, default=0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--log")
    ap.add_argument("--page-size", type=int, default=10,
                    help="items per ListServices/ListSchedules page when the request sets no maxResults")
    a = ap.parse_args()
    up = urlparse(a.upstream)
    rnd = random.Random(a.seed)
    lock = threading.Lock()
    t0 = time.time()
    logf = open(a.log, "a") if a.log else None
    st = {"count": 0, "kill_at": None, "kill_op": None, "kill_what": None, "kill_nth": 1, "seen": 0,
          "pid_file": None, "cut": False, "killed": False, "cut_op": None, "cut_what": None, "killed_pid": None,
          "kill_note": None, "ops": [], "reqs": [], "faults": 0, "timeline": []}
    killed_evt = threading.Event()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in separate writes: avoid delayed-ACK stalls

        def log_message(self, *args):
            pass

        def _op(self, body):
            t = self.headers.get("X-Amz-Target")
            if t:
                return t.rpartition(".")[2]
            if body and b"Action=" in body:
                return parse_qs(body.decode("utf-8", "replace")).get("Action", ["?"])[0]
            return f"{self.command}:{self.path.split('?')[0]}"

        def _send(self, status, headers, payload):
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def _control(self, body):
            path = self.path.split("?")[0]
            with lock:
                if path == "/__proxy/arm" or path == "/__proxy/disarm":
                    cfg = json.loads(body or b"{}") if path == "/__proxy/arm" else {}
                    st.update(count=0, kill_at=cfg.get("kill_at"), kill_op=cfg.get("kill_op"),
                              kill_what=cfg.get("kill_what"), kill_nth=cfg.get("kill_nth") or 1, seen=0,
                              pid_file=cfg.get("pid_file"), cut=False, killed=False, cut_op=None, cut_what=None,
                              killed_pid=None, kill_note=None, ops=[], reqs=[], faults=0, timeline=[])
                    killed_evt.clear()
                out = {k: v for k, v in st.items()}
            self._send(200, [("Content-Type", "application/json")], json.dumps(out).encode())

        def _forward(self, body, path=None):
            conn = http.client.HTTPConnection(up.hostname, up.port, timeout=120)
            hdrs = {k: v for k, v in self.headers.items()
                    if k.lower() not in ("host", "connection", "content-length")}
            hdrs["Host"] = f"{up.hostname}:{up.port}"
            conn.request(self.command, path or self.path, body=body, headers=hdrs)
            r = conn.getresponse()
            payload = r.read(); status = r.status
            ctype = r.getheader("Content-Type", "application/json")
            extra = [(k, v) for k, v in r.getheaders() if k.lower() not in (
                "content-length", "connection", "transfer-encoding", "content-type", "server", "date")]
            conn.close()
            return status, [("Content-Type", ctype)] + extra, payload

        def _handle(self):
            n = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(n) if n else b""
            if self.path.startswith("/__proxy/"):
                return self._control(body)
            started = (time.time() - t0) * 1000
            entry = {"op": self._op(body), "what": "", "method": self.command, "start_ms": started,
                     "end_ms": None, "status": None, "max_results": None, "items": None}
            try:
                self._handle_aws(body, entry)
            finally:
                entry["end_ms"] = (time.time() - t0) * 1000
                with lock:
                    st["timeline"].append(entry)

        def _handle_aws(self, body, entry):
            op = entry["op"]
            what = describe(op, body, self.path)
            entry["what"] = what
            with lock:
                if st["cut"]:
                    mode = "hold"
                else:
                    st["count"] += 1
                    idx = st["count"]
                    st["ops"].append(op)
                    st["reqs"].append([op, what])
                    hit = st["kill_at"] is not None and idx == st["kill_at"]
                    if st["kill_op"] == op and (st["kill_what"] is None or st["kill_what"] == what):
                        st["seen"] += 1
                        hit = hit or st["seen"] == st["kill_nth"]
                    if hit:
                        st["cut"] = True
                        st["cut_op"] = op
                        st["cut_what"] = what
                        mode = "cut"
                    else:
                        mode = "pass"
            if mode == "hold":
                # never forwarded: the upstream sees only the requests up to the cut
                killed_evt.wait(30)
                self.close_connection = True
                return
            if a.latency_ms:
                time.sleep(a.latency_ms / 1000.0)
            if mode == "cut":
                try:
                    status, _, _ = self._forward(body)
                    note = f"upstream answered {status}"
                except Exception as e:  # the cut still happens
                    note = f"upstream error {e!r}"
                pid = read_pid(st["pid_file"]) if st["pid_file"] else None
                ok = False
                if pid:
                    try:
                        cmd = open(f"/proc/{pid}/cmdline", "rb").read()
                        if b"envctl" in cmd:
                            os.kill(pid, signal.SIGKILL)
                            ok = True
                        else:
                            note += "; pid is not envctl, not killed"
                    except OSError as e:
                        note += f"; kill failed {e!r}"
                with lock:
                    st["killed"] = ok
                    st["killed_pid"] = pid
                    st["kill_note"] = note
                killed_evt.set()
                self.close_connection = True
                self._log(op, "CUT")
                return
            with lock:
                roll = rnd.random()
            if roll < a.throttle or roll < a.throttle + a.error5xx:
                kind = "throttle" if roll < a.throttle else "5xx"
                status, hdrs, payload = fault(service_of(self.headers), self.headers.get("X-Amz-Target"), kind)
                with lock:
                    st["faults"] += 1
                self._send(status, list(hdrs.items()), payload)
                self._log(op, status)
                return
            kind = paged_op(op, self.command, self.path)
            if op == "DescribeServices":
                services = json.loads(body or b"{}").get("services") or []
                entry["items"] = len(services)
                if len(services) > DESCRIBE_SERVICES_MAX:
                    msg = f"services can have at most {DESCRIBE_SERVICES_MAX} items (proxy, as AWS)"
                    payload = json.dumps({"__type": "InvalidParameterException", "message": msg}).encode()
                    entry["status"] = 400
                    self._send(400, [("Content-Type", "application/x-amz-json-1.1")], payload)
                    self._log(op, 400)
                    return
            if kind:
                fwd_body, fwd_path, offset, size = page_request(kind, body, self.path)
                entry["max_results"] = size
                status, hdrs, payload = self._forward(fwd_body, fwd_path)
                if status == 200:
                    payload, entry["items"] = page_reply(kind, payload, offset, size or a.page_size)
            else:
                status, hdrs, payload = self._forward(body)
            entry["status"] = status
            self._send(status, hdrs, payload)
            self._log(op, status)

        def _log(self, op, status):
            if logf:
                with lock:
                    logf.write(f"{(time.time()-t0)*1000:.1f} {op} {status}\n"); logf.flush()

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _handle

    srv = ThreadingHTTPServer(("127.0.0.1", a.listen), H)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == "__main__":
    main()
