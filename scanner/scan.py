"""Orchestrate a scan: one browser, one fresh context per consent state, one result."""
from __future__ import annotations

import asyncio
import time

from playwright.async_api import async_playwright

from .browser import Browser, ContextSettings, find_chromium
from .consent import load_recipes
from .options import ScanOptions
from .resolve import host_resolver_rules
from .result import finish, new_result
from .states import StateRun

FIXED_STATES = ("none", "reject", "accept")


def default_states(mapping: dict[str, list[str]] | None) -> tuple[str, ...]:
    only = tuple(f"only:{c}" for c, purposes in (mapping or {}).items() if purposes)
    return FIXED_STATES + only + ("withdraw",)


async def scan_async(options: ScanOptions, *, declaration=None, policy_findings=None) -> dict:
    started = time.monotonic()
    result = new_result(options)
    site_domain = result["site"]["registrable_domain"]
    recipes, generic = load_recipes()
    mapping = declaration.consent_mapping() if declaration else None
    custom = declaration.custom_recipe() if declaration else None
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
            runner = StateRun(browser, options, site_domain=site_domain, recipes=recipes, generic=generic,
                              mapping=mapping, custom=custom, out_dir=options.out_dir)
            states = list(options.states) if options.states else None
            first = await runner.run("none") if states is None or "none" in states else None
            if states is None:
                # Default: every state the site supports, learned from the `none` visit.
                cmp_id = (first or {}).get("cmp")
                recipe = next((r for r in recipes if r.id == cmp_id), None)
                from .consent.engine import default_mapping
                per_category = mapping or (default_mapping(recipe) if recipe and recipe.toggle
                                           and recipe.has("open_settings") else {})
                states = list(default_states(per_category))
                result["options"]["states"] = states
            for name in states:
                if name == "none" and first is not None:
                    result["states"].append(first)
                else:
                    result["states"].append(await runner.run(name))
    finish(result, started, time.monotonic())
    from .audits import annotate_and_audit
    return annotate_and_audit(result, declaration, policy_findings=policy_findings)


def _playwright_chromium(pw) -> str | None:
    try:
        return pw.chromium.executable_path
    except Exception:
        return None


def scan(options: ScanOptions, *, declaration=None, policy_findings=None) -> dict:
    return asyncio.run(scan_async(options, declaration=declaration, policy_findings=policy_findings))
