"""Fingerprinting without cookies (issue 19, EDPB Guidelines 2/2023): the real FingerprintJS library
(npm, MIT) is caught before consent; a Chart.js dashboard, a favicon badge drawn on a canvas and a
plugins check are not."""
from __future__ import annotations

import pytest

from conftest import scan_site
from scanner.classify.fingerprint import FingerprintRules, default_fingerprint_rules
from scanner.judgement import ALLOWED, NOT_ALLOWED, WARNING, ConsentModel, judge

FP_SCRIPT = "https://cdn.fp-mirror.test/_npm/@fingerprintjs/fingerprintjs/dist/fp.umd.min.js"


@pytest.fixture(scope="module")
def scanned(sites_server) -> dict:
    return scan_site(sites_server, "https://www.fingerprint.test/", states=("none",), max_pages=3)


def page(result: dict, path: str) -> dict:
    return next(p for p in result["states"][0]["pages"] if p["url"].endswith(path))


def test_fingerprintjs_before_consent_is_a_violation_naming_the_script_and_its_reads(scanned) -> None:
    found = [f for f in scanned["findings"] if f["rule"] == "fingerprinting"]
    assert len(found) == 1, found
    finding = found[0]
    assert finding["severity"] == "violation" and finding["states"] == ["none"]
    assert finding["pages"] == ["https://www.fingerprint.test/"]
    assert finding["subject"] == {"kind": "script", "host": "cdn.fp-mirror.test",
                                  "name": "cdn.fp-mirror.test/_npm/@fingerprintjs/fingerprintjs/dist/fp.umd.min.js"}
    assert finding["evidence"]["script"] == FP_SCRIPT
    signals = finding["evidence"]["signals"]
    assert "canvas read back after drawing text" in signals and "audio rendered offline from an oscillator" in signals
    assert "EDPB Guidelines 2/2023" in next(a for a in scanned["audits"] if a["id"] == "fingerprinting")["legal_source"]
    cause = next(c for c in scanned["causes"] if c["id"] == finding["cause"])
    assert cause["kind"] == "tag" and cause["host"] == "fp-mirror.test"
    home = page(scanned, "/")
    entry = next(s for s in home["fingerprinting"] if s["script"] == FP_SCRIPT)
    assert entry["fingerprinting"] is True and entry["party"] == "third"
    assert {"canvas-readback", "audio-render"} <= set(entry["apis"])


def test_chart_badge_and_plugins_check_are_not_fingerprinting(scanned) -> None:
    chart, badge = page(scanned, "/chart.html"), page(scanned, "/badge.html")
    assert chart["title"] == "Sales chart" and chart["device_reads"] == [] and chart["fingerprinting"] == []
    # the badge page read the plugins list: recorded, not judged
    assert [(s["apis"], s["fingerprinting"]) for s in badge["fingerprinting"]] == [(["plugins"], False)]
    flagged = {p for f in scanned["findings"] if f["rule"] == "fingerprinting" for p in f["pages"]}
    assert flagged == {"https://www.fingerprint.test/"}


def test_combinations_decide_not_single_weak_reads() -> None:
    rules = default_fingerprint_rules()
    one = lambda *apis: rules.scripts([{"script": "https://x.test/a.js", "api": a} for a in apis])[0]["fingerprinting"]
    assert one("canvas-readback") and one("audio-render") and one("font-probe")
    assert not one("plugins") and not one("plugins", "battery")
    assert one("plugins", "battery", "webgl-debug-info")          # three weak reads together
    assert rules.scripts([{"script": "https://x.test/a.js", "api": "made-up"}]) == []   # unknown API names ignored
    assert FingerprintRules({"plugins": "weak"}, {"plugins": "plugins"}, 1).scripts(
        [{"script": "s", "api": "plugins"}])[0]["fingerprinting"]


MODEL = ConsentModel({"required": {"id": "required", "label": "Required", "essential": True},
                      "analytics": {"id": "analytics", "label": "Statistics", "purposes": ["analytics"]},
                      "marketing": {"id": "marketing", "label": "Marketing", "purposes": ["marketing"]}})


def script(**extra) -> dict:
    return {"script": "https://fp.test/fp.js", "host": "fp.test", "party": "third", "vendor": None, "category": None,
            "declared_as": None, "fingerprinting": True, "apis": ["canvas-readback"],
            "signals": ["canvas read back after drawing text"], **extra}


def test_one_judgement_for_fingerprinting_scripts() -> None:
    assert judge("script", script(), "none", MODEL).status == NOT_ALLOWED
    assert judge("script", script(), "reject", MODEL).rule == "fingerprinting"
    assert judge("script", script(), "accept", MODEL).status == ALLOWED
    # purpose unknown: with one category accepted, nobody can tell whether it covers it
    assert judge("script", script(), "only:analytics", MODEL).status == WARNING
    analytics = script(category="analytics", vendor="Some Analytics")
    assert judge("script", analytics, "only:analytics", MODEL).status == ALLOWED
    assert judge("script", analytics, "only:marketing", MODEL).status == NOT_ALLOWED
    # the declaration decides: declared in Marketing, only Marketing's consent allows it
    declared = script(declared_as="marketing")
    assert judge("script", declared, "only:marketing", MODEL).status == ALLOWED
    assert judge("script", declared, "only:analytics", MODEL).status == NOT_ALLOWED
    # declared strictly necessary (fraud prevention, say): a declaration the law does not challenge here
    assert judge("script", script(declared_as="required"), "none", MODEL).status == ALLOWED
    # a script below the combination threshold is not judged
    assert judge("script", script(fingerprinting=False, apis=["plugins"]), "none", MODEL).judged is False
