"""Google Consent Mode v2 (issue 19): the signal each Google tag request carries (gcs, gcd), judged
against the visitor's choice in each state. The fixture site sends GA4 hits exactly as gtag.js does
(tests/sites/www.consent-mode.test/gtag-lookalike.js documents the parameters)."""
from __future__ import annotations

import pytest

from conftest import scan_site
from scanner.classify.consent_mode import decode, describe, granted
from scanner.judgement import ALLOWED, NOT_ALLOWED, WARNING, ConsentModel, judge

GA = "https://region1.google-analytics.com/g/collect?v=2&tid=G-X&cid=1.2&en=page_view"


@pytest.mark.parametrize("query, expected", [
    ("gcs=G100&gcd=13p3p3p2p5l1", ("denied", "denied", "denied", "denied")),
    ("gcs=G111&gcd=13t3t3t3t5l1", ("granted", "granted", "granted", "granted")),
    ("gcs=G101", ("denied", "granted", None, None)),                  # analytics only, v1 tag
    ("gcs=G110", ("granted", "denied", None, None)),
    ("gcd=13r3r3r3r5l1", ("granted", "granted", "granted", "granted")),   # denied by default, granted by update
    ("gcd=13v3u3v3u5l1", ("granted", "denied", "granted", "denied")),      # granted, then denied by update
    ("gcd=13l3l3l3l1", (None, None, None, None)),                          # nothing set
    ("gcs=G1--&gcd=13p3p3p3p5", ("denied", "denied", "denied", "denied")),  # gcs '-': gcd decides
])
def test_decode_gcs_and_gcd(query, expected) -> None:
    signal = decode(f"{GA}&{query}")
    assert tuple(signal[s] for s in ("ad_storage", "analytics_storage", "ad_user_data", "ad_personalization")) == expected


def test_decode_ignores_requests_without_a_signal_and_malformed_values() -> None:
    assert decode(GA) is None and decode("https://example.test/?q=gcs") is None
    assert decode(f"{GA}&gcs=X9&gcd=1") == {"ad_storage": None, "analytics_storage": None, "ad_user_data": None,
                                            "ad_personalization": None, "gcs": "X9", "gcd": "1", "npa": None, "dma": None}
    assert granted(decode(f"{GA}&gcs=G110")) == ["ad_storage"]
    assert describe(None) == "no consent signal"


@pytest.fixture(scope="module")
def scanned(sites_server) -> dict:
    return scan_site(sites_server, "https://www.consent-mode.test/", states=("none",), max_pages=3)


def test_each_signal_judged_before_consent(scanned) -> None:
    by_page = {f["pages"][0].rsplit("/", 1)[-1]: f for f in scanned["findings"]
               if f["rule"] in ("consent-mode-ping", "consent-mode-granted", "pre-consent-request")}
    # every signal denied: a cookieless ping, a warning by default (the declaration can raise it)
    assert by_page[""]["rule"] == "consent-mode-ping" and by_page[""]["severity"] == "warning"
    assert "ad_storage denied, analytics_storage denied" in by_page[""]["evidence"]["consent_mode"]
    # defaults granted before the visitor answered: a violation naming the signals
    assert by_page["granted.html"]["rule"] == "consent-mode-granted" and by_page["granted.html"]["severity"] == "violation"
    assert "signals ad_storage, analytics_storage, ad_user_data, ad_personalization granted" in by_page["granted.html"]["message"]
    # no Consent Mode at all: an ordinary tracker request before consent, as before
    assert by_page["plain.html"]["rule"] == "pre-consent-request"
    home = next(p for p in scanned["states"][0]["pages"] if p["url"].endswith("/"))
    hit = next(r for r in home["requests"] if r["host"] == "region1.google-analytics.com")
    assert hit["consent_mode"]["gcs"] == "G100" and "gcs=~" in hit["url"]   # decoded before the URL was redacted


def test_requests_csv_says_each_signal_in_words(scanned, tmp_path) -> None:
    """requests.csv (and report.xlsx, from the same rows): the Consent Mode signal of each Google
    request in a `consent_mode` column; empty for every other request."""
    import csv

    from scanner.report import render_all
    render_all(scanned, tmp_path, ["csv"])
    with open(tmp_path / "requests.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ga = [r for r in rows if r["host"] == "region1.google-analytics.com"]
    signals = {r["page_url"].rsplit("/", 1)[-1]: r["consent_mode"] for r in ga}
    assert signals[""] == "ad_storage denied, analytics_storage denied, ad_user_data denied, ad_personalization denied"
    assert signals["granted.html"].startswith("ad_storage granted, analytics_storage granted")
    assert signals["plain.html"] == ""                       # a GA hit without gcs/gcd carries no signal
    assert all(r["consent_mode"] == "" for r in rows if r["host"] != "region1.google-analytics.com")


MODEL = ConsentModel({"analytics": {"id": "analytics", "label": "Statistics", "purposes": ["analytics"]},
                      "marketing": {"id": "marketing", "label": "Marketing", "purposes": ["marketing"]}})


def ga_hit(query: str) -> dict:
    return {"url": f"{GA}&{query}", "host": "region1.google-analytics.com", "party": "third", "tracker": True,
            "category": "analytics", "vendor": "Google Analytics", "resource_type": "ping", "declared_as": None,
            "consent_mode": decode(f"{GA}&{query}")}


def test_one_judgement_per_state_for_consent_mode() -> None:
    denied, granted_all = ga_hit("gcs=G100&gcd=13p3p3p2p5l1"), ga_hit("gcs=G111&gcd=13t3t3t3t5l1")
    assert judge("request", denied, "none", MODEL).rule == "consent-mode-ping"
    assert judge("request", denied, "reject", MODEL).status == WARNING
    assert judge("request", granted_all, "reject", MODEL).rule == "consent-mode-granted"
    assert judge("request", granted_all, "accept", MODEL).status == ALLOWED
    # analytics accepted: an Analytics hit is allowed, unless it tells Google ad_storage is granted
    analytics_only = ga_hit("gcs=G101&gcd=13p3t3p3p5l1")
    assert judge("request", analytics_only, "only:analytics", MODEL).status == ALLOWED
    wrong = judge("request", granted_all, "only:analytics", MODEL)
    assert wrong.status == NOT_ALLOWED and "ad_storage, ad_user_data, ad_personalization granted" in wrong.reason
    assert "analytics_storage" not in wrong.reason.rsplit("signals", 1)[-1]
    # the declaration raises cookieless pings to violations (consent.cookieless_pings)
    strict = ConsentModel(MODEL.categories, cookieless_pings="violation")
    ping = judge("request", denied, "none", strict)
    assert ping.status == NOT_ALLOWED and ping.severity == "violation" and ping.rule == "consent-mode-ping"


def test_html_shows_each_state_signal_in_words(scanned) -> None:
    """report.html: a Google Consent Mode table, one row per state with Google signals, the values
    each signal took in words, and the findings the judgement made of them; in French too."""
    from bs4 import BeautifulSoup

    from scanner.report.html import render_html
    soup = BeautifulSoup(render_html(scanned), "html.parser")
    section = soup.find(id="consent-mode")
    rows = [[td.get_text(" ", strip=True) for td in tr.find_all("td")] for tr in section.find("tbody").find_all("tr")]
    assert len(rows) == 1 and rows[0][0] == "Before consent none"
    ga = sum(1 for p in scanned["states"][0]["pages"] for r in p["requests"] if r.get("consent_mode"))
    assert rows[0][1] == str(ga) and ga >= 2
    assert rows[0][2:6] == ["denied / granted"] * 2 + ["denied / granted"] * 2   # the denied and the granted page
    violations = sum(1 for f in scanned["findings"] if f["rule"] == "consent-mode-granted")
    warnings = sum(1 for f in scanned["findings"] if f["rule"] == "consent-mode-ping")
    assert rows[0][6:] == [str(violations), str(warnings)] and violations >= 1 and warnings >= 1
    french = BeautifulSoup(render_html(scanned, lang="fr"), "html.parser").find(id="consent-mode")
    assert "refusé / accordé" in french.get_text(" ")


def test_html_has_no_consent_mode_table_without_google_signals(sites_server) -> None:
    from scanner.report.html import render_html
    plain = scan_site(sites_server, "https://www.consent-mode.test/plain.html", states=("none",), max_pages=1)
    assert 'id="consent-mode"' not in render_html(plain)
