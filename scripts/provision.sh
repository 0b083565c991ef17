#!/usr/bin/env bash
# Installs from Debian's packages what building and testing wristband need, when the
# machine lacks it: the OpenSSL headers, PostgreSQL, Chromium and its WebDriver (the admin
# pages are tested in a real browser: Debian's, never a download), Node and Python's venv
# (the token-verification snippets of docs/verifying-tokens.md run under them). Installing needs root or sudo; without
# either it names the packages and stops. Quick when nothing is missing.
set -euo pipefail

missing=()
command -v pkg-config >/dev/null || missing+=(pkg-config)
dpkg -s libssl-dev >/dev/null 2>&1 || missing+=(libssl-dev)
compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
[ -x /usr/bin/chromedriver ] || missing+=(chromium-driver)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
python3 -c 'import venv, ensurepip' 2>/dev/null || missing+=(python3-venv)
if [ ${#missing[@]} -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "the tests need: apt-get install -y ${missing[*]} (as root)" >&2; exit 1; }
    as_root=(sudo)
  fi
  echo "==> installing ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-upgrade "${missing[@]}"
fi
