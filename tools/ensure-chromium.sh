#!/usr/bin/env bash
# Make sure a Chromium exists, without ever downloading a browser build:
# $CHROMIUM_PATH, Debian/Ubuntu's chromium, or (as root with apt) install Debian's package.
set -euo pipefail
for c in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -n "$c" ] && [ -x "$c" ]; then exit 0; fi
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "Installing Debian's chromium (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium fonts-liberation >/dev/null
  [ -x /usr/bin/chromium ] && exit 0
fi
echo "No Chromium found. Install one (Debian/Ubuntu: sudo apt-get install chromium)" \
     "or set CHROMIUM_PATH to a Chromium/Chrome binary." >&2
exit 1
