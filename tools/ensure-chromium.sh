#!/usr/bin/env bash
# Make sure a Chromium exists, without ever downloading a browser build:
# $CHROMIUM_PATH, Debian's chromium-headless-shell (preferred: about a quarter of the CPU per
# page), or (as root with apt) install it; else Debian/Ubuntu's full chromium.
set -euo pipefail
for c in "${CHROMIUM_PATH:-}" /usr/lib/chromium/chromium-headless-shell /usr/bin/chromium-headless-shell; do
  if [ -n "$c" ] && [ -x "$c" ]; then exit 0; fi
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  echo "Installing Debian's chromium-headless-shell (apt-get)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  if apt-get update -qq && apt-get install -y -qq chromium-headless-shell fonts-liberation >/dev/null; then
    [ -x /usr/lib/chromium/chromium-headless-shell ] && exit 0
  fi
  echo "chromium-headless-shell could not be installed; looking for the full chromium" >&2
fi
for c in /usr/bin/chromium /usr/bin/chromium-browser; do
  if [ -x "$c" ]; then exit 0; fi
done
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = "0" ]; then
  apt-get install -y -qq chromium fonts-liberation >/dev/null && [ -x /usr/bin/chromium ] && exit 0
fi
echo "No Chromium found. Install one (Debian/Ubuntu: sudo apt-get install chromium-headless-shell," \
     "or chromium) or set CHROMIUM_PATH to a Chromium/Chrome binary." >&2
exit 1
