#!/usr/bin/env bash
# Installs the pinned local AWS emulator (moto server) into .tools/venv. Idempotent: does nothing
# when the installed set already matches scripts/emulator-requirements.txt.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.tools/venv"
reqs="$root/scripts/emulator-requirements.txt"
stamp="$venv/.envctl-requirements.sha256"

python="${PYTHON:-python3}"
if ! command -v "$python" >/dev/null 2>&1; then
  echo "error: $python not found; install Python >= 3.10 (with venv), or set PYTHON=/path/to/python3" >&2
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)'; then
  echo "error: moto 5.2.5 needs Python >= 3.10; $("$python" --version 2>&1) found. Set PYTHON=/path/to/python3.10+" >&2
  exit 1
fi

want="$(sha256sum "$reqs" | cut -d' ' -f1)"
if [ -x "$venv/bin/moto_server" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi

echo "installing the AWS emulator (moto[server] 5.2.5) into .tools/venv ..." >&2
"$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input -r "$reqs"
"$venv/bin/moto_server" --help >/dev/null
echo "$want" > "$stamp"
echo "emulator installed: $venv/bin/moto_server" >&2
