"""Tracking without cookies in URLs (issue 19, EDPB Guidelines 2/2023 §§ 38-46): tracking pixels,
beacons, identifiers handed to third parties in request URLs and outgoing links decorated with the
visitor's id, on www.pixel.test; its look-alikes stay silent (a partner's logo, an icon with a
version parameter, the site's own statistics pixel, a configuration request, utm and referral
parameters on links)."""
from __future__ import annotations

import csv
import hashlib
import io
import json

import pytest

from conftest import scan_site
from scanner.classify.url_tracking import default_url_tracking
from scanner.judgement import ALLOWED, NOT_ALLOWED, WARNING, ConsentModel, judge
from scanner.report import render_markdown
from scanner.report.csv import render_csv
from scanner.report.html import render_html
from scanner.report.matrix import build_matrix
from scanner.report.schema import validate_report

EMAIL_HASH = hashlib.sha256(b"jane.doe@example.com").hexdigest()


@pytest.fixture(scope="module")
def scanned(sites_server) -> dict:
    return scan_site(sites_server, "https://www.pixel.test/", states=("none",), max_pages=1)


def by_rule(result: dict, rule: str) -> dict[str, dict]:
    return {f["subject"]["name"]: f for f in result["findings"] if f["rule"] == rule}


def test_pixel_and_beacon_before_consent_are_violations(scanned) -> None:
    pixels = by_rule(scanned, "tracking-pixel")
    assert set(pixels) == {"px.adnetwork-lookalike.test", "collect.beacon-lookalike.test"}
    image = pixels["px.adnetwork-lookalike.test"]
    assert image["severity"] == "violation" and image["states"] == ["none"]
    assert image["message"].startswith("tracking pixel to px.adnetwork-lookalike.test")
    assert image["evidence"]["body_bytes"] == 43 and image["evidence"]["pixel"] is True
    assert pixels["collect.beacon-lookalike.test"]["message"].startswith("beacon to collect.beacon-lookalike.test")
    audit = next(a for a in scanned["audits"] if a["id"] == "tracking-pixel")
    assert "EDPB Guidelines 2/2023" in audit["legal_source"] and "§§38-43" in audit["legal_source"]


def test_identifiers_in_requests_and_links_are_violations(scanned) -> None:
    found = [f for f in scanned["findings"] if f["rule"] == "link-decoration"]
    described = {(f["subject"]["kind"], f["subject"]["name"]): f["evidence"]["identifiers"] for f in found}
    assert described == {
        # the page's own visitor id (a first-party cookie's value), found by its hash in the redacted URL
        ("request", "api.partner-lookalike.test"): ["partner_ref (cookie-value of visitor_ref)"],
        ("request", "px.adnetwork-lookalike.test"): ["em (email-hash)"],
        ("link", "shop.partner-lookalike.test"): ["vref (cookie-value of visitor_ref)"],
    }
    assert all(f["severity"] == "violation" and f["states"] == ["none"] for f in found)
    # the banner-missing finding counts these as items needing consent
    assert "5 items need consent" in by_rule(scanned, "banner-missing")["consent banner"]["message"]


def test_look_alikes_stay_silent(scanned) -> None:
    subjects = {(f["subject"].get("host") or f["subject"].get("domain") or "") for f in scanned["findings"]}
    assert "cdn.images-lookalike.test" not in subjects           # logo (1.5 KB) and icon.gif?v=3 (43 bytes)
    requests = scanned["states"][0]["pages"][0]["requests"]
    logo, icon, stats = (next(r for r in requests if path in r["url"]) for path in ("/logo.svg", "/icon.gif", "/stats/p.gif"))
    assert (logo["body_bytes"], logo["pixel"]) == (1516, False)
    assert (icon["body_bytes"], icon["pixel"]) == (43, False)    # tiny, but only a version parameter
    assert stats["pixel"] is False and stats["party"] == "first"  # the site's own statistics pixel
    config = next(r for r in requests if "/config" in r["url"])
    assert "identifiers" not in config and not config["pixel"]
    links = scanned["states"][0]["pages"][0]["decorated_links"]
    assert [link["host"] for link in links] == ["shop.partner-lookalike.test"]   # not the utm or ref links
    assert links[0]["url"].startswith("https://shop.partner-lookalike.test/offer?vref=~")


def test_values_never_recorded_and_report_valid(scanned) -> None:
    text = json.dumps(scanned)
    assert EMAIL_HASH not in text
    assert validate_report(scanned) == []


def test_matrix_rows_and_reports_show_pixels_and_links(scanned) -> None:
    matrix = build_matrix(scanned)
    kinds = {(row.kind, row.name): row for row in matrix.rows}
    assert kinds[("pixel", "px.adnetwork-lookalike.test")].cells[0].status == "not-allowed"
    assert kinds[("pixel", "collect.beacon-lookalike.test")].detail == "ping"
    link = kinds[("link", "shop.partner-lookalike.test")]
    assert link.cells[0].status == "not-allowed" and link.detail == "vref"
    html = render_html(scanned)
    assert "Tracking pixels and beacons" in html and "Outgoing links carrying identifiers" in html
    assert "Tracking pixel or beacon without consent" in html
    french = render_html(scanned, lang="fr")
    assert "Pixels de suivi et balises" in french and "Liens sortants portant des identifiants" in french
    assert "Identifier passed to a third party in a URL without consent" in render_markdown(scanned)
    rows = list(csv.DictReader(io.StringIO(render_csv(scanned)["requests.csv"])))
    pixel = next(r for r in rows if "/p.gif" in r["url"] and "adnetwork" in r["url"])
    assert (pixel["pixel"], pixel["body_bytes"]) == ("yes", "43")
    sync = next(r for r in rows if "/sync" in r["url"])
    assert sync["identifiers"] == "partner_ref (cookie-value of visitor_ref)"


def test_identifiers_by_name_and_shape() -> None:
    rules = default_url_tracking()

    def kinds(url: str) -> list[tuple[str, str]]:
        return [(i["param"], i["kind"]) for i in rules.identifiers(url)]
    assert kinds("https://t.test/c?gclid=Cj0KCQiA&utm_source=news&utm_medium=mail") == [("gclid", "click-id")]
    assert kinds("https://t.test/c?_gl=1*abc*_ga*MTIz&fbclid=IwAR3x") == [("_gl", "click-id"), ("fbclid", "click-id")]
    assert kinds("https://t.test/c?to=jane.doe%40example.com") == [("to", "email")]
    assert kinds(f"https://t.test/c?em={EMAIL_HASH}") == [("em", "email-hash")]
    assert kinds(f"https://t.test/c?h={EMAIL_HASH}") == []          # a hash under any name: a cache key, a file digest
    assert kinds("https://t.test/c?uid=a81f02c9d3") == [("uid", "user-id")]
    assert kinds("https://t.test/c?uid=guest&user=me") == []        # not id-like values
    assert kinds("https://t.test/c?ref=micropep&lang=fr&v=3") == []
    assert kinds("https://t.test/#gclid=Cj0KCQiA") == [("gclid", "click-id")]   # in a fragment too
    # a hostile URL: bounded work, names capped, no values
    huge = "https://t.test/c?" + "&".join(f"gclid{i}=x" for i in range(50_000)) + "&gclid=Cj0KCQiA"
    assert kinds(huge) == []                                           # past the 8 KB read: not seen
    many = "https://t.test/c?" + "&".join(f"{'g' * 500}=Cj0K{i}" for i in range(10))
    assert rules.identifiers(many) == []


def test_stored_values_match_by_hash_on_redacted_and_raw_urls() -> None:
    rules = default_url_tracking()
    digest = hashlib.sha256(b"v1-abc123xyz").hexdigest()[:8]
    values = {digest: ("visitor_ref", "analytics")}
    expected = [{"param": "r", "kind": "cookie-value", "purpose": "analytics", "cookie": "visitor_ref"}]
    assert rules.stored_values("https://t.test/s?r=v1-abc123xyz", values) == expected
    assert rules.stored_values(f"https://t.test/s?r=~{digest}", values) == expected
    assert rules.stored_values("https://t.test/s?r=other-value", values) == []


def test_is_pixel_needs_a_third_party_a_tiny_body_and_data() -> None:
    rules = default_url_tracking()
    base = {"party": "third", "resource_type": "image", "status": 200, "body_bytes": 43,
            "url": "https://px.test/p.gif?ev=~1&acct=~2"}
    assert rules.is_pixel(base)
    assert not rules.is_pixel(dict(base, party="first"))
    assert not rules.is_pixel(dict(base, body_bytes=5000))                           # a real image
    assert not rules.is_pixel(dict(base, body_bytes=None))                           # size unknown
    assert rules.is_pixel(dict(base, body_bytes=None, status=204))                   # empty answer
    assert not rules.is_pixel(dict(base, url="https://px.test/p.gif?v=~1&w=~2"))     # cache-busters only
    assert rules.is_pixel(dict(base, url="https://px.test/p.gif?id=~1",
                               identifiers=[{"param": "id", "kind": "user-id"}]))
    assert rules.is_pixel(dict(base, resource_type="ping", body_bytes=None, url="https://b.test/e"))
    assert not rules.is_pixel(dict(base, resource_type="script"))


MODEL = ConsentModel({"required": {"id": "required", "label": "Required", "essential": True},
                      "analytics": {"id": "analytics", "label": "Statistics", "purposes": ["analytics"]},
                      "marketing": {"id": "marketing", "label": "Marketing", "purposes": ["marketing"]}})


def pixel(**extra) -> dict:
    return {"url": "https://px.test/p.gif?a=~1&b=~2", "host": "px.test", "party": "third", "resource_type": "image",
            "pixel": True, "tracker": False, "embed": None, "vendor": None, "category": "unknown",
            "declared_as": None, **extra}


def link(*kinds_purposes, **extra) -> dict:
    return {"url": "https://shop.test/?x=~1", "host": "shop.test", "party": "third", "vendor": None, "declared_as": None,
            "identifiers": [{"param": f"p{i}", "kind": k, "purpose": p} for i, (k, p) in enumerate(kinds_purposes)],
            **extra}


def test_one_judgement_for_pixels_and_decorated_links() -> None:
    assert judge("request", pixel(), "none", MODEL).rule == "tracking-pixel"
    assert judge("request", pixel(), "reject", MODEL).status == NOT_ALLOWED
    assert judge("request", pixel(), "accept", MODEL).status == ALLOWED
    assert judge("request", pixel(), "only:analytics", MODEL).status == WARNING      # purpose unknown
    # a first-party analytics pixel declared as such: the declaration decides
    declared = pixel(declared_as="analytics")
    assert judge("request", declared, "only:analytics", MODEL).status == ALLOWED
    assert judge("request", declared, "only:marketing", MODEL).status == NOT_ALLOWED
    assert judge("request", pixel(party="first", pixel=False), "none", MODEL).judged is False
    marketing = link(("click-id", "marketing"))
    assert judge("link", marketing, "none", MODEL).rule == "link-decoration"
    assert judge("link", marketing, "only:marketing", MODEL).status == ALLOWED
    assert judge("link", marketing, "only:analytics", MODEL).status == NOT_ALLOWED
    # a cookie value whose purpose nobody knows
    assert judge("link", link(("cookie-value", None)), "only:marketing", MODEL).status == WARNING
    # a request carrying identifiers, neither tracker nor pixel: judged as link decoration
    request = dict(pixel(pixel=False), identifiers=[{"param": "em", "kind": "email-hash", "purpose": "marketing"}])
    assert judge("request", request, "none", MODEL).rule == "link-decoration"
    assert judge("request", request, "accept", MODEL).status == ALLOWED
