"""Proof of a consent state when no recipe knows where the choice is kept: what the click stored.

Before the scanner answers a banner, it takes a snapshot of the browser's cookies and of the
web storage of every frame; after the action, a second one. An entry that appeared or changed
with the click, first-party, and not a tracker the knowledge base knows, is the candidate
record of the visitor's choice. Names that say "consent", "cookie", "privacy", "choice"... in
the five languages the scanner reads rank first. Values are compared, never kept.
"""
from __future__ import annotations

import hashlib
import re
from typing import Callable

from ..domains import registrable_domain

MAX_ENTRIES = 400          # per storage area and frame: a hostile page cannot make the snapshot huge
MAX_FRAMES = 20

CONSENT_WORDS = re.compile(
    r"consent|cookie|gdpr|rgpd|dsgvo|privacy|privacidad|privacit|datenschutz|choice|choix|scelta|"
    r"elecci|auswahl|einwillig|zustimm|consentement|consentimiento|consenso|preferen|cmp|tcf|"
    r"opt.?in|notice|banner|bandeau|accepted|agree", re.IGNORECASE)

STORAGE_JS = """(max) => {
  const read = area => { const out = {}; try { const s = window[area];
      for (let i = 0; i < Math.min(s.length, max); i++) { const k = s.key(i); out[k] = String(s.getItem(k)).slice(0, 4096); } }
    catch (e) {} return out; };
  return {origin: location.origin, localStorage: read('localStorage'), sessionStorage: read('sessionStorage')};
}"""


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:16]


async def snapshot(page) -> dict[tuple, str]:
    """(kind, where, name) -> digest of the value, for every cookie of the context and every
    web-storage entry of the page's frames."""
    out: dict[tuple, str] = {}
    try:
        for c in (await page.context.cookies())[:MAX_ENTRIES * 2]:
            out[("cookie", c.get("domain", "").lstrip("."), c.get("name", ""))] = _digest(str(c.get("value", "")))
    except Exception:
        pass
    for frame in list(page.frames)[:MAX_FRAMES]:
        try:
            found = await frame.evaluate(STORAGE_JS, MAX_ENTRIES)
        except Exception:
            continue
        origin = str(found.get("origin") or "")[:200]
        if not origin.startswith(("http://", "https://")):
            continue
        for area in ("localStorage", "sessionStorage"):
            for key, value in (found.get(area) or {}).items():
                out[(area, origin, str(key)[:200])] = _digest(str(value))
    return out


def changes(before: dict[tuple, str], after: dict[tuple, str]) -> list[dict]:
    """Entries that appeared or changed between two snapshots."""
    out = []
    for key, digest in after.items():
        if key not in before:
            out.append({"type": key[0], "where": key[1], "name": key[2], "change": "added"})
        elif before[key] != digest:
            out.append({"type": key[0], "where": key[1], "name": key[2], "change": "changed"})
    return out


def _host(where: str) -> str:
    return where.split("://", 1)[-1].split(":", 1)[0].split("/", 1)[0]


def candidate_record(found: list[dict], site_domain: str | None,
                     is_tracker: Callable[[str, str], bool] | None = None) -> dict | None:
    """The entry most likely to be the consent manager's record of the choice, or None.
    Only first-party entries count; known trackers never do. A name that speaks of consent ranks
    first, then web storage (a cookie written with the click is more often a tracker), then
    entries that appeared over entries that changed."""
    pool = []
    for entry in found:
        if site_domain and registrable_domain(_host(entry["where"])) != site_domain:
            continue
        if is_tracker is not None and is_tracker(entry["name"], _host(entry["where"])):
            continue
        pool.append(entry)
    if not pool:
        return None
    pool.sort(key=lambda e: (not CONSENT_WORDS.search(e["name"]), e["type"] == "cookie",
                             e["change"] != "added", e["type"] == "sessionStorage", e["name"]))
    return dict(pool[0])


def describe(record: dict) -> str:
    where = {"cookie": "cookie", "localStorage": "localStorage entry",
             "sessionStorage": "sessionStorage entry"}[record["type"]]
    verb = "written" if record["change"] == "added" else "changed"
    return f"{where} {record['name']!r} {verb} by the click"
