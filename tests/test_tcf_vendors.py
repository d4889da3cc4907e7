"""IAB TCF vendors (issue 19): requests mapped to their Global Vendor List ids, checked against the
site's TC string in every state, and the TCF signals ad requests carry (gdpr, gdpr_consent), on
www.tcf-banner.test/ads.html, whose consent manager is built on the IAB's own @iabtcf libraries.
Look-alikes that must stay silent: Google (755) and Amazon (793) called only with their consent,
each with the manager's current TC string."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import TESTS, run_cli, scan_site
from scanner.classify.tcf_vendors import GvlError, TcfVendors, basis, default_tcf_vendors, load_gvl, request_signal
from scanner.report.schema import validate_report

GVL = TESTS / "sites" / "www.tcf-banner.test" / "tcf" / "vendor-list.json"
STATES = ("none", "reject", "accept", "only:analytics", "only:marketing", "withdraw")
STALE = "CQut_FgQuwUgAEsACBENCOEAAP_AAAAAAAqIGMwBIAAgAEABwBeYDGQAAAAA.IH0QAYAAgfQA"   # accept all (test_tcf_decode)
REJECT_ALL = "CQut_FgQuwUgAEsACBENCOEAAAAAAAAAAAqIAAAAAAAA.IH0QAYAAgfQA"


@pytest.fixture(scope="module")
def scanned(sites_server) -> dict:
    return scan_site(sites_server, "https://www.tcf-banner.test/ads.html", states=STATES, max_pages=1, gvl_path=GVL)


def states_of(result: dict, rule: str) -> dict[str, list[str]]:
    return {f["subject"]["name"]: f["states"] for f in result["findings"] if f["rule"] == rule}


def test_every_state_reached_with_its_tc_string(scanned) -> None:
    reached = {s["state"]: s["reached"] for s in scanned["states"]}
    assert reached == dict.fromkeys(STATES, True)
    assert all((s.get("proof") or {}).get("tc_string") for s in scanned["states"] if s["state"] != "none")


def test_vendors_outside_the_tc_string_are_violations_where_the_categories_allow_them(scanned) -> None:
    found = states_of(scanned, "tcf-vendor-without-basis")
    # Criteo (91) is not on the consent manager's vendor list: accepting all does not cover it
    assert found["Criteo"] == ["accept", "only:marketing"]
    assert found["AppNexus"] == ["accept", "only:marketing"]           # Xandr (32), not on the list either
    assert found["Rubicon Project"] == ["only:marketing"]              # Magnite (52): on the list, not in Advertising
    finding = next(f for f in scanned["findings"] if f["rule"] == "tcf-vendor-without-basis" and f["subject"]["name"] == "Criteo")
    assert finding["message"].startswith("Criteo (TCF vendor 91) receives requests after")
    assert finding["evidence"]["why"] == "neither consent nor legitimate interest for the vendor"
    # the vendors the choice covers stay silent, and a state the consent audits already report is not repeated
    assert "Google Advertising Products" not in found and "DoubleClick" not in str(found) and "Amazon" not in str(found)
    assert not {s for states in found.values() for s in states} & {"none", "reject", "withdraw", "only:analytics"}


def test_a_request_claiming_more_than_the_visitor_chose_is_a_violation(scanned) -> None:
    found = states_of(scanned, "tcf-consent-string-mismatch")
    assert found == {"Rubicon Project": ["none", "reject", "only:analytics", "only:marketing", "withdraw"]}
    finding = next(f for f in scanned["findings"] if f["rule"] == "tcf-consent-string-mismatch")
    assert "claims consent to purpose(s) 1,2,3,4,5,6,7,8,9,10" in finding["message"]
    assert finding["evidence"]["tc_string"] == "no TC string: the visitor has not answered"


def test_gdpr_zero_is_a_warning_on_a_tcf_site(scanned) -> None:
    found = [f for f in scanned["findings"] if f["rule"] == "tcf-gdpr-not-applied"]
    assert [(f["severity"], f["subject"]["name"], len(f["states"])) for f in found] == [("warning", "AppNexus", 6)]


def test_requests_carry_the_decoded_signal_never_the_string(scanned) -> None:
    accept = next(s for s in scanned["states"] if s["state"] == "accept")
    google = next(r for p in accept["pages"] for r in p["requests"] if r["host"] == "securepubads.g.doubleclick.net")
    assert google["tcf_vendor"] == {"id": 755, "name": "Google Advertising Products"}
    assert google["tcf"]["gdpr"] == "1" and google["tcf"]["vendor_consent"] is True
    assert google["tcf"]["purpose_consents"] == list(range(1, 12))
    text = json.dumps(scanned)
    assert STALE not in text and "gdpr_consent=C" not in text
    # the vendor list given with --gvl stays only for the vendors contacted
    assert scanned["tcf"]["gvl"] == {"file": "vendor-list.json", "vendor_list_version": 87}
    assert set(scanned["tcf"]["vendors"]) == {"52", "755", "793"}
    assert validate_report(scanned) == []


def test_basis_reads_the_vendor_list_purposes() -> None:
    tc = {"vendor_consents": [755], "vendor_consents_count": 1, "vendor_legitimate_interests": [52],
          "vendor_legitimate_interests_count": 1, "purpose_consents": [1, 7], "purpose_legitimate_interests": [2]}
    gvl = load_gvl(GVL)["vendors"]
    assert basis(755, tc) == (True, "consent")
    assert basis(755, tc, gvl[755]) == (True, "consent")                    # purposes 1 and 7 are among its own
    assert basis(755, dict(tc, purpose_consents=[5]), gvl[755])[0] is False  # its bit, none of its purposes
    assert basis(52, tc, gvl[52]) == (True, "legitimate interest")            # LI for purpose 2, which it declares
    assert basis(52, dict(tc, purpose_legitimate_interests=[10]), gvl[52])[0] is False
    assert basis(91, tc) == (False, "neither consent nor legitimate interest for the vendor")
    assert basis(91, dict(tc, vendor_consents_count=9000))[0] is None          # a list cut short: cannot tell


def test_hosts_and_url_signals() -> None:
    vendors = default_tcf_vendors()
    assert vendors.for_host("securepubads.g.doubleclick.net") == (755, "Google Advertising Products")
    assert vendors.for_host("notdoubleclick.net") is None and vendors.for_host("doubleclick.net.evil.test") is None
    assert TcfVendors({}).for_host("x.criteo.com") is None
    assert request_signal("https://x.test/p?a=1") is None
    assert request_signal(f"https://x.test/p?gdpr=1&gdpr_consent={REJECT_ALL}", 755) == {
        "gdpr": "1", "consent_string": True, "purpose_consents": [], "vendor_consent": False,
        "vendor_legitimate_interest": False}
    unfilled = request_signal("https://x.test/p?gdpr=${GDPR}&gdpr_consent=${GDPR_CONSENT_755}", 755)
    assert unfilled["gdpr"] == "${GDPR}" and unfilled["error"] and "purpose_consents" not in unfilled
    hostile = request_signal("https://x.test/p?gdpr=1&gdpr_consent=" + "A" * 500_000, 755)
    assert "purpose_consents" not in hostile and len(hostile["error"]) <= 200


def test_a_bad_vendor_list_is_exit_2_before_the_scan(tmp_path) -> None:
    for content, message in (("not json", "not JSON"), ('{"vendors": []}', 'not a Global Vendor List')):
        bad = tmp_path / "gvl.json"
        bad.write_text(content)
        out = tmp_path / "out"
        done = run_cli("scan", "https://www.example.com/", "--gvl", str(bad), "--out", str(out))
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and message in lines[0] and not out.exists()
    with pytest.raises(GvlError):
        load_gvl(tmp_path / "missing.json")
