#!/usr/bin/env bash
# Benchmark against the local emulator: API calls and wall time of a fresh `up`, a no-op `up` and
# `down`, for an app with 1 and with N services. Prints figures; asserts nothing.
# Usage: scripts/bench.sh [N=10]
# ENVCTL_BIN=path benchmarks that binary (e.g. target/release/envctl) instead of a debug build.
# "cpu ms" is envctl's own user+system time: what the binary's optimization level can change.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
n="${1:-10}"
"$root/scripts/install-emulator.sh"
if [ -n "${ENVCTL_BIN:-}" ]; then
  envctl="$(cd "$(dirname "$ENVCTL_BIN")" && pwd)/$(basename "$ENVCTL_BIN")"
else
  cargo build --locked --quiet --manifest-path "$root/Cargo.toml"
  envctl="$root/target/debug/envctl"
fi
echo "binary: $envctl" >&2
# shellcheck source=scripts/moto.sh
. "$root/scripts/moto.sh"
start_moto "$root"
export ENVCTL_POLL_INTERVAL_MS=200

work="$(mktemp -d)"
cd "$work"
"$envctl" -q init --app bench >/dev/null
"$envctl" -q bootstrap >/dev/null

# One line per run: what, total calls, writes, wall ms (from --stats --output json on stderr), and
# envctl's own CPU time.
measure() {
  local label="$1"
  shift
  "$root/.tools/venv/bin/python" - "$label" "$envctl" "$@" <<'PY'
import json, resource, subprocess, sys
label, envctl, args = sys.argv[1], sys.argv[2], sys.argv[3:]
before = resource.getrusage(resource.RUSAGE_CHILDREN)
p = subprocess.run([envctl, "--stats", "--output", "json", "-q", *args],
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
after = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu_ms = round(((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)) * 1000)
line = [l for l in p.stderr.splitlines() if '"stats"' in l][-1]
s = json.loads(line)["stats"]
print(f"{label:<34} {s['total_calls']:>6} {s['write_calls']:>7} {s['wall_ms']:>8} {cpu_ms:>7}")
PY
}

printf '%-34s %6s %7s %8s %7s\n' "run" "calls" "writes" "wall ms" "cpu ms"
measure "1 service: fresh up" up one
measure "1 service: no-op up" up one
measure "1 service: down" down one --yes

{
  sed '/^\[services.web\]/,$d' envctl.toml
  for i in $(seq 1 "$n"); do
    printf '[services.svc%s]\nimage = "public.ecr.aws/nginx/nginx:1.27-alpine"\nport = 80\n\n' "$i"
  done
} > envctl.many.toml
measure "$n services: fresh up" --config envctl.many.toml up many
measure "$n services: no-op up" --config envctl.many.toml up many
measure "$n services: down" --config envctl.many.toml down many --yes
