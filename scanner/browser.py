"""Find and launch Chromium: never download one, keep third-party cookies as Chrome does."""
from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .egress import EgressProxy, entries_from_rules
from .errors import EXIT_INCOMPLETE, ChromiumNotFound, ScannerError

# The headless shell first: the same engine without the desktop browser's layers, about a
# quarter of the CPU per page visit (bench/README.md); then the full browser.
CANDIDATES = ("/usr/lib/chromium/chromium-headless-shell", "/usr/bin/chromium-headless-shell",
              "/usr/bin/chromium", "/usr/bin/chromium-browser")
BASE_FLAGS = (
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-breakpad",
    "--metrics-recording-only",
    "--disable-gpu",  # headless needs no GPU process; software compositing still renders screenshots
    "--disable-blink-features=AutomationControlled",  # navigator.webdriver false: CMPs hide banners from bots
    # Keep cross-site iframes in the page's renderer so one CDP session sees every frame's
    # requests and Set-Cookie headers (an embedded YouTube player's beacons, for instance).
    "--disable-site-isolation-trials",
    "--disable-features=IsolateOrigins,site-per-process",
)
INSTALL_HINT = (
    "no Chromium found: install one (Debian: `sudo apt-get install chromium-headless-shell`, "
    "or `chromium`) "
    "or point $CHROMIUM_PATH at a Chromium/Chrome binary"
)
VIEWPORT = {"width": 1366, "height": 900}


# Playwright's driver (node) grows its young generation and old space with the traffic of a long
# scan: ~175-200 MB after a few hundred page visits, against ~130 MB with these two limits, at
# no measurable cost in time (bench/README.md). 1 GB of old space still holds any page's payload.
DRIVER_NODE_OPTIONS = ("--max-semi-space-size=4", "--max-old-space-size=1024")


@contextlib.contextmanager
def lean_driver():
    """While the Playwright driver starts (it copies this process's environment), add
    DRIVER_NODE_OPTIONS to NODE_OPTIONS, leaving alone any limit the user set there."""
    old = os.environ.get("NODE_OPTIONS")
    extra = [flag for flag in DRIVER_NODE_OPTIONS if flag.split("=")[0] not in (old or "")]
    os.environ["NODE_OPTIONS"] = " ".join(filter(None, [old, *extra]))
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("NODE_OPTIONS", None)
        else:
            os.environ["NODE_OPTIONS"] = old


_PROFILES: set[str] = set()   # profile folders not yet removed (they hold the scanned site's cookies)


def remove_leftover_profiles() -> None:
    """Remove profile folders a Chromium interrupted while starting may have written to after
    the first clean-up; call once Playwright has stopped (its browsers are then gone)."""
    for folder in list(_PROFILES):
        shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):
            _PROFILES.discard(folder)


PROFILE_PREFIX = "cookie-scanner-profile-"
OWNER_FILE = "owner.pid"
STALE_WITHOUT_OWNER_S = 6 * 3600


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_stale_profiles(parent: str) -> list[str]:
    """Remove the profile folders of scans that were killed (kill -9, power loss): their owner
    process is gone (or, for a folder without an owner file, it is older than six hours). They
    hold a scanned site's cookies. Folders of scans still running are left alone."""
    removed = []
    try:
        entries = [e for e in os.scandir(parent) if e.name.startswith(PROFILE_PREFIX) and e.is_dir(follow_symlinks=False)]
    except OSError:
        return removed
    for entry in entries:
        try:
            owner = Path(entry.path, OWNER_FILE)
            if owner.is_file():
                text = owner.read_text()[:20].strip()
                stale = not text.isdigit() or not _alive(int(text))
            else:
                stale = time.time() - entry.stat(follow_symlinks=False).st_mtime > STALE_WITHOUT_OWNER_S
            if stale and entry.stat(follow_symlinks=False).st_uid == os.getuid():
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(entry.path)
        except (OSError, ValueError):
            continue
    return removed


CLOSE_TIMEOUT_S = 5.0


def kill_profile_processes(profile: str | None) -> int:
    """SIGKILL this user's processes whose command line names `profile` (the Chromium browser of
    this scan: its renderers and helpers end with it). Linux /proc; elsewhere nothing. Returns how
    many were signalled."""
    if not profile or not os.path.isdir("/proc"):
        return 0
    needle = f"--user-data-dir={profile}".encode()
    killed = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry.name}/cmdline", "rb") as handle:
                cmdline = handle.read(64 * 1024)
            if needle in cmdline.split(b"\0") and entry.stat(follow_symlinks=False).st_uid == os.getuid():
                os.kill(int(entry.name), signal.SIGKILL)
                killed += 1
        except (OSError, ValueError):
            continue
    return killed


class BrowserStartError(ScannerError):
    exit_code = EXIT_INCOMPLETE


def _launch_reason(exc: Exception) -> str:
    """The line of Chromium's own output that says why it did not start, else Playwright's first line."""
    lines = [re.sub(r"^\[?pid=\d+\]\[(?:err|out)\]\s*", "", line.strip(" <>")) for line in str(exc).splitlines()
             if line.strip()]
    for line in lines:
        low = line.lower()
        if any(word in low for word in ("error", "cannot", "failed", "too long", "not found", "denied")) \
                and "browsertype.launch" not in low and "target page" not in low:
            return line[:300]
    return (lines[0] if lines else type(exc).__name__)[:300]


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def find_chromium(explicit: str | None = None, playwright_path: str | None = None) -> str:
    """$CHROMIUM_PATH (or explicit), Debian's chromium, then an already-installed Playwright Chromium."""
    for candidate in (explicit, os.environ.get("CHROMIUM_PATH")):
        if candidate:
            if Path(candidate).is_file() and os.access(candidate, os.X_OK):
                return candidate
            raise ChromiumNotFound(f"Chromium not found at {candidate!r} (from --chromium/$CHROMIUM_PATH)")
    for candidate in (*CANDIDATES, playwright_path):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ChromiumNotFound(INSTALL_HINT)


def launch_flags(resolver_rules: str = "", egress: EgressProxy | None = None) -> list[str]:
    """Chromium's flags. With `egress` (a started EgressProxy) every connection goes through the
    guard, which also applies the --resolve mappings: Chromium then gets no host resolver rules
    (they would also rewrite the proxy's own address)."""
    flags = list(BASE_FLAGS)
    if is_root():
        flags.append("--no-sandbox")
    if egress is not None:
        flags.extend(egress.chromium_flags())
    elif resolver_rules:
        flags.append(f"--host-resolver-rules={resolver_rules}")
    return flags


def user_agent(browser_version: str) -> str:
    """Chrome's desktop user agent without the 'HeadlessChrome' token."""
    major = (browser_version or "120").split(".")[0]
    return (
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
        f"Chrome/{major}.0.0.0 Safari/537.36"
    )


BRANDS_JS = """async () => {
  const data = navigator.userAgentData;
  if (!data) return null;
  const high = await data.getHighEntropyValues(
    ['architecture', 'bitness', 'fullVersionList', 'model', 'platformVersion', 'wow64']);
  return {brands: data.brands, platform: data.platform, mobile: data.mobile, ...high};
}"""


def user_agent_override(ua: str, locale: str, data: dict | None) -> dict:
    """Emulation.setUserAgentOverride parameters that present the browser as desktop Chrome:
    the headless shell names itself "HeadlessChrome" in navigator.userAgentData and in the
    Sec-CH-UA request headers, which CMPs and bot filters read."""
    override: dict = {"userAgent": ua, "acceptLanguage": locale}
    if data:
        def brands(key: str) -> list[dict]:
            return [{"brand": str(b.get("brand", "")), "version": str(b.get("version", ""))}
                    for b in data.get(key) or [] if "headless" not in str(b.get("brand", "")).lower()]
        override["userAgentMetadata"] = {
            "brands": brands("brands"), "fullVersionList": brands("fullVersionList"),
            "platform": str(data.get("platform") or "Linux"), "platformVersion": str(data.get("platformVersion") or ""),
            "architecture": str(data.get("architecture") or "x86"), "model": str(data.get("model") or ""),
            "mobile": bool(data.get("mobile")), "bitness": str(data.get("bitness") or "64"),
            "wow64": bool(data.get("wow64")),
        }
    return override


@dataclass
class ContextSettings:
    locale: str = "en-US"
    ignore_https_errors: bool = False


class Browser:
    """One Chromium per scan; every visit gets its own fresh, isolated context.

    Playwright's `new_context()` contexts are off-the-record and inherit the cookie
    controls of the profile they were created from. Chromium blocks third-party
    cookies in off-the-record profiles by default, so a visitor's embedded YouTube or
    LinkedIn cookies would silently vanish. We therefore start from a throwaway
    profile whose preferences say "allow third-party cookies" (cookie_controls_mode 0),
    as a real visitor's Chrome does, and create the visit contexts from it.

    Every connection Chromium makes goes through `self.egress` (scanner/egress.py), started
    before Chromium and stopped after it: it maps the `resolve` entries (HOST=IP[:PORT]) and
    refuses private addresses unless `allow_private`; `self.egress.refused` lists what it refused.
    `resolver_rules` (a host_resolver_rules() string) is still accepted in place of `resolve`.
    """

    def __init__(self, playwright, *, executable: str, resolver_rules: str = "", settings: ContextSettings,
                 resolve: tuple[str, ...] | list[str] = (), allow_private: bool = False):
        self._pw = playwright
        self.executable = executable
        self.resolver_rules = resolver_rules
        self.settings = settings
        self.egress = EgressProxy(tuple(resolve) or entries_from_rules(resolver_rules), allow_private=allow_private)
        self._profile: str | None = None
        self._persistent = None
        self.browser = None
        self.version = ""
        self.ua_override: dict | None = None   # Emulation.setUserAgentOverride for every recorded page

    async def start(self) -> "Browser":
        # Chromium's profile socket path must stay short (108-byte Unix socket limit).
        base = tempfile.gettempdir()
        parent = base if len(base) <= 40 or not os.access("/tmp", os.W_OK) else "/tmp"
        remove_stale_profiles(parent)
        self._profile = tempfile.mkdtemp(prefix=PROFILE_PREFIX, dir=parent)
        Path(self._profile, OWNER_FILE).write_text(str(os.getpid()))
        _PROFILES.add(self._profile)
        try:
            await asyncio.to_thread(self.egress.start)   # before Chromium: its first request goes through it
            default = Path(self._profile, "Default")
            default.mkdir()
            (default / "Preferences").write_text(json.dumps({"profile": {"cookie_controls_mode": 0}}))
            self._persistent = await self._pw.chromium.launch_persistent_context(
                self._profile,
                executable_path=self.executable,
                headless=True,
                args=launch_flags(egress=self.egress),
                chromium_sandbox=not is_root(),
                # the scanner decides when the browser closes (after writing what it collected)
                handle_sigint=False, handle_sigterm=False, handle_sighup=False,
                ignore_https_errors=self.settings.ignore_https_errors,
            )
        except BaseException as exc:
            self.egress.stop()
            shutil.rmtree(self._profile, ignore_errors=True)  # it would hold the site's cookies
            self._profile = None  # still in _PROFILES: removed again once Playwright has stopped
            if isinstance(exc, Exception):
                raise BrowserStartError(f"Chromium at {self.executable} could not start: {_launch_reason(exc)}") from None
            raise
        self.browser = self._persistent.browser
        self.version = self.browser.version if self.browser else ""
        self.ua_override = user_agent_override(user_agent(self.version), self.settings.locale,
                                               await self._ua_data())
        return self

    async def _ua_data(self) -> dict | None:
        """What this Chromium reports of itself in navigator.userAgentData (None if unknown)."""
        try:
            page = self._persistent.pages[0] if self._persistent.pages else await self._persistent.new_page()
            return await asyncio.wait_for(page.evaluate(BRANDS_JS), timeout=10)
        except Exception:
            return None

    async def new_context(self, storage_state: dict | None = None):
        return await self.browser.new_context(
            storage_state=storage_state,
            ignore_https_errors=self.settings.ignore_https_errors,
            locale=self.settings.locale,
            viewport=VIEWPORT,
            user_agent=user_agent(self.version),
            service_workers="block",
            accept_downloads=False,
        )

    def kill(self) -> int:
        """SIGKILL this scan's Chromium now; safe from any thread (a deadline watchdog uses it when
        the event loop is too busy with a flooding page to stop it in time)."""
        return kill_profile_processes(self._profile)

    async def close(self) -> None:
        """Close Chromium within CLOSE_TIMEOUT_S: a browser that does not close in time (a page
        flooding it, a hung GPU process) is killed, so a --deadline stays a deadline."""
        try:
            if self._persistent is not None:
                try:
                    await asyncio.wait_for(self._persistent.close(), timeout=CLOSE_TIMEOUT_S)
                except (asyncio.TimeoutError, Exception):
                    kill_profile_processes(self._profile)
        finally:
            self._persistent = None
            self.egress.stop()   # after Chromium: no connection of its own is left to relay
            if self._profile:
                shutil.rmtree(self._profile, ignore_errors=True)
                if not os.path.exists(self._profile):
                    _PROFILES.discard(self._profile)
                self._profile = None

    async def __aenter__(self) -> "Browser":
        return await self.start()

    async def __aexit__(self, *exc) -> None:
        await self.close()
