"""The consent states, defined once: names, what each means, how it is labelled.

    none       banner unanswered (browsing is not consent)
    reject     "reject all"
    accept     "accept all"
    only:<c>   one optional category accepted, the others refused
    withdraw   accepted, then consent withdrawn
"""
from __future__ import annotations

FIXED = ("none", "reject", "accept", "withdraw")
# States in which no consent is in force: only exempt items may be present.
NO_CONSENT = frozenset({"none", "reject", "withdraw"})
ONLY_PREFIX = "only:"

LABELS = {
    "none": "Before consent",
    "reject": "Reject all",
    "accept": "Accept all",
    "withdraw": "Consent withdrawn",
}
HINTS = {
    "none": "page loaded, banner untouched",
    "reject": "visitor refused everything",
    "accept": "visitor accepted everything",
    "withdraw": "accepted, then withdrew consent",
}


def default_states(categories) -> tuple[str, ...]:
    """Every state a scan visits: the fixed ones, one `only:` per optional category, in order."""
    return ("none", "reject", "accept") + tuple(f"{ONLY_PREFIX}{c}" for c in categories) + ("withdraw",)


def is_valid(state: str) -> bool:
    return state in FIXED or (state.startswith(ONLY_PREFIX) and len(state) > len(ONLY_PREFIX) and " " not in state)


def is_no_consent(state: str) -> bool:
    return state in NO_CONSENT


def only_category(state: str) -> str | None:
    """`marketing` for `only:marketing`; None for the other states."""
    return state[len(ONLY_PREFIX):] if state.startswith(ONLY_PREFIX) else None


def label(state: str, category_label: str | None = None) -> str:
    category = only_category(state)
    if category is not None:
        return f"Only “{category_label or category}”"
    return LABELS.get(state, state)


def hint(state: str) -> str:
    if only_category(state) is not None:
        return "accepted this category only"
    return HINTS.get(state, "")
