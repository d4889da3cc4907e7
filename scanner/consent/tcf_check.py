"""What a decoded IAB TC string says about a consent state: the proof of reject, accept,
withdraw and only:<category> on consent managers that implement the TCF (scanner/consent/tcf.py
decodes the string; rules/categories.yaml `tcf_purposes` says which TCF purposes each standard
purpose covers)."""
from __future__ import annotations

from functools import lru_cache

import yaml

from ..consent_states import is_no_consent, only_category
from ..paths import rules_dir

CONSENT_PURPOSES = frozenset(range(1, 12))   # purposes 1-11 (TCF v2.2 Policies, Appendix A)


@lru_cache(maxsize=1)
def tcf_purposes() -> dict[str, frozenset[int]]:
    data = yaml.safe_load((rules_dir() / "categories.yaml").read_text(encoding="utf-8")) or {}
    return {str(k): frozenset(int(n) for n in v or []) for k, v in (data.get("tcf_purposes") or {}).items()}


def _ids(numbers) -> str:
    return ",".join(str(n) for n in sorted(numbers))


def contradiction(tc: dict, state: str, wanted: set[str] | None = None) -> str | None:
    """Why the TC string does not match `state` (a sentence fragment), None when it does.
    `wanted`: for only:<category>, the standard purposes that category stands for."""
    consents = set(tc.get("purpose_consents") or []) & CONSENT_PURPOSES
    vendors = tc.get("vendor_consents") or []
    if state == "withdraw" or is_no_consent(state):
        if consents:
            return f"still grants consent to purpose(s) {_ids(consents)}"
        if vendors:
            return f"still grants consent to {len(vendors)} vendor(s)"
        return None
    if state == "accept":
        return None if consents else "grants no purpose consent"
    if only_category(state) is None or not wanted:
        return None
    table = tcf_purposes()
    mine = frozenset().union(*(table.get(p, frozenset()) for p in wanted))
    others = frozenset().union(*(v for p, v in table.items() if p not in wanted)) - mine
    if not mine:
        return None
    if not consents & mine:
        return f"grants none of the purposes {_ids(mine)} of this category"
    if consents & others:
        return f"also grants purposes {_ids(consents & others)} of other categories"
    return None


def brief(tc: dict, summary: str) -> dict:
    """The decoded choice as report.json keeps it (states[].proof.tc_string)."""
    return {
        "summary": summary,
        "cmp_id": tc.get("cmp_id"), "cmp_version": tc.get("cmp_version"),
        "policy_version": tc.get("policy_version"), "created": tc.get("created"),
        "last_updated": tc.get("last_updated"), "consent_language": tc.get("consent_language"),
        "purpose_consents": list(tc.get("purpose_consents") or []),
        "purpose_legitimate_interests": list(tc.get("purpose_legitimate_interests") or []),
        "special_features": list(tc.get("special_features") or []),
        # the vendor lists whole (the decoder keeps at most tcf.MAX_IDS ids each): the TCF audits
        # check the vendors a state's requests went to against them
        "vendor_consents": list(tc.get("vendor_consents") or []),
        "vendor_consents_count": tc.get("vendor_consents_count", len(tc.get("vendor_consents") or [])),
        "vendor_legitimate_interests": list(tc.get("vendor_legitimate_interests") or []),
        "vendor_legitimate_interests_count": tc.get("vendor_legitimate_interests_count",
                                                    len(tc.get("vendor_legitimate_interests") or [])),
    }
