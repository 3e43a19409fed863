#!/bin/sh
# Installs a prebuilt envctl from a GitHub release: downloads the archive for this machine, checks
# its SHA-256 (against the release's SHA256SUMS, or against --sha256 when given), and only then
# puts `envctl` into the install directory.
#
#   curl -fsSL https://raw.githubusercontent.com/envctl-dev/envctl/main/scripts/install.sh | sh
#   curl -fsSL https://raw.githubusercontent.com/envctl-dev/envctl/main/scripts/install.sh \
#     | sh -s -- --version 0.1.0 --sha256 <hex> --to /usr/local/bin
#
# POSIX sh on purpose: it runs under whatever `sh` the machine has (dash, busybox, bash, zsh).
# Every message goes to stderr; stdout is left alone (only --help prints there).
set -eu

repo_url=https://github.com/envctl-dev/envctl
from_source="cargo install --locked --git $repo_url envctl"
supported_targets="x86_64-unknown-linux-musl aarch64-unknown-linux-musl x86_64-apple-darwin aarch64-apple-darwin"

say() {
  printf 'envctl-install: %s\n' "$*" >&2
}

die() {
  say "error: $*"
  exit 1
}

usage() {
  cat <<EOF
Install a prebuilt envctl.

Usage: install.sh [--version X.Y.Z] [--to DIR] [--sha256 HEX] [--target TRIPLE]

Options:
  --version X.Y.Z   release to install (default: \$ENVCTL_VERSION, else the latest release)
  --to DIR          install directory (default: \$HOME/.local/bin; created if missing)
  --sha256 HEX      the archive's SHA-256; when given it is the only digest accepted (SHA256SUMS
                    is then not consulted). Pin it to be safe from a tampered release.
  --target TRIPLE   archive to install (default: detected from uname):
                    $supported_targets
  -h, --help        print this help

Environment:
  ENVCTL_VERSION      release to install when --version is not given
  ENVCTL_RELEASE_URL  where releases live (default: $repo_url/releases/download);
                      the script fetches \$ENVCTL_RELEASE_URL/vX.Y.Z/envctl-vX.Y.Z-TRIPLE.tar.gz.
                      file:// URLs work with curl.

Other platforms, or from source: $from_source
EOF
}

have() {
  command -v "$1" >/dev/null 2>&1
}

# fetch URL FILE: curl if present (it also reads file:// URLs), else wget.
fetch() {
  if have curl; then
    curl -fsSL --retry 3 -o "$2" "$1"
  elif have wget; then
    wget -q -O "$2" "$1"
  else
    die "neither curl nor wget found; install one of them"
  fi
}

# Sets `version` from GitHub's releases/latest redirect (…/releases/tag/vX.Y.Z).
resolve_latest() {
  latest="$repo_url/releases/latest"
  if have curl; then
    final=$(curl -fsSLI --retry 3 -o /dev/null -w '%{url_effective}' "$latest") ||
      die "could not reach $latest; pass --version X.Y.Z"
  elif have wget; then
    # Without -q: wget prints the redirect both as a header and as "Location: URL [following]".
    final=$(wget -S --spider --max-redirect=0 "$latest" 2>&1 |
      sed -n 's/^ *[Ll]ocation: *\([^ ]*\).*/\1/p' | tail -n 1 | tr -d '\r')
  else
    die "neither curl nor wget found; install one of them"
  fi
  tag=${final##*/}
  case $tag in
    v[0-9]*) version=${tag#v} ;;
    *) die "could not find the latest release from $latest (got '$final'); pass --version X.Y.Z" ;;
  esac
}

# Sets `target` from uname, or stops with the from-source alternative.
detect_target() {
  os=$(uname -s)
  arch=$(uname -m)
  # A shell under Rosetta reports x86_64 on Apple silicon; the native build is the better fit.
  if [ "$os" = Darwin ] && [ "$arch" = x86_64 ] &&
    [ "$(sysctl -n sysctl.proc_translated 2>/dev/null || true)" = 1 ]; then
    arch=arm64
  fi
  case "$os/$arch" in
    Linux/x86_64 | Linux/amd64) target=x86_64-unknown-linux-musl ;;
    Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
    Darwin/x86_64) target=x86_64-apple-darwin ;;
    Darwin/arm64 | Darwin/aarch64) target=aarch64-apple-darwin ;;
    *) die "no prebuilt envctl for $os/$arch; build it from source instead: $from_source" ;;
  esac
}

# Prints the SHA-256 of a file as lowercase hex.
sha256_of() {
  if have sha256sum; then
    sum=$(sha256sum "$1")
  elif have shasum; then
    sum=$(shasum -a 256 "$1")
  else
    die "neither sha256sum nor shasum found; cannot verify the download"
  fi
  printf '%s\n' "${sum%% *}" | tr 'A-F' 'a-f'
}

is_sha256() {
  case $1 in
    *[!0-9a-f]*) return 1 ;;
  esac
  [ "${#1}" -eq 64 ]
}

version=${ENVCTL_VERSION:-}
to=${HOME:-}/.local/bin
[ -n "${HOME:-}" ] || to=
pin=
target=

while [ $# -gt 0 ]; do
  case $1 in
    -h | --help)
      usage
      exit 0
      ;;
    --version | --to | --sha256 | --target)
      [ $# -ge 2 ] || die "$1 needs a value (see --help)"
      opt=$1
      val=$2
      shift 2
      ;;
    --version=* | --to=* | --sha256=* | --target=*)
      opt=${1%%=*}
      val=${1#*=}
      shift
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  case $opt in
    --version) version=$val ;;
    --to) to=$val ;;
    --sha256) pin=$(printf '%s' "$val" | tr 'A-F' 'a-f') ;;
    --target) target=$val ;;
  esac
done

[ -n "$to" ] || die "HOME is not set; pass --to DIR"
if [ -n "$pin" ] && ! is_sha256 "$pin"; then
  die "--sha256 needs 64 hex digits, got '$pin'"
fi

if [ -z "$target" ]; then
  detect_target
else
  case " $supported_targets " in
    *" $target "*) ;;
    *) die "unsupported target '$target'; prebuilt archives exist for: $supported_targets. Build from source instead: $from_source" ;;
  esac
fi

base=${ENVCTL_RELEASE_URL:-$repo_url/releases/download}
base=${base%/}
if [ -z "$version" ]; then
  # releases/latest is GitHub's; a mirror has no such redirect.
  [ -z "${ENVCTL_RELEASE_URL:-}" ] || die "ENVCTL_RELEASE_URL is set: pass --version (or ENVCTL_VERSION) too"
  resolve_latest
fi
version=${version#v}
case $version in
  [0-9]*.[0-9]*.[0-9]*) ;;
  *) die "--version needs X.Y.Z, got '$version'" ;;
esac
case $version in
  *[!0-9A-Za-z.+-]*) die "--version needs X.Y.Z, got '$version'" ;;
esac

archive="envctl-v$version-$target.tar.gz"
url="$base/v$version/$archive"

tmp=$(mktemp -d 2>/dev/null || mktemp -d -t envctl-install)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT
trap 'exit 143' HUP TERM

say "downloading $url"
fetch "$url" "$tmp/$archive" || die "download failed: $url (is v$version released for $target?)"

if [ -n "$pin" ]; then
  want=$pin
  digest_from="--sha256"
else
  fetch "$base/v$version/SHA256SUMS" "$tmp/SHA256SUMS" ||
    die "download failed: $base/v$version/SHA256SUMS"
  # sha256sum lines: "<hex>  <name>" (a '*' before the name marks binary mode).
  want=$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1; exit }' "$tmp/SHA256SUMS" | tr 'A-F' 'a-f')
  [ -n "$want" ] || die "SHA256SUMS of v$version has no line for $archive; nothing was installed"
  digest_from="SHA256SUMS"
fi
got=$(sha256_of "$tmp/$archive")
if [ "$got" != "$want" ]; then
  die "checksum mismatch for $archive: expected $want ($digest_from), got $got; nothing was installed"
fi
say "verified sha256 $got ($digest_from)"

# Extract only the `envctl` member, so nothing else in the archive can land anywhere.
mkdir "$tmp/x"
tar -xzf "$tmp/$archive" -C "$tmp/x" envctl 2>/dev/null ||
  die "$archive has no 'envctl' at its root; nothing was installed"
if [ ! -f "$tmp/x/envctl" ] || [ -L "$tmp/x/envctl" ]; then
  die "$archive: 'envctl' is not a regular file; nothing was installed"
fi

mkdir -p "$to" || die "cannot create $to"
to=$(cd "$to" && pwd) || die "cannot enter $to"
# Copy next to the destination, then rename: a running envctl is replaced, never overwritten.
cp "$tmp/x/envctl" "$to/.envctl.tmp.$$" || die "cannot write to $to"
chmod 755 "$to/.envctl.tmp.$$"
mv -f "$to/.envctl.tmp.$$" "$to/envctl" || {
  rm -f "$to/.envctl.tmp.$$"
  die "cannot write $to/envctl"
}

installed=$("$to/envctl" --version 2>&1) ||
  die "installed $to/envctl, but it does not run here (wrong --target?): $installed"
say "installed $installed to $to/envctl"

case ":${PATH:-}:" in
  *":$to:"* | *":$to/:"*) ;;
  *) say "warning: $to is not on PATH; add it, e.g. export PATH=\"$to:\$PATH\"" ;;
esac
