#!/usr/bin/env bash
# Fault benchmark: fresh `up`, no-op `up` and `down` of a one-service env, RUNS times each, through
# a proxy in front of the emulator that throttles 30% of requests and answers 5% with a 503 (in
# each service's own wire format, scripts/aws_proxy.py), against the same commands through a
# proxy with the same latency and no faults. Prints per command: runs, successes, median / p95 /
# max wall time, the fault-free median and the ratios. Prints figures; asserts nothing.
#
# Usage: scripts/bench-faults.sh [RUNS=100]
#   ENVCTL_BIN=path   benchmark that binary instead of a debug build
#   BASELINE_RUNS=N   fault-free cycles (default 10)
#   LATENCY_MS=N      latency the proxies add to every request (default 50)
#   THROTTLE=0.3 ERROR5XX=0.05 SEED=1   the faults
#   FAULT_LOG=path    keep the stderr of failed runs there
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
runs="${1:-100}"
baseline_runs="${BASELINE_RUNS:-10}"
latency="${LATENCY_MS:-50}"
"$root/scripts/install-emulator.sh"
if [ -n "${ENVCTL_BIN:-}" ]; then
  envctl="$(cd "$(dirname "$ENVCTL_BIN")" && pwd)/$(basename "$ENVCTL_BIN")"
else
  cargo build --locked --quiet --manifest-path "$root/Cargo.toml"
  envctl="${CARGO_TARGET_DIR:-$root/target}/debug/envctl"
fi
echo "binary: $envctl" >&2
py="$root/.tools/venv/bin/python"
# shellcheck source=scripts/moto.sh
. "$root/scripts/moto.sh"
start_moto "$root"
moto_url="$AWS_ENDPOINT_URL"
# The defaults are what is measured: envctl's own retries, timeouts and pacing.
unset ENVCTL_MAX_ATTEMPTS ENVCTL_OPERATION_TIMEOUT
export ENVCTL_POLL_INTERVAL_MS=200

free_port() { "$py" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }
clean_port="$(free_port)"
faulty_port="$(free_port)"
"$py" "$root/scripts/aws_proxy.py" --listen "$clean_port" --upstream "$moto_url" \
  --latency-ms "$latency" &
clean_pid=$!
"$py" "$root/scripts/aws_proxy.py" --listen "$faulty_port" --upstream "$moto_url" \
  --latency-ms "$latency" --throttle "${THROTTLE:-0.3}" --error5xx "${ERROR5XX:-0.05}" \
  --seed "${SEED:-1}" &
faulty_pid=$!
trap 'kill "$MOTO_PID" "$clean_pid" "$faulty_pid" 2>/dev/null || true' EXIT
for port in "$clean_port" "$faulty_port"; do
  for _ in $(seq 1 50); do
    curl -fsS "http://127.0.0.1:$port/__proxy/state" >/dev/null 2>&1 && break
    sleep 0.1
  done
done

work="$(mktemp -d)"
cd "$work"
"$envctl" -q init --app bench >/dev/null
AWS_ENDPOINT_URL="http://127.0.0.1:$clean_port" "$envctl" -q bootstrap >/dev/null

"$py" - "$envctl" "$clean_port" "$faulty_port" "$runs" "$baseline_runs" "${FAULT_LOG:-}" <<'PY'
import os, statistics, subprocess, sys, time, json, urllib.request

envctl, clean, faulty, runs, baseline_runs, fault_log = sys.argv[1:7]
runs, baseline_runs = int(runs), int(baseline_runs)
commands = [("fresh up", ["up", "{env}"]), ("no-op up", ["up", "{env}"]), ("down", ["down", "{env}", "--yes"])]

def run(port, args):
    env = dict(os.environ, AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}")
    t0 = time.monotonic()
    # Not -q: the `retrying ...` notices of slow calls are kept to explain the slowest runs.
    p = subprocess.run([envctl, *args], env=env, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True)
    return p.returncode, time.monotonic() - t0, p.stderr

slowest = {}

def cycle(port, prefix, n, results, failures):
    for i in range(n):
        env = f"{prefix}{i}"
        for label, args in commands:
            code, wall, err = run(port, [a.format(env=env) for a in args])
            results[label].append((code == 0, wall))
            if code != 0:
                failures.append(f"--- {label} {env}: exit {code}\n{err}")
            if port == faulty and wall > slowest.get(label, (0, ""))[0]:
                notices = [l for l in err.splitlines() if l.startswith("retrying ")]
                slowest[label] = (wall, f"{env}: " + ("; ".join(notices) or "no retry notices"))

def faults():
    with urllib.request.urlopen(f"http://127.0.0.1:{faulty}/__proxy/state") as r:
        s = json.load(r)
    return s["count"], s["faults"]

base = {label: [] for label, _ in commands}
faulted = {label: [] for label, _ in commands}
failures = []
started = time.monotonic()
# Fault-free cycles are spread among the faulted ones, so that both see the same machine load.
every = max(1, runs // max(1, baseline_runs))
done = 0
for i in range(runs):
    if i % every == 0 and done < baseline_runs:
        cycle(clean, f"b{done}-", 1, base, [])
        done += 1
    cycle(faulty, f"f{i}-", 1, faulted, failures)
cycle(clean, f"b{done}-", baseline_runs - done, base, [])
elapsed = time.monotonic() - started
requests, injected = faults()

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs)) - 1))]

print(f"{'command':<10} {'runs':>5} {'ok':>5} {'median s':>9} {'p95 s':>7} {'max s':>7} "
      f"{'clean median s':>15} {'median x':>9} {'p95 x':>6} {'max x':>6}")
for label, _ in commands:
    ok = [w for good, w in faulted[label] if good]
    walls = [w for _, w in faulted[label]]
    clean_ok = [w for good, w in base[label] if good]
    clean_median = statistics.median(clean_ok) if clean_ok else float("nan")
    med, p95, mx = statistics.median(walls), pct(walls, 95), max(walls)
    print(f"{label:<10} {len(walls):>5} {len(ok):>5} {med:>9.2f} {p95:>7.2f} {mx:>7.2f} "
          f"{clean_median:>15.2f} {med / clean_median:>9.1f} {p95 / clean_median:>6.1f} "
          f"{mx / clean_median:>6.1f}")
print(f"fault-free: {baseline_runs} cycles ({sum(1 for l in base for g, _ in base[l] if g)}"
      f"/{3 * baseline_runs} ok); faulted: {requests} requests, {injected} faults injected "
      f"({100 * injected / max(1, requests):.1f}%); {elapsed:.0f} s in all")
for label, _ in commands:
    if label in slowest:
        wall, what = slowest[label]
        print(f"slowest {label}: {wall:.2f} s, {what}")
if failures and fault_log:
    with open(fault_log, "w") as f:
        f.write("\n".join(failures))
    print(f"stderr of {len(failures)} failed run(s): {fault_log}")
elif failures:
    print("first failure:\n" + failures[0])
PY
