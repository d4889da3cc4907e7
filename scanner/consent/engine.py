"""Reach a consent state on a live page and verify it through the consent manager's record."""
from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass, field

from .dom import (banner_scope, click, exists_in_frames, find_by_text, toggle_state, visible_in_frames,
                  wait_hidden, wait_visible)
from ..consent_states import only_category
from ..vocabulary import fold, purposes_for_label
from .recipes import Recipe
from . import proof as proofs
from . import tcf, tcf_check

STANDARD_OPTIONAL = ("preferences", "analytics", "marketing")
GENERIC_BANNER = "generic"
FOOTER = "footer, [role=contentinfo]"
# What a person sees as a category switch in a home-made settings layer.
CONTROL_SELECTOR = ("input[type=checkbox], [role=switch], [role=checkbox], [aria-checked], "
                    "button[aria-pressed], [role=button][aria-pressed]")


@dataclass
class Outcome:
    reached: bool = False
    cmp: str | None = None
    method: list[str] = field(default_factory=list)
    verified_by: str | None = None
    error: str | None = None
    proof: dict = field(default_factory=dict)   # what proves the state (report.json states[].proof)


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
                 custom: Recipe | None = None, request_urls=None, wait_s: float = 4.0,
                 labels: dict[str, str] | None = None, site_domain: str | None = None,
                 is_tracker=None):
        self.page = page
        self.site_domain = site_domain
        self.is_tracker = is_tracker   # (name, host) -> known as needing consent: never the record of a choice
        self.labels = labels or {}   # site category id -> its label in the declaration
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
        """Find the consent manager and whether its first layer is shown. A banner that is not
        there yet is waited for (`wait_s`; injected after a timer), then looked for again after
        the visitor's first scroll (banners that wait for one)."""
        began = time.monotonic()
        info = await self._detect_once(wait=True)
        if info["shown"]:
            return info
        seen = await self._banner_probe()
        for scroll, wait_s in ((False, self.wait_s), (True, min(self.wait_s, 2.0))):
            if scroll:
                await self._scroll()
            deadline = time.monotonic() + wait_s
            while time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                now = await self._banner_probe()
                if now == seen:  # nothing that could be a banner appeared: no full search
                    continue
                seen = now
                info = await self._detect_once(wait=False)
                if info["shown"]:
                    info["appeared"] = ("after the first scroll" if scroll
                                        else f"late: {time.monotonic() - began:.1f} s after the page settled")
                    return info
        return info

    async def _banner_probe(self) -> tuple:
        """A cheap fingerprint of what could be a banner: per frame, how many visible containers
        match banner_selectors (light DOM and open shadow roots) and hold a banner keyword, and
        how many visible buttons and links there are. The full search runs only when it changes."""
        selectors = ", ".join(str(s) for s in self.generic.get("banner_selectors") or [])
        keywords = [str(k).lower() for k in self.generic.get("banner_keywords") or []]
        out = []
        for frame in list(self.page.frames)[:20]:
            try:
                out.append(await frame.evaluate(BANNER_PROBE_JS, {"selectors": selectors, "keywords": keywords}))
            except Exception:
                out.append(None)
        return tuple(out)

    async def _scroll(self) -> None:
        try:
            await asyncio.wait_for(self.page.evaluate("window.scrollBy(0, Math.max(400, window.innerHeight))"), 3)
        except Exception:
            pass

    async def _detect_once(self, *, wait: bool) -> dict:
        if self.custom:
            recipe = self.custom
        elif wait or self.recipe is None:
            recipe = await self._detect_recipe(attempts=2 if wait else 1)
        else:
            recipe = self.recipe
        self.recipe = recipe
        info = {"detected": recipe is not None, "cmp": recipe.id if recipe else None, "shown": False,
                "accept_on_first_layer": False, "reject_on_first_layer": False}
        accept = reject = None
        if recipe is not None and recipe.first_layer:
            shown = await wait_visible(self.page, recipe.first_layer, self.wait_s if wait else 0)
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

    async def _detect_recipe(self, attempts: int = 2) -> Recipe | None:
        if not self.recipes:
            return None
        for attempt in range(attempts):
            urls = [u.lower() for u in self.request_urls()]
            probe = await self._probe()
            for recipe in self.recipes:
                layer = recipe.first_layer
                if layer and (probe.visible(layer) or (layer in probe.unknown and await visible_in_frames(self.page, layer))):
                    return recipe
            for recipe in self.recipes:
                if await self._matches(recipe, urls, probe):
                    return recipe
            if attempt + 1 < attempts:
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

    def _scopes(self) -> list:
        """Where the generic rules look for a control: inside a visible banner container first
        (banner_selectors whose text holds one of banner_keywords), then page-wide."""
        scope = banner_scope(self.generic.get("banner_selectors"), self.generic.get("banner_keywords"))
        return [scope, None] if scope else [None]

    async def _find(self, action: str, scopes: list | None = None):
        return await find_by_text(self.page, _phrases(self.generic, action), exclude=_excluded(self.generic, action),
                                  scopes=scopes or self._scopes())

    async def _generic_banner(self) -> dict | None:
        accept = await self._find("accept_all")
        reject = await self._find("reject_all")
        close = None
        if reject is None:
            close = await self._close_that_rejects()
        if accept is None and reject is None and close is None:
            return None
        settings = await self._find("open_settings")
        info = {"shown": True, "accept_on_first_layer": accept is not None,
                "reject_on_first_layer": (reject or close) is not None, "settings_on_first_layer": settings is not None,
                "_accept": accept, "_reject": reject or close}
        if close is not None:
            info["reject_is_close"] = True
        return info

    async def _banner_texts(self) -> list[str]:
        scope = banner_scope(self.generic.get("banner_selectors"), self.generic.get("banner_keywords"))
        if scope is None:
            return []
        selector, keywords = scope
        texts = []
        for frame in list(self.page.frames):
            try:
                loc = frame.locator(selector)
                if keywords is not None:
                    loc = loc.filter(has_text=keywords)
                for i in range(min(await loc.count(), 8)):
                    el = loc.nth(i)
                    if await el.is_visible():
                        texts.append(" ".join((await el.inner_text(timeout=1000)).split()))
            except Exception:
                continue
        return texts

    async def _close_that_rejects(self):
        """The banner's close control, when the banner's own text says closing means refusing."""
        patterns = [str(p) for p in self.generic.get("close_means_reject") or []]
        if not patterns or not _phrases(self.generic, "close"):
            return None
        scopes = [s for s in self._scopes() if s is not None]
        close = await self._find("close", scopes) if scopes else None
        if close is None:
            return None
        for text in await self._banner_texts():
            if any(re.search(p, text, re.IGNORECASE) for p in patterns):
                return close
        return None

    # ---- acting -----------------------------------------------------------------
    async def apply(self, state: str) -> Outcome:
        outcome = Outcome(cmp=self.banner.get("cmp"))
        if not self.banner.get("detected"):
            outcome.error = "no consent banner or consent manager found"
            return outcome
        before = await proofs.snapshot(self.page)
        try:
            if state == "accept":
                await self._accept(outcome)
            elif state == "reject":
                await self._reject(outcome)
            elif only_category(state) is not None:
                await self._only(outcome, state)
            elif state == "withdraw":
                await self._accept(outcome)
                if await self._verify(outcome, "accept", before):
                    await self.reload(outcome)
                    outcome.verified_by, outcome.proof = None, {}
                    before = await proofs.snapshot(self.page)
                    await self._withdraw(outcome)
                    outcome.reached = await self._verify(outcome, "withdraw", before)
                return outcome
            else:
                outcome.error = f"unknown state {state}"
                return outcome
        except ActionFailed as exc:
            outcome.error = str(exc)
            return outcome
        outcome.reached = await self._verify(outcome, state, before)
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
        if recipe is None and self.banner.get("cmp") == GENERIC_BANNER:
            await self._generic_only(outcome, category)
            return
        if recipe is None or not recipe.toggle or not recipe.has("open_settings"):
            # a recipe without settings steps (IAB TCF's defines no UI): the settings layer a person sees
            try:
                await self._generic_only(outcome, category)
            except ActionFailed as exc:
                raise ActionFailed(f"{exc} (this consent manager's recipe has no settings steps; per-site "
                                   "consent.selectors in the declaration can name them)") from None
            return
        if category not in self.mapping:
            raise ActionFailed(f"category {category!r} has no consent-manager toggle "
                               f"(known: {', '.join(self.mapping) or 'none'})")
        if not await self._set_through_settings(recipe, expected_choice(self.mapping, state), outcome):
            raise ActionFailed("could not set the category toggles in the settings layer")

    async def _withdraw(self, outcome: Outcome) -> None:
        recipe = self.recipe
        if recipe is None and self.banner.get("cmp") == GENERIC_BANNER:
            await self._generic_withdraw(outcome)
            return
        if recipe and recipe.has("reopen"):
            await self._run(recipe, "reopen", outcome, required=True)
            await asyncio.sleep(0.3)
        else:  # a recipe that knows no way back (IAB TCF's): the generic ones
            await self._generic_reopen(outcome)
            await self._wait_reopened()
        # the recipe's own withdrawal control in the reopened manager; the read-back then confirms it
        if recipe and recipe.has("withdraw") and await self._run(recipe, "withdraw", outcome, required=False):
            return
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

    async def _generic_click(self, action: str, outcome: Outcome, scopes: list | None = None) -> bool:
        el = await self._find(action, scopes)
        if el is None and action == "reject_all":
            el = await self._close_that_rejects()
            if el is not None:
                outcome.method.append("close control: the banner says closing means refusing")
        if el is None:
            return False
        await click_labelled(el, outcome)
        if outcome.cmp is None:
            outcome.cmp = GENERIC_BANNER
        await asyncio.sleep(0.4)
        return True

    # ---- generic settings layer (no recipe) -----------------------------------------
    def _category_words(self, category: str) -> tuple[set[str], set[str]]:
        """(names, purposes) that identify `category`'s control: the category id, its label in the
        declaration, the ids the declaration maps it to, and the standard purposes their words mean."""
        names = {category, *(self.declared_mapping or {}).get(category, []),
                 *([self.labels[category]] if self.labels.get(category) else [])}
        purposes: set[str] = set()
        for name in names:
            purposes.update(purposes_for_label(str(name).replace("-", " ").replace("_", " ")))
        return {fold(n.replace("-", " ").replace("_", " ")) for n in names if n}, purposes - {"necessary"}

    def _control_category(self, info: dict) -> tuple[str | None, list[str]]:
        """The category (of the mapping, else None) a control belongs to, and its purposes."""
        purposes = purposes_for_label(info.get("name") or "") or purposes_for_label(info.get("row") or "")
        text = fold(f"{info.get('name') or ''} {info.get('row') or ''}")
        for category in (self.declared_mapping or {}):
            names, wanted = self._category_words(category)
            if any(re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", text) for n in names if n) \
                    or wanted & set(purposes):
                return category, purposes
        return None, purposes

    async def _controls(self) -> list[tuple[object, dict]]:
        """The visible category controls, with what a person reads next to them."""
        found = []
        for frame in list(self.page.frames):
            try:
                loc = frame.locator(CONTROL_SELECTOR)
                count = min(await loc.count(), 40)
            except Exception:
                continue
            for i in range(count):
                el = loc.nth(i)
                try:
                    info = await el.evaluate(DESCRIBE_CONTROL_JS, CONTROL_SELECTOR)
                except Exception:
                    continue
                if info and info.get("visible"):
                    found.append((el, info))
        return found

    async def _set_control(self, el, value: bool) -> bool:
        if await toggle_state(el) == value:
            return True
        await click(el)
        await asyncio.sleep(0.1)
        if await toggle_state(el) != value:  # a visually hidden checkbox: its label is what people click
            try:
                await el.evaluate("e => { const l = (e.labels && e.labels[0]) || e.closest('label'); if (l) l.click(); }")
            except Exception:
                pass
            await asyncio.sleep(0.1)
        if await toggle_state(el) != value:
            try:
                await el.evaluate("(e, v) => { if ('checked' in e && e.type === 'checkbox') { e.checked = v; "
                                  "e.dispatchEvent(new Event('input', {bubbles: true})); "
                                  "e.dispatchEvent(new Event('change', {bubbles: true})); } }", value)
            except Exception:
                pass
        return await toggle_state(el) == value

    async def _generic_toggles(self, outcome: Outcome, wanted_category: str | None) -> str:
        """Set the visible category controls (on: those of `wanted_category`; off: every other
        optional one; disabled and necessary-only ones left alone), read each back, and return
        the read-back as text. ActionFailed when a control cannot be set."""
        controls = await self._controls()
        if not controls:
            raise ActionFailed("the settings layer shows no category control (checkbox, switch) the scanner can read")
        if wanted_category is not None:
            names, purposes = self._category_words(wanted_category)
        else:
            names, purposes = set(), set()
        plan = []
        for el, info in controls:
            category, control_purposes = self._control_category(info)
            text = fold(f"{info.get('name') or ''} {info.get('row') or ''}")
            if info.get("disabled") or (control_purposes == ["necessary"] and category is None):
                continue
            if wanted_category is None:
                on = False
            elif self.declared_mapping:
                on = category == wanted_category
            else:
                on = bool(purposes & set(control_purposes)) or any(
                    re.search(rf"(?<![a-z0-9]){re.escape(n)}(?![a-z0-9])", text) for n in names if n)
            key = category or (control_purposes[0] if control_purposes else None) \
                or (info.get("name") or info.get("row") or "control")[:40]
            plan.append((el, key, on))
        if wanted_category is not None and not any(on for _, _, on in plan):
            seen = ", ".join(sorted({k for _, k, _ in plan})) or "none"
            raise ActionFailed(f"no control in the settings layer for category {wanted_category!r} (controls: {seen})")
        for el, key, on in plan:
            before = await toggle_state(el)
            if not await self._set_control(el, on):
                raise ActionFailed(f"the control for {key!r} did not switch {'on' if on else 'off'}")
            if before != on:
                outcome.method.append(f"toggle {key} {'on' if on else 'off'}")
        readback = {}
        for el, key, on in plan:  # read every control again, after all the clicks
            state = await toggle_state(el)
            if state != on:
                raise ActionFailed(f"the control for {key!r} reads {'on' if state else 'off'} after setting it")
            readback[key] = readback.get(key, False) or bool(state)
        return ", ".join(f"{k}={'on' if v else 'off'}" for k, v in readback.items())

    async def _generic_save(self, outcome: Outcome) -> None:
        if not await self._generic_click("save_settings", outcome, [None]):
            raise ActionFailed("could not find a 'save settings' control in the settings layer")

    async def _here_link(self):
        """A "Here" link in a sentence about cookie settings ("Here you can make detailed
        settings"): _generic.yaml settings_link."""
        spec = self.generic.get("settings_link") or {}
        words = [str(w) for w in spec.get("words") or []]
        sentences = [re.compile(str(p), re.IGNORECASE) for p in spec.get("sentence") or []]
        keywords = [str(k).lower() for k in self.generic.get("banner_keywords") or []]
        if not words or not sentences:
            return None
        name = re.compile(r"^\s*(?:" + "|".join(re.escape(w) for w in words) + r")\s*[.:!›»→]*\s*$", re.IGNORECASE)
        for frame in list(self.page.frames):
            try:
                loc = frame.get_by_role("link", name=name)
                for i in range(min(await loc.count(), 5)):
                    el = loc.nth(i)
                    if not await el.is_visible():
                        continue
                    around = await el.evaluate(SENTENCE_JS)
                    low = around.lower()
                    if any(p.search(around) for p in sentences) and any(k in low for k in keywords):
                        return el
            except Exception:
                continue
        return None

    async def _open_settings_layer(self, outcome: Outcome) -> None:
        """Open the settings layer of a banner no recipe knows: its own settings control inside
        the banner container, else a "Here" link in a sentence about settings, else a settings
        control anywhere on the page; the next candidate is tried when a click shows no category
        control (a footer link that only reopens the first layer)."""
        tried = []
        for _ in range(3):
            scoped = [s for s in self._scopes() if s is not None]
            candidates = [("banner", lambda: self._find("open_settings", scoped) if scoped else _none()),
                          ("here", self._here_link),
                          ("page", lambda: self._find("open_settings", [None]))]
            el = None
            for where, finder in candidates:
                el = await finder()
                if el is not None and await _label(el) + where not in tried:
                    break
                el = None
            if el is None:
                break
            tried.append(await _label(el) + where)
            await click_labelled(el, outcome)
            if await self._wait_controls():
                return
        if not tried:
            raise ActionFailed("could not find a control opening the banner's settings layer")
        raise ActionFailed("the settings layer shows no category control (checkbox, switch) the scanner can read")

    async def _wait_controls(self, timeout_s: float = 2.5) -> bool:
        deadline = time.monotonic() + timeout_s
        while True:
            await asyncio.sleep(0.3)
            if await self._controls():
                return True
            if time.monotonic() >= deadline:
                return False

    async def _generic_only(self, outcome: Outcome, category: str) -> None:
        await self._open_settings_layer(outcome)
        readback = await self._generic_toggles(outcome, category)
        await self._generic_save(outcome)
        outcome.verified_by = f"toggles read back {readback} before saving"

    async def _generic_reopen(self, outcome: Outcome) -> None:
        """Reopen a consent manager without a recipe's way back: a persistent 'cookie settings'
        control (footer first, then page-wide), else a settings control, else the 'change my
        choices' control of the cookie policy page. The method says which one worked."""
        reopened = None
        for scopes, where in (([FOOTER], "footer"), ([None], "page")):
            el = await self._find("reopen", scopes)
            if el is not None:
                reopened = f"reopen: {where} control {await _label(el)!r}"
                await click(el)
                break
        if reopened is None:
            el = await self._find("open_settings")
            if el is not None:
                reopened = f"reopen: settings control {await _label(el)!r}"
                await click(el)
        if reopened is None:
            reopened = await self._reopen_from_policy_page()
        if reopened is None:
            raise ActionFailed("could not reopen the consent manager: no visible 'cookie settings' link or button, "
                               "here or on the cookie policy page")
        outcome.method.append(reopened)

    async def _generic_withdraw(self, outcome: Outcome) -> None:
        """Reopen a home-made banner's consent manager (a persistent 'cookie settings' control,
        footer first), then refuse: 'reject all' if the reopened layer has it, else every
        optional control off and save."""
        await self._generic_reopen(outcome)
        reject = await self._wait_reopened()
        if reject is None:
            reject = await self._find("reject_all")
        if reject is not None:
            await click_labelled(reject, outcome)
            await asyncio.sleep(0.4)
            if await self.banner_visible():  # a settings layer's "decline all" only unticks: save
                save = await self._find("save_settings", [None])
                if save is not None:
                    await click_labelled(save, outcome)
                    await asyncio.sleep(0.4)
            return
        if not await self._controls():  # reopened on a first layer without reject
            try:
                await self._open_settings_layer(outcome)
            except ActionFailed:
                raise ActionFailed("the reopened consent manager shows neither 'reject all' nor a settings layer") from None
        readback = await self._generic_toggles(outcome, None)
        await self._generic_save(outcome)
        outcome.verified_by = f"toggles read back {readback} before saving"

    async def _reopen_from_policy_page(self) -> str | None:
        """Follow the cookie policy link (footer first) and click the reopen control there."""
        link = await self._find("policy_link", [FOOTER]) or await self._find("policy_link", [None])
        if link is None:
            return None
        label = await _label(link)
        try:
            async with self.page.expect_navigation(wait_until="load", timeout=self.wait_s * 3000):
                await click(link)
        except Exception:
            return None
        await asyncio.sleep(0.3)
        for action in ("reopen", "open_settings"):
            el = await self._find(action, [None])
            if el is not None:
                text = await _label(el)
                await click(el)
                return f"reopen: {text!r} on the cookie policy page (link {label!r}, {self.page.url[:200]})"
        return None

    async def _wait_reopened(self):
        """After a reopen click: wait (up to `wait_s`; a banner in an iframe has to load) until the
        reopened consent manager shows a 'reject all' control (returned) or a settings layer."""
        deadline = time.monotonic() + self.wait_s
        while True:
            await asyncio.sleep(0.3)
            reject = await self._find("reject_all")
            if reject is not None:
                return reject
            if await self._find("accept_all") is not None:  # a first layer without a reject button
                return await self._close_that_rejects()
            if await self._find("save_settings", [None]) is not None or time.monotonic() >= deadline:
                return None

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

    async def tc_data(self) -> dict | None:
        """The IAB TCF TC string the page's __tcfapi reports (decoded), None without one."""
        try:
            raw = await self.page.evaluate(TC_STRING_JS)
        except Exception:
            return None
        if not isinstance(raw, dict) or not isinstance(raw.get("tcString"), str) or not raw["tcString"]:
            return None
        try:
            decoded = tcf.decode(raw["tcString"])
        except tcf.TCStringError as exc:
            return {"error": str(exc)[:200]}
        return decoded

    async def _verify(self, outcome: Outcome, state: str, before: dict) -> bool:
        """The banner is gone, and the choice is proved: by the consent manager's record (a
        recipe's read-back), by the IAB TC string, else by what the click stored (the candidate
        record) together with the settings layer's read-back. No proof at all: not reached."""
        recipe = self.recipe
        if recipe is not None and recipe.first_layer:
            if not await wait_hidden(self.page, recipe.first_layer, 3.0):
                outcome.error = "the banner is still shown after the action: the choice was not taken"
                return False
        elif await self.banner_visible():
            outcome.error = "the banner is still shown after the action: the choice was not taken"
            return False
        proof = outcome.proof
        proof.setdefault("by", [])
        wanted = expected_choice(self.mapping, "reject" if state == "withdraw" else state)
        got = None
        for _ in range(10):
            got = await self.readback()
            if got is not None:
                break
            await asyncio.sleep(0.2)
        tc = await self.tc_data()
        if tc is not None:
            if "error" in tc:
                outcome.error = f"the TC string reported by __tcfapi cannot be read: {tc['error']}"
                return False
            category = only_category(state)
            problem = tcf_check.contradiction(tc, state, self._category_words(category)[1] if category else None)
            proof["tc_string"] = tcf_check.brief(tc, tcf.summary(tc))
            if problem:
                outcome.error = f"verification failed: the TC string {problem} for state {state}"
                return False
            proof["by"].append("tc-string")
        if recipe is not None and recipe.readback:
            if got is None:
                outcome.error = f"the consent manager ({recipe.id}) reports no stored choice after the action"
                return False
            wrong = {p: got.get(p) for p, v in wanted.items() if bool(got.get(p)) != v}
            if wrong:
                shown = ", ".join(f"{p}={str(v).lower()}" for p, v in wrong.items())
                outcome.error = f"verification failed: the consent manager reports {shown} for state {state}"
                return False
            toggled = outcome.verified_by  # the generic settings layer's read-back, when it was used
            outcome.verified_by = f"{recipe.id} readback " + ", ".join(
                f"{p}={str(bool(got.get(p))).lower()}" for p in wanted) if wanted else f"{recipe.id} readback"
            proof["by"].insert(0, "cmp-record")
            if toggled:
                outcome.verified_by += f"; {toggled}"
                proof["by"].append("toggles-readback")
            return True
        record = proofs.candidate_record(proofs.changes(before, await proofs.snapshot(self.page)),
                                         self.site_domain, self.is_tracker)
        parts = ["TC string read back"] if "tc-string" in proof["by"] else []
        if record is not None:
            proof["record"] = record
            proof["by"].append("stored-choice")
            parts.append(f"choice stored: {proofs.describe(record)}")
        if outcome.verified_by:  # the generic settings layer's read-back, taken before saving
            proof["by"].append("toggles-readback")
            parts.insert(0, outcome.verified_by)
        if not proof["by"]:
            outcome.error = ("no proof of the choice: the banner went away, but nothing was stored in cookies "
                             "or web storage and no consent record could be read")
            return False
        parts.append("banner hidden after the action")
        outcome.verified_by = "; ".join(parts)
        return True


class ActionFailed(Exception):
    pass


async def _none():
    return None


# The sentence around a link: its parent's text (its grandparent's when the parent holds little
# more than the link), cut.
SENTENCE_JS = """el => { const text = e => ((e && e.textContent) || '').replace(/\\s+/g, ' ').trim();
  let b = el.parentElement;
  if (b && text(b).length < text(el).length + 30 && b.parentElement && b.parentElement !== document.body) b = b.parentElement;
  return text(b || el).slice(0, 600); }"""


async def _label(el) -> str:
    try:
        text = " ".join((await el.inner_text(timeout=1000)).split())
        return (text or await el.get_attribute("aria-label", timeout=1000) or "")[:60]
    except Exception:
        return ""


async def click_labelled(el, outcome: Outcome) -> None:
    label = await _label(el)
    await click(el)
    outcome.method.append(f"click text {label!r}")


BANNER_PROBE_JS = """({selectors, keywords}) => {
  const roots = [document];
  for (let i = 0; i < roots.length && roots.length < 200; i++) {
    const walker = document.createTreeWalker(roots[i], NodeFilter.SHOW_ELEMENT);
    let n = 0;
    while (walker.nextNode() && n++ < 20000) { if (walker.currentNode.shadowRoot) roots.push(walker.currentNode.shadowRoot); }
  }
  const shown = el => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'; };
  let containers = 0, controls = 0;
  for (const root of roots) {
    if (selectors) { try { for (const el of root.querySelectorAll(selectors)) {
      if (!shown(el)) continue;
      const text = (el.textContent || '').slice(0, 5000).toLowerCase();
      if (keywords.some(k => text.includes(k))) containers++;
    } } catch (e) {} }
    for (const el of root.querySelectorAll('button, a[href], [role=button], input[type=button], input[type=submit]')) {
      if (shown(el)) controls++;
    }
  }
  return [containers, controls, roots.length];
}"""


# One control of a home-made settings layer: is it shown, locked, on; what a person reads for it
# (its accessible name, else its label, else the text of its row).
DESCRIBE_CONTROL_JS = """(el, SEL) => {
  if (el.parentElement && el.parentElement.closest(SEL)) return null;
  const shown = e => { if (!e) return false; const r = e.getBoundingClientRect(); const cs = getComputedStyle(e);
                       return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden'; };
  const text = e => (e ? (e.innerText || e.textContent || '') : '').replace(/\\s+/g, ' ').trim();
  const label = (el.labels && el.labels.length) ? el.labels[0] : el.closest('label');
  const root = el.getRootNode();
  let name = el.getAttribute('aria-label') || '';
  const by = el.getAttribute('aria-labelledby');
  if (!name && by) name = by.split(/\\s+/).map(id => text(root.getElementById ? root.getElementById(id) : document.getElementById(id))).join(' ').trim();
  if (!name && label) name = text(label);
  if (!name && el.tagName !== 'INPUT') name = text(el);
  let row = '';
  for (let a = el.parentElement, n = 0; a && n < 6; a = a.parentElement, n++) {
    if (a.querySelectorAll(SEL).length > 1) break;
    row = text(a);
    if (row) break;
  }
  const disabled = !!(el.disabled || el.getAttribute('aria-disabled') === 'true' || el.closest('fieldset[disabled]'));
  return {name: name.slice(0, 200), row: row.slice(0, 300), disabled, visible: shown(el) || shown(label)};
}"""


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


# The TC string of an IAB TCF v2 consent manager, through its standard API (getTCData).
TC_STRING_JS = """() => new Promise((resolve) => {
  if (typeof window.__tcfapi !== 'function') { resolve(null); return; }
  const timer = setTimeout(() => resolve(null), 3000);
  try {
    window.__tcfapi('getTCData', 2, (tc, ok) => {
      clearTimeout(timer);
      resolve(ok && tc && typeof tc.tcString === 'string' ? {tcString: tc.tcString.slice(0, 20000),
                                                            eventStatus: String(tc.eventStatus || '')} : null);
    });
  } catch (e) { clearTimeout(timer); resolve(null); }
})"""
