"""DOM helpers that look into every frame and open shadow root (Playwright CSS pierces them)."""
from __future__ import annotations

import asyncio
import re
import time

TOGGLE_STATE_JS = """el => {
  if (el.matches('input[type=checkbox], input[type=radio]')) return el.checked;
  const v = el.getAttribute('aria-checked') ?? el.getAttribute('aria-pressed');
  if (v !== null) return v === 'true';
  const inner = el.querySelector('input[type=checkbox]');
  return inner ? inner.checked : null;
}"""


async def visible_in_frames(page, selector: str, *, limit: int = 5):
    """First visible element matching `selector` in any frame, or None."""
    for frame in list(page.frames):
        try:
            loc = frame.locator(selector)
            count = await loc.count()
            for i in range(min(count, limit)):
                el = loc.nth(i)
                if await el.is_visible():
                    return el
        except Exception:  # detached frame or invalid selector for this engine
            continue
    return None


async def exists_in_frames(page, selector: str) -> bool:
    for frame in list(page.frames):
        try:
            if await frame.locator(selector).count():
                return True
        except Exception:
            continue
    return False


async def wait_visible(page, selector: str, timeout_s: float):
    deadline = time.monotonic() + timeout_s
    while True:
        el = await visible_in_frames(page, selector)
        if el is not None or time.monotonic() >= deadline:
            return el
        await asyncio.sleep(0.1)


async def wait_hidden(page, selector: str, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if await visible_in_frames(page, selector) is None:
            return True
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(0.1)


async def click(el) -> None:
    try:
        await el.click(timeout=3000)
    except Exception:
        # covered by an overlay or mid-animation: a DOM click still reaches the handler
        await el.dispatch_event("click")


async def toggle_state(el) -> bool | None:
    try:
        return await el.evaluate(TOGGLE_STATE_JS)
    except Exception:
        return None


def text_pattern(phrases: list[str], exact: bool) -> re.Pattern:
    """Accessible-name matcher (rules/cmp/_generic.yaml's header): case-insensitive, any run of
    whitespace inside a phrase, a trailing "×"/"✓"/arrow glyph ignored in the exact pass; in the
    contains pass the longest phrases are tried first."""
    words = sorted({" ".join(p.split()) for p in phrases if p and p.strip()}, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(re.escape(w) for w in phrase.split(" ")) for phrase in words)
    if exact:
        return re.compile(rf"^\s*(?:{alternatives})\s*[.!]?\s*[×✕✓✔→›»]?\s*$", re.IGNORECASE)
    return re.compile(rf"(?:{alternatives})", re.IGNORECASE)


def banner_scope(selectors: list[str] | None, keywords: list[str] | None) -> tuple[str, "re.Pattern | None"] | None:
    """A (CSS selector list, keyword pattern) naming the containers of a home-made banner: an
    element matching one of `selectors` whose text contains one of `keywords`."""
    selectors = [s.strip() for s in selectors or [] if s and s.strip()]
    if not selectors:
        return None
    words = [k.strip() for k in keywords or [] if k and k.strip()]
    pattern = re.compile("|".join(re.escape(k) for k in words), re.IGNORECASE) if words else None
    return ", ".join(selectors), pattern


def _scoped(frame, scope):
    if scope is None:
        return frame
    if isinstance(scope, str):
        return frame.locator(scope)
    selector, keywords = scope
    loc = frame.locator(selector)
    return loc.filter(has_text=keywords) if keywords is not None else loc


async def find_by_text(page, phrases: list[str], *, within: str | None = None, exclude: list[str] | None = None,
                       scopes: list | None = None):
    """A visible button or link whose accessible name matches one of `phrases`
    (exact phrase first, then containing), searched in every frame.
    `scopes`: where to look, in order (a CSS selector, a banner_scope() pair, or None for the
    whole page); the first scope with a match wins. Default: `within`, else the whole page."""
    if not phrases:
        return None
    for scope in (scopes if scopes else [within]):
        el = await _find_in(page, phrases, scope, exclude)
        if el is not None:
            return el
    return None


async def _find_in(page, phrases: list[str], scope, exclude: list[str] | None):
    for exact in (True, False):
        pattern = text_pattern(phrases, exact)
        for frame in list(page.frames):
            try:
                base = _scoped(frame, scope)
                for role in ("button", "link"):
                    loc = base.get_by_role(role, name=pattern)
                    count = await loc.count()
                    for i in range(min(count, 5)):
                        el = loc.nth(i)
                        if not await el.is_visible():
                            continue
                        if not exact and exclude:
                            name = (await el.inner_text(timeout=1000)).lower()
                            if any(word in name for word in exclude):
                                continue
                        return el
            except Exception:
                continue
    return None
