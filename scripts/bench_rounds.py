"""Driver of scripts/bench-rounds.sh: sets up an app against moto directly (no latency), then runs each
measured command through the latency proxy and prints what the proxy saw. Prints figures; asserts nothing.

  bench_rounds.py ENVCTL MOTO_URL PROXY_URL FLEET LS_ENVS [ECS_DEPLOY]

A round is a set of requests in flight together: a request starts a new round only if it started after
an earlier one ended (it may have waited for it). `rounds` is the longest chain of such requests.
ROUNDS_DETAIL=1 prints each command's requests by round.
"""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import boto3

envctl, moto_url, proxy_url, fleet, ls_envs = sys.argv[1:6]
fleet, ls_envs = int(fleet), int(ls_envs)
ecs_deploy = sys.argv[6] if len(sys.argv) > 6 else ""
APP = "bench"
CLUSTER = f"envctl-{APP}"
ENV = "feat"
SERVICES = ["web", "api", "worker"]
IMAGES = {"old": "public.ecr.aws/nginx/nginx:1.27-alpine", "new": "public.ecr.aws/nginx/nginx:1.28-alpine"}
READ_PREFIXES = ("Describe", "List", "Get", "BatchGet")


def env_for(url):
    e = dict(os.environ)
    e["AWS_ENDPOINT_URL"] = url
    e.setdefault("AWS_DEFAULT_REGION", e.get("AWS_REGION", "us-east-1"))  # boto3 (ecs-deploy) reads this one
    e.setdefault("ENVCTL_OWNER", "bench")
    return e


def direct(*args):
    subprocess.run([envctl, "-q", *args], env=env_for(moto_url), check=True, stdout=subprocess.DEVNULL)


def proxy(path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(proxy_url + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def is_write(r):
    return r["method"] not in ("GET", "HEAD") and not r["op"].startswith(READ_PREFIXES)


def by_round(timeline):
    """Each request with its round: 1 + the deepest round among requests that ended before it started."""
    reqs = sorted(timeline, key=lambda r: r["start_ms"])
    for i, r in enumerate(reqs):
        r["round"] = 1 + max((q["round"] for q in reqs[:i] if q["end_ms"] <= r["start_ms"]), default=0)
    return reqs


def op_name(r):
    op = r["op"]
    if op.startswith(("GET:", "POST:", "PUT:", "DELETE:")):  # Scheduler's REST calls
        method, path = op.split(":", 1)
        parts = path.strip("/").split("/")
        names = {("GET", "schedules", 2): "GetSchedule", ("GET", "schedules", 1): "ListSchedules",
                 ("GET", "schedule-groups", 2): "GetScheduleGroup", ("GET", "tags", 2): "ListTagsForResource",
                 ("POST", "schedules", 2): "CreateSchedule", ("PUT", "schedules", 2): "UpdateSchedule",
                 ("POST", "schedule-groups", 2): "CreateScheduleGroup"}
        return names.get((method, parts[0], min(len(parts), 2)), op)
    return op


ROW = "{:<38} {:>6} {:>6} {:>6} {:>8} {:>6} {:>6} {:>9}"


def header(title):
    print()
    print(title)
    print(ROW.format("command", "rounds", "calls", "writes", "wall ms", "wait", "LS", "DS batch"))


def report(label, reqs, wall_ms):
    rounds = max((r["round"] for r in reqs), default=0)
    writes = [r for r in reqs if is_write(r)]
    last_write = max((r["round"] for r in writes), default=rounds)
    ds = [r["items"] or 0 for r in reqs if r["op"] == "DescribeServices"]
    ls = [r for r in reqs if r["op"] == "ListServices"]
    print(ROW.format(label, rounds, len(reqs), len(writes), round(wall_ms), rounds - last_write if writes else "-",
                     len(ls), max(ds, default="-")))
    sizes = sorted({str(r["max_results"]) for r in reqs if op_name(r) in ("ListServices", "ListSchedules")})
    if sizes:
        print(f"{'':<38}   page sizes asked: {', '.join(sizes)}")
    if os.environ.get("ROUNDS_DETAIL"):
        for n in range(1, rounds + 1):
            ops = [op_name(r) for r in reqs if r["round"] == n]
            counted = {}
            for o in ops:
                counted[o] = counted.get(o, 0) + 1
            print(f"{'':<6}{n:>3}: " + ", ".join(f"{o}" + (f" x{c}" if c > 1 else "") for o, c in counted.items()))


def measure(label, *args):
    proxy("/__proxy/disarm", {})
    t = time.monotonic()
    p = subprocess.run([envctl, "-q", *args], env=env_for(proxy_url), stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    wall = (time.monotonic() - t) * 1000
    if p.returncode not in (0, 2):
        print(f"{label}: envctl exited {p.returncode}: {p.stderr.strip()}", file=sys.stderr)
    report(label, by_round(proxy("/__proxy/state")["timeline"]), wall)


def measure_ecs_deploy(label, image):
    """fabfuel ecs-deploy, one service after the other, as a user of it would script it."""
    proxy("/__proxy/disarm", {})
    t = time.monotonic()
    for svc in SERVICES:
        p = subprocess.run([ecs_deploy, "deploy", CLUSTER, f"{APP}-{ENV}-{svc}", "-i", svc, image, "--timeout=-1"],
                           env=env_for(proxy_url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            print(f"ecs deploy {svc} exited {p.returncode}: {p.stderr.strip()[-400:]}", file=sys.stderr)
    wall = (time.monotonic() - t) * 1000
    report(label, by_round(proxy("/__proxy/state")["timeline"]), wall)
    return wall


def ecs():
    return boto3.client("ecs", endpoint_url=moto_url, region_name=os.environ.get("AWS_REGION", "us-east-1"))


def add_fleet(start, end, services):
    """Other envs' services in the shared cluster, tagged as envctl tags them (moto direct, no latency)."""
    client = ecs()
    td = client.register_task_definition(
        family=f"{APP}-fleet", containerDefinitions=[{"name": "app", "image": IMAGES["old"], "memory": 128}]
    )["taskDefinition"]["taskDefinitionArn"]
    for i in range(start, end):
        env = f"f{i:03d}"
        for svc in services:
            tags = {"envctl:managed-by": "envctl", "envctl:app": APP, "envctl:env": env, "envctl:branch": env,
                    "envctl:owner": "fleet", "envctl:created-at": "2026-01-01T00:00:00Z"}
            client.create_service(cluster=CLUSTER, serviceName=f"{APP}-{env}-{svc}", taskDefinition=td,
                                  desiredCount=0, tags=[{"key": k, "value": v} for k, v in tags.items()])


def write_config():
    text = open("envctl.toml").read()
    text = text[: text.index("[services.web]")]
    text = re.sub(r"# \[preview\]\n# enabled = true\n# domain = \"preview.example.com\"",
                  '[preview]\nenabled = true\ndomain = "preview.example.com"', text)
    assert '[preview]\nenabled = true' in text, "the init template's [preview] block changed"
    for svc in SERVICES:
        text += f'[services.{svc}]\nimage = "{IMAGES["old"]}"\nport = 80\n'
        if svc == "web":
            text += "public = true\n"
        text += "\n"
    open("envctl.toml", "w").write(text)


def images(tag):
    out = []
    for svc in SERVICES:
        out += ["--image", f"{svc}={IMAGES[tag]}"]
    return out


def main():
    direct("init", "--app", APP)
    write_config()
    direct("bootstrap")
    latency = os.environ.get("LATENCY_MS", "50")
    header(f"env `{ENV}` (3 services, schedules, a preview URL) alone in the cluster; {latency} ms per request")
    measure("fresh up", "up", ENV, *images("old"))
    measure("no-op up", "up", ENV, *images("old"))
    measure("image update (up --image x3)", "up", ENV, *images("new"))
    measure("status", "status", ENV)
    measure("plan (no changes)", "plan", ENV, *images("new"))
    measure("ls (1 env)", "ls")

    add_fleet(0, fleet, SERVICES)
    header(f"the same with {fleet} other envs ({fleet * 3} services) in the cluster")
    measure("no-op up", "up", ENV, *images("new"))
    measure("image update (up --image x3)", "up", ENV, *images("old"))
    measure("status", "status", ENV)
    measure(f"ls ({fleet + 1} envs)", "ls")
    if ecs_deploy:
        # ecs-deploy moves the services to the new image, then envctl moves them back: both change 3 images.
        header("fabfuel ecs-deploy 1.17.0: the same 3 services, one after another (--timeout=-1)")
        ecs_wall = measure_ecs_deploy("ecs deploy x3", IMAGES["new"])
        proxy("/__proxy/disarm", {})
        t = time.monotonic()
        subprocess.run([envctl, "-q", "up", ENV, *images("old")], env=env_for(proxy_url), check=True,
                       stdout=subprocess.DEVNULL)
        envctl_wall = (time.monotonic() - t) * 1000
        print(f"envctl image update {round(envctl_wall)} ms vs ecs-deploy {round(ecs_wall)} ms: "
              f"{ecs_wall / envctl_wall:.1f}x faster")

    if ls_envs > fleet + 1:
        add_fleet(fleet, ls_envs - 1, ["web"])
        header(f"ls with {ls_envs} envs ({fleet * 3 + ls_envs - 1 - fleet} other services) in the cluster")
        measure(f"ls ({ls_envs} envs)", "ls")


main()
