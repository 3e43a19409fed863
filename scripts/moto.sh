# Sourced by the scripts: start_moto starts the pinned emulator on a free loopback port and exports
# the AWS settings that point envctl at it; the server stops when the calling script exits.

start_moto() {
  local root="$1"
  local port
  port="$("$root/.tools/venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
  # moto never starts ECS tasks; with MOTO_ECS_SERVICE_RUNNING=1 a new one-task deployment reports
  # COMPLETED, so `up` can wait for stability as it does on AWS (docs/waiting.md).
  MOTO_ECS_SERVICE_RUNNING=1 MOTO_IAM_LOAD_MANAGED_POLICIES=true \
    "$root/.tools/venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"${MOTO_LOG:-/dev/null}" 2>&1 &
  MOTO_PID=$!
  trap 'kill "$MOTO_PID" 2>/dev/null || true' EXIT
  export AWS_ENDPOINT_URL="http://127.0.0.1:$port"
  export AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
  export AWS_EC2_METADATA_DISABLED=true ENVCTL_MAX_ATTEMPTS=1
  unset AWS_PROFILE AWS_SESSION_TOKEN
  local i
  for i in $(seq 1 100); do
    if curl -fsS "$AWS_ENDPOINT_URL/moto-api/" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  echo "error: the emulator did not start on $AWS_ENDPOINT_URL (run scripts/install-emulator.sh)" >&2
  return 1
}
