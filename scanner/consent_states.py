"""The consent states, defined once: name pattern, label, hint, the proof each needs, what it
allows, and the audit rules that report what it does not allow.

    none       banner unanswered (browsing is not consent)
    reject     "reject all"
    accept     "accept all"
    only:<c>   one optional category accepted, the others refused
    withdraw   accepted, then consent withdrawn

Options, the scan, the one judgement (scanner.judgement), the audits, the matrix and every renderer
read this module. Adding a state means adding it here and the consent-engine step that reaches it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

ONLY_PREFIX = "only:"
ALL, NOTHING, ONE = "all", "nothing", "one category"


@dataclass(frozen=True)
class State:
    name: str              # the state's name; for `only:`, the prefix
    label: str
    hint: str
    proof: str             # what must be shown before the state counts as reached
    allows: str            # ALL | NOTHING | ONE (the category in the name)
    when: str              # how findings say it: "{item} before any consent"
    rules: tuple[str, str, str] | None   # the rule reporting a cookie, a storage entry, a request not allowed


_PERSIST = "; the banner stays away on a new visit"
_PROOF = ("the consent manager's record (a recipe's read-back) or the TC string says {what}; without either, "
          "a first-party cookie or storage entry written or changed by the click (the candidate record){also}")

STATES: tuple[State, ...] = (
    State("none", "Before consent", "page loaded, banner untouched", "nothing clicked", NOTHING,
          "before any consent", ("pre-consent-cookie", "pre-consent-storage", "pre-consent-request")),
    State("reject", "Reject all", "visitor refused everything",
          _PROOF.format(what="every optional category is off", also="") + _PERSIST,
          NOTHING, "after the visitor rejected all", ("post-reject-cookie", "post-reject-storage", "post-reject-request")),
    State("accept", "Accept all", "visitor accepted everything",
          _PROOF.format(what="every category is on", also="") + _PERSIST, ALL, "after accepting all", None),
    State(ONLY_PREFIX, "Only “{category}”", "accepted this category only",
          _PROOF.format(what="exactly that category is on",
                        also=", with every toggle of the settings layer read back before saving") + _PERSIST, ONE,
          "with only {category} accepted", ("category-leak",) * 3),
    State("withdraw", "Consent withdrawn", "accepted, then withdrew consent",
          _PROOF.format(what="every optional category is off after reopening the consent manager", also="") + _PERSIST,
          NOTHING, "after consent was withdrawn", ("withdrawal-ignored",) * 3),
)

# What proved a state (report.json states[].proof.by), as the reports say it.
PROOF_KINDS = {
    "nothing-clicked": "nothing clicked",
    "cmp-record": "the consent manager's record",
    "tc-string": "the IAB TC string",
    "stored-choice": "the choice the click stored",
    "toggles-readback": "read-back of the toggles",
}


def proof_text(proof: dict | None) -> str:
    """"the consent manager's record and a persistent choice", for a state's `proof`."""
    if not proof:
        return ""
    parts = [PROOF_KINDS.get(str(k), str(k)) for k in proof.get("by") or []]
    if proof.get("persistent") is True:
        parts.append("a persistent choice (no banner on a new visit)")
    elif proof.get("persistent") is False:
        parts.append("NOT persistent (the banner came back on a new visit)")
    if not parts:
        return ""
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def proof_details(proof: dict | None) -> list[str]:
    """The evidence behind `proof_text`: the candidate record, the decoded TC string."""
    out = []
    record = (proof or {}).get("record")
    if isinstance(record, dict):
        verb = "written" if record.get("change") == "added" else "changed"
        out.append(f"record of the choice: {record.get('type')} {str(record.get('name'))!r} on "
                   f"{record.get('where')} ({verb} by the click)")
    tc = (proof or {}).get("tc_string")
    if isinstance(tc, dict) and tc.get("summary"):
        out.append(str(tc["summary"]))
    return out


_BY_NAME = {s.name: s for s in STATES}
FIXED = tuple(s.name for s in STATES if s.name != ONLY_PREFIX)
FIRST = "none"   # the state every scan starts with: discovery, banner detection, the first-layer audits
NAME_PATTERN = re.compile(r"^(?:none|reject|accept|withdraw|only:[^\s]+)$")


def get(state: str) -> State:
    """The definition a state name belongs to (`only:marketing` -> the `only:` state)."""
    return _BY_NAME[ONLY_PREFIX if state.startswith(ONLY_PREFIX) else state]


def default_states(categories) -> tuple[str, ...]:
    """Every state a scan visits: the fixed ones, one `only:` per optional category, in order."""
    return ("none", "reject", "accept") + tuple(f"{ONLY_PREFIX}{c}" for c in categories) + ("withdraw",)


def with_only_states(states: list[str], categories) -> list[str]:
    """`states` with one `only:` state per category added before the states that come after them."""
    names = [f"{ONLY_PREFIX}{c}" for c in categories]
    tail = [s for s in states if s == "withdraw"]
    return [s for s in states if s != "withdraw"] + names + tail


def is_valid(state: str) -> bool:
    return bool(NAME_PATTERN.match(state))


def allows(state: str) -> str:
    return get(state).allows


def is_no_consent(state: str) -> bool:
    return get(state).allows == NOTHING


def only_category(state: str) -> str | None:
    """`marketing` for `only:marketing`; None for the other states."""
    return state[len(ONLY_PREFIX):] if state.startswith(ONLY_PREFIX) else None


def label(state: str, category_label: str | None = None) -> str:
    category = only_category(state)
    text = get(state).label if (state in _BY_NAME or category is not None) else state
    return text.format(category=category_label or category or "")


def hint(state: str) -> str:
    return get(state).hint if (state in _BY_NAME or only_category(state) is not None) else ""


def when(state: str, category_label: str | None = None) -> str:
    return get(state).when.format(category=category_label or only_category(state) or "")


def rule_for(state: str, kind: str) -> str | None:
    """The rule reporting an item of `kind` (cookie | storage | request) present but not allowed."""
    rules = get(state).rules
    return rules[("cookie", "storage", "request").index(kind)] if rules else None
