"""Visit one page in its own fresh context created from a consent state, and record it."""
from __future__ import annotations

import asyncio

from .gather import ContextRecorder, navigate, page_record
from .gather.seed import split_storage_state

SCROLL_JS = """async () => {
  for (let i = 0; i < 40; i++) {
    const before = window.scrollY;
    window.scrollBy(0, Math.max(200, window.innerHeight * 0.8));
    await new Promise(r => setTimeout(r, 60));
    if (window.scrollY === before) break;
  }
}"""
LINKS_JS = "() => Array.from(document.querySelectorAll('a[href]')).slice(0, 2000).map(a => a.href)"


async def settle_page(page, recorder: ContextRecorder, options) -> None:
    """Quiet network, scroll to the bottom in steps, fast-forward timers, quiet again."""
    await recorder.settle(options.quiet_ms, options.settle_cap_s)
    try:
        await asyncio.wait_for(page.evaluate(SCROLL_JS), timeout=10)
    except Exception:
        pass
    if options.fast_forward_s > 0:
        try:
            await asyncio.wait_for(page.clock.run_for(int(options.fast_forward_s * 1000)), timeout=15)
        except Exception:
            pass
    await recorder.settle(options.quiet_ms, options.settle_cap_s)


async def links_of(page) -> list[str]:
    try:
        return await asyncio.wait_for(page.evaluate(LINKS_JS), timeout=5)
    except Exception:
        return []


async def visit_page(browser, url: str, options, *, site_domain: str, storage_state: dict | None,
                     seed: ContextRecorder | None, inspect=None) -> tuple[dict, list[str]]:
    """Record `url` as a visitor in the given consent state sees it. Returns (page record, links).
    `inspect(page)`, if given, runs on the settled page before it is recorded."""
    storage_state, seed_script = split_storage_state(storage_state)
    context = await browser.new_context(storage_state=storage_state)
    crashed: list[str] = []
    try:
        if options.fast_forward_s > 0:
            await context.clock.install()
        recorder = ContextRecorder(context, site_domain=site_domain, keep_values=options.keep_values,
                                   keep_query=options.keep_query, seed=seed)
        page = await context.new_page()
        tame(page, context)
        page.on("crash", lambda _page: crashed.append("the page's renderer crashed"))
        await recorder.attach(page, getattr(browser, "ua_override", None), seed_script)
        start = recorder.begin_page()
        status, error, target = await navigate(page, url, timeout_s=options.timeout_s)
        links: list[str] = []
        if error is None:
            await settle_page(page, recorder, options)
            links = await links_of(page)
            if inspect is not None:
                await inspect(page)
        if crashed:
            raise RuntimeError(crashed[0])
        record = await page_record(page, recorder, url=url, status=status, error=error, start_index=start,
                                   target=target, links=links)
        return record, links
    finally:
        try:
            await context.close()
        except Exception:
            pass


def tame(page, context=None) -> None:
    """Dismiss dialogs (alert, confirm, prompt, beforeunload) so none can block the scan, and
    close pop-ups and new tabs the page opens: the scan follows one page at a time."""
    page.on("dialog", lambda dialog: asyncio.ensure_future(_dismiss(dialog)))
    if context is not None:
        context.on("page", lambda other: None if other is page else asyncio.ensure_future(_close(other)))


async def _close(page) -> None:
    try:
        await page.close()
    except Exception:
        pass


async def _dismiss(dialog) -> None:
    try:
        await dialog.dismiss()
    except Exception:
        pass
