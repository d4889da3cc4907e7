"""Google Consent Mode per consent state, for report.html: what Google tags told Google about the
visitor's consent (report.json `pages[].requests[].consent_mode`, decoded by
scanner.classify.consent_mode) next to the findings the judgement made of it.

    consent_mode_rows(report, lang) -> [{"state", "label", "requests", "signals": {signal: "denied / granted"},
                                         "violations", "warnings"}]   (states with a Google signal only)

The judgement itself (is a signal allowed in that state) is scanner.judgement's; this only counts
the findings it produced (`consent-mode-granted`, `consent-mode-ping`), per state.
"""
from __future__ import annotations

from typing import Any

from ..classify.consent_mode import SIGNALS
from .i18n import N_, translator
from .matrix import state_label

WORDS = {"granted": N_("granted"), "denied": N_("denied"), None: N_("not set")}
ORDER = ("denied", "granted", None)
RULES = {"consent-mode-granted": "violations", "consent-mode-ping": "warnings"}


def consent_mode_rows(report: dict[str, Any], lang: str = "en") -> list[dict[str, Any]]:
    _ = translator(lang)
    counts: dict[str, dict[str, int]] = {}
    for finding in report.get("findings") or []:
        kind = RULES.get(finding.get("rule")) if isinstance(finding, dict) else None
        if kind is None:
            continue
        for occurrence in finding.get("occurrences") or [{"state": finding.get("state")}]:
            state = str((occurrence or {}).get("state"))
            counts.setdefault(state, {"violations": 0, "warnings": 0})[kind] += 1
    rows = []
    for state in report.get("states") or []:
        if not isinstance(state, dict) or not state.get("reached"):
            continue
        seen: dict[str, set] = {s: set() for s in SIGNALS}
        requests = 0
        for page in state.get("pages") or []:
            for request in (page.get("requests") if isinstance(page, dict) else None) or []:
                signal = request.get("consent_mode") if isinstance(request, dict) else None
                if not isinstance(signal, dict):
                    continue
                requests += 1
                for name in SIGNALS:
                    value = signal.get(name)
                    seen[name].add(value if value in ("granted", "denied") else None)
        if not requests:
            continue
        name = str(state.get("state"))
        rows.append({
            "state": name, "label": state_label(name, report, lang=lang), "requests": requests,
            "signals": {s: " / ".join(_(WORDS[v]) for v in ORDER if v in seen[s]) for s in SIGNALS},
            **counts.get(name, {"violations": 0, "warnings": 0}),
        })
    return rows
