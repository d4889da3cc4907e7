"""Orchestrate a scan: one browser, one fresh context per consent state, one result."""
from __future__ import annotations

import asyncio
import time

from playwright.async_api import async_playwright

from .browser import Browser, ContextSettings, find_chromium
from .gather import ContextRecorder, navigate, page_record
from .options import ScanOptions
from .resolve import host_resolver_rules
from .result import finish, new_result


async def _visit_state_none(browser: Browser, options: ScanOptions, site_domain: str) -> dict:
    """State `none`: load the start page and leave any banner unanswered."""
    state = {"state": "none", "reached": False, "error": None, "cmp": None, "method": [],
             "verified_by": None, "screenshots": [], "pages": []}
    context = await browser.new_context()
    try:
        recorder = ContextRecorder(context, site_domain=site_domain,
                                   keep_values=options.keep_values, keep_query=options.keep_query)
        await recorder.install()
        page = await context.new_page()
        await recorder.attach(page)
        start = recorder.begin_page()
        status, error = await navigate(page, options.url, timeout_s=options.timeout_s)
        if error is None:
            await recorder.settle(options.quiet_ms, options.settle_cap_s)
        state["pages"].append(await page_record(page, recorder, url=options.url, status=status,
                                                error=error, start_index=start))
        state["reached"] = error is None
        state["error"] = error
        state["method"] = ["no interaction"]
        state["verified_by"] = "nothing clicked" if error is None else None
    finally:
        await context.close()
    return state


async def scan_async(options: ScanOptions) -> dict:
    started = time.monotonic()
    result = new_result(options)
    site_domain = result["site"]["registrable_domain"]
    async with async_playwright() as pw:
        executable = find_chromium(options.chromium_path, _playwright_chromium(pw))
        settings = ContextSettings(locale=options.locale, ignore_https_errors=options.ignore_https_errors)
        async with Browser(pw, executable=executable, resolver_rules=host_resolver_rules(options.resolve),
                           settings=settings) as browser:
            result["tool"]["chromium"] = browser.version
            for name in options.states:
                if name == "none":
                    result["states"].append(await _visit_state_none(browser, options, site_domain))
    return finish(result, started, time.monotonic())


def _playwright_chromium(pw) -> str | None:
    try:
        return pw.chromium.executable_path
    except Exception:
        return None


def scan(options: ScanOptions) -> dict:
    return asyncio.run(scan_async(options))
