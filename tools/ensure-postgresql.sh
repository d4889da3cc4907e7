#!/usr/bin/env bash
# Make sure PostgreSQL's server binaries exist (initdb, pg_ctl), for the history tests' throwaway
# cluster: on PATH, or where Debian's postgresql package puts them (/usr/lib/postgresql/<v>/bin);
# else, as root with apt, install the package.
set -euo pipefail
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then exit 0; fi
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "Installing Debian's postgresql (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null && exit 0
fi
echo "PostgreSQL not found: install it (Debian/Ubuntu: sudo apt-get install postgresql)." >&2
exit 1
