#!/usr/bin/env bash
# Make sure redis-server exists, for the fleet tests' Celery broker (started by the tests on a
# loopback port, stopped after): on PATH, else, as root with apt, install Debian's redis-server.
set -euo pipefail
if command -v redis-server >/dev/null 2>&1; then exit 0; fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "Installing Debian's redis-server (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq redis-server >/dev/null
  command -v redis-server >/dev/null 2>&1 && exit 0
fi
echo "redis-server not found: install it (Debian/Ubuntu: sudo apt-get install redis-server)." >&2
exit 1
