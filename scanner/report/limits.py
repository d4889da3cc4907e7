"""What the recorder's per-page caps left out (report.json `pages[].dropped`), summed for a reader.

    recording_limits(report) -> {"pages": 3, "totals": {"cookies": 1200, ...}, "examples": [(state, url), ...]}
                                 or None when nothing was dropped
    limits_text(summary, _)  -> "on 3 pages: 1,200 cookies, 40,000 page events" (in the translator's language)

report.html and summary.md both show it, so that a verdict reached on truncated data says so.
"""
from __future__ import annotations

from typing import Any

from .i18n import N_, Translator

KINDS = {   # report.json dropped key -> (singular, plural) as a reader says it
    "events": (N_("{n} page event"), N_("{n} page events")),
    "cookies": (N_("{n} cookie"), N_("{n} cookies")),
    "refused_cookies": (N_("{n} cookie the browser refused"), N_("{n} cookies the browser refused")),
    "storage": (N_("{n} storage entry"), N_("{n} storage entries")),
    "requests": (N_("{n} request"), N_("{n} requests")),
}
MAX_EXAMPLES = 5


def recording_limits(report: dict[str, Any]) -> dict[str, Any] | None:
    totals = dict.fromkeys(KINDS, 0)
    pages, examples = 0, []
    for state in report.get("states") or []:
        if not isinstance(state, dict):
            continue
        for page in state.get("pages") or []:
            dropped = page.get("dropped") if isinstance(page, dict) else None
            if not isinstance(dropped, dict):
                continue
            counted = False
            for kind in KINDS:
                value = dropped.get(kind)
                if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                    totals[kind] += value
                    counted = True
            if counted:
                pages += 1
                if len(examples) < MAX_EXAMPLES:
                    examples.append((str(state.get("state") or ""), str(page.get("url") or "")))
    if not pages:
        return None
    return {"pages": pages, "totals": {k: v for k, v in totals.items() if v}, "examples": examples}


def limits_text(summary: dict[str, Any], _: Translator) -> str:
    parts = [_.n(*KINDS[kind], count, n=_.number(count)) for kind, count in summary["totals"].items()]
    return _.n("on {n} page: {what}", "on {n} pages: {what}", summary["pages"], what=", ".join(parts))
