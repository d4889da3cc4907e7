"""Foundation: real Chromium records the demo site's cookies, storage and requests."""
from __future__ import annotations

import json
import zipfile
import subprocess
import sys
from pathlib import Path

import pytest

from scanner.browser import Browser, ContextSettings, find_chromium
from scanner.resolve import host_resolver_rules
from scanner.errors import UsageError
from conftest import by_name, closed_port, page_items, run_cli, scan_site

FOUR_HUNDRED_DAYS = 400 * 86400


def test_report_shape(demo_none):
    r = demo_none
    assert r["schema_version"] == "1.3"
    assert r["complete"] is True and r["incomplete_reasons"] == []
    assert r["tool"]["name"] == "cookie-scanner" and r["tool"]["chromium"]
    assert r["site"]["registrable_domain"] == "micropep.com"
    state = r["states"][0]
    assert state["state"] == "none" and state["reached"] is True
    page = state["pages"][0]
    assert page["status"] == 200 and page["error"] is None
    assert "Micropep" in page["title"]


def test_script_cookie_attributed_with_requested_and_kept_lifetime(demo_none):
    ga = by_name(page_items(demo_none, "none", "cookies"), "_ga")
    assert ga["set_by"] == "script"
    assert ga["setter_url"].startswith("https://www.googletagmanager.com/gtag/js")
    assert ga["domain"] == ".micropep.com" and ga["party"] == "first"
    assert ga["requested_lifetime_s"] == 2 * 365 * 86400          # what gtag asked for: 2 years
    assert abs(ga["lifetime_s"] - FOUR_HUNDRED_DAYS) <= 5          # what Chromium keeps: 400 days
    gid = by_name(page_items(demo_none, "none", "cookies"), "_gid")
    assert gid["requested_lifetime_s"] == 86400


def test_header_cookies_attributed_to_the_response(demo_none):
    cookies = page_items(demo_none, "none", "cookies")
    bm = by_name(cookies, "__cf_bm")
    assert bm["set_by"] == "header" and bm["setter_url"] == "https://www.micropep.com/"
    assert bm["http_only"] and bm["secure"] and bm["same_site"] == "None"
    assert bm["requested_lifetime_s"] == 1800
    sess = by_name(cookies, "PHPSESSID")
    assert sess["session"] is True and sess["expires"] is None and not sess["http_only"]


def test_third_party_cookie_set_inside_iframe_is_kept(demo_none):
    cookies = page_items(demo_none, "none", "cookies")
    visitor = by_name(cookies, "VISITOR_INFO1_LIVE")
    assert visitor["party"] == "third" and visitor["domain"] == ".youtube.com"
    assert visitor["set_by"] == "header"
    assert visitor["setter_url"] == "https://www.youtube.com/embed/Zx8Wq2mP3kA"
    assert visitor["stored"] is True and visitor["same_site"] == "None"
    assert visitor["requested_lifetime_s"] == 180 * 86400


def test_storage_in_main_frame_and_iframe(demo_none):
    storage = page_items(demo_none, "none", "storage")
    theme = [s for s in storage if s["key"] == "mp-theme"][0]
    assert theme["kind"] == "local" and theme["origin"] == "https://www.micropep.com"
    assert theme["setter_url"] == "https://www.micropep.com/assets/site.js"
    yt = [s for s in storage if s["key"] == "yt-remote-device-id"][0]
    assert yt["kind"] == "local" and yt["origin"] == "https://www.youtube.com" and yt["party"] == "third"
    session = [s for s in storage if s["key"] == "yt-remote-session-app"][0]
    assert session["kind"] == "session" and session["frame_url"].startswith("https://www.youtube.com/embed/")


def test_requests_with_initiators_frames_and_timing(demo_none):
    requests = page_items(demo_none, "none", "requests")
    collect = [r for r in requests if r["host"] == "region1.google-analytics.com"]
    assert collect, "GA beacon not recorded"
    assert collect[0]["resource_type"] == "ping" and collect[0]["status"] == 204
    assert collect[0]["initiator_url"].startswith("https://www.googletagmanager.com/gtag/js")
    assert collect[0]["party"] == "third" and collect[0]["time_ms"] > 0
    banner = [r for r in requests if r["host"] == "js.hs-banner.com"][0]
    assert banner["initiator_type"] == "script" and banner["initiator_url"] == "https://js.hs-scripts.com/4431234.js"
    yt_beacon = [r for r in requests if "/youtubei/v1/log_event" in r["url"]][0]
    assert yt_beacon["frame_url"].startswith("https://www.youtube.com/embed/")


def test_values_stay_out_of_the_report_unless_asked(demo_server, demo_none):
    text = json.dumps(demo_none)
    assert "8f4a1c2e9b7d6a5f3e2c1b0a9f8e7d6c" not in text          # PHPSESSID value
    assert "Qm9vdHN0cmFwLWJvdC1tYW5hZ2VtZW50LXRva2Vu" not in text  # __cf_bm value
    sess = by_name(page_items(demo_none, "none", "cookies"), "PHPSESSID")
    assert "value" not in sess and sess["value_len"] == 32 and len(sess["value_sha256"]) == 16
    assert "G-MPX24SCAN" not in text                                # query values hashed by default
    kept = scan_site(demo_server, "https://www.micropep.com/", keep_values=True, keep_query=True)
    sess = by_name(page_items(kept, "none", "cookies"), "PHPSESSID")
    assert sess["value"] == "8f4a1c2e9b7d6a5f3e2c1b0a9f8e7d6c"
    assert "G-MPX24SCAN" in json.dumps(kept)


def test_resolve_wildcards(demo_server):
    rules = host_resolver_rules(["*=127.0.0.1:9", "*.micropep.com=127.0.0.1:8443", "a.test=::1"])
    assert rules == "MAP a.test [::1], MAP *.micropep.com 127.0.0.1:8443, MAP * 127.0.0.1:9"
    with pytest.raises(UsageError):
        host_resolver_rules(["www.example.com"])
    # Only the site's own hosts go to the demo server; every other host to a closed loopback port.
    from scanner import ScanOptions, scan
    result = scan(ScanOptions(url="https://www.micropep.com/about", ignore_https_errors=True,
                              resolve=(f"*.micropep.com=127.0.0.1:{demo_server.port}", f"*=127.0.0.1:{closed_port()}")))
    page = result["states"][0]["pages"][0]
    assert page["status"] == 200 and "About" in page["title"]
    assert not [c for c in page["cookies"] if c["name"] == "_ga"]   # gtag could not load
    gtag = [r for r in page["requests"] if r["host"] == "www.googletagmanager.com"][0]
    assert gtag["error"] and "CONNECTION_REFUSED" in gtag["error"]


def test_browser_does_not_announce_automation(demo_server):
    import asyncio
    from playwright.async_api import async_playwright

    async def probe():
        async with async_playwright() as pw:
            async with Browser(pw, executable=find_chromium(), resolver_rules=host_resolver_rules([demo_server.resolve_rule()]),
                               settings=ContextSettings(ignore_https_errors=True)) as browser:
                first = await browser.new_context()
                page = await first.new_page()
                await page.goto("https://www.micropep.com/contact")
                ua = await page.evaluate("navigator.userAgent")
                webdriver = await page.evaluate("navigator.webdriver")
                await page.evaluate("document.cookie = 'leak=1; max-age=600'; localStorage.setItem('leak', '1')")
                await first.close()
                second = await browser.new_context()
                page = await second.new_page()
                await page.goto("https://www.micropep.com/contact")
                leaked = await page.evaluate("[document.cookie.includes('leak'), localStorage.getItem('leak')]")
                await second.close()
                return ua, webdriver, leaked

    ua, webdriver, leaked = asyncio.run(probe())
    assert "HeadlessChrome" not in ua and "Chrome/" in ua
    assert webdriver is False
    assert leaked == [False, None]    # a new visit starts with an empty jar and empty storage


def test_scanned_pages_see_desktop_chrome_not_a_headless_browser(sites_server):
    """A page that sorts visitors into bots and humans by user agent, client-hint brands and
    navigator.webdriver (as CMPs and bot filters do) sees a human in every recorded visit."""
    result = scan_site(sites_server, "https://www.bot-check.test/", states=("none",), keep_values=True,
                       max_pages=1)
    state = result["states"][0]
    assert state["reached"], state["error"]
    kind = by_name(state["pages"][0]["cookies"], "visitor_kind")
    assert kind["value"] == "human"


def test_cli_bad_url_exits_2_with_one_line():
    for bad in ("not-a-url", "file:///etc/passwd", "javascript:alert(1)", "https://"):
        proc = run_cli("scan", bad)
        assert proc.returncode == 2, (bad, proc.stderr)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and "error:" in lines[0] and "Traceback" not in proc.stderr


def test_cli_unreachable_host_exits_3_and_writes_partial_report(tmp_path):
    port = closed_port()
    proc = run_cli("scan", "https://unreachable.micropep.test/", "--out", str(tmp_path),
                   "--resolve", f"*=127.0.0.1:{port}", "--timeout", "10")
    assert proc.returncode == 3, proc.stderr
    assert "connection refused" in proc.stderr and "Traceback" not in proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["complete"] is False
    state = report["states"][0]
    assert state["reached"] is False and "connection refused" in state["error"]
    assert state["pages"][0]["error"] and state["pages"][0]["status"] is None


def test_cli_demo_prints_report_path(tmp_path):
    proc = run_cli("demo", "--out", str(tmp_path / "demo"))
    assert proc.returncode in (0, 1), proc.stderr
    assert f"report: {tmp_path / 'demo' / 'report.json'}" in proc.stdout
    report = json.loads((tmp_path / "demo" / "report.json").read_text())
    names = {c["name"] for s in report["states"] for p in s["pages"] for c in p["cookies"]}
    assert {"_ga", "_gid", "__cf_bm", "YSC"} <= names


def test_wheel_ships_rules_demo_site_and_scripts(tmp_path):
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(root)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("cookie_scanner-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "scanner/gather/instrument.js" in names
    assert "scanner/demo/site/www.micropep.com/index.html" in names
    assert "scanner/demo/site/www.micropep.com/index.html.headers" in names
    assert any(n.startswith("scanner/_rules/") for n in names)


@pytest.mark.parametrize("size", ["small", "large"])
def test_page_visit_starts_with_the_consent_states_local_storage(sites_server, size):
    """A page visit created from a consent state finds its localStorage before the page's first
    script, hidden from the page; a same-origin iframe loaded later does not undo the page's
    own change. Small storage goes in through an isolated-world script, large storage through
    Playwright's restore: the page sees the same either way."""
    import asyncio
    from playwright.async_api import async_playwright

    from scanner import ScanOptions
    from scanner.gather.seed import SEED_LIMIT, split_storage_state
    from scanner.pages import visit_page

    filler = "x" * (SEED_LIMIT + 10 if size == "large" else 10)
    state = {"cookies": [], "origins": [{"origin": "https://www.seed.test", "localStorage": [
        {"name": "choice", "value": 'stored "choice" </script>\u2028'}, {"name": "filler", "value": filler}]}]}
    assert (split_storage_state(state)[1] is None) == (size == "large")
    options = ScanOptions(url="https://www.seed.test/", resolve=(sites_server.resolve_rule(),),
                          ignore_https_errors=True, keep_values=True, fast_forward_s=0)

    async def visit():
        async with async_playwright() as pw:
            async with Browser(pw, executable=find_chromium(), resolver_rules=host_resolver_rules(options.resolve),
                               settings=ContextSettings(ignore_https_errors=True)) as browser:
                record, _ = await visit_page(browser, options.url, options, site_domain="seed.test",
                                             storage_state=state, seed=None)
                return record

    record = asyncio.run(visit())
    from urllib.parse import unquote
    cookies = {c["name"]: unquote(c["value"]) for c in record["cookies"]}
    assert cookies["early"] == 'stored "choice" </script>\u2028'
    assert cookies["marker"] == "undefined"            # the page cannot see how its storage was restored
    assert cookies["in_frame"] == "changed-by-page"
    storage = {s["key"]: s for s in record["storage"] if s["kind"] == "local"}
    assert storage["choice"]["value"] == "changed-by-page" and storage["filler"]["value_len"] == len(filler)


def test_playwright_driver_gets_lean_heap_limits_unless_the_user_set_them(monkeypatch):
    import os
    from scanner.browser import lean_driver

    monkeypatch.delenv("NODE_OPTIONS", raising=False)
    with lean_driver():
        assert os.environ["NODE_OPTIONS"] == "--max-semi-space-size=4 --max-old-space-size=1024"
    assert "NODE_OPTIONS" not in os.environ
    monkeypatch.setenv("NODE_OPTIONS", "--max-old-space-size=300 --trace-warnings")
    with lean_driver():
        assert os.environ["NODE_OPTIONS"] == "--max-old-space-size=300 --trace-warnings --max-semi-space-size=4"
    assert os.environ["NODE_OPTIONS"] == "--max-old-space-size=300 --trace-warnings"
