#!/usr/bin/env bash
# Round trips per command, as on real AWS: every request goes through scripts/aws_proxy.py, which adds
# LATENCY_MS (default 50) to each request, pages ListServices/ListSchedules as AWS does (10 a page unless
# maxResults says otherwise) and records when each request started and ended. Prints, per command, the
# rounds (longest chain of requests each started after the previous one ended), calls, writes and wall
# time, first with the env alone in the cluster and again with FLEET other envs, then `ls` of LS_ENVS envs,
# and fabfuel ecs-deploy updating the same three services one after another. Prints figures; asserts nothing.
# Usage: scripts/bench-rounds.sh [FLEET=60] [LS_ENVS=500]
#   ENVCTL_BIN=path   benchmark that binary instead of a debug build
#   BENCH_VENV=dir    where ecs-deploy is installed (default .tools/bench-venv); SKIP_ECS_DEPLOY=1 skips it
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fleet="${1:-60}"
ls_envs="${2:-500}"
"$root/scripts/install-emulator.sh"
if [ -n "${ENVCTL_BIN:-}" ]; then
  envctl="$(cd "$(dirname "$ENVCTL_BIN")" && pwd)/$(basename "$ENVCTL_BIN")"
else
  cargo build --locked --quiet --manifest-path "$root/Cargo.toml"
  envctl="${CARGO_TARGET_DIR:-$root/target}/debug/envctl"
fi
echo "binary: $envctl" >&2

ecs_deploy=""
if [ -z "${SKIP_ECS_DEPLOY:-}" ]; then
  venv="${BENCH_VENV:-$root/.tools/bench-venv}"
  reqs="$root/scripts/bench-requirements.txt"
  want="$(sha256sum "$reqs" | cut -d' ' -f1)"
  if [ ! -x "$venv/bin/ecs" ] || [ "$(cat "$venv/.requirements.sha256" 2>/dev/null)" != "$want" ]; then
    echo "installing ecs-deploy into $venv ..." >&2
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$reqs"
    echo "$want" > "$venv/.requirements.sha256"
  fi
  ecs_deploy="$venv/bin/ecs"
fi

# shellcheck source=scripts/moto.sh
. "$root/scripts/moto.sh"
start_moto "$root"
moto_url="$AWS_ENDPOINT_URL"
proxy_port="$("$root/.tools/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
"$root/.tools/venv/bin/python" "$root/scripts/aws_proxy.py" --listen "$proxy_port" --upstream "$moto_url" \
  --latency-ms "${LATENCY_MS:-50}" &
PROXY_PID=$!
trap 'kill "$PROXY_PID" "$MOTO_PID" 2>/dev/null || true' EXIT
export ENVCTL_POLL_INTERVAL_MS=200

work="$(mktemp -d)"
cd "$work"
"$root/.tools/venv/bin/python" "$root/scripts/bench_rounds.py" "$envctl" "$moto_url" \
  "http://127.0.0.1:$proxy_port" "$fleet" "$ls_envs" "$ecs_deploy"
