#!/usr/bin/env bash
# The whole test suite, as CI runs it: format and lint checks, then every test (unit, planner
# snapshots, CLI, and integration tests that start their own emulator).
# Usage: scripts/test.sh [--no-lint] [extra cargo test args]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
lint=1
if [ "${1:-}" = "--no-lint" ]; then
  lint=0
  shift
fi
# The pinned tools install from PyPI and npm (network) while cargo compiles (CPU): in parallel.
"$root/scripts/install-tools.sh" &
tools_install=$!
# Tests talk only to their own emulator on loopback; never probe EC2 metadata or a real profile.
export AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_ENDPOINT_URL
if [ "$lint" = 1 ]; then
  cargo fmt --all -- --check
  cargo clippy --locked --all-targets -- -D warnings
fi
cargo test --locked --no-run
if ! wait "$tools_install"; then
  echo "error: installing the test tools failed (scripts/install-tools.sh)" >&2
  exit 1
fi
cargo test --locked "$@"
