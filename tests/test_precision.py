"""Precision corpus: for every audit, legitimate look-alikes it must NOT flag beside the cases it
must flag, on small hand-built scan results (no browser: the audits are pure functions).

A false violation is as bad as a missed one: a CI gate that fails deploys for nothing is switched off.
"""
from __future__ import annotations

import textwrap

import pytest

from scanner import audits
from scanner.declaration import load_declaration
from scanner.report.matrix import build_matrix

from consistency import disagreements, per_state

SITE = "https://www.shop.example/"
STATES = ("none", "reject", "accept", "only:analytics", "only:marketing", "withdraw")


def cookie(name, domain=".shop.example", *, party="first", set_by="script", setter_url=None, secure=True,
           http_only=False, same_site="Lax", stored=True, lifetime=86400, blocked=()):
    return {"name": name, "domain": domain, "path": "/", "party": party, "set_by": set_by,
            "setter_url": setter_url or "https://www.shop.example/app.js", "secure": secure, "http_only": http_only,
            "same_site": same_site, "session": False, "lifetime_s": lifetime, "requested_lifetime_s": lifetime,
            "stored": stored, "blocked_reasons": list(blocked), "value_len": 10}


def storage(key, origin="https://www.shop.example", *, kind="local", party="first", setter_url=None):
    return {"kind": kind, "origin": origin, "key": key, "party": party, "setter_url": setter_url,
            "frame_url": origin + "/", "value_len": 5}


def request(url, *, resource_type="image", party="third"):
    from urllib.parse import urlsplit
    return {"url": url, "host": urlsplit(url).hostname, "method": "GET", "resource_type": resource_type,
            "status": 200, "party": party, "initiator_url": SITE, "frame_url": SITE}


def result(items_by_state: dict, *, banner=None, states=STATES) -> dict:
    """A reached scan of one page per state; `items_by_state` maps a state (or "*" for every
    state) to a list of cookies / storage entries / requests."""
    out = {"schema_version": "1.1", "tool": {"name": "cookie-scanner", "version": "test"}, "site": {"url": SITE, "host": "www.shop.example", "registrable_domain": "shop.example"},
           "declaration": None, "options": {"states": list(states)}, "complete": True, "incomplete_reasons": [],
           "states": [], "findings": [], "audits": []}
    for state in states:
        items = list(items_by_state.get("*", [])) + list(items_by_state.get(state, []))
        page = {"url": SITE, "final_url": SITE, "status": 200, "error": None, "title": "Shop",
                "cookies": [dict(i) for i in items if "name" in i],
                "storage": [dict(i) for i in items if "key" in i],
                "requests": [dict(i) for i in items if "url" in i]}
        out["states"].append({"state": state, "reached": True, "error": None, "cmp": "generic",
                              "banner": banner if banner is not None else {"shown": True, "accept_on_first_layer": True,
                                                                           "reject_on_first_layer": True},
                              "screenshots": [], "pages": [page]})
    return out


def declaration(tmp_path, text: str):
    path = tmp_path / "site.yaml"
    path.write_text(textwrap.dedent(text))
    return load_declaration(path)


BASE_DECL = """\
site: {name: Shop}
categories:
  - {id: necessary, label: Strictly necessary}
  - {id: analytics, label: Statistics}
  - {id: marketing, label: Marketing}
"""


def audit(res, decl=None):
    out = audits.annotate_and_audit(res, decl)
    assert disagreements(out) == [], "matrix and findings disagree"
    return out


def found(res, rule=None, *, state="any", severity=None):
    return {f["subject"]["name"] for f, in_state, sev in per_state(res["findings"])
            if (rule is None or f["rule"] == rule) and (state == "any" or in_state == state)
            and (severity is None or sev == severity)}


def violations(res):
    return {(f["rule"], state, f["subject"]["name"]) for f, state, sev in per_state(res["findings"]) if sev == "violation"}


# ----------------------------------------------------------------- consent states (pre-consent, post-reject,
# withdrawal, category leak): one judgement


def test_exempt_look_alikes_are_never_flagged_in_any_state():
    res = audit(result({"*": [
        cookie("cc_cookie"),                                         # consent record (CookieConsent)
        cookie("AWSALB", set_by="header"),                           # load balancer
        cookie("PHPSESSID", set_by="header", http_only=True),        # session
        cookie("__cf_bm", ".shop.example", set_by="header", http_only=True),   # bot protection
        cookie("sessionid", set_by="header", http_only=True),        # a first-party session named like Instagram's
        cookie("lang"), cookie("id"), cookie("token", set_by="header", http_only=True),  # generic first-party names
        storage("cc_cookie"),
    ]}))
    assert violations(res) == set()


def test_trackers_are_flagged_in_every_state_that_does_not_allow_them():
    res = audit(result({"*": [cookie("_ga", lifetime=86400), request("https://www.google-analytics.com/g/collect?v=2"),
                              cookie("sessionid", ".instagram.com", party="third", set_by="header")]}))
    v = violations(res)
    assert {("pre-consent-cookie", "none", "_ga"), ("post-reject-cookie", "reject", "_ga"),
            ("withdrawal-ignored", "withdraw", "_ga"), ("category-leak", "only:marketing", "_ga"),
            ("pre-consent-request", "none", "Google Analytics"),
            ("pre-consent-cookie", "none", "sessionid")} <= v   # Instagram's sessionid on instagram.com
    assert not [x for x in v if x[1] in ("accept", "only:analytics") and x[2] in ("_ga", "Google Analytics")]


def test_first_party_cookie_named_like_a_platforms_is_the_sites_own():
    """Cause 2: the known-cookie lookup ignored the domain; a first-party `sessionid` was Instagram's."""
    res = audit(result({"none": [cookie("sessionid", set_by="header", http_only=True)]}))
    c = res["states"][0]["pages"][0]["cookies"][0]
    assert c["vendor"] != "Instagram" and c["category"] != "marketing"
    assert "sessionid" not in found(res, severity="violation")
    # the platform's own script setting it on the site is still the platform's
    res = audit(result({"none": [cookie("__hssc", setter_url="https://js.hs-analytics.net/analytics/1/1.js")]}))
    assert ("pre-consent-cookie", "none", "__hssc") in violations(res)


def test_declared_vendor_decides_the_category_of_its_requests(tmp_path):
    """Cause 5: a vendor the site declares as analytics is not a leak when only analytics is accepted."""
    decl = declaration(tmp_path, BASE_DECL + """\
vendors:
  - {name: HubSpot, hosts: [hs-analytics.net, hubspot.com], category: analytics}
""")
    tracker = request("https://track.hubspot.com/__ptq.gif?a=1")
    res = audit(result({"only:analytics": [tracker], "only:marketing": [tracker]}), decl)
    assert ("category-leak", "only:analytics", "Hubspot") not in violations(res)
    assert ("category-leak", "only:marketing", "Hubspot") in violations(res)


def test_declared_item_follows_its_category_in_every_state(tmp_path):
    decl = declaration(tmp_path, BASE_DECL + """\
cookies:
  - {name: _ga, category: marketing}
  - {name: PHPSESSID, category: analytics}
""")
    res = audit(result({"*": [cookie("_ga"), cookie("PHPSESSID", set_by="header", http_only=True)]}), decl)
    v = violations(res)
    # _ga declared as marketing: a leak with only analytics accepted, allowed with only marketing
    assert ("category-leak", "only:analytics", "_ga") in v and ("category-leak", "only:marketing", "_ga") not in v
    # a strictly necessary session cookie declared under an optional category: stricter than needed, never a violation
    assert "PHPSESSID" not in {x[2] for x in v}


def test_unknown_items_third_party_needs_consent_first_party_is_a_warning():
    res = audit(result({"*": [cookie("xyz_tracker_q", ".unknown-ads.example", party="third"),
                              cookie("mysite_ab")]}))
    v = violations(res)
    assert ("pre-consent-cookie", "none", "xyz_tracker_q") in v
    assert not [x for x in v if x[2] == "mysite_ab"]
    warnings = {f["subject"]["name"]: f for f in res["findings"] if f["rule"] == "unknown-purpose"}
    assert warnings["mysite_ab"]["evidence"]["states"] == ["none", "reject", "only:analytics", "only:marketing", "withdraw"]
    # with one category accepted, nobody can tell whether it covers the third party's item: a warning, not a leak
    assert warnings["xyz_tracker_q"]["evidence"]["states"] == ["only:analytics", "only:marketing"]
    assert not [x for x in v if x[0] == "category-leak" and x[2] == "xyz_tracker_q"]


def test_refused_cookies_are_never_present():
    res = audit(result({"none": [cookie("_ga", stored=False, blocked=("SameSite=None without Secure",))]}))
    assert not [f for f in res["findings"] if f["rule"].startswith("pre-consent")]


def test_storage_is_judged_in_only_states_like_cookies():
    """Cause 6: the matrix showed red storage cells in only: states that no audit reported."""
    res = audit(result({"only:analytics": [storage("_hjSessionStorage", setter_url="https://static.hotjar.com/c/hotjar.js"),
                                           storage("fbq_state", "https://www.shop.example",
                                                   setter_url="https://connect.facebook.net/en_US/fbevents.js")]}))
    rows = {r.name: r for r in build_matrix(res).rows}
    assert any(c.status == "not-allowed" for c in rows["fbq_state"].cells)
    assert ("category-leak", "only:analytics", "fbq_state") in violations(res)


# ----------------------------------------------------------------- miscategorized-cookie


MISC_DECL = BASE_DECL + """\
cookies:
  - {name: YSC, category: marketing, provider: YouTube}
  - {name: __hstc, category: analytics, provider: HubSpot}
  - {name: _hjSessionUser_, match: prefix, category: marketing, provider: Hotjar}
  - {name: cc_cookie, category: analytics}
  - {name: PHPSESSID, category: analytics}
  - {name: _ga, category: necessary}
"""


def test_miscategorized_only_when_declared_exempt_but_needs_consent(tmp_path):
    """Cause 1: stricter-than-needed declarations and consent records were violations."""
    decl = declaration(tmp_path, MISC_DECL)
    res = audit(result({"accept": [
        cookie("YSC", ".youtube.com", party="third", set_by="header"),                 # stricter than needed
        cookie("__hstc", setter_url="https://js.hs-analytics.net/analytics/1.js"),   # marketing declared analytics
        cookie("_hjSessionUser_123", setter_url="https://static.hotjar.com/c/hotjar.js"),
        cookie("cc_cookie"),                                                           # the consent record
        cookie("PHPSESSID", set_by="header", http_only=True),                          # necessary declared analytics
        cookie("_ga"),                                                                 # analytics declared necessary
    ]}), decl)
    mis = {f["subject"]["name"]: f["severity"] for f in res["findings"] if f["rule"] == "miscategorized-cookie"}
    assert mis.pop("_ga") == "violation"
    assert set(mis.values()) <= {"info"} and "cc_cookie" not in mis


def test_unusual_category_labels_map_to_purposes(tmp_path):
    """Cause 3: labels the vocabulary did not know mapped to no purpose; their cookies were all "miscategorized"."""
    decl = declaration(tmp_path, """\
categories:
  - {id: notwendig, label: Nur technisch notwendige Cookies}
  - {id: statistik, label: Statistik}
  - {id: advertisement, label: Advertisement}
  - {id: medien, label: Externe Medien}
  - {id: other, label: Sonstiges}
cookies:
  - {name: _ga, category: statistik}
  - {name: _fbp, category: advertisement}
  - {name: mystery, category: other}
""")
    assert decl.categories["notwendig"]["essential"] and decl.categories["statistik"]["purposes"] == ["analytics"]
    assert decl.categories["medien"]["purposes"] == ["media"]
    res = audit(result({"only:statistik": [cookie("_ga"), cookie("mystery")],
                        "only:advertisement": [cookie("_fbp", setter_url="https://connect.facebook.net/x.js")],
                        "only:other": [cookie("mystery")]},
                       states=("none", "accept", "only:statistik", "only:advertisement", "only:other")), decl)
    assert not [f for f in res["findings"] if f["rule"] == "miscategorized-cookie"]
    # the unmappable label: one declaration warning; its item needs consent, never exempt
    assert found(res, "declaration-unknown-category") == {"Sonstiges"}
    assert ("category-leak", "only:statistik", "mystery") in violations(res)
    assert ("category-leak", "only:other", "mystery") not in violations(res)


# ----------------------------------------------------------------- declared across kinds


def test_declared_cookie_written_to_local_storage(tmp_path):
    """Cause 7: a key declared in the cookie table but written to localStorage before consent."""
    decl = declaration(tmp_path, BASE_DECL + """\
cookies:
  - {name: _hjSession, match: prefix, category: analytics, provider: Hotjar}
  - {name: cart_id, category: necessary}
""")
    res = audit(result({"none": [storage("_hjSessionUser_99", setter_url="https://static.hotjar.com/c/hotjar.js"),
                                 storage("cart_id")]}, states=("none",)), decl)
    rules = {(f["rule"], f["subject"]["name"]) for f in res["findings"]}
    assert ("pre-consent-storage", "_hjSessionUser_99") in rules
    assert ("declared-as-other-kind", "_hjSessionUser_99") in rules
    assert not {r for r in rules if r[0] in ("undeclared-storage", "declared-not-observed")}


# ----------------------------------------------------------------- insecure-cookie


def test_insecure_cookie_look_alikes():
    """Cause 4: HttpOnly was asked of script-set analytics cookies and XSRF tokens."""
    res = audit(result({"none": [
        cookie("_hjSessionUser_123", setter_url="https://static.hotjar.com/c/hotjar.js"),  # script: cannot be HttpOnly
        cookie("XSRF-TOKEN", set_by="header"),                                          # double-submit: read by JS
        cookie("csrftoken", set_by="header"),
        cookie("PHPSESSID", set_by="header", http_only=True),                           # done right
        cookie("tracker_id", ".ads.example", party="third", set_by="header", secure=False),  # a third party's
    ]}, states=("none",)))
    assert found(res, "insecure-cookie") == set()


def test_insecure_cookie_flags_server_sessions_and_refused_cookies():
    """Cause 8: a Set-Cookie the browser refused (SameSite=None without Secure) was never audited."""
    res = audit(result({"none": [
        cookie("PHPSESSID", set_by="header", http_only=False),
        cookie("laravel_session", set_by="header", http_only=False),
        cookie("prefs", secure=False),
        cookie("tracker_id", set_by="header", secure=False, same_site="None", stored=False,
               blocked=("SameSite=None without Secure",)),
    ]}, states=("none",)))
    messages = {f["subject"]["name"]: f["message"] for f in res["findings"] if f["rule"] == "insecure-cookie"}
    assert "without HttpOnly" in messages["PHPSESSID"] and "without HttpOnly" in messages["laravel_session"]
    assert "no Secure" in messages["prefs"] and "HttpOnly" not in messages["prefs"]
    assert "SameSite=None without Secure" in messages["tracker_id"] and "refused by the browser" in messages["tracker_id"]


# ----------------------------------------------------------------- third-party content


def test_third_party_content_before_consent():
    """Cause 9: Google Fonts from Google's servers before consent were not flagged."""
    res = audit(result({"*": [request("https://fonts.googleapis.com/css2?family=Inter", resource_type="stylesheet"),
                              request("https://fonts.gstatic.com/s/inter/v1.woff2", resource_type="font"),
                              request("https://www.youtube-nocookie.com/embed/x", resource_type="document")]}))
    content = {(state, f["subject"]["name"], sev) for f, state, sev in per_state(res["findings"])
               if f["rule"] == "third-party-content"}
    assert ("none", "Google Fonts", "warning") in content and ("none", "YouTube", "violation") in content
    assert not [c for c in content if c[0] == "accept"]
    # marketing covers embedded media: the player is allowed with only marketing accepted
    assert ("only:marketing", "YouTube", "violation") not in content
    assert ("only:analytics", "YouTube", "violation") in content


def test_third_party_content_look_alikes(tmp_path):
    res = audit(result({"none": [
        request("https://www.shop.example/fonts/inter.woff2", resource_type="font", party="first"),  # self-hosted
        request("https://cdn.jsdelivr.net/npm/alpinejs@3/dist/cdn.min.js", resource_type="script"),   # a library CDN
        request("https://www.shop.example/video.mp4", resource_type="media", party="first"),
    ]}, states=("none",)))
    assert found(res, "third-party-content") == set()
    # a player the site declares under a category it asked consent for: allowed there only
    decl = declaration(tmp_path, BASE_DECL + """\
  - {id: video, label: Videos}
vendors:
  - {name: Vimeo, hosts: [vimeo.com, vimeocdn.com], category: video}
""")
    player = request("https://player.vimeo.com/video/1", resource_type="document")
    res = audit(result({"only:video": [player], "only:analytics": [player]},
                       states=("none", "only:video", "only:analytics")), decl)
    assert {state for f, state, _ in per_state(res["findings"]) if f["rule"] == "third-party-content"} == {"only:analytics"}


# ----------------------------------------------------------------- other audits


def test_excessive_lifetime_look_alikes():
    two_years = 2 * 365 * 86400
    res = audit(result({"accept": [cookie("cc_cookie", lifetime=two_years),           # consent record
                                   cookie("lang", lifetime=two_years),                # first-party preference
                                   cookie("AWSALB", set_by="header", lifetime=two_years),
                                   cookie("_ga", lifetime=two_years)]}, states=("accept",)))
    assert found(res, "excessive-lifetime") == {"_ga"}


def test_undeclared_and_declared_not_observed_look_alikes(tmp_path):
    decl = declaration(tmp_path, BASE_DECL + """\
cookies:
  - {name: _ga_, match: prefix, category: analytics}
  - {name: "sess_[0-9]+", match: regex, category: necessary}
  - {name: gone_cookie, category: analytics}
""")
    res = audit(result({"accept": [cookie("_ga_ABC123"), cookie("sess_42", set_by="header", http_only=True),
                                   cookie("cc_cookie"), cookie("_fbp", setter_url="https://connect.facebook.net/x.js")]},
                       states=("accept",)), decl)
    assert found(res, "undeclared-cookie") == {"_fbp"}
    assert found(res, "declared-not-observed") == {"gone_cookie"}


def test_banner_missing_look_alikes():
    no_banner = {"shown": False}
    assert found(audit(result({"none": [cookie("PHPSESSID", set_by="header", http_only=True)]},
                              banner=no_banner, states=("none",))), "banner-missing") == set()
    assert found(audit(result({"none": [cookie("mysite_ab")]}, banner=no_banner, states=("none",))),
                 "banner-missing") == set()   # an unknown first-party cookie alone proves nothing
    assert found(audit(result({"none": [cookie("_ga")]}, states=("none",))), "banner-missing") == set()  # a banner
    assert found(audit(result({"none": [cookie("_ga")]}, banner=no_banner, states=("none",))),
                 "banner-missing") == {"consent banner"}


def test_third_country_transfer_look_alikes(tmp_path):
    ga = request("https://www.google-analytics.com/g/collect")
    by_name = declaration(tmp_path, BASE_DECL + "vendors:\n  - {name: Google Analytics}\n")
    assert found(audit(result({"accept": [ga]}, states=("accept",)), by_name), "third-country-transfer") == set()
    (tmp_path / "h").mkdir()
    by_host = declaration(tmp_path / "h", BASE_DECL + "vendors:\n  - {name: Google, hosts: [google-analytics.com]}\n")
    assert found(audit(result({"accept": [ga]}, states=("accept",)), by_host), "third-country-transfer") == set()
    eea = request("https://www.shop.example/matomo.php", party="first")
    assert found(audit(result({"accept": [eea]}, states=("accept",))), "third-country-transfer") == set()
    assert found(audit(result({"accept": [ga]}, states=("accept",))), "third-country-transfer") == {"Google Analytics"}


@pytest.mark.parametrize("banner, flagged", [
    ({"shown": True, "accept_on_first_layer": True, "reject_on_first_layer": True}, False),
    ({"shown": False}, False),
    ({"shown": True, "accept_on_first_layer": True, "reject_on_first_layer": True,
      "prominence": {"equal": True, "reason": ""}}, False),
    ({"shown": True, "accept_on_first_layer": False, "reject_on_first_layer": False}, False),   # settings-only layer
    ({"shown": True, "accept_on_first_layer": True, "reject_on_first_layer": False}, True),
])
def test_no_reject_option_look_alikes(banner, flagged):
    res = audit(result({}, banner=banner, states=("none",)))
    assert bool(found(res, "no-reject-option")) is flagged


def test_pre_ticked_look_alikes():
    assert found(audit(result({}, banner={"shown": True, "prechecked": []}, states=("none",))), "pre-ticked-choice") == set()
    assert found(audit(result({}, states=("none",))), "pre-ticked-choice") == set()
    assert found(audit(result({}, banner={"shown": True, "prechecked": ["ads"]}, states=("none",))),
                 "pre-ticked-choice") == {"ads"}


def test_duration_mismatch_look_alikes(tmp_path):
    decl = declaration(tmp_path, BASE_DECL + """\
cookies:
  - {name: _ga, category: analytics, duration: 13 months}
  - {name: _gid, category: analytics, duration: 1 day}
  - {name: _fbp, category: marketing, duration: 1 month}
""")
    res = audit(result({"accept": [cookie("_ga", lifetime=395 * 86400), cookie("_gid", lifetime=86400),
                                   cookie("undeclared_x", lifetime=10 * 365 * 86400),
                                   cookie("_fbp", setter_url="https://connect.facebook.net/x.js", lifetime=90 * 86400)]},
                       states=("accept",)), decl)
    assert found(res, "duration-mismatch") == {"_fbp"}


def test_pre_ticked_settings_opened_with_nothing_on():
    banner = {"shown": True, "accept_on_first_layer": True, "reject_on_first_layer": True, "prechecked": []}
    res = audit(result({}, banner=banner, states=("none", "only:analytics")))
    assert found(res, "pre-ticked-choice") == set()


def test_unknown_purpose_look_alikes(tmp_path):
    res = audit(result({"*": [cookie("PHPSESSID", set_by="header", http_only=True)],   # known necessary
                        "accept": [cookie("mysite_ab")]}, states=("none", "accept")))  # only after accepting
    assert found(res, "unknown-purpose") == set()
    decl = declaration(tmp_path, BASE_DECL + "cookies:\n  - {name: mysite_ab, category: analytics}\n")
    res = audit(result({"only:analytics": [cookie("mysite_ab")]}, states=("none", "only:analytics")), decl)
    assert found(res, "unknown-purpose") == set()   # declared: the declaration says what it is


def test_declared_as_other_kind_look_alikes(tmp_path):
    decl = declaration(tmp_path, BASE_DECL + """\
cookies:
  - {name: cart_id, category: necessary}
storage:
  - {name: basket, category: necessary}
  - {name: ids, category: necessary, kind: indexeddb}
""")
    res = audit(result({"none": [cookie("cart_id", set_by="header", http_only=True), storage("basket"),
                                 storage("ids", kind="indexeddb")]}, states=("none",)), decl)
    assert found(res, "declared-as-other-kind") == set()


def test_consent_categories_differ_look_alikes(tmp_path):
    decl = declaration(tmp_path, BASE_DECL + "consent:\n  toggles: {analytics: [stats], marketing: [ads]}\n")
    offered = [{"id": "necessary", "label": "Necessary", "required": True},   # always on
               {"id": "stats", "label": "Stats", "required": False},          # mapped by the toggles
               {"id": "ads", "label": "Ads", "required": False}]
    banner = {"shown": True, "accept_on_first_layer": True, "reject_on_first_layer": True, "categories": offered}
    assert found(audit(result({}, banner=banner, states=("none",)), decl), "consent-categories-differ") == set()
    (tmp_path / "b").mkdir()
    untoggled = declaration(tmp_path / "b", BASE_DECL)   # no toggles: the same purpose covers it
    banner["categories"] = [{"id": "statistics", "label": "Statistics", "required": False},
                            {"id": "marketing", "label": "Marketing", "required": False}]
    assert found(audit(result({}, banner=banner, states=("none",)), untoggled), "consent-categories-differ") == set()
    banner["categories"].append({"id": "video", "label": "Videos", "required": False})
    assert found(audit(result({}, banner=banner, states=("none",)), untoggled), "consent-categories-differ") == {"Videos"}


def test_findings_only_from_registered_audits():
    from scanner.audits.registry import Findings
    with pytest.raises(ValueError, match="unregistered rule"):
        Findings().add("made-up-rule", "violation", None, None, {"kind": "cookie", "name": "x"}, "x")
    with pytest.raises(ValueError, match="unknown severity"):
        Findings().add("pre-consent-cookie", "fatal", None, None, {"kind": "cookie", "name": "x"}, "x")
