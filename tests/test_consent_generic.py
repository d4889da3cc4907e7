"""Home-made banners no recipe knows: every consent state reached through the generic rules
(rules/cmp/_generic.yaml), in German, Spanish, with role="switch" toggles, and with a footer
"Cookie settings" link as the only way back to the consent manager."""
from __future__ import annotations

import pytest

from conftest import scan_site

STATES = ("none", "reject", "accept", "only:analytics", "only:marketing", "withdraw")
ALLOWED = {  # state -> trackers the visitor's choice allows
    "none": set(), "reject": set(), "accept": {"_ga", "_fbp"},
    "only:analytics": {"_ga"}, "only:marketing": {"_fbp"}, "withdraw": set(),
}
SITES = {
    # host: (locale, text expected in the withdraw method: the control that reopened the manager)
    "www.einwilligung.test": ("de-DE", "reopen: page control 'Cookie-Einstellungen'"),
    "www.consentimiento.test": ("es-ES", "reopen: footer control 'Configuración de cookies'"),
    "www.switch-banner.test": ("en-US", "reopen: page control 'Privacy settings'"),
    "www.footer-reopen.test": ("en-US", "reopen: footer control 'Cookie settings'"),
}
TIMINGS: dict[str, dict[str, float]] = {}


def cookie_names(state: dict, page: int = 0) -> set[str]:
    return {c["name"] for c in state["pages"][page]["cookies"] if c.get("stored", True)}


@pytest.mark.parametrize("host", sorted(SITES))
def test_every_state_on_a_home_made_banner(sites_server, without_recipes, host):
    locale, reopened_by = SITES[host]
    result = scan_site(sites_server, f"https://{host}/", states=STATES, locale=locale, max_pages=2)
    TIMINGS[host] = dict(without_recipes)
    print(f"\n{host} consent phase seconds: {without_recipes}")
    states = {s["state"]: s for s in result["states"]}
    assert list(states) == list(STATES)
    for name, state in states.items():
        assert state["reached"], (host, name, state["error"], state["method"])
        assert state["cmp"] == "generic", (name, state["cmp"])
        for page in range(len(state["pages"])):
            assert cookie_names(state, page) & {"_ga", "_fbp"} == ALLOWED[name], (host, name, page, state["method"])
    assert states["none"]["verified_by"] == "nothing clicked"
    for name in ("reject", "accept"):
        assert states[name]["verified_by"].startswith("banner hidden after the action"), states[name]["verified_by"]
    assert "generic: toggles read back analytics=on, marketing=off before saving" in states["only:analytics"]["verified_by"]
    assert "generic: toggles read back analytics=off, marketing=on before saving" in states["only:marketing"]["verified_by"]
    assert states["withdraw"]["verified_by"].startswith("generic: ")
    assert any(reopened_by in m for m in states["withdraw"]["method"]), states["withdraw"]["method"]
    for name in STATES[1:]:  # the choice survived a new visit: no banner on the first page visit
        assert states[name]["verified_by"].endswith("banner stays away on a new visit"), (name, states[name]["verified_by"])
    assert result["complete"] is True
    assert not [f for f in result["findings"]
                if f["rule"].startswith(("post-reject", "pre-consent", "withdrawal-ignored", "category-leak"))]


def test_close_control_is_reject_only_when_the_banner_says_so(sites_server, without_recipes):
    result = scan_site(sites_server, "https://www.footer-reopen.test/", states=("none", "reject"), max_pages=1)
    states = {s["state"]: s for s in result["states"]}
    assert states["none"]["banner"]["reject_on_first_layer"] is True
    assert states["none"]["banner"].get("reject_is_close") is True
    assert any("closing means refusing" in m for m in states["reject"]["method"])
    assert states["reject"]["reached"] and not cookie_names(states["reject"]) & {"_ga", "_fbp"}


def test_close_control_without_such_a_sentence_is_not_reject(sites_server, without_recipes):
    result = scan_site(sites_server, "https://www.close-only.test/", states=("none", "reject"), max_pages=1)
    states = {s["state"]: s for s in result["states"]}
    assert states["none"]["banner"]["shown"] is True
    assert states["none"]["banner"]["reject_on_first_layer"] is False
    assert states["reject"]["reached"] is False
    assert "could not find a 'reject all'" in states["reject"]["error"]
    assert result["complete"] is False


def test_only_state_without_a_settings_layer_is_not_reached(sites_server, without_recipes):
    """A banner with no settings layer: `only:` stays "not reached", with the reason."""
    result = scan_site(sites_server, "https://www.forgetful.test/", states=("none", "only:analytics"), max_pages=1)
    only = {s["state"]: s for s in result["states"]}["only:analytics"]
    assert only["reached"] is False
    assert "could not find a control opening the banner's settings layer" in only["error"]


def test_generic_controls_match_the_declarations_own_labels():
    """A control labelled as the declaration labels a category (in words the vocabulary does not know)
    is that category's control."""
    from scanner.consent.engine import ConsentEngine
    engine = ConsentEngine(None, (), {}, mapping={"zaehler": ["zaehler"], "werbung": ["werbung"]},
                           labels={"zaehler": "Besucherzähler", "werbung": "Werbung"})
    assert engine._control_category({"name": "Besucherzähler", "row": ""})[0] == "zaehler"
    assert engine._control_category({"name": "", "row": "Werbung und Remarketing"})[0] == "werbung"
    assert ConsentEngine(None, (), {}, mapping={"zaehler": ["zaehler"]})._control_category(
        {"name": "Besucherzähler", "row": ""})[0] is None
