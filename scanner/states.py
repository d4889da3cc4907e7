"""Reach one consent state in a fresh context and prove it; hand its storage on to the page visits."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from .consent import ConsentEngine
from .consent_states import FIRST
from .classify.known_cookies import default_generic_names, default_known_cookies
from .domains import registrable_domain
from .gather import ContextRecorder, navigate
from .pages import SCROLL_JS, links_of, tame
from .redact import redact_url


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


async def read_categories(page, recipe) -> list[dict] | None:
    """The categories the consent manager offers ([{id, label, required}]), from its own config;
    None when it cannot say. Page data: strings are cut and typed, nothing else is kept."""
    try:
        raw = await page.evaluate(recipe.categories)
    except Exception:
        return None
    if not isinstance(raw, list):
        return None
    out = []
    for entry in raw[:50]:
        if isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"].strip():
            cid = entry["id"].strip()[:80]
            if " " in cid or any(c["id"] == cid for c in out):
                continue
            out.append({"id": cid, "label": str(entry.get("label") or cid)[:120],
                        "required": bool(entry.get("required")) or cid == recipe.necessary_purpose})
    return out


def known_tracker(name: str, host: str) -> bool:
    """A cookie or storage name the knowledge base knows as needing consent on `host` (a row
    that names its platform's domains counts elsewhere only for a name that is not generic):
    never taken for the record of the visitor's choice."""
    row = default_known_cookies().lookup_for(name, host=host, generic=default_generic_names())
    return row is not None and row.category != "necessary"


@dataclass
class Reached:
    record: dict                       # the state's entry in report.json, pages still empty
    storage_state: dict | None         # cookies + localStorage to start every page visit from
    recorder: ContextRecorder | None   # who set what during the consent phase
    links: list[str]                   # links seen on the start page (crawl seeds)
    recipe: object = None              # the consent manager's recipe found on the start page
    recheck: bool = False              # the first page visit must show no banner (choice stored)


class ConsentPhase:
    def __init__(self, browser, options, *, site_domain: str, recipes, generic, mapping, custom, out_dir: Path | None,
                 labels: dict[str, str] | None = None):
        self.browser = browser
        self.options = options
        self.site_domain = site_domain
        self.recipes = recipes
        self.generic = generic
        self.mapping = mapping
        self.custom = custom
        self.out_dir = out_dir
        self.labels = labels or {}

    async def reach(self, state: str) -> Reached:
        record = {"state": state, "reached": False, "error": None, "cmp": None, "method": [],
                  "verified_by": None, "proof": None, "banner": None, "screenshots": [], "pages": []}
        reached = Reached(record, None, None, [])
        context = await self.browser.new_context()
        try:
            await self._run(context, state, reached)
        except Exception as exc:  # the browser or context died: record, never pass silently
            record["reached"] = False
            text = str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__
            record["error"] = record["error"] or f"state aborted: {text}"
        finally:
            try:
                await context.close()
            except Exception:
                pass
        return reached

    async def _run(self, context, state: str, reached: Reached) -> None:
        opts, record = self.options, reached.record
        recorder = ContextRecorder(context, site_domain=self.site_domain,
                                   keep_values=opts.keep_values, keep_query=opts.keep_query)
        reached.recorder = recorder
        page = await context.new_page()
        tame(page, context)
        await recorder.attach(page, getattr(self.browser, "ua_override", None))
        recorder.begin_page()
        status, error, target = await navigate(page, opts.url, timeout_s=opts.timeout_s)
        if error is None and status is not None and status >= 400:
            error = f"the start page answered HTTP {status}"
        if error is not None:
            record["error"] = error
            record["start_status"] = status
            record["start_target"] = target
            return
        await recorder.settle(opts.quiet_ms, opts.settle_cap_s)
        reached.links = await links_of(page)
        engine = ConsentEngine(page, self.recipes, self.generic, mapping=self.mapping, custom=self.custom,
                               labels=self.labels, site_domain=self.site_domain, is_tracker=known_tracker,
                               request_urls=lambda: [r["url"] for r in recorder.requests])
        record["banner"] = await engine.detect()
        record["cmp"] = record["banner"].get("cmp")
        if state == FIRST and engine.recipe is not None and engine.recipe.categories:
            record["banner"]["categories"] = await read_categories(page, engine.recipe)
        await self._screenshot(page, record, state, "banner")

        if state == FIRST:
            # Browsing is not consent: scroll, open a second page, leave the banner alone.
            await page.evaluate(SCROLL_JS)
            second = opts.extra.get("second_page") or pick_second_page(page.url, reached.links)
            record["method"] = ["no interaction", "scroll"]
            if second:
                second = urljoin(opts.url, second)
                _, error, _target = await navigate(page, second, timeout_s=opts.timeout_s)
                if error is None:
                    await recorder.settle(opts.quiet_ms, opts.settle_cap_s)
                    record["method"].append(f"second page {redact_url(second, opts.keep_query)}")
            record["reached"] = True
            record["verified_by"] = "nothing clicked"
            record["proof"] = {"by": ["nothing-clicked"]}
            reached.storage_state = await context.storage_state()
            return

        outcome = await engine.apply(state)
        record.update(cmp=outcome.cmp, method=outcome.method, verified_by=outcome.verified_by,
                      error=outcome.error, reached=outcome.reached, proof=outcome.proof or None)
        record["banner"] = engine.banner
        await self._screenshot(page, record, state, "after")
        if not outcome.reached:
            return
        # The choice must survive a new visit: the first page visit of this state, in a fresh
        # context created from the storage saved here, checks that no banner comes back.
        reached.recipe = engine.recipe
        reached.recheck = True
        reached.storage_state = await context.storage_state()

    async def banner_shown(self, page, recipe) -> bool:
        """Whether the consent banner (of `recipe`, else any banner the generic rules find) is shown."""
        engine = ConsentEngine(page, self.recipes, self.generic, mapping=self.mapping, custom=self.custom,
                               labels=self.labels)
        engine.recipe = recipe
        return await engine.banner_visible()

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
