"""Orchestrate a scan: one browser; per consent state, reach it once, then visit the whole
page set in parallel fresh contexts created from that state; one result.

Pipelined: the consent phases of every state run while state `none` discovers the page set,
and each reached state visits pages as soon as discovery accepts them, so no slot idles
waiting for the crawl to finish (scanner.slots decides who goes first)."""
from __future__ import annotations

import asyncio
import copy
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

from playwright.async_api import async_playwright

from . import consent_states
from .consent_states import FIRST
from .browser import (Browser, BrowserStartError, ContextSettings, find_chromium, lean_driver,
                      remove_leftover_profiles)
from .consent import load_recipes
from .consent.engine import default_mapping
from .crawl import Frontier, locs_from_sitemap, sitemap_urls_from_robots
from .egress import with_pages
from .options import ScanOptions
from .pages import visit_page
from .progress import NullProgress
from .result import finish, new_result
from .slots import DISCOVER, PHASE, VISIT, Slots
from .states import ConsentPhase
from .redact import redact_report

MAX_SITEMAPS = 10


def default_states(mapping: dict[str, list[str]] | None) -> tuple[str, ...]:
    """Every state: one `only:` per category that the consent manager can switch on."""
    return consent_states.default_states(c for c, purposes in (mapping or {}).items() if purposes)


def _failed_page(url: str, error: str, status=None, final_url: str | None = None) -> dict:
    """A page that could not be visited; `final_url`: where a redirect took it before it failed."""
    return {"url": url, "final_url": final_url, "status": status, "error": error, "title": "",
            "cookies": [], "storage": [], "requests": []}


class Scan:
    def __init__(self, options: ScanOptions, browser: Browser, *, declaration, progress, checkpoint=None):
        self.options = options
        self.records: dict[str, dict] = {}
        self.done: list[str] = []
        self.pages_done: dict[str, dict[str, dict]] = {}   # state -> url -> page record, as visits finish
        self.took: dict[str, float] = {}        # url -> seconds its `none` visit took (longest go first later)
        self.checkpoint = checkpoint or (lambda: None)
        self.browser = browser
        self.progress = progress
        self.recipes, generic = load_recipes()
        if declaration is not None and declaration.cmp:  # the consent manager the site names is tried first
            self.recipes = tuple(sorted(self.recipes, key=lambda r: r.id != declaration.cmp))
        self.mapping = declaration.consent_mapping() if declaration else None
        self.site_domain = ""
        self.slots = Slots(options.concurrency)
        self.discovered = False                 # the page set is final
        self._grown = asyncio.Event()           # set (and replaced) whenever the page set changes
        self.phase_args = dict(recipes=self.recipes, generic=generic, mapping=self.mapping,
                               custom=declaration.custom_recipe() if declaration else None, out_dir=options.out_dir,
                               labels={cid: str(c.get("label") or cid) for cid, c in declaration.categories.items()}
                               if declaration else None)
        self.frontier = Frontier(start=options.url, max_pages=options.max_pages, max_depth=options.max_depth,
                                 scope=options.scope, include=options.include, exclude=options.exclude,
                                 per_pattern_cap=options.per_pattern_cap)

    def phase(self) -> ConsentPhase:
        return ConsentPhase(self.browser, self.options, site_domain=self.site_domain, **self.phase_args)

    def _page_set_changed(self) -> None:
        self._grown.set()
        self._grown = asyncio.Event()

    async def visit(self, state: str, url: str, reached, inspect=None) -> tuple[dict, list[str]]:
        """One page visit; a context or browser that dies mid-visit is retried once, then recorded."""
        record, links = None, []
        for attempt in (1, 2):
            async with self.slots.hold(DISCOVER if state == FIRST else VISIT):
                began = time.monotonic()
                try:
                    record, links = await visit_page(self.browser, url, self.options, site_domain=self.site_domain,
                                                     storage_state=reached.storage_state, seed=reached.recorder,
                                                     inspect=inspect)
                    if state == FIRST:
                        self.took[url] = time.monotonic() - began
                    break
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # context closed, target crashed, browser gone
                    text = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
                    record = _failed_page(url, f"visit failed ({'after a retry: ' if attempt == 2 else ''}{text})")
        self.pages_done.setdefault(state, {})[url] = record
        self.progress.page_done(state, url, record.get("error"))
        return record, links

    async def discover(self, reached, sitemap: "asyncio.Future[list[str]]") -> dict[str, dict]:
        """State `none`: visit pages breadth-first, growing the page set from their links and
        from `sitemap` (the sitemap fetch, started with the scan)."""
        for url in self.options.extra_urls:
            self.frontier.add(url, depth=1, forced=True)
        for link in reached.links:
            self.frontier.add(link, depth=1, base=self.options.url)
        for url in await sitemap:
            self.frontier.add(url, depth=1)
        records: dict[str, dict] = {}
        running: dict[asyncio.Task, str] = {}
        next_index = 0
        self.progress.set_total(len(self.frontier.pages))
        try:
            while next_index < len(self.frontier.pages) or running:
                while next_index < len(self.frontier.pages) and len(running) < self.options.concurrency * 2:
                    url = self.frontier.pages[next_index]
                    running[asyncio.ensure_future(self.visit(FIRST, url, reached))] = url
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
                self._page_set_changed()
        finally:
            for task in running:  # deadline or interruption: stop the visits still running
                task.cancel()
        self.discovered = True
        self._page_set_changed()
        return records

    async def sitemap_urls(self) -> list[str]:
        """robots.txt Sitemap: lines and /sitemap.xml, read through the browser (same resolver rules)."""
        if self.options.max_pages <= 1:
            return []
        context = await self.browser.new_context()
        found: list[str] = []
        override = getattr(self.browser, "ua_override", None)

        async def fetch(url: str) -> str:
            """One page per file: after a failed fetch Chromium loads its error page, whose
            navigation would interrupt the next fetch on the same page."""
            page = await context.new_page()
            try:
                if override:  # the same desktop-Chrome client hints as every recorded page
                    try:
                        session = await context.new_cdp_session(page)
                        await session.send("Emulation.setUserAgentOverride", override)
                    except Exception:
                        pass
                return await _fetch_text(page, url, self.options.timeout_s)
            finally:
                try:
                    await page.close()
                except Exception:
                    pass

        try:
            robots = await fetch(urljoin(self.options.url, "/robots.txt"))
            queue = sitemap_urls_from_robots(robots) or [urljoin(self.options.url, "/sitemap.xml")]
            seen = 0
            while queue and seen < MAX_SITEMAPS and len(found) < self.options.max_pages * 20:
                url = queue.pop(0)
                seen += 1
                locs, is_index = locs_from_sitemap(await fetch(url))
                (queue if is_index else found).extend(locs)
        finally:
            await context.close()
        return found

    async def reach(self, name: str):
        async with self.slots.hold(PHASE):
            reached = await self.phase().reach(name)
        self.records[name] = reached.record
        return reached

    async def visit_all(self, name: str, reached) -> dict:
        """Visit every page of the page set in this state, starting each page as soon as
        discovery has accepted it; ends when the page set is final and every visit is done."""
        record = reached.record
        visits: dict[str, asyncio.Task] = {}
        banner_back: list[bool] = []

        async def recheck(page) -> None:
            """On the start page: the banner must not come back in a new visit."""
            try:
                banner_back.append(await self.phase().banner_shown(page, reached.recipe))
            except Exception:
                pass

        try:
            if record["reached"]:
                while True:
                    grown = self._grown
                    # Pages whose `none` visit took longest start first, so that the scan does not
                    # end waiting for one long page started last (the start page stays first).
                    new = sorted(self.frontier.pages[len(visits):],
                                 key=lambda u: (u != self.frontier.pages[0], -self.took.get(u, 0.0)))
                    for url in new:
                        check = recheck if reached.recheck and url == self.frontier.pages[0] else None
                        visits[url] = asyncio.ensure_future(self.visit(name, url, reached, inspect=check))
                    if self.discovered and len(visits) == len(self.frontier.pages):
                        break
                    await grown.wait()
                await asyncio.gather(*visits.values())
                record["pages"] = [visits[url].result()[0] for url in self.frontier.pages]
                if any(banner_back):
                    record.update(reached=False, pages=[],
                                  error="the banner re-appears on a new visit: the choice was not stored")
                    if record.get("proof"):
                        record["proof"]["persistent"] = False
                elif reached.recheck:  # passed, or could not run because the start page visit failed
                    checked = ("banner stays away on a new visit" if banner_back
                               else "not checked on a new visit (the start page visit failed)")
                    record["verified_by"] = "; ".join(filter(None, [record.get("verified_by"), checked]))
                    if record.get("proof"):
                        record["proof"]["persistent"] = True if banner_back else None
        finally:
            for task in visits.values():  # deadline or interruption: stop the visits still running
                task.cancel()
        self.progress.state_done(record)
        self.done.append(name)
        self.checkpoint()
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


CLEANUP_S = 1.0   # after a deadline or an interruption: how long running work gets to stop (the
                  # pages already visited are kept; Chromium closes right after, killed if it hangs)


def wrap_up_s(deadline_s: float) -> float:
    """Of a --deadline, the seconds kept for stopping, closing Chromium and writing the reports, so
    the process ends near the deadline rather than after it: a quarter, at most 4 s."""
    return min(4.0, deadline_s / 4)


async def scan_async(options: ScanOptions, *, declaration=None, policy_findings=None, progress=None,
                     checkpoint=None) -> dict:
    """Scan; `checkpoint(partial_result)` is called after each consent state (for progressive writes).
    A deadline or a cancellation (SIGINT/SIGTERM) ends the scan early with what was done."""
    started = time.monotonic()
    progress = progress or NullProgress()
    result = new_result(options)
    if options.gvl_path is not None:   # what the TCF vendors declare (the audits keep those contacted)
        from .classify.tcf_vendors import load_gvl
        gvl = load_gvl(options.gvl_path)
        result["tcf"] = {"gvl": {"file": Path(options.gvl_path).name[:200],
                                 "vendor_list_version": gvl["vendor_list_version"]},
                         "vendors": {str(k): v for k, v in gvl["vendors"].items()}}
    if declaration is not None:
        result["declaration"] = declaration.summary()
        if declaration.second_page and "second_page" not in options.extra:
            options.extra["second_page"] = declaration.second_page
    if checkpoint is not None:  # a report.json exists from the start: a killed scan leaves one
        first = finish(copy.deepcopy(result), started, time.monotonic())
        first.update(complete=False, incomplete_reasons=["scan still running: no state finished yet"])
        from .audits import annotate_and_audit
        checkpoint(annotate_and_audit(first, declaration, policy_findings=policy_findings))
    watchdog: threading.Timer | None = None
    try:
        with lean_driver():  # the driver copies the environment when it starts; restored after the scan
            async with async_playwright() as pw:
                executable = find_chromium(options.chromium_path, _playwright_chromium(pw))
                settings = ContextSettings(locale=options.locale, ignore_https_errors=options.ignore_https_errors)
                async with Browser(pw, executable=executable, resolve=options.resolve, allow_private=options.allow_private,
                                   settings=settings) as browser:
                    result["tool"]["chromium"] = browser.version
                    def save() -> None:
                        if checkpoint is not None:
                            _collect(scan, result)
                            result["egress"] = with_pages(browser.egress.summary(), result["states"])
                            partial = finish(dict(result, incomplete_reasons=list(result["incomplete_reasons"])),
                                             started, time.monotonic())
                            partial["complete"] = False
                            partial["incomplete_reasons"] = partial["incomplete_reasons"] or ["scan still running"]
                            from .audits import annotate_and_audit
                            checkpoint(annotate_and_audit(copy.deepcopy(partial), declaration, policy_findings=policy_findings))
                    scan = Scan(options, browser, declaration=declaration, progress=progress, checkpoint=save)
                    scan.site_domain = result["site"]["registrable_domain"]
                    run = asyncio.ensure_future(_run(scan, options, result, progress))
                    # the deadline counts from the start of the scan, browser start-up included
                    budget = (None if options.deadline_s is None
                              else max(0.1, options.deadline_s - wrap_up_s(options.deadline_s)
                                       - (time.monotonic() - started)))
                    # A page flooding the browser with events can keep this event loop too busy to
                    # notice the deadline: a thread kills Chromium (the flood's source) shortly after it.
                    watchdog = None if budget is None else threading.Timer(budget + CLEANUP_S, browser.kill)
                    if watchdog is not None:
                        watchdog.daemon = True
                        watchdog.start()
                    try:
                        done, _ = await asyncio.wait({run}, timeout=budget)
                        if run in done:
                            if watchdog is not None:
                                watchdog.cancel()
                            run.result()
                        else:  # a hard deadline: what is still running gets CLEANUP_S to stop, no more
                            run.cancel()
                            browser.kill()   # the pages visited are kept; a page half-visited is not
                            await asyncio.wait({run}, timeout=CLEANUP_S)
                            result["incomplete_reasons"].append(
                                f"deadline of {options.deadline_s:g} s reached; {_done_text(scan)}")
                    except asyncio.CancelledError:
                        _uncancel()
                        run.cancel()
                        await asyncio.wait({run}, timeout=CLEANUP_S)
                        result["incomplete_reasons"].append(f"scan interrupted; {_done_text(scan)}")
                    _collect(scan, result)
                    # every connection the egress guard refused (private, loopback, link-local addresses)
                    result["egress"] = with_pages(browser.egress.summary(), result["states"])
    finally:
        if watchdog is not None:
            watchdog.cancel()
    finish(result, started, time.monotonic())
    from .audits import annotate_and_audit
    return redact_report(annotate_and_audit(result, declaration, policy_findings=policy_findings))


def _uncancel() -> None:
    task = asyncio.current_task()
    if task is not None and hasattr(task, "uncancel"):
        while task.cancelling():
            task.uncancel()


def _done_text(scan: Scan) -> str:
    return f"states finished: {', '.join(scan.done)}" if scan.done else "no state finished"


def _collect(scan: Scan, result: dict) -> None:
    """Put the states so far into the result, in the requested order; a state still running
    keeps the pages already visited and is marked interrupted."""
    order = result["options"]["states"] or [FIRST]
    states = []
    for name in order:
        record = scan.records.get(name)
        if record is None:
            continue
        if name not in scan.done:
            visited = scan.pages_done.get(name, {})
            record = dict(record, interrupted=True,
                          pages=[visited[u] for u in scan.frontier.pages if u in visited])
            record["interrupted_after"] = f"{len(record['pages'])} of {len(scan.frontier.pages)} pages"
        states.append(record)
    result["states"] = states


async def _run(scan: Scan, options: ScanOptions, result: dict, progress) -> None:
    progress.start_state(FIRST)
    # When the states are known before the `none` visit (given, or from the declaration's
    # consent mapping), their consent phases start at once, alongside it.
    known = list(options.states) or (list(default_states(scan.mapping)) if scan.mapping else [])
    phases: dict[str, asyncio.Task] = {name: asyncio.ensure_future(scan.reach(name)) for name in known
                                       if name != FIRST}
    sitemap = asyncio.ensure_future(scan.sitemap_urls())   # needs nothing from `none`: start it now
    tasks: list[asyncio.Task] = [*phases.values(), sitemap]
    try:
        none = await scan.reach(FIRST)
        states = known
        recipe = next((r for r in scan.recipes if r.id == none.record.get("cmp")), None)
        if not states:  # every state the site supports, learned from the `none` visit
            per_category = default_mapping(recipe) if recipe and recipe.toggle and recipe.has("open_settings") else {}
            scan.mapping = scan.phase_args["mapping"] = per_category or None
            states = list(default_states(per_category))
        if not options.states:  # also every optional category the banner offers that nobody listed
            states = _with_banner_categories(scan, states, recipe, (none.record.get("banner") or {}).get("categories"))
        result["options"]["states"] = states
        progress.set_states(states)
        others = [s for s in states if s != FIRST]
        if not none.record["reached"]:
            for task in tasks:
                task.cancel()
            none.record["pages"] = [_failed_page(options.url, none.record["error"],
                                                 none.record.pop("start_status", None),
                                                 none.record.pop("start_target", None))]
            _record_crawl(scan, options, result)
            _state_finished(scan, none.record)
            for name in others:
                scan.records[name] = {"state": name, "reached": False, "cmp": None, "method": [], "verified_by": None,
                                      "banner": None, "screenshots": [], "pages": [],
                                      "error": f"not attempted: the start page could not be loaded ({none.record['error']})"}
                scan.done.append(name)
            return
        for name in others:
            if name not in phases:
                phases[name] = asyncio.ensure_future(scan.reach(name))
                tasks.append(phases[name])
        states_done = [asyncio.ensure_future(_then_visit(scan, name, phases[name])) for name in others]
        tasks.extend(states_done)
        pages = await scan.discover(none, sitemap)
        none.record["pages"] = [pages[url] for url in scan.frontier.pages]
        _record_crawl(scan, options, result)
        _state_finished(scan, none.record)
        await asyncio.gather(*states_done)
    finally:
        for task in tasks:  # deadline or interruption: stop what still runs, let it close its context
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _with_banner_categories(scan: Scan, states: list[str], recipe, categories) -> list[str]:
    """Add an `only:` state for every optional category the consent manager offers that neither the
    declaration's toggles nor the recipe's standard purposes map (a site's "video" group, say)."""
    if not categories or recipe is None or not (recipe.toggle and recipe.has("open_settings")):
        return states
    mapping = scan.mapping if scan.mapping is not None else {}
    mapped = {cmp_id for ids in mapping.values() for cmp_id in ids}
    extra = [c["id"] for c in categories if not c.get("required") and c["id"] not in mapped
             and consent_states.ONLY_PREFIX + c["id"] not in states and c["id"] not in mapping]
    if not extra:
        return states
    for cmp_id in extra:  # the consent phases read the same dict: in place
        mapping[cmp_id] = [cmp_id]
    if scan.mapping is None:
        scan.mapping = scan.phase_args["mapping"] = mapping
    return consent_states.with_only_states(states, extra)


def _record_crawl(scan: Scan, options: ScanOptions, result: dict) -> None:
    from .gather.redact import redact_url
    result["crawl"] = {"pages": [redact_url(u, options.keep_query) for u in scan.frontier.pages],
                       "skipped": dict(scan.frontier.skipped),
                       "max_pages": options.max_pages, "concurrency": options.concurrency,
                       "fast_forward_s": options.fast_forward_s, "quiet_ms": options.quiet_ms}


async def _then_visit(scan: Scan, name: str, phase: asyncio.Task) -> dict:
    return await scan.visit_all(name, await phase)


def _state_finished(scan: Scan, record: dict) -> None:
    scan.progress.state_done(record)
    scan.records[record["state"]] = record
    scan.done.append(record["state"])
    scan.checkpoint()


def _playwright_chromium(pw) -> str | None:
    try:
        return pw.chromium.executable_path
    except Exception:
        return None


def scan(options: ScanOptions, *, declaration=None, policy_findings=None, progress=None, checkpoint=None,
         handle_signals: bool = False) -> dict:
    """Run a scan. With handle_signals, a first SIGINT/SIGTERM stops the scan and returns what was
    done (marked incomplete); a second one exits at once."""
    async def main() -> dict:
        if handle_signals:
            _install_signal_handlers(asyncio.current_task())
        started = time.monotonic()
        try:
            return await _scan_and_clean(options, declaration=declaration, policy_findings=policy_findings,
                                    progress=progress, checkpoint=checkpoint)
        except (asyncio.CancelledError, BrowserStartError) as exc:
            # interrupted before the scan proper began, or Chromium could not start
            _uncancel()
            result = new_result(options)
            result["incomplete_reasons"].append(
                str(exc) if isinstance(exc, BrowserStartError)
                else "scan interrupted before the browser was ready; no state scanned")
            finish(result, started, time.monotonic())
            from .audits import annotate_and_audit
            return redact_report(annotate_and_audit(result, declaration, policy_findings=policy_findings))
    try:
        return asyncio.run(main())
    finally:
        if handle_signals:
            _keep_handling_signals()


async def _scan_and_clean(options, **kwargs) -> dict:
    try:
        return await scan_async(options, **kwargs)
    finally:
        remove_leftover_profiles()  # Playwright has stopped here: no Chromium can write any more


_SIGNALS = {"count": 0}


def _on_signal(signame: str, first) -> None:
    import os
    import sys
    _SIGNALS["count"] += 1
    if _SIGNALS["count"] > 1:
        print(f"cookie-scanner: {signame} again: exiting now", file=sys.stderr, flush=True)
        os._exit(130)
    print(f"cookie-scanner: {signame}: {first[0]} (again to quit at once)", file=sys.stderr, flush=True)
    first[1]()


def _install_signal_handlers(task) -> None:
    import signal

    loop = asyncio.get_running_loop()
    _SIGNALS["count"] = 0
    first = ("stopping, writing what was collected", task.cancel)
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, _on_signal, sig.name, first)
        except (NotImplementedError, RuntimeError):
            pass


def _keep_handling_signals() -> None:
    """Once the scan's event loop is gone (reports are being written), a signal must still not
    raise KeyboardInterrupt at a random place: the first one lets the writing finish, the next
    (or any after an interrupted scan) exits at once."""
    import signal
    first = ("writing the report", lambda: None)
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            signal.signal(sig, lambda signum, _frame: _on_signal(signal.Signals(signum).name, first))
        except (ValueError, OSError):  # not the main thread
            pass
