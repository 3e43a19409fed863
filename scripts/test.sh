#!/usr/bin/env bash
# The whole test suite, as CI runs it: format and lint checks (clippy -D warnings, during the test
# build), then every test (unit, planner snapshots, CLI, and integration tests that start their
# own emulator).
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
  # `cargo clippy --all-targets -- -D warnings`, folded into the test build: clippy-driver compiles
  # the workspace's own crates (lints and code) while the dependencies are compiled once, by
  # rustc, for both. A separate `cargo clippy` type-checks every dependency a second time (3 of
  # the 10 minutes a fresh clone took on 2 cores). This is how cargo-clippy itself drives
  # clippy-driver: RUSTC_WORKSPACE_WRAPPER, with the lint flags in CLIPPY_ARGS.
  clippy_driver="$(command -v clippy-driver || true)"
  if [ -z "$clippy_driver" ]; then
    echo "error: clippy-driver not found; install it with: rustup component add clippy" >&2
    exit 1
  fi
  export RUSTC_WORKSPACE_WRAPPER="$clippy_driver"
  export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
fi
cargo test --locked --all-targets --no-run
if ! wait "$tools_install"; then
  echo "error: installing the test tools failed (scripts/install-tools.sh)" >&2
  exit 1
fi
cargo test --locked "$@"
