"""Visit the site in one consent state: reach it, prove it, then record the pages."""
from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .consent import ConsentEngine
from .domains import registrable_domain
from .gather import ContextRecorder, navigate, page_record

SCROLL_JS = """async () => {
  for (let i = 0; i < 30; i++) {
    const before = window.scrollY;
    window.scrollBy(0, Math.max(200, window.innerHeight * 0.8));
    await new Promise(r => setTimeout(r, 60));
    if (window.scrollY === before) break;
  }
}"""
LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]')).slice(0, 500).map(a => a.href)"


def pick_second_page(start_url: str, links: list[str]) -> str | None:
    """The first same-site http(s) link to another path: where a visitor would go next."""
    start = urlsplit(start_url)
    site = registrable_domain(start.hostname or "")
    for link in links:
        try:
            parts = urlsplit(urljoin(start_url, link))
        except ValueError:
            continue
        if parts.scheme not in ("http", "https") or registrable_domain(parts.hostname or "") != site:
            continue
        if parts.path.rstrip("/") == start.path.rstrip("/"):
            continue
        return parts._replace(fragment="").geturl()
    return None


class StateRun:
    """One consent state in one fresh context."""

    def __init__(self, browser, options, *, site_domain: str, recipes, generic, mapping, custom, out_dir: Path | None):
        self.browser = browser
        self.options = options
        self.site_domain = site_domain
        self.recipes = recipes
        self.generic = generic
        self.mapping = mapping
        self.custom = custom
        self.out_dir = out_dir

    async def run(self, state: str) -> dict:
        record = {"state": state, "reached": False, "error": None, "cmp": None, "method": [],
                  "verified_by": None, "banner": None, "screenshots": [], "pages": []}
        context = await self.browser.new_context()
        try:
            await self._run(context, state, record)
        except Exception as exc:  # the browser or context died: record, never pass silently
            record["reached"] = False
            record["error"] = record["error"] or f"state aborted: {str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__}"
        finally:
            try:
                await context.close()
            except Exception:
                pass
        return record

    async def _run(self, context, state: str, record: dict) -> None:
        opts = self.options
        recorder = ContextRecorder(context, site_domain=self.site_domain,
                                   keep_values=opts.keep_values, keep_query=opts.keep_query)
        await recorder.install()
        page = await context.new_page()
        _tame_page(page)
        await recorder.attach(page)
        start = recorder.begin_page()
        status, error = await navigate(page, opts.url, timeout_s=opts.timeout_s)
        if error is not None:
            record["error"] = error
            record["pages"].append(await page_record(page, recorder, url=opts.url, status=status,
                                                     error=error, start_index=start))
            return
        await recorder.settle(opts.quiet_ms, opts.settle_cap_s)
        engine = ConsentEngine(page, self.recipes, self.generic, mapping=self.mapping, custom=self.custom,
                               request_urls=lambda: [r["url"] for r in recorder.requests])
        record["banner"] = await engine.detect()
        record["cmp"] = record["banner"].get("cmp")
        await self._screenshot(page, record, state, "banner")

        if state == "none":
            record["method"] = ["no interaction", "scroll", "second page"]
            record["reached"] = True
            record["verified_by"] = "nothing clicked"
            await page.evaluate(SCROLL_JS)
            await recorder.settle(opts.quiet_ms, opts.settle_cap_s)
            record["pages"].append(await page_record(page, recorder, url=opts.url, status=status,
                                                     error=None, start_index=start))
            await self._second_page(page, recorder, record)
            if record["banner"].get("shown") and not await engine.banner_visible():
                record["banner"]["hidden_by_browsing"] = True
            return

        outcome = await engine.apply(state)
        record.update(cmp=outcome.cmp, method=outcome.method, verified_by=outcome.verified_by,
                      error=outcome.error, reached=outcome.reached)
        record["banner"] = engine.banner
        await self._screenshot(page, record, state, "after")
        if not outcome.reached:
            return
        # Record the site as the visitor now sees it: reload under the stored choice.
        start = recorder.begin_page()
        status, error = await navigate(page, opts.url, timeout_s=opts.timeout_s)
        if error is None:
            await recorder.settle(opts.quiet_ms, opts.settle_cap_s)
            if await engine.banner_visible():
                record["reached"] = False
                record["error"] = "the banner re-appears after reload: the choice was not stored"
            await page.evaluate(SCROLL_JS)
            await recorder.settle(opts.quiet_ms, opts.settle_cap_s)
        record["pages"].append(await page_record(page, recorder, url=opts.url, status=status,
                                                 error=error, start_index=start))
        if error is None:
            await self._second_page(page, recorder, record)

    async def _second_page(self, page, recorder: ContextRecorder, record: dict) -> None:
        try:
            links = await page.evaluate(LINKS_JS)
        except Exception:
            links = []
        target = self.options.extra.get("second_page") or pick_second_page(page.url, links)
        if not target:
            return
        target = urljoin(self.options.url, target)
        start = recorder.begin_page()
        status, error = await navigate(page, target, timeout_s=self.options.timeout_s)
        if error is None:
            await recorder.settle(self.options.quiet_ms, self.options.settle_cap_s)
        record["pages"].append(await page_record(page, recorder, url=target, status=status,
                                                 error=error, start_index=start))

    async def _screenshot(self, page, record: dict, state: str, label: str) -> None:
        if self.out_dir is None:
            return
        name = f"{state.replace(':', '-')}-{label}.png"
        path = self.out_dir / "screenshots" / name
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.wait_for(page.screenshot(path=str(path)), timeout=10)
            record["screenshots"].append({"label": label, "path": f"screenshots/{name}"})
        except Exception:
            pass


def _tame_page(page) -> None:
    """Dismiss dialogs so an alert() cannot block the scan."""
    page.on("dialog", lambda dialog: asyncio.ensure_future(_dismiss(dialog)))


async def _dismiss(dialog) -> None:
    try:
        await dialog.dismiss()
    except Exception:
        pass
