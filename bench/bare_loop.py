"""The baseline: a bare async Playwright loop that visits the same page-states as the scanner, with
the same browser, flags, context settings and settle policy, and records nothing.

Per page-state, as the scanner does (scanner/pages.py):
  a fresh context (from the consent state's storage) -> context.clock.install() -> new page ->
  goto(url, wait_until="load") -> quiet window (no request started for quiet_ms, capped at
  settle_cap_s) -> scroll to the bottom in steps -> page.clock.run_for(fast_forward_s) -> quiet
  window -> close the context; `concurrency` page-states at a time, one browser.

To be in a consent state it does what a short Playwright script written for this one banner
would do (`--consent clicks`, the default): for each state but `none`, once, a fresh context
loads the start page, clicks the HubSpot banner's buttons for that state (reject, accept, the
settings toggles of one category, or accept -> reload -> reopen -> reject for `withdraw`) and
keeps the context's storage; every page visit of the state starts from it. `none` starts empty.
`--consent preset` skips the banner and writes the consent cookies the banner would write
(`__hs_cookie_cat_pref` etc.), as the benchmark did before 2026-11-27.

What it leaves out is the scanner's own work: finding the consent manager and proving each
state (readback, the banner gone, then staying away on a new visit), the `none` state's scroll
and second page, the CDP recorder (request/response/cookie events, the init script and its
binding), snapshots of cookies and storage, link extraction, sitemap reading, audits.

The only thing it keeps is a per-state count of pages that contacted the watched hosts (a set
membership test in the request handler, which the quiet window needs anyway), so a run can show
it saw what the scanner saw.

    python bench/bare_loop.py --pages 10 --concurrency 2      # serve a synthetic site and time it
    python bench/bare_loop.py --spec spec.json --out out.json  # what bench/run.py runs
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from playwright.async_api import async_playwright  # noqa: E402

from scanner.browser import VIEWPORT, find_chromium, is_root, launch_flags, user_agent  # noqa: E402
from scanner.resolve import host_resolver_rules  # noqa: E402

from scanner.pages import SCROLL_JS  # noqa: E402  (the scanner's own scroll: both loops scroll alike)

HS_CATEGORIES = {"analytics": 1, "advertisement": 2, "functionality": 3}   # HubSpot's numbering
SIX_MONTHS = 15552000
ONE_WEEK = 604800


def consent_storage_state(state: str, url: str, toggles: dict[str, list[str]] | None) -> dict | None:
    """The cookies the HubSpot banner writes for `state` (as the demo banner writes them)."""
    if state == "none":
        return None
    if state == "accept":
        on = set(HS_CATEGORIES)
    elif state in ("reject", "withdraw"):
        on = set()
    elif state.startswith("only:"):
        on = set((toggles or {}).get(state[5:], []))
    else:
        raise ValueError(f"unknown state {state!r}")
    host = urlsplit(url).hostname or ""
    labels = host.split(".")
    domain = "." + (".".join(labels[-2:]) if len(labels) > 2 else host)
    pref = "_".join(f"{num}:{'true' if cat in on else 'false'}" for cat, num in HS_CATEGORIES.items())
    now = time.time()

    def cookie(name: str, value: str, seconds: int) -> dict:
        return {"name": name, "value": value, "domain": domain, "path": "/", "expires": now + seconds,
                "httpOnly": False, "secure": True, "sameSite": "Lax"}

    cookies = [cookie("__hs_cookie_cat_pref", quote(pref, safe=""), SIX_MONTHS),
               cookie("__hs_opt_out", "no" if on else "yes", SIX_MONTHS)]
    if on:
        cookies.append(cookie("__hs_initial_opt_in", "true", ONE_WEEK))
    return {"cookies": cookies, "origins": []}


HS = {"accept": "#hs-eu-confirmation-button", "reject": "#hs-eu-decline-button",
      "settings": "#hs-eu-cookie-settings-button", "save": "#hs-modal-save-settings", "modal": "#hs-modal",
      "banner": "#hs-eu-cookie-confirmation", "toggle": "#hs-category-toggle-{purpose}"}


async def click_consent(context, url: str, state: str, toggles: dict | None, timeout_s: float) -> None:
    """Reach `state` on the HubSpot banner in `context` the way a visitor does: by clicking."""
    page = await context.new_page()
    timeout = timeout_s * 1000
    await page.goto(url, wait_until="load", timeout=timeout)
    if state in ("accept", "withdraw"):
        await page.click(HS["accept"], timeout=timeout)
    elif state == "reject":
        await page.click(HS["reject"], timeout=timeout)
    elif state.startswith("only:"):
        await page.click(HS["settings"], timeout=timeout)
        await page.wait_for_selector(HS["modal"], state="visible", timeout=timeout)
        for purpose in (toggles or {}).get(state[5:], []):
            await page.check(HS["toggle"].format(purpose=purpose), timeout=timeout)
        await page.click(HS["save"], timeout=timeout)
    else:
        raise ValueError(f"unknown state {state!r}")
    if state == "withdraw":
        await page.reload(wait_until="load", timeout=timeout)
        await page.evaluate("(window._hsp = window._hsp || []).push(['showBanner'])")
        await page.click(HS["reject"], timeout=timeout)
    await page.wait_for_selector(HS["banner"], state="hidden", timeout=timeout)


async def _settle(last: list[float], quiet_ms: int, cap_s: float) -> None:
    """The scanner's quiet window: return once no request started for quiet_ms, or after cap_s."""
    deadline = time.monotonic() + cap_s
    quiet = quiet_ms / 1000.0
    while True:
        now = time.monotonic()
        idle = now - last[0]
        if idle >= quiet or now >= deadline:
            return
        await asyncio.sleep(min(quiet - idle, deadline - now, 0.25) + 0.01)


async def bare_loop(urls: list[str], states: list[str], *, resolve: list[str], concurrency: int,
                    quiet_ms: int = 500, fast_forward_s: float = 10.0, settle_cap_s: float = 10.0,
                    timeout_s: float = 30.0, toggles: dict | None = None, ignore_https_errors: bool = True,
                    locale: str = "en-US", chromium: str | None = None, watch_hosts: list[str] = (),
                    consent: str = "clicks") -> dict:
    """Visit every (state, url) once; returns timing and the few counts it keeps.
    consent: "clicks" (reach each state through the banner) or "preset" (write its cookies)."""
    started = time.monotonic()
    watch = frozenset(watch_hosts)
    seen: dict[str, dict[str, int]] = {s: {h: 0 for h in watch} for s in states}
    errors: list[str] = []
    done = 0
    if consent not in ("clicks", "preset"):
        raise ValueError(f"consent must be clicks or preset, not {consent!r}")
    storage: dict[str, dict | None] = {}
    if consent == "preset":
        storage = {s: consent_storage_state(s, urls[0], toggles) for s in states} if urls else {}
    profile = tempfile.mkdtemp(prefix="bench-bare-profile-")
    try:
        # The scanner's throwaway profile: third-party cookies allowed, as in a visitor's Chrome.
        Path(profile, "Default").mkdir()
        Path(profile, "Default", "Preferences").write_text(json.dumps({"profile": {"cookie_controls_mode": 0}}))
        async with async_playwright() as pw:
            try:
                bundled = pw.chromium.executable_path
            except Exception:
                bundled = None
            executable = find_chromium(chromium, bundled)
            persistent = await pw.chromium.launch_persistent_context(
                profile, executable_path=executable, headless=True,
                args=launch_flags(host_resolver_rules(resolve)), chromium_sandbox=not is_root(),
                ignore_https_errors=ignore_https_errors)
            browser = persistent.browser
            version = browser.version
            ua = user_agent(version)
            launched = time.monotonic()

            def new_context(storage_state: dict | None = None):
                return browser.new_context(storage_state=storage_state, ignore_https_errors=ignore_https_errors,
                                           locale=locale, viewport=VIEWPORT, user_agent=ua, service_workers="block")

            async def reach(state: str) -> None:
                if consent == "preset" or state == "none":
                    storage.setdefault(state, None)
                    return
                context = await new_context()
                try:
                    await click_consent(context, urls[0], state, toggles, timeout_s)
                    # cookies only: HubSpot keeps the choice in cookies, and Playwright's restore of
                    # localStorage would cost every visit a hidden page load per origin (the
                    # scanner restores it without that, see scanner/gather/seed.py)
                    storage[state] = dict(await context.storage_state(), origins=[])
                except Exception as exc:
                    errors.append(f"{state} consent: {str(exc).splitlines()[0][:200]}")
                finally:
                    await context.close()

            async def visit(state: str, url: str) -> None:
                nonlocal done
                if state not in storage:
                    return  # its consent state could not be reached (listed in errors)
                context = await new_context(storage[state])
                last = [time.monotonic()]
                hosts: set[str] = set()

                def on_request(request) -> None:
                    last[0] = time.monotonic()
                    if watch:
                        host = urlsplit(request.url).hostname
                        if host in watch:
                            hosts.add(host)

                context.on("request", on_request)
                try:
                    if fast_forward_s > 0:
                        await context.clock.install()
                    page = await context.new_page()
                    last[0] = time.monotonic()
                    try:
                        await page.goto(url, wait_until="load", timeout=timeout_s * 1000)
                    except Exception as exc:
                        errors.append(f"{state} {url}: {str(exc).splitlines()[0][:200]}")
                        return
                    await _settle(last, quiet_ms, settle_cap_s)
                    try:
                        await asyncio.wait_for(page.evaluate(SCROLL_JS), timeout=10)
                    except Exception:
                        pass
                    if fast_forward_s > 0:
                        try:
                            await asyncio.wait_for(page.clock.run_for(int(fast_forward_s * 1000)), timeout=15)
                        except Exception:
                            pass
                    await _settle(last, quiet_ms, settle_cap_s)
                    for host in hosts:
                        seen[state][host] += 1
                    done += 1
                finally:
                    try:
                        await context.close()
                    except Exception:
                        pass

            # `concurrency` contexts at a time: the consent clicks of every state first (they are
            # queued first), then each state's page visits as soon as its state is reached.
            slots = asyncio.Semaphore(max(1, concurrency))

            async def held(job) -> None:
                async with slots:
                    await job

            async def run_state(state: str) -> None:
                await held(reach(state))
                await asyncio.gather(*(held(visit(state, url)) for url in urls))

            await asyncio.gather(*(run_state(state) for state in states))
            visited = time.monotonic()
            await persistent.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    finished = time.monotonic()
    return {"wall_s": round(finished - started, 3), "visit_s": round(visited - launched, 3),
            "launch_s": round(launched - started, 3), "page_states": done, "planned": len(urls) * len(states),
            "errors": errors[:20], "n_errors": len(errors), "seen": seen, "chromium": version,
            "concurrency": concurrency, "quiet_ms": quiet_ms, "fast_forward_s": fast_forward_s, "consent": consent}


def run_spec(spec: dict) -> dict:
    return asyncio.run(bare_loop(
        spec["urls"], spec["states"], resolve=spec["resolve"], concurrency=spec["concurrency"],
        quiet_ms=spec.get("quiet_ms", 500), fast_forward_s=spec.get("fast_forward_s", 10.0),
        settle_cap_s=spec.get("settle_cap_s", 10.0), timeout_s=spec.get("timeout_s", 30.0),
        toggles=spec.get("toggles"), chromium=spec.get("chromium"), watch_hosts=spec.get("watch_hosts", []),
        consent=spec.get("consent", "clicks")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="bare Playwright loop (benchmark baseline)")
    parser.add_argument("--spec", type=Path, help="JSON spec written by bench/run.py")
    parser.add_argument("--out", type=Path, help="write the summary JSON here (default: stdout)")
    parser.add_argument("--pages", type=int, default=10, help="without --spec: synthetic site size")
    parser.add_argument("--concurrency", type=int, default=2)
    parser.add_argument("--states", default="none,reject,accept,only:functional,only:marketing,withdraw")
    parser.add_argument("--quiet-ms", type=int, default=500)
    parser.add_argument("--fast-forward-s", type=float, default=10.0)
    parser.add_argument("--consent", choices=("clicks", "preset"), default="clicks",
                        help="reach each state through the banner (default) or write its consent cookies")
    args = parser.parse_args(argv)
    if args.spec:
        summary = run_spec(json.loads(args.spec.read_text()))
    else:
        from bench.synthetic import DEEP_HOST, LATE_HOST, write_site
        from scanner.declaration import load_declaration
        from scanner.demo import SiteServer
        site = write_site(args.pages)
        toggles = load_declaration(site.declaration).consent_mapping()
        with SiteServer(site.root) as server:
            summary = asyncio.run(bare_loop(
                site.urls(), args.states.split(","), resolve=[server.resolve_rule()], concurrency=args.concurrency,
                quiet_ms=args.quiet_ms, fast_forward_s=args.fast_forward_s, toggles=toggles,
                watch_hosts=[LATE_HOST, DEEP_HOST], consent=args.consent))
        shutil.rmtree(site.root.parent, ignore_errors=True)
    text = json.dumps(summary, indent=2)
    if args.out:
        args.out.write_text(text)
    else:
        print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
