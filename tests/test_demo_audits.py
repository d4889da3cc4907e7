"""The demo site in every state: the findings its planted mistakes call for, and no others.

Audits are pure functions over (result, declaration): the same recorded scan is also
re-audited against other declarations to show rules that fire and rules that stay silent.
"""
from __future__ import annotations

import copy

from consistency import per_state
from scanner import audits
from scanner.declaration import load_declaration
from scanner.paths import rules_dir


def triples(result):
    return {(f["rule"], state, f["subject"]["name"]) for f, state, _ in per_state(result["findings"])}


def rule_subjects(result, rule):
    return {f["subject"]["name"] for f in result["findings"] if f["rule"] == rule}


def test_every_demo_state_reached_and_verified(demo_full):
    states = {s["state"]: s for s in demo_full["states"]}
    assert list(states) == ["none", "reject", "accept", "only:functional", "only:marketing", "withdraw"]
    for name, state in states.items():
        assert state["reached"], (name, state["error"])
        assert state["cmp"] == "hubspot"
        if name != "none":
            assert state["verified_by"].startswith("hubspot readback")
    assert demo_full["complete"] and demo_full["verdict"] == "violations"


def test_planted_mistakes_are_found(demo_full):
    t = triples(demo_full)
    # gtag loads before consent and ignores the refusal
    for state, rule in (("none", "pre-consent-cookie"), ("reject", "post-reject-cookie"), ("withdraw", "withdrawal-ignored")):
        assert (rule, state, "_ga") in t
    # its Consent Mode defaults grant analytics_storage: Google is told so before any answer and after refusal
    for state in ("none", "reject", "withdraw"):
        assert ("consent-mode-granted", state, "Google Analytics") in t
    # tracking without cookies: FingerprintJS on the contact page, the job-board link carrying _ga's value
    script = "cdn.jsdelivr.net/npm/@fingerprintjs/fingerprintjs@5.2.0/dist/fp.umd.min.js"
    assert {("fingerprinting", "none", script), ("fingerprinting", "reject", script)} <= t
    assert {("link-decoration", state, "www.welcometothejungle.com") for state in ("none", "reject", "withdraw")} <= t
    link = next(f for f in demo_full["findings"] if f["rule"] == "link-decoration")
    assert link["evidence"]["identifiers"] == ["mp_visitor (cookie-value of _ga)"]
    # the YouTube embed sets third-party cookies and storage before consent
    assert ("pre-consent-cookie", "none", "VISITOR_INFO1_LIVE") in t
    assert ("pre-consent-storage", "none", "yt-remote-device-id") in t
    # LinkedIn (advertising) loads when only "Functional" is accepted
    assert ("category-leak", "only:functional", "li_sugr") in t
    assert ("category-leak", "only:functional", "LinkedIn Ads") in t
    # HubSpot's cookies stay after withdrawal
    assert ("withdrawal-ignored", "withdraw", "__hstc") in t
    # _ga asks for two years; PHPSESSID lacks Secure and HttpOnly
    assert ("excessive-lifetime", None, "_ga") in t
    assert ("insecure-cookie", None, "PHPSESSID") in t
    # the policy lists no cookie: every observed one is undeclared; Google is an undisclosed US transfer
    assert ("undeclared-cookie", None, "_ga") in t and ("undeclared-cookie", None, "VISITOR_INFO1_LIVE") in t
    assert ("third-country-transfer", None, "Google Analytics") in t
    # policy lint joined the scan's findings
    assert {"policy-empty-contact", "policy-no-cookie-list", "policy-no-retention"} <= {f["rule"] for f in demo_full["findings"]}


def test_legitimate_items_are_not_flagged(demo_full):
    consent_rules = ("pre-consent", "post-reject", "withdrawal-ignored", "category-leak")
    flagged = {f["subject"]["name"] for f in demo_full["findings"] if f["rule"].startswith(consent_rules)}
    # consent record, security cookie, session cookie, UI preference: exempt from consent
    assert not flagged & {"__hs_cookie_cat_pref", "__hs_opt_out", "__hs_initial_opt_in", "__cf_bm", "PHPSESSID", "mp-theme"}
    record = [c for s in demo_full["states"] for p in s["pages"] for c in p["cookies"] if c["name"] == "__hs_cookie_cat_pref"]
    assert record and all(c["category_source"] == "cmp-record" for c in record)
    # HubSpot is named in the declaration: no third-country finding for it
    assert "Hubspot" not in rule_subjects(demo_full, "third-country-transfer")
    # the HubSpot banner offers reject next to accept, nothing pre-ticked, a banner exists
    assert not rule_subjects(demo_full, "no-reject-option") | rule_subjects(demo_full, "pre-ticked-choice") \
        | rule_subjects(demo_full, "banner-missing")
    # a 24-hour analytics cookie is not "excessive"; a Secure, HttpOnly security cookie is not "insecure"
    assert "_gid" not in rule_subjects(demo_full, "excessive-lifetime")
    assert "__cf_bm" not in rule_subjects(demo_full, "insecure-cookie")
    # Micropep's Marketing category covers analytics: the analytics_storage signal is no finding there;
    # the job-board link's utm_source is no identifier
    assert ("consent-mode-granted", "only:marketing") not in {(f["rule"], s) for f, s, _ in per_state(demo_full["findings"])}
    # (the link carries an analytics cookie: allowed where a category covering analytics was accepted)
    assert {state for f, state, _ in per_state(demo_full["findings"]) if f["rule"] == "link-decoration"} == {
        "none", "reject", "withdraw"}
    # accept-all is the visitor's choice: nothing is a violation there
    assert not [f for f, state, _ in per_state(demo_full["findings"]) if state == "accept"]


def test_findings_are_deduplicated_with_pages(demo_full):
    ids = [f["id"] for f in demo_full["findings"]]
    assert len(ids) == len(set(ids))
    ga = [f for f in demo_full["findings"] if f["rule"] == "pre-consent-cookie" and f["subject"]["name"] == "_ga"][0]
    # gtag is on every page of the site: one finding, listing the pages
    assert {"https://www.micropep.com/", "https://www.micropep.com/technology", "https://www.micropep.com/careers"} <= set(ga["pages"])
    assert len(ga["pages"]) == len(demo_full["crawl"]["pages"])
    assert ga["evidence"]["setter_url"].startswith("https://www.googletagmanager.com/gtag/js")
    assert ga["evidence"]["requested_lifetime_s"] == 63072000


def _declaration_with(tmp_path, extra: str):
    text = (rules_dir() / "sites" / "micropep.yaml").read_text().replace("cookies: []\n", extra)
    path = tmp_path / "variant.yaml"
    path.write_text(text)
    return load_declaration(path)


def test_same_scan_against_a_fuller_declaration(demo_full, tmp_path):
    decl = _declaration_with(tmp_path, """cookies:
  - {name: _ga, category: required, provider: Google, duration: 13 months}
  - {name: _ga_, match: prefix, category: functional, provider: Google, duration: 2 years}
  - {name: __hstc, category: functional, provider: HubSpot, duration: 13 months}
  - {name: PHPSESSID, category: required, provider: Micropep, duration: session}
  - {name: wp_lang, category: required, provider: Micropep, duration: 1 year}
""")
    result = audits.annotate_and_audit(copy.deepcopy(demo_full), decl)
    t = triples(result)
    assert ("miscategorized-cookie", None, "_ga") in t          # analytics declared as required
    assert ("miscategorized-cookie", None, "_ga_MPX24SCAN") not in t   # functional covers analytics
    assert ("duration-mismatch", None, "_ga") in t              # 2 years asked, 13 months declared
    assert ("duration-mismatch", None, "_ga_MPX24SCAN") not in t
    assert ("declared-not-observed", None, "wp_lang") in t
    assert ("declared-not-observed", None, "PHPSESSID") not in t
    assert ("undeclared-cookie", None, "__hstc") not in t and ("undeclared-cookie", None, "_gid") in t


def test_category_leak_silent_when_the_declaration_covers_the_purpose(demo_full, tmp_path):
    text = (rules_dir() / "sites" / "micropep.yaml").read_text().replace(
        "    purposes: [analytics, preferences]", "    purposes: [analytics, preferences, marketing]")
    path = tmp_path / "broad.yaml"
    path.write_text(text)
    result = audits.annotate_and_audit(copy.deepcopy(demo_full), load_declaration(path))
    assert not [f for f, state, _ in per_state(result["findings"])
                if f["rule"] == "category-leak" and state == "only:functional"]


def test_every_state_lists_the_page_set_in_crawl_order(demo_full):
    """Pages are visited longest-first in later states, but every state reports them in the crawl's order."""
    pages = demo_full["crawl"]["pages"]
    assert len(pages) == 8
    for state in demo_full["states"]:
        assert [p["url"] for p in state["pages"]] == pages, state["state"]


def test_matrix_and_findings_agree_cell_by_cell(demo_full):
    """One judgement: every red cell has its violation, every state-dependent finding its cell."""
    from consistency import disagreements
    assert disagreements(demo_full) == []
    # storage is judged in every state, as cookies are: YouTube's player storage with only
    # "Functional" (analytics + preferences for Micropep) accepted is a leak, and so is it after withdrawal
    t = triples(demo_full)
    assert ("category-leak", "only:functional", "yt-remote-device-id") in t
    assert ("withdrawal-ignored", "withdraw", "yt-remote-device-id") in t
    # the YouTube player itself, loaded from YouTube before consent
    assert ("third-party-content", "none", "YouTube") in t
