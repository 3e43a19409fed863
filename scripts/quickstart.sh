#!/usr/bin/env bash
# End to end with no AWS account: installs and starts the local AWS emulator, builds envctl, and
# runs init → bootstrap → params → up → ls → status → down for env `feature-x` in a scratch dir.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The emulator installs from PyPI (network) while cargo compiles (CPU): in parallel.
"$root/scripts/install-emulator.sh" &
emulator_install=$!
echo "building envctl ..." >&2
cargo build --locked --quiet --manifest-path "$root/Cargo.toml"
envctl="$root/target/debug/envctl"
if ! wait "$emulator_install"; then
  echo "error: installing the emulator failed (scripts/install-emulator.sh)" >&2
  exit 1
fi

# shellcheck source=scripts/moto.sh
. "$root/scripts/moto.sh"
start_moto "$root"
export ENVCTL_POLL_INTERVAL_MS=500

work="$(mktemp -d)"
cd "$work"
run() {
  echo
  echo "\$ envctl $*"
  "$envctl" "$@"
}
echo "emulator: $AWS_ENDPOINT_URL   scratch dir: $work"
run init --app shop
# Give the web service a preview URL on a shared ALB (docs/preview.md).
printf '\n[preview]\nenabled = true\ndomain = "preview.localhost"\n' >> envctl.toml
sed -i 's/^port = 80\b.*/&\npublic = true/' envctl.toml
echo "(envctl.toml: [preview] enabled for preview.localhost; services.web.public = true)"
run bootstrap
run params set feature-x LOG_LEVEL=debug
echo
echo "\$ printf 'not-a-real-password' | envctl params set feature-x DB_PASSWORD --secure"
printf 'not-a-real-password' | "$envctl" params set feature-x DB_PASSWORD --secure
run plan feature-x
run up feature-x --stats
run up feature-x --stats
run ls
run status feature-x
run down feature-x --yes
run down feature-x --yes
echo
echo "quickstart finished: env feature-x was created, listed and removed."
