"""Orchestrate a scan: one browser; per consent state, reach it once, then visit the whole
page set in parallel fresh contexts created from that state; one result."""
from __future__ import annotations

import asyncio
import time
from urllib.parse import urljoin

from playwright.async_api import async_playwright

from .browser import Browser, ContextSettings, find_chromium
from .consent import load_recipes
from .consent.engine import default_mapping
from .crawl import Frontier, locs_from_sitemap, sitemap_urls_from_robots
from .options import ScanOptions
from .pages import visit_page
from .progress import NullProgress
from .resolve import host_resolver_rules
from .result import finish, new_result
from .states import ConsentPhase

FIXED_STATES = ("none", "reject", "accept")
MAX_SITEMAPS = 10


def default_states(mapping: dict[str, list[str]] | None) -> tuple[str, ...]:
    only = tuple(f"only:{c}" for c, purposes in (mapping or {}).items() if purposes)
    return FIXED_STATES + only + ("withdraw",)


def _failed_page(url: str, error: str, status=None) -> dict:
    return {"url": url, "final_url": None, "status": status, "error": error, "title": "",
            "cookies": [], "storage": [], "requests": []}


class Scan:
    def __init__(self, options: ScanOptions, browser: Browser, *, declaration, progress):
        self.options = options
        self.browser = browser
        self.progress = progress
        self.recipes, generic = load_recipes()
        self.mapping = declaration.consent_mapping() if declaration else None
        self.site_domain = ""
        self.slots = asyncio.Semaphore(options.concurrency)
        self.phase_args = dict(recipes=self.recipes, generic=generic, mapping=self.mapping,
                               custom=declaration.custom_recipe() if declaration else None, out_dir=options.out_dir)
        self.frontier = Frontier(start=options.url, max_pages=options.max_pages, max_depth=options.max_depth,
                                 scope=options.scope, include=options.include, exclude=options.exclude,
                                 per_pattern_cap=options.per_pattern_cap)

    def phase(self) -> ConsentPhase:
        return ConsentPhase(self.browser, self.options, site_domain=self.site_domain, **self.phase_args)

    async def visit(self, state: str, url: str, reached) -> tuple[dict, list[str]]:
        async with self.slots:
            record, links = await visit_page(self.browser, url, self.options, site_domain=self.site_domain,
                                             storage_state=reached.storage_state, seed=reached.recorder)
        self.progress.page_done(state, url, record.get("error"))
        return record, links

    async def discover(self, reached) -> dict[str, dict]:
        """State `none`: visit pages breadth-first, growing the page set from their links."""
        for url in self.options.extra_urls:
            self.frontier.add(url, depth=1, forced=True)
        for link in reached.links:
            self.frontier.add(link, depth=1, base=self.options.url)
        for url in await self.sitemap_urls():
            self.frontier.add(url, depth=1)
        records: dict[str, dict] = {}
        running: dict[asyncio.Task, str] = {}
        next_index = 0
        self.progress.set_total(len(self.frontier.pages))
        while next_index < len(self.frontier.pages) or running:
            while next_index < len(self.frontier.pages) and len(running) < self.options.concurrency * 2:
                url = self.frontier.pages[next_index]
                running[asyncio.ensure_future(self.visit("none", url, reached))] = url
                next_index += 1
            done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                url = running.pop(task)
                record, links = task.result()
                records[url] = record
                depth = self.frontier.depth[url] + 1
                for link in links:
                    self.frontier.add(link, depth=depth, base=record.get("final_url") or url)
            self.progress.set_total(len(self.frontier.pages))
        return records

    async def sitemap_urls(self) -> list[str]:
        """robots.txt Sitemap: lines and /sitemap.xml, read through the browser (same resolver rules)."""
        if self.options.max_pages <= 1:
            return []
        context = await self.browser.new_context()
        found: list[str] = []
        try:
            page = await context.new_page()
            robots = await _fetch_text(page, urljoin(self.options.url, "/robots.txt"), self.options.timeout_s)
            queue = sitemap_urls_from_robots(robots) or [urljoin(self.options.url, "/sitemap.xml")]
            seen = 0
            while queue and seen < MAX_SITEMAPS and len(found) < self.options.max_pages * 20:
                url = queue.pop(0)
                seen += 1
                locs, is_index = locs_from_sitemap(await _fetch_text(page, url, self.options.timeout_s))
                (queue if is_index else found).extend(locs)
        finally:
            await context.close()
        return found

    async def run_state(self, name: str) -> dict:
        async with self.slots:
            reached = await self.phase().reach(name)
        record = reached.record
        if record["reached"]:
            results = await asyncio.gather(*(self.visit(name, url, reached) for url in self.frontier.pages))
            record["pages"] = [r for r, _ in results]
        self.progress.state_done(record)
        return record


async def _fetch_text(page, url: str, timeout_s: float) -> str:
    try:
        response = await page.goto(url, wait_until="load", timeout=timeout_s * 1000)
        if response is None or response.status >= 400:
            return ""
        body = await response.body()
        return body[:20_000_000].decode("utf-8", errors="replace")
    except Exception:
        return ""


async def scan_async(options: ScanOptions, *, declaration=None, policy_findings=None, progress=None) -> dict:
    started = time.monotonic()
    progress = progress or NullProgress()
    result = new_result(options)
    if declaration is not None:
        result["declaration"] = declaration.summary()
        if declaration.second_page and "second_page" not in options.extra:
            options.extra["second_page"] = declaration.second_page
    async with async_playwright() as pw:
        executable = find_chromium(options.chromium_path, _playwright_chromium(pw))
        settings = ContextSettings(locale=options.locale, ignore_https_errors=options.ignore_https_errors)
        async with Browser(pw, executable=executable, resolver_rules=host_resolver_rules(options.resolve),
                           settings=settings) as browser:
            result["tool"]["chromium"] = browser.version
            scan = Scan(options, browser, declaration=declaration, progress=progress)
            scan.site_domain = result["site"]["registrable_domain"]
            await _run(scan, options, result, progress)
    finish(result, started, time.monotonic())
    from .audits import annotate_and_audit
    return annotate_and_audit(result, declaration, policy_findings=policy_findings)


async def _run(scan: Scan, options: ScanOptions, result: dict, progress) -> None:
    progress.start_state("none")
    none = await scan.phase().reach("none")
    states = list(options.states)
    if not states:  # every state the site supports, learned from the `none` visit
        recipe = next((r for r in scan.recipes if r.id == none.record.get("cmp")), None)
        per_category = scan.mapping or (default_mapping(recipe) if recipe and recipe.toggle
                                        and recipe.has("open_settings") else {})
        states = list(default_states(per_category))
    result["options"]["states"] = states
    progress.set_states(states)
    records: dict[str, dict] = {}
    if none.record["reached"]:
        pages = await scan.discover(none)
        none.record["pages"] = [pages[url] for url in scan.frontier.pages]
    else:
        none.record["pages"] = [_failed_page(options.url, none.record["error"], none.record.pop("start_status", None))]
    progress.state_done(none.record)
    records["none"] = none.record
    from .gather.redact import redact_url
    result["crawl"] = {"pages": [redact_url(u, options.keep_query) for u in scan.frontier.pages],
                       "skipped": dict(scan.frontier.skipped),
                       "max_pages": options.max_pages, "concurrency": options.concurrency,
                       "fast_forward_s": options.fast_forward_s, "quiet_ms": options.quiet_ms}
    others = [s for s in states if s != "none"]
    if none.record["reached"]:
        for record in await asyncio.gather(*(scan.run_state(name) for name in others)):
            records[record["state"]] = record
    else:
        for name in others:
            records[name] = {"state": name, "reached": False, "cmp": None, "method": [], "verified_by": None,
                             "banner": None, "screenshots": [], "pages": [],
                             "error": f"not attempted: the start page could not be loaded ({none.record['error']})"}
    result["states"] = [records[name] for name in states if name in records]


def _playwright_chromium(pw) -> str | None:
    try:
        return pw.chromium.executable_path
    except Exception:
        return None


def scan(options: ScanOptions, *, declaration=None, policy_findings=None, progress=None) -> dict:
    return asyncio.run(scan_async(options, declaration=declaration, policy_findings=policy_findings, progress=progress))
