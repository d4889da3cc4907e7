"""Banners no recipe knows: every consent state reached through the generic rules
(rules/cmp/_generic.yaml) and proved by what the click stored, in the five languages, with
role="switch" toggles, a footer "Cookie settings" link as the only way back, and where banners
really live: a cross-origin iframe, an open shadow root, a modal <dialog>, injected late, shown
on the first scroll, hidden from automated browsers, an IAB TCF consent manager, and a way back
to the choice found only on the cookie policy page."""
from __future__ import annotations

import pytest

from conftest import scan_site

STATES = ("none", "reject", "accept", "only:analytics", "only:marketing", "withdraw")
ALLOWED = {  # state -> trackers the visitor's choice allows
    "none": set(), "reject": set(), "accept": {"_ga", "_fbp"},
    "only:analytics": {"_ga"}, "only:marketing": {"_fbp"}, "withdraw": set(),
}
SITES = {
    # host: (locale, text expected in the withdraw method: the control that reopened the manager,
    #        the record of the choice: (type, name))
    "www.einwilligung.test": ("de-DE", "reopen: page control 'Cookie-Einstellungen'", ("cookie", "einwilligung")),
    "www.consentimiento.test": ("es-ES", "reopen: footer control 'Configuración de cookies'",
                                ("localStorage", "consentimiento")),
    "www.switch-banner.test": ("en-US", "reopen: page control 'Privacy settings'", ("localStorage", "privacy-choice")),
    "www.footer-reopen.test": ("en-US", "reopen: footer control 'Cookie settings'", ("cookie", "cookie_choice")),
    # Italian banner in a cross-origin iframe; the page keeps the choice it posts
    "www.frame-cmp.test": ("it-IT", "reopen: footer control 'Impostazioni cookie'", ("cookie", "scelta_cookie")),
    "www.shadow-cmp.test": ("en-US", "reopen: footer control 'Cookie preferences'", ("localStorage", "consent_prefs")),
    "www.dialogue.test": ("fr-FR", "reopen: footer control 'Gestion des cookies'", ("cookie", "choix_cookies")),
    "www.late-banner.test": ("en-US", "reopen: footer control 'Cookie settings'", ("cookie", "cookie_choice")),
    "www.scroll-banner.test": ("en-US", "reopen: footer control 'Cookie settings'", ("cookie", "cookie_choice")),
    "www.bot-shy.test": ("en-US", "reopen: footer control 'Cookie settings'", ("cookie", "cookie_choice")),
    # the only way back to the choice is a button on the cookie policy page
    "www.policy-reopen.test": ("en-US", "reopen: 'Change my choices' on the cookie policy page (link 'Cookie policy'",
                               ("cookie", "cookie_choice")),
    # the IAB's own @iabtcf/core + cmpapi: the TC string is the record, read through __tcfapi
    "www.tcf-banner.test": ("en-US", "reopen: footer control 'Cookie settings'", ("cookie", "euconsent-v2")),
}
TIMINGS: dict[str, dict[str, float]] = {}


def cookie_names(state: dict, page: int = 0) -> set[str]:
    return {c["name"] for c in state["pages"][page]["cookies"] if c.get("stored", True)}


@pytest.mark.parametrize("host", sorted(SITES))
def test_every_state_on_a_home_made_banner(sites_server, without_recipes, host):
    locale, reopened_by, (record_type, record_name) = SITES[host]
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
    assert states["none"]["proof"]["by"] == ["nothing-clicked"]
    for name in STATES[1:]:
        proof = states[name]["proof"]
        # proved by what the click stored, and the choice survived a new visit
        assert "stored-choice" in proof["by"], (name, proof)
        assert (proof["record"]["type"], proof["record"]["name"]) == (record_type, record_name), (name, proof)
        assert proof["persistent"] is True, (name, proof)
        assert states[name]["verified_by"].endswith("banner stays away on a new visit"), (name, states[name]["verified_by"])
        assert ("tc-string" in proof["by"]) is (host == "www.tcf-banner.test"), (name, proof)
    assert states["withdraw"]["proof"]["record"]["change"] == "changed"
    for name in ("only:analytics", "only:marketing"):
        assert "toggles-readback" in states[name]["proof"]["by"]
    assert "toggles read back analytics=on, marketing=off before saving" in states["only:analytics"]["verified_by"]
    assert "toggles read back analytics=off, marketing=on before saving" in states["only:marketing"]["verified_by"]
    assert any(reopened_by in m for m in states["withdraw"]["method"]), states["withdraw"]["method"]
    assert result["complete"] is True
    assert not [f for f in result["findings"]
                if f["rule"].startswith(("post-reject", "pre-consent", "withdrawal-ignored", "category-leak"))]
    # the record of the choice is the consent manager's, exempt: no "unknown purpose" about it
    records = [c for s in result["states"] for p in s["pages"] for c in p["cookies"] + p["storage"]
               if (c.get("name") or c.get("key")) == record_name]
    assert records and all(c["category_source"] == "cmp-record" for c in records), records[:1]
    assert not [f for f in result["findings"] if f["rule"] in ("unknown-purpose", "miscategorized-cookie")
                and record_name in str(f.get("subject") or "") + str(f.get("message"))]


def test_banner_shown_late_or_on_scroll_says_when_it_appeared(sites_server, without_recipes):
    late = scan_site(sites_server, "https://www.late-banner.test/", states=("none",), max_pages=1)
    assert late["states"][0]["banner"]["shown"] is True
    assert late["states"][0]["banner"]["appeared"].startswith("late: ")
    scrolled = scan_site(sites_server, "https://www.scroll-banner.test/", states=("none",), max_pages=1)
    assert scrolled["states"][0]["banner"]["appeared"] == "after the first scroll"


def test_tc_string_that_contradicts_the_click_is_not_a_reached_state(sites_server, without_recipes):
    """/sloppy.html's "Reject all" still records consent to purpose 1: the decoded TC string
    shows it, and the state is not reached, with the reason."""
    result = scan_site(sites_server, "https://www.tcf-banner.test/sloppy.html", states=("none", "reject"), max_pages=1)
    reject = {s["state"]: s for s in result["states"]}["reject"]
    assert reject["reached"] is False
    assert reject["error"] == "verification failed: the TC string still grants consent to purpose(s) 1 for state reject"
    assert reject["proof"]["tc_string"]["purpose_consents"] == [1]
    assert reject["proof"]["tc_string"]["vendor_consents"] == [755]
    assert result["complete"] is False


def test_banner_that_stores_nothing_is_not_a_reached_state(sites_server, without_recipes):
    """The buttons only hide the banner: no record, no read-back, no TC string: no proof."""
    result = scan_site(sites_server, "https://www.amnesia.test/", states=("none", "reject", "accept"), max_pages=1)
    states = {s["state"]: s for s in result["states"]}
    for name in ("reject", "accept"):
        assert states[name]["reached"] is False
        assert states[name]["error"].startswith("no proof of the choice: the banner went away, but nothing was stored")
    assert result["complete"] is False


def test_close_control_is_reject_only_when_the_banner_says_so(sites_server, without_recipes):
    result = scan_site(sites_server, "https://www.footer-reopen.test/", states=("none", "reject"), max_pages=1)
    states = {s["state"]: s for s in result["states"]}
    assert states["none"]["banner"]["reject_on_first_layer"] is True
    assert states["none"]["banner"].get("reject_is_close") is True
    assert any("closing means refusing" in m for m in states["reject"]["method"])
    assert states["reject"]["reached"] and not cookie_names(states["reject"]) & {"_ga", "_fbp"}
    # the × is far smaller than "Accept all": the finding says the close control is the only refusal
    prominence = [f for f in result["findings"] if f["rule"] == "no-reject-option"]
    assert len(prominence) == 1, prominence
    assert prominence[0]["message"].startswith("the only way to refuse is the banner's close control (×)")
    assert "close control is" in prominence[0]["message"] and "of the accept control's area" in prominence[0]["message"]


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
