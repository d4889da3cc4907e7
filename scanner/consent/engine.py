"""Reach a consent state on a live page and verify it through the consent manager's record."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from .dom import (click, exists_in_frames, find_by_text, toggle_state, visible_in_frames,
                  wait_hidden, wait_visible)
from ..consent_states import only_category
from .recipes import Recipe

STANDARD_OPTIONAL = ("preferences", "analytics", "marketing")
GENERIC_BANNER = "generic"


@dataclass
class Outcome:
    reached: bool = False
    cmp: str | None = None
    method: list[str] = field(default_factory=list)
    verified_by: str | None = None
    error: str | None = None


def optional_categories(mapping: dict[str, list[str]]) -> list[str]:
    return [c for c, purposes in mapping.items() if purposes]


def default_mapping(recipe: Recipe | None) -> dict[str, list[str]]:
    """Without a declaration: one category per standard purpose the consent manager has."""
    if recipe is None:
        return {}
    mapping: dict[str, list[str]] = {}
    seen: set[str] = set()
    for purpose in STANDARD_OPTIONAL:
        cmp_id = recipe.purposes.get(purpose)
        if cmp_id and cmp_id not in seen:
            mapping[purpose] = [cmp_id]
            seen.add(cmp_id)
    return mapping


def expected_choice(mapping: dict[str, list[str]], state: str) -> dict[str, bool]:
    """CMP purpose id -> wanted value for `state` (accept, reject, withdraw, only:<category>)."""
    wanted: dict[str, bool] = {}
    on = state == "accept"
    only = only_category(state)
    for category, purposes in mapping.items():
        for purpose in purposes:
            value = on or (only == category)
            wanted[purpose] = wanted.get(purpose, False) or value
    return wanted


class ConsentEngine:
    """Drives one page. `mapping`: site category -> CMP purpose ids (from the declaration)."""

    def __init__(self, page, recipes: tuple[Recipe, ...], generic: dict, *, mapping: dict | None = None,
                 custom: Recipe | None = None, request_urls=None, wait_s: float = 4.0):
        self.page = page
        self.recipes = recipes
        self.generic = generic or {}
        self.custom = custom
        self.request_urls = request_urls or (lambda: [])
        self.wait_s = wait_s
        self.recipe: Recipe | None = None
        self.declared_mapping = mapping
        self.banner: dict = {"detected": False, "shown": False, "cmp": None}

    @property
    def mapping(self) -> dict[str, list[str]]:
        if self.declared_mapping:
            return self.declared_mapping
        return default_mapping(self.recipe)

    # ---- detection --------------------------------------------------------------
    async def detect(self) -> dict:
        """Find the consent manager and whether its first layer is shown."""
        recipe = self.custom if self.custom else await self._detect_recipe()
        self.recipe = recipe
        info = {"detected": recipe is not None, "cmp": recipe.id if recipe else None, "shown": False,
                "accept_on_first_layer": False, "reject_on_first_layer": False}
        accept = reject = None
        if recipe is not None and recipe.first_layer:
            shown = await wait_visible(self.page, recipe.first_layer, self.wait_s)
            info["shown"] = shown is not None
            if shown is not None:
                accept = await self._step_element(recipe, "accept_all")
                reject = await self._step_element(recipe, "reject_all")
                info["accept_on_first_layer"] = accept is not None
                info["reject_on_first_layer"] = reject is not None
        if not info["shown"]:
            generic = await self._generic_banner()
            if generic:
                accept, reject = generic.pop("_accept"), generic.pop("_reject")
                info.update(generic)
                if recipe is None:
                    info["cmp"] = GENERIC_BANNER
                    info["detected"] = True
        if accept is not None and reject is not None:
            info["prominence"] = await compare_prominence(accept, reject)
        self.banner = info
        return info

    async def _detect_recipe(self) -> Recipe | None:
        for attempt in range(2):
            urls = [u.lower() for u in self.request_urls()]
            probe = await self._probe()
            for recipe in self.recipes:
                layer = recipe.first_layer
                if layer and (probe.visible(layer) or (layer in probe.unknown and await visible_in_frames(self.page, layer))):
                    return recipe
            for recipe in self.recipes:
                if await self._matches(recipe, urls, probe):
                    return recipe
            if attempt == 0:
                await asyncio.sleep(min(self.wait_s, 1.5))
        return None

    async def _probe(self) -> "_Probe":
        """Every recipe's selectors and globals checked in one evaluation per frame."""
        visible = sorted({r.first_layer for r in self.recipes if r.first_layer})
        exists = sorted({sel for r in self.recipes for sel in r.detect.get("selectors") or [] if isinstance(sel, str)})
        globals_ = sorted({g for r in self.recipes for g in r.detect.get("globals") or [] if isinstance(g, str)})
        probe = _Probe()
        for index, frame in enumerate(list(self.page.frames)):
            try:
                found = await frame.evaluate(PROBE_JS, {"visible": visible, "exists": exists,
                                                        "globals": globals_ if index == 0 else []})
            except Exception:
                continue
            probe.add(visible, found["visible"], probe.visible_hits, probe.unknown)
            probe.add(exists, found["exists"], probe.exists_hits, probe.unknown)
            probe.add(globals_, found["globals"], probe.global_hits, set())
        probe.page = self.page
        return probe

    async def _matches(self, recipe: Recipe, urls: list[str], probe: "_Probe") -> bool:
        detect = recipe.detect
        if any(g in probe.global_hits for g in detect.get("globals") or []):
            return True
        for needle in detect.get("scripts") or []:
            if any(needle.lower() in u for u in urls):
                return True
        for selector in detect.get("selectors") or []:
            if selector in probe.exists_hits:
                return True
            if selector in probe.unknown and await exists_in_frames(self.page, selector):
                return True
        return False

    async def _step_element(self, recipe: Recipe, action: str):
        for step in recipe.steps(action):
            if "click" in step:
                return await visible_in_frames(self.page, step["click"])
        return None

    async def _generic_banner(self) -> dict | None:
        words = self.generic
        accept = await find_by_text(self.page, _phrases(words, "accept_all"), exclude=_excluded(words, "accept_all"))
        reject = await find_by_text(self.page, _phrases(words, "reject_all"), exclude=_excluded(words, "reject_all"))
        settings = await find_by_text(self.page, _phrases(words, "open_settings"), exclude=_excluded(words, "open_settings"))
        if accept is None and reject is None:
            return None
        return {"shown": True, "accept_on_first_layer": accept is not None,
                "reject_on_first_layer": reject is not None, "settings_on_first_layer": settings is not None,
                "_accept": accept, "_reject": reject}

    # ---- acting -----------------------------------------------------------------
    async def apply(self, state: str) -> Outcome:
        outcome = Outcome(cmp=self.banner.get("cmp"))
        if not self.banner.get("detected"):
            outcome.error = "no consent banner or consent manager found"
            return outcome
        try:
            if state == "accept":
                await self._accept(outcome)
            elif state == "reject":
                await self._reject(outcome)
            elif only_category(state) is not None:
                await self._only(outcome, state)
            elif state == "withdraw":
                await self._accept(outcome)
                if await self._verify(outcome, "accept"):
                    await self.reload(outcome)
                    await self._withdraw(outcome)
                    outcome.reached = await self._verify(outcome, "reject")
                return outcome
            else:
                outcome.error = f"unknown state {state}"
                return outcome
        except ActionFailed as exc:
            outcome.error = str(exc)
            return outcome
        outcome.reached = await self._verify(outcome, state)
        return outcome

    async def reload(self, outcome: Outcome) -> None:
        await self.page.reload(wait_until="load")
        outcome.method.append("reload")
        await asyncio.sleep(0.3)

    async def _accept(self, outcome: Outcome) -> None:
        recipe = self.recipe
        if recipe and recipe.has("accept_all") and await self._run(recipe, "accept_all", outcome, required=False):
            return
        if recipe and recipe.has("accept_all_js") and await self._run(recipe, "accept_all_js", outcome, required=False):
            return
        if not await self._generic_click("accept_all", outcome):
            raise ActionFailed("could not find an 'accept all' control")

    async def _reject(self, outcome: Outcome) -> None:
        recipe = self.recipe
        if recipe and recipe.has("reject_all") and await self._run(recipe, "reject_all", outcome, required=False):
            return
        if recipe and recipe.has("open_settings") and recipe.toggle:
            if await self._set_through_settings(recipe, {p: False for p in self._all_purposes()}, outcome):
                return
        if recipe and recipe.has("reject_all_js") and await self._run(recipe, "reject_all_js", outcome, required=False):
            return
        if not await self._generic_click("reject_all", outcome):
            raise ActionFailed("could not find a 'reject all' or 'continue without accepting' control")

    async def _only(self, outcome: Outcome, state: str) -> None:
        recipe = self.recipe
        category = state.split(":", 1)[1]
        if category not in self.mapping:
            raise ActionFailed(f"category {category!r} has no consent-manager toggle "
                               f"(known: {', '.join(self.mapping) or 'none'})")
        if recipe is None or not recipe.toggle or not recipe.has("open_settings"):
            raise ActionFailed("this consent manager offers no per-category settings the scanner can drive; "
                               "add consent.selectors (open_settings, toggle, save_settings) to the site declaration")
        if not await self._set_through_settings(recipe, expected_choice(self.mapping, state), outcome):
            raise ActionFailed("could not set the category toggles in the settings layer")

    async def _withdraw(self, outcome: Outcome) -> None:
        recipe = self.recipe
        if recipe and recipe.has("reopen"):
            await self._run(recipe, "reopen", outcome, required=True)
        elif not await self._generic_click("open_settings", outcome):
            raise ActionFailed("could not reopen the consent manager to withdraw consent")
        await asyncio.sleep(0.3)
        off = {p: False for p in self._all_purposes()}
        if recipe and recipe.first_layer and await visible_in_frames(self.page, recipe.first_layer) \
                and recipe.has("reject_all") and await self._run(recipe, "reject_all", outcome, required=False):
            return
        if recipe and recipe.settings_layer and recipe.toggle and await visible_in_frames(self.page, recipe.settings_layer):
            if await self._set_toggles(recipe, off, outcome) and await self._run(recipe, "save_settings", outcome, required=False):
                return
        if recipe and recipe.toggle and recipe.has("open_settings"):
            if await self._set_through_settings(recipe, off, outcome):
                return
        if recipe and recipe.has("reject_all_js") and await self._run(recipe, "reject_all_js", outcome, required=False):
            return
        if not await self._generic_click("reject_all", outcome):
            raise ActionFailed("could not withdraw consent after reopening the consent manager")

    def _all_purposes(self) -> list[str]:
        return list(dict.fromkeys(p for purposes in self.mapping.values() for p in purposes))

    async def _set_through_settings(self, recipe: Recipe, wanted: dict[str, bool], outcome: Outcome) -> bool:
        if not await self._run(recipe, "open_settings", outcome, required=False):
            return False
        if recipe.settings_layer:
            await wait_visible(self.page, recipe.settings_layer, self.wait_s)
        await asyncio.sleep(0.2)
        if "prechecked" not in self.banner:
            self.banner["prechecked"] = await self._prechecked(recipe)
        if not await self._set_toggles(recipe, wanted, outcome):
            return False
        return await self._run(recipe, "save_settings", outcome, required=False)

    async def _prechecked(self, recipe: Recipe) -> list[str]:
        on = []
        for purpose in self._all_purposes():
            el = await self._toggle(recipe, purpose)
            if el is not None and await toggle_state(el):
                on.append(purpose)
        return on

    async def _toggle(self, recipe: Recipe, purpose: str):
        selector = recipe.toggle.get("selector", "").replace("{purpose}", purpose)
        if not selector:
            return None
        for frame in list(self.page.frames):
            try:
                loc = frame.locator(selector)
                if await loc.count():
                    return loc.first
            except Exception:
                continue
        return None

    async def _set_toggles(self, recipe: Recipe, wanted: dict[str, bool], outcome: Outcome) -> bool:
        for purpose, value in wanted.items():
            el = await self._toggle(recipe, purpose)
            if el is None:
                outcome.error = f"toggle for purpose {purpose!r} not found"
                return False
            if await toggle_state(el) == value:
                continue
            clicker = (recipe.toggle.get("click_off") if not value else None) or recipe.toggle.get("click")
            target = el
            if clicker:
                target = await visible_in_frames(self.page, clicker.replace("{purpose}", purpose)) or el
            await click(target)
            await asyncio.sleep(0.1)
            if await toggle_state(el) != value:
                await el.evaluate("el => { if ('checked' in el) { el.checked = !el.checked; el.dispatchEvent(new Event('change', {bubbles: true})); el.dispatchEvent(new Event('input', {bubbles: true})); } }")
            outcome.method.append(f"toggle {purpose} {'on' if value else 'off'}")
            if await toggle_state(el) != value:
                outcome.error = f"toggle for purpose {purpose!r} did not change"
                return False
        return True

    async def _run(self, recipe: Recipe, action: str, outcome: Outcome, *, required: bool) -> bool:
        for step in recipe.steps(action):
            kind, value = next(iter(step.items()))
            if kind == "click":
                el = await wait_visible(self.page, value, self.wait_s)
                if el is None:
                    if required:
                        raise ActionFailed(f"{action}: {value!r} not found or not visible")
                    return False
                await click(el)
                outcome.method.append(f"click {value}")
            elif kind == "js":
                try:
                    await self.page.evaluate(value)
                except Exception as exc:
                    if required:
                        raise ActionFailed(f"{action}: JS call failed: {str(exc).splitlines()[0][:200]}") from None
                    return False
                outcome.method.append(f"js {value.strip()[:120]}")
            elif kind == "wait":
                if await wait_visible(self.page, value, self.wait_s) is None and required:
                    raise ActionFailed(f"{action}: {value!r} did not appear")
            elif kind == "wait_hidden":
                await wait_hidden(self.page, value, self.wait_s)
        await asyncio.sleep(0.25)
        return True

    async def _generic_click(self, action: str, outcome: Outcome) -> bool:
        el = await find_by_text(self.page, _phrases(self.generic, action), exclude=_excluded(self.generic, action))
        if el is None:
            return False
        try:
            label = (await el.inner_text(timeout=1000)).strip()[:60]
        except Exception:
            label = action
        await click(el)
        outcome.method.append(f"click text {label!r}")
        if outcome.cmp is None:
            outcome.cmp = GENERIC_BANNER
        await asyncio.sleep(0.4)
        return True

    # ---- verification -------------------------------------------------------------
    async def readback(self) -> dict | None:
        recipe = self.recipe
        if recipe is None or not recipe.readback:
            return None
        try:
            value = await self.page.evaluate(recipe.readback)
        except Exception:
            return None
        return value if isinstance(value, dict) else None

    async def banner_visible(self) -> bool:
        recipe = self.recipe
        if recipe is not None and recipe.first_layer:
            return await visible_in_frames(self.page, recipe.first_layer) is not None
        return bool(await self._generic_banner())

    async def _verify(self, outcome: Outcome, state: str) -> bool:
        """The banner is gone, and the consent manager's record holds exactly the intended choice."""
        recipe = self.recipe
        if recipe is not None and recipe.first_layer:
            if not await wait_hidden(self.page, recipe.first_layer, 3.0):
                outcome.error = "the banner is still shown after the action: the choice was not taken"
                return False
        elif await self.banner_visible():
            outcome.error = "the banner is still shown after the action: the choice was not taken"
            return False
        wanted = expected_choice(self.mapping, "reject" if state == "withdraw" else state)
        got = None
        for _ in range(10):
            got = await self.readback()
            if got is not None:
                break
            await asyncio.sleep(0.2)
        if recipe is not None and recipe.readback:
            if got is None:
                outcome.error = f"the consent manager ({recipe.id}) reports no stored choice after the action"
                return False
            wrong = {p: got.get(p) for p, v in wanted.items() if bool(got.get(p)) != v}
            if wrong:
                shown = ", ".join(f"{p}={str(v).lower()}" for p, v in wrong.items())
                outcome.error = f"verification failed: the consent manager reports {shown} for state {state}"
                return False
            outcome.verified_by = f"{recipe.id} readback " + ", ".join(
                f"{p}={str(bool(got.get(p))).lower()}" for p in wanted) if wanted else f"{recipe.id} readback"
            return True
        outcome.verified_by = "banner hidden after the action (this banner's choice cannot be read back)"
        return True


class ActionFailed(Exception):
    pass


# Checks many selectors at once in one frame, light DOM and open shadow roots. A selector the
# browser's querySelectorAll rejects (Playwright-only syntax) is reported as null and checked
# through Playwright instead.
PROBE_JS = """({visible, exists, globals}) => {
  const roots = [document];
  for (let i = 0; i < roots.length && roots.length < 500; i++) {
    const walker = document.createTreeWalker(roots[i], NodeFilter.SHOW_ELEMENT);
    let n = 0;
    while (walker.nextNode() && n++ < 50000) { if (walker.currentNode.shadowRoot) roots.push(walker.currentNode.shadowRoot); }
  }
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  const all = sel => { const out = []; for (const root of roots) { try { out.push(...root.querySelectorAll(sel)); } catch (e) { return null; } } return out; };
  return {
    visible: visible.map(sel => { const els = all(sel); return els === null ? null : els.some(shown); }),
    exists: exists.map(sel => { const els = all(sel); return els === null ? null : els.length > 0; }),
    globals: globals.map(p => { try { return p.split('.').reduce((o, k) => (o == null ? undefined : o[k]), window) !== undefined; } catch (e) { return false; } }),
  };
}"""


class _Probe:
    def __init__(self) -> None:
        self.visible_hits: set[str] = set()
        self.exists_hits: set[str] = set()
        self.global_hits: set[str] = set()
        self.unknown: set[str] = set()
        self.page = None

    @staticmethod
    def add(names, values, hits: set, unknown: set) -> None:
        for name, value in zip(names, values or []):
            if value is None:
                unknown.add(name)
            elif value:
                hits.add(name)

    def visible(self, selector: str) -> bool:
        return selector in self.visible_hits


MEASURE_JS = """e => {
  const r = e.getBoundingClientRect(), cs = getComputedStyle(e);
  const transparent = cs.backgroundColor === 'rgba(0, 0, 0, 0)' || cs.backgroundColor === 'transparent';
  const bordered = cs.borderStyle !== 'none' && parseFloat(cs.borderWidth) > 0;
  return {width: Math.round(r.width), height: Math.round(r.height), font_px: parseFloat(cs.fontSize),
          button_like: !transparent || bordered, tag: e.tagName.toLowerCase()};
}"""


async def compare_prominence(accept, reject) -> dict:
    """Is 'reject' as prominent as 'accept'? Same kind of control, comparable size and font.
    A reject shown as a mere text link next to an accept button is not (EDPB CBTF ¶¶13-14)."""
    try:
        a = await accept.evaluate(MEASURE_JS)
        r = await reject.evaluate(MEASURE_JS)
    except Exception:
        return {"equal": None, "reason": "could not measure the controls"}
    reasons = []
    area_a, area_r = a["width"] * a["height"], r["width"] * r["height"]
    if area_a and area_r < 0.5 * area_a:
        reasons.append(f"reject control is {area_r / area_a:.0%} of the accept control's area")
    if a["font_px"] and r["font_px"] < 0.85 * a["font_px"]:
        reasons.append(f"reject text {r['font_px']:g}px vs accept {a['font_px']:g}px")
    if a["button_like"] and not r["button_like"]:
        reasons.append("reject is a plain text link, accept a button")
    return {"equal": not reasons, "reason": "; ".join(reasons) or None, "accept": a, "reject": r}


def _phrases(words: dict, action: str) -> list[str]:
    words = words or {}
    entry = (words.get("actions") or {}).get(action) or words.get(action) or {}
    if isinstance(entry, list):
        return [str(p) for p in entry]
    out: list[str] = []
    for phrases in entry.values() if isinstance(entry, dict) else []:
        out.extend(str(p) for p in phrases or [])
    return out


def _excluded(words: dict, action: str) -> list[str]:
    return [str(p).lower() for p in ((words or {}).get("exclude_if_contains") or {}).get(action) or []]
