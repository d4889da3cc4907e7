"""Open-source consent libraries no recipe knows, each on its own fixture site, driven through the
generic rules only (rules/cmp/_generic.yaml, every recipe removed by `without_recipes`):

  www.orejime-shop.test    Orejime 3.2.1 (banner Accept / Decline / Configure, a settings modal
                           with one checkbox per purpose, trackers in <template data-purpose>)
  www.eu-banner.test       cookies-eu-banner 3.0.0 (Accept / Reject only, no categories)
  www.porsche-banner.test  @porscheofficial/cookie-consent-banner 4.1.0 (a web component with an
                           open shadow root, settings layer with one checkbox per category)

Each site keeps a footer "Cookie settings" control (the library's own way back to the choice),
and writes the trackers of the other fixtures: _ga when analytics is allowed, _fbp when marketing
is allowed, both deleted when refused."""
from __future__ import annotations

import pytest

from conftest import scan_site

TRACKERS = {"_ga", "_fbp"}
ALLOWED = {  # state -> trackers the visitor's choice allows
    "none": set(), "reject": set(), "accept": {"_ga", "_fbp"},
    "only:analytics": {"_ga"}, "only:marketing": {"_fbp"}, "withdraw": set(),
}
WITH_CATEGORIES = ("none", "reject", "accept", "only:analytics", "only:marketing", "withdraw")
SITES = {  # host: the states the library offers (no `only:` state without categories)
    "www.orejime-shop.test": WITH_CATEGORIES,
    "www.eu-banner.test": ("none", "reject", "accept", "withdraw"),
    "www.porsche-banner.test": WITH_CATEGORIES,
}


def cookie_names(state: dict, page: int = 0) -> set[str]:
    return {c["name"] for c in state["pages"][page]["cookies"] if c.get("stored", True)}


@pytest.mark.parametrize("host", sorted(SITES))
def test_every_state_on_a_consent_library(sites_server, without_recipes, host):
    wanted = SITES[host]
    result = scan_site(sites_server, f"https://{host}/", states=wanted, max_pages=2)
    print(f"\n{host} consent phase seconds: {without_recipes}")
    states = {s["state"]: s for s in result["states"]}
    assert list(states) == list(wanted)
    assert result["states"][0]["banner"]["shown"] is True, result["states"][0]["banner"]
    problems = []  # every state is checked, so that one run shows every state's outcome
    for name, state in states.items():
        print(f"  {name}: reached={state['reached']} cmp={state['cmp']} error={state['error']!r}\n"
              f"    method={state['method']}\n    verified_by={state['verified_by']!r}\n"
              f"    trackers per page={[sorted(cookie_names(state, p) & TRACKERS) for p in range(len(state['pages']))]}")
        if not state["reached"]:
            problems.append((name, "not reached", state["error"], state["method"]))
            continue
        if state["cmp"] != "generic":
            problems.append((name, "cmp", state["cmp"]))
        if not state["verified_by"]:
            problems.append((name, "verified_by empty", state["method"]))
        proof = state.get("proof") or {}
        if name != "none" and not ({"stored-choice", "cmp-record", "tc-string"} & set(proof.get("by") or [])
                                   and proof.get("persistent") is True):
            problems.append((name, "no stored, persistent proof", proof))
        if not state["pages"]:
            problems.append((name, "no page recorded"))
        for page in range(len(state["pages"])):
            got = cookie_names(state, page) & TRACKERS
            if got != ALLOWED[name]:
                problems.append((name, f"page {page} trackers", sorted(got), "expected", sorted(ALLOWED[name])))
    assert problems == [], (host, problems)
