"""Renderers: report.json -> HTML, CSV, Markdown, JUnit, SARIF, manifest, baseline diff.

Fixtures (tests/fixtures/report/):
* micropep.json: a real scan of the embedded demo site (`cookie-scanner demo`: HubSpot CMP, 8 pages,
  6 states all reached, the Micropep declaration and policy lint), written by
  tools/regen-report-fixtures.py with its run-to-run noise normalised. Regenerate it, never edit it;
  `unreached()` derives the incomplete scan a site that hides its consent control gives;
* hostile.json: hand-written: every site string is an injection attempt (HTML, script, Markdown,
  spreadsheet formula, control characters).
The HTML report is opened in real Chromium (Playwright) to prove nothing executes.
"""
from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from scanner.report import (DEFAULT_FORMATS, FILENAMES, FORMATS, ReportError, apply_baseline, diff_reports,
                            exit_code, format_diff, load_report, render_all, render_markdown, verdict,
                            verify_manifest, write_json, write_manifest)
from scanner.report.csv import COLUMNS, neutralise
from scanner.report.html import render_html, safe_href, safe_local
from scanner.report.markdown import md_escape
from scanner.report.matrix import build_matrix, check_declaration, human_duration, proposed_declaration
from scanner.report.sarif import build_sarif

FIXTURES = Path(__file__).parent / "fixtures"
REALISTIC = FIXTURES / "report" / "micropep.json"
HOSTILE = FIXTURES / "report" / "hostile.json"
REPORT_FIXTURES = sorted((FIXTURES / "report").glob("*.json"))
STATES = ["none", "reject", "accept", "only:functional", "only:marketing", "withdraw"]
# What the scanner records when the site's withdraw control cannot be found (see `unreached`).
WITHDRAW_ERROR = ("withdraw control not found: no element matching #hs-eu-cookie-settings-button after 10 s "
                  "on https://www.micropep.com/")
SARIF_SCHEMA = FIXTURES / "sarif-2.1.0.schema.json"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]

XSS_NAME = "<img src=x onerror=alert(1)>"
EVIL_SETTER = 'https://evil.test/a.js?"><script>alert(1)</script>'
EVIL_TITLE = "</script><script>alert(1)</script>"
FORMULA_KEY = '=HYPERLINK("http://x")'
MD_NAME = "a|b](http://x)"
# A 1x1 transparent PNG, for screenshot files referenced by the fixtures.
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d49444154789c6360000002000005000172a8d6a50000000049454e44ae426082")


@pytest.fixture()
def realistic() -> dict:
    return load_report(REALISTIC)


@pytest.fixture()
def hostile() -> dict:
    return load_report(HOSTILE)


def completed(report: dict) -> dict:
    """A copy of the report with only its reached states, marked complete (the realistic one already is)."""
    r = copy.deepcopy(report)
    r["states"] = [s for s in r["states"] if s["reached"]]
    r["complete"], r["incomplete_reasons"] = True, []
    return r


def unreached(report: dict, state: str = "withdraw", error: str = WITHDRAW_ERROR) -> dict:
    """The realistic report as a scan gives it when `state` cannot be reached: the state kept with its
    error and a failure screenshot but no pages, its findings gone, the reason worded as scanner/result.py
    words it, the scan incomplete."""
    r = copy.deepcopy(report)
    for s in r["states"]:
        if s["state"] == state:
            s.update(reached=False, error=error, verified_by=None, pages=[],
                     screenshots=[{"label": "failure", "path": f"screenshots/{state}-failure.png"}])
    r["findings"] = [f for f in (_without_state(f, state) for f in r["findings"]) if f is not None]
    r["complete"], r["incomplete_reasons"] = False, [f"state {state} not reached: {error}"]
    r["verdict"] = "incomplete"
    return r


def _without_state(finding: dict, state: str) -> dict | None:
    """The finding as a scan that did not reach `state` gives it; None if it occurred only there."""
    if state not in finding.get("states", []):
        return finding
    occurrences = [o for o in finding["occurrences"] if o["state"] != state]
    if not occurrences:
        return None
    pages = list(dict.fromkeys(p for o in occurrences for p in o["pages"]))
    return {**finding, "occurrences": occurrences, "states": [o["state"] for o in occurrences],
            "state": occurrences[0]["state"], "pages": pages, "page": pages[0] if pages else None}


def as_schema_1_2(report: dict) -> dict:
    """The report as schema 1.2 wrote it: one finding per rule, state and subject, ids with the state."""
    from scanner.audits.registry import finding_id
    r = copy.deepcopy(report)
    old = []
    for f in r["findings"]:
        base = {k: v for k, v in f.items() if k not in ("states", "occurrences", "cause")}
        if not f.get("occurrences"):
            old.append(base)
            continue
        for o in f["occurrences"]:
            old.append({**base, "id": finding_id(f["rule"], o["state"], f["subject"]), "state": o["state"],
                        "severity": o["severity"], "page": o["pages"][0] if o["pages"] else None,
                        "pages": o["pages"], "message": o["message"]})
    r["findings"], r["schema_version"] = old, "1.2"
    r.pop("causes", None)
    return r


def counts(report: dict) -> dict[str, int]:
    return {sev: sum(f["severity"] == sev for f in report["findings"]) for sev in ("violation", "warning", "info")}


def with_findings(report: dict, severities: list[str]) -> dict:
    r = completed(report)
    r["findings"] = [f for f in r["findings"] if f["severity"] in severities]
    return r


def add_screenshots(out: Path, report: dict) -> None:
    paths = [s["path"] for st in report["states"] for s in st.get("screenshots") or []]
    paths += [f["evidence"]["screenshot"] for f in report["findings"] if "screenshot" in f.get("evidence", {})]
    for p in paths:
        if safe_local(p):
            (out / p).parent.mkdir(parents=True, exist_ok=True)
            (out / p).write_bytes(PNG)


# --------------------------------------------------------------------------- loading and writing

@pytest.mark.parametrize("content, fragment", [
    (b"not json at all", "not a JSON report"),
    (b"\xff\xfe\x00garbage", "not a JSON report"),
    (b"[1, 2, 3]", "no schema_version"),
    (b'{"findings": []}', "no schema_version"),
    (b'{"schema_version": "2.0"}', "schema_version 2.0 is not supported"),
])
def test_load_report_rejects_what_is_not_a_report(tmp_path: Path, content: bytes, fragment: str) -> None:
    p = tmp_path / "report.json"
    p.write_bytes(content)
    with pytest.raises(ReportError) as exc:
        load_report(p)
    assert fragment in str(exc.value) and "\n" not in str(exc.value)
    assert isinstance(exc.value, ValueError)


def test_load_report_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no such file"):
        load_report(tmp_path / "nope.json")


def test_load_report_reads_older_and_current_1x_refuses_newer(tmp_path: Path, realistic: dict) -> None:
    for version in ("1.0", "1.1"):
        r = dict(realistic, schema_version=version, some_future_field={"x": 1})
        write_json(r, tmp_path / "report.json")
        assert load_report(tmp_path / "report.json")["some_future_field"] == {"x": 1}   # unknown fields ignored
    write_json(dict(realistic, schema_version="1.7"), tmp_path / "report.json")
    with pytest.raises(ReportError, match="newer cookie-scanner"):
        load_report(tmp_path / "report.json")


@pytest.mark.parametrize("breakage, where", [
    (lambda r: r["findings"][0].update(severity="catastrophic"), "findings/0/severity"),
    (lambda r: r["states"][0].update(state="maybe"), "states/0/state"),
    (lambda r: r["states"][0]["pages"][0]["cookies"][0].update(party="fourth"), "cookies/0/party"),
    (lambda r: r.pop("findings"), "(top level)"),
])
def test_load_report_refuses_a_report_that_breaks_the_schema(tmp_path: Path, realistic: dict, breakage, where) -> None:
    import copy
    broken = copy.deepcopy(realistic)
    breakage(broken)
    write_json(broken, tmp_path / "report.json")
    with pytest.raises(ReportError, match="invalid report.json") as info:
        load_report(tmp_path / "report.json")
    assert where in str(info.value) and "\n" not in str(info.value)


def test_report_fixtures_are_found() -> None:
    assert REALISTIC in REPORT_FIXTURES and HOSTILE in REPORT_FIXTURES


@pytest.mark.parametrize("fixture", REPORT_FIXTURES, ids=lambda p: p.name)
def test_report_fixtures_speak_the_contract(fixture: Path) -> None:
    """Every report fixture validates against docs/report.schema.json, and every finding names a
    registered rule: an audit registered with @audit or describe() (what Findings.add accepts) or
    a policy-lint rule; the report's audits list has that rule's metadata."""
    from scanner.audits import AUDITS
    from scanner.policy import POLICY_RULES
    from scanner.report.schema import validate_report

    report = json.loads(fixture.read_text(encoding="utf-8"))
    assert validate_report(report) == []
    registered = {a.id for a in AUDITS} | {r["id"] for r in POLICY_RULES}
    assert report["findings"]
    unregistered = sorted({f["rule"] for f in report["findings"]} - registered)
    assert unregistered == [], f"{fixture.name}: findings of unregistered rules {unregistered}"
    listed = {a["id"] for a in report.get("audits") or []}
    assert {f["rule"] for f in report["findings"]} <= listed


def test_write_json_format(tmp_path: Path, hostile: dict) -> None:
    path = write_json(hostile, tmp_path / "report.json")
    text = path.read_text(encoding="utf-8")
    assert text.startswith('{\n "schema_version": "1.0"') and text.endswith("}\n")
    assert XSS_NAME in text  # ensure_ascii=False: names readable as they are
    assert json.loads(text) == hostile
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_atomic_write_keeps_old_file_when_replace_fails(tmp_path: Path, realistic: dict,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.json"
    target.write_text("OLD", encoding="utf-8")

    def boom(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_json(realistic, target)
    assert target.read_text(encoding="utf-8") == "OLD"
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]  # no temp file left


def test_render_all_writes_every_format(tmp_path: Path, realistic: dict) -> None:
    written = render_all(realistic, tmp_path / "out", FORMATS)
    expected = [name for fmt in FORMATS for name in FILENAMES[fmt]]
    assert [p.name for p in written] == expected
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(expected)
    assert set(DEFAULT_FORMATS) <= set(FORMATS)


def test_render_all_default_formats_and_errors(tmp_path: Path, realistic: dict) -> None:
    written = render_all(realistic, tmp_path, DEFAULT_FORMATS)
    assert {p.name for p in written} == {"report.json", "report.html", "cookies.csv", "storage.csv",
                                         "requests.csv", "findings.csv", "summary.md"}
    with pytest.raises(ValueError, match="unknown report format 'pdf'"):
        render_all(realistic, tmp_path, ["html", "pdf"])
    with pytest.raises(ValueError, match="separator"):
        render_all(realistic, tmp_path, ["csv"], csv_sep=";;")


@pytest.mark.parametrize("fixture", [REALISTIC, HOSTILE])
def test_rerendering_a_stored_report_gives_the_same_files(tmp_path: Path, fixture: Path) -> None:
    first = tmp_path / "first"
    render_all(load_report(fixture), first, FORMATS, csv_sep=";")
    second = tmp_path / "second"
    render_all(load_report(first / "report.json"), second, FORMATS, csv_sep=";")
    for p in sorted(first.iterdir()):
        assert p.read_bytes() == (second / p.name).read_bytes(), p.name


# --------------------------------------------------------------------------- verdict and exit codes

def test_verdict(realistic: dict) -> None:
    assert realistic["complete"] and all(s["reached"] for s in realistic["states"])
    assert verdict(realistic) == realistic["verdict"] == "violations"
    assert verdict(unreached(realistic)) == "incomplete"
    assert verdict(with_findings(realistic, ["warning", "info"])) == "warnings"
    assert verdict(with_findings(realistic, ["info"])) == "pass"
    lying = completed(realistic)
    lying["states"][1]["reached"] = False  # complete=True but a state was not reached
    assert verdict(lying) == "incomplete"


SCENARIOS = {
    "incomplete": (unreached, {"violation": 3, "warning": 3, "never": 3, "new-violation": 3}),
    "violations": (completed, {"violation": 1, "warning": 1, "never": 0, "new-violation": 1}),
    "warnings": (lambda r: with_findings(r, ["warning", "info"]),
                 {"violation": 0, "warning": 1, "never": 0, "new-violation": 0}),
    "info-only": (lambda r: with_findings(r, ["info"]), {"violation": 0, "warning": 0, "never": 0, "new-violation": 0}),
    "baseline-all-unchanged": (lambda r: apply_baseline(completed(r), completed(r)),
                               {"violation": 1, "warning": 1, "never": 0, "new-violation": 0}),
    "baseline-one-new-violation": (
        lambda r: apply_baseline(completed(r), dict(completed(r), findings=r["findings"][1:])),
        {"violation": 1, "warning": 1, "never": 0, "new-violation": 1}),
    "baseline-new-warning-only": (   # insecure-cookie: warnings only
        lambda r: apply_baseline(completed(r), dict(completed(r), findings=[
            f for f in completed(r)["findings"] if f["rule"] != "insecure-cookie"])),
        {"violation": 1, "warning": 1, "never": 0, "new-violation": 0}),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
@pytest.mark.parametrize("fail_on", ["violation", "warning", "never", "new-violation"])
def test_exit_codes(realistic: dict, scenario: str, fail_on: str) -> None:
    make, expected = SCENARIOS[scenario]
    assert {f["severity"] for f in realistic["findings"] if f["rule"] == "insecure-cookie"} == {"warning"}
    assert exit_code(make(realistic), fail_on) == expected[fail_on]


def test_exit_code_rejects_unknown_fail_on(realistic: dict) -> None:
    with pytest.raises(ValueError, match="unknown fail-on"):
        exit_code(realistic, "error")


# --------------------------------------------------------------------------- matrix model

def test_consent_matrix_cells(realistic: dict) -> None:
    m = build_matrix(realistic)
    assert [c.state for c in m.columns] == STATES
    assert all(c.reached for c in m.columns)
    rows = {(r.kind, r.name, r.scope): r for r in m.rows}

    def cells(kind: str, name: str, scope: str) -> list[str]:
        return [c.status for c in rows[(kind, name, scope)].cells]

    # Google Analytics before consent, after "reject all" and after withdrawal; allowed once accepted, and
    # under both single categories, whose policy texts describe audience measurement
    ga = ["not-allowed", "not-allowed", "allowed", "allowed", "allowed", "not-allowed"]
    assert cells("cookie", "_ga", ".micropep.com") == ga
    assert cells("vendor", "Google Analytics", "region1.google-analytics.com") == ga
    # an advertising cookie: allowed only when everything was accepted
    assert cells("cookie", "_gcl_au", ".micropep.com") == ["not-allowed", "not-allowed", "allowed", "not-allowed",
                                                          "not-allowed", "not-allowed"]
    assert cells("cookie", "__cf_bm", ".micropep.com") == ["allowed"] * 6
    # the CMP's own consent record is allowed; absent before the banner was answered
    assert cells("cookie", "__hs_cookie_cat_pref", ".micropep.com") == ["absent"] + ["allowed"] * 5
    # HubSpot's tracking cookies appear with consent only, but stay after it is withdrawn
    assert cells("cookie", "hubspotutk", ".micropep.com") == ["absent", "absent", "allowed", "not-allowed",
                                                             "absent", "not-allowed"]
    # the YouTube embed stores before consent
    assert cells("storage", "yt-remote-device-id", "https://www.youtube.com")[:2] == ["not-allowed", "not-allowed"]
    # unclassified (the site's own theme key) is a warning, never green, until everything is accepted
    assert cells("storage", "mp-theme", "https://www.micropep.com") == ["warning", "warning", "allowed", "warning",
                                                                       "warning", "warning"]
    # vendors: judged on tracking requests only; a loader alone (the tag manager) is just "present"
    assert cells("vendor", "Google Tag Manager", "www.googletagmanager.com") == ["present"] * 6
    # rows with a red cell come first within each kind
    cookie_rows = m.rows_of("cookie")
    worst = [r.worst for r in cookie_rows]
    assert worst == sorted(worst, key=["not-allowed", "warning", "present", "allowed", "absent",
                                       "not-reached"].index)


def test_consent_matrix_of_an_incomplete_scan(realistic: dict) -> None:
    m = build_matrix(unreached(realistic))
    assert [c.reached for c in m.columns] == [True] * 5 + [False]
    # no cell of an unreached state may look allowed
    assert m.rows and all(r.cells[5].status == "not-reached" for r in m.rows)
    assert [c.status for c in next(r for r in m.rows if r.name == "_ga").cells][:5] == [
        "not-allowed", "not-allowed", "allowed", "allowed", "allowed"]


def test_refused_cookie_is_never_present(realistic: dict) -> None:
    """A cookie the browser refused (stored=false) is never "present" in the matrix."""
    r = copy.deepcopy(realistic)
    page = r["states"][0]["pages"][0]
    page["cookies"].append(dict(page["cookies"][0], name="IDE", domain=".doubleclick.net", party="third",
                                stored=False, blocked_reasons=["ThirdPartyPhaseout"]))
    assert not any(row.name == "IDE" for row in build_matrix(r).rows)


def test_declared_vs_observed(realistic: dict) -> None:
    """Micropep's policy names categories but no cookie: every observed item is undeclared."""
    d = check_declaration(realistic)
    assert d.has_declaration
    assert d.declared_seen == [] and d.declared_unseen == [] and d.disagreements == []
    assert {(i.kind, i.name) for i in d.seen_undeclared} == {
        ("cookie", name) for name in ("__cf_bm", "__hssc", "__hssrc", "__hstc", "_ga", "_ga_MPX24SCAN", "_gcl_au",
                                      "_gid", "hubspotutk", "PHPSESSID", "bcookie", "li_sugr", "lidc",
                                      "VISITOR_INFO1_LIVE", "VISITOR_PRIVACY_METADATA", "YSC")
    } | {("local", "mp-theme"), ("local", "yt-remote-device-id"), ("local", "ytidb::LAST_RESULT_ENTRY_KEY"),
         ("session", "yt-remote-session-app")}
    # the consent manager's own records are not "undeclared"
    assert not {i.name for i in d.seen_undeclared} & {"__hs_cookie_cat_pref", "__hs_opt_out", "__hs_initial_opt_in"}


def test_declared_vs_observed_with_a_fuller_declaration(realistic: dict, tmp_path: Path) -> None:
    """The same scan audited against a declaration that lists cookies (exact, prefix, regex)."""
    from scanner.audits import annotate_and_audit
    from scanner.declaration import load_declaration
    from scanner.paths import rules_dir

    text = (rules_dir() / "sites" / "micropep.yaml").read_text(encoding="utf-8")
    assert text.count("cookies: []\n") == 1
    (tmp_path / "fuller.yaml").write_text(text.replace("cookies: []\n", """cookies:
  - {name: _ga_, match: prefix, category: functional, provider: Google, duration: 2 years}
  - {name: "^__hs(tc|sc|src)$", match: regex, category: marketing, provider: HubSpot, duration: 13 months}
  - {name: YSC, category: required, provider: YouTube, duration: session}
  - {name: li_gc, category: marketing, provider: LinkedIn, duration: 6 months}
"""), encoding="utf-8")
    report = annotate_and_audit(copy.deepcopy(realistic), load_declaration(tmp_path / "fuller.yaml"))
    d = check_declaration(report)
    seen = {e["name"]: sorted(i.name for i in items) for e, items in d.declared_seen}
    assert seen == {"_ga_": ["_ga_MPX24SCAN"], "^__hs(tc|sc|src)$": ["__hssc", "__hssrc", "__hstc"], "YSC": ["YSC"]}
    assert [e["name"] for e in d.declared_unseen] == ["li_gc"]
    # YSC declared strictly necessary; HubSpot's trackers declared under a category whose text describes statistics
    assert sorted((x.item.name, x.declared_category, x.observed_category) for x in d.disagreements) == [
        ("YSC", "Required cookies", "preferences"), ("__hssc", "Marketing Cookies", "marketing"),
        ("__hssrc", "Marketing Cookies", "marketing"), ("__hstc", "Marketing Cookies", "marketing")]
    assert ("cookie", "_ga") in {(i.kind, i.name) for i in d.seen_undeclared}
    assert not {"_ga_MPX24SCAN", "__hstc", "YSC"} & {i.name for i in d.seen_undeclared}


def test_proposed_declaration(realistic: dict) -> None:
    rows = {(p.type, p.name): p for p in proposed_declaration(realistic)}
    # filed under the site's own category labels where one covers the purpose ("Functionnal Cookie" covers
    # analytics), under the standard label where none does (the site's "Marketing Cookies" describe statistics)
    ga = rows[("Cookie", "_ga")]
    assert (ga.provider, ga.category, ga.duration) == ("Google Analytics", "Functionnal Cookie", "2 years")
    assert (rows[("Cookie", "_gcl_au")].category, rows[("Cookie", "_gcl_au")].duration) == ("Marketing", "90 days")
    assert rows[("Cookie", "PHPSESSID")].duration == "session"
    assert rows[("Local storage", "mp-theme")].purpose == "(to be described)"
    assert rows[("Local storage", "mp-theme")].provider == "Micropep"
    assert rows[("Local storage", "yt-remote-device-id")].provider == "YouTube"
    assert rows[("Session storage", "yt-remote-session-app")].duration == "session"
    assert list(rows)[0] == ("Cookie", "__cf_bm")  # necessary first


def test_human_duration() -> None:
    assert human_duration(63072000) == "2 years"
    assert human_duration(None) == "—"
    assert human_duration(5, session=True) == "session"
    assert human_duration(-3) == "expired"
    assert human_duration(86400) in ("24 h", "1 day")


# --------------------------------------------------------------------------- HTML

def test_html_is_self_contained_and_escaped(tmp_path: Path, hostile: dict) -> None:
    render_all(hostile, tmp_path, ["html"])
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert html.count("<script") == 1 and "<script>alert" not in html
    assert XSS_NAME not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert 'http-equiv="Content-Security-Policy"' in html and "default-src &#39;none&#39;" in html
    for external in ("src=\"http", "href=\"//", "@import", "url(http", "<link "):
        assert external not in html, external
    assert 'href="javascript:' not in html and 'src="javascript:' not in html
    assert "49" not in html.split("{{7*7}}")[0][-5:]  # no template evaluation of site data
    assert "{{7*7}}${7*7}" in html
    assert "\x01" not in html and "␁" in html  # control characters made visible, not raw


def test_safe_link_helpers() -> None:
    assert safe_href("https://www.micropep.com/en/") == "https://www.micropep.com/en/"
    for bad in ("javascript:alert(1)", "data:text/html,x", "//evil.test/x", "https://evil.test/a b", None, 3):
        assert safe_href(bad) is None
    assert safe_local("screenshots/none-banner.png") == "screenshots/none-banner.png"
    for bad in ("javascript:alert(1)", "/etc/passwd", "../x.png", "screenshots/../../x", "a b.png", "https://x/y.png"):
        assert safe_local(bad) is None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    from scanner.browser import find_chromium
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=find_chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_report(browser, path: Path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    events: dict[str, list[str]] = {"dialogs": [], "console": [], "requests": []}
    page.on("dialog", lambda d: (events["dialogs"].append(d.message), d.dismiss()))
    page.on("console", lambda m: events["console"].append(f"{m.type}: {m.text}"))
    page.on("pageerror", lambda e: events["console"].append(f"pageerror: {e}"))
    page.on("request", lambda r: events["requests"].append(r.url))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    page.wait_for_timeout(200)
    return page, events


def test_hostile_report_in_chromium_runs_nothing(tmp_path: Path, hostile: dict, browser) -> None:
    render_all(hostile, tmp_path, ["html"])
    add_screenshots(tmp_path, hostile)
    page, events = open_report(browser, tmp_path / "report.html")
    try:
        # our own script ran (the CSP hash matches) and nothing else did
        assert page.get_attribute("html", "data-js") == "ready"
        assert events["dialogs"] == []
        assert not [c for c in events["console"] if "error" in c.lower()], events["console"]
        assert page.evaluate("document.scripts.length") == 1
        injected = page.evaluate("""() => {
            const bad = [];
            for (const el of document.querySelectorAll('*')) {
              for (const a of el.attributes) if (a.name.startsWith('on')) bad.push(el.tagName + ' ' + a.name);
              const link = el.getAttribute('href') || el.getAttribute('src') || '';
              if (/^\\s*(javascript|data|vbscript):/i.test(link)) bad.push(el.tagName + ' ' + link);
            }
            for (const sel of ['img[src="x"]', 'svg', 'iframe', 'object', 'embed', 'u', 'form', 'base', 'body style'])
              if (document.querySelector(sel)) bad.push(sel);
            // our two style blocks (the stylesheet, the printed page's margins) and no other
            if (document.querySelectorAll('style').length !== 2) bad.push(document.querySelectorAll('style').length + ' styles');
            // our own <b> (counters) and <i> (legend swatches) only: the site's <b>/<i> stayed text
            for (const el of document.querySelectorAll('b')) if (!el.closest('.count, .kpi')) bad.push('b ' + el.textContent);
            for (const el of document.querySelectorAll('i')) if (!el.closest('.legend')) bad.push('i ' + el.textContent);
            return bad;
        }""")
        assert injected == []
        # every request the page made is the file itself or a local screenshot
        assert all(u.startswith("file://") for u in events["requests"]), events["requests"]
        text = page.inner_text("body")
        for hostile_text in (XSS_NAME, EVIL_SETTER, EVIL_TITLE, FORMULA_KEY, MD_NAME, "Evil <script>alert(4)</script>",
                             "{{7*7}}${7*7}", "Block <script>alert('audit')</script> until consent"):
            assert hostile_text in text, hostile_text
        assert page.title().startswith("Cookie compliance: evil.test")
    finally:
        page.close()


def test_realistic_report_in_chromium(tmp_path: Path, realistic: dict, browser) -> None:
    render_all(realistic, tmp_path, ["html"])
    add_screenshots(tmp_path, realistic)
    page, events = open_report(browser, tmp_path / "report.html")
    try:
        assert events["dialogs"] == [] and page.get_attribute("html", "data-js") == "ready"
        assert not [c for c in events["console"] if "error" in c.lower()], events["console"]
        # verdict first, with the counts of each severity
        verdict_box = page.locator("header.verdict")
        assert "verdict--violations" in verdict_box.get_attribute("class")
        n = counts(realistic)
        assert n["violation"] > 50 and n["warning"] > 10 and n["info"] > 0
        assert page.locator(".count--violation b").inner_text() == str(n["violation"])
        assert page.locator(".count--warning b").inner_text() == str(n["warning"])
        assert page.locator(".state--unreached").count() == 0
        assert page.locator("table.matrix td.c-not-reached").count() == 0
        # screenshots are shown as local thumbnails that loaded: a banner and an "after" shot per consent action
        screenshots = [s for st in realistic["states"] for s in st.get("screenshots") or []]
        assert len(screenshots) == 11
        loaded = page.evaluate("[...document.querySelectorAll('img.thumb')].filter(i => i.naturalWidth > 0).length")
        assert loaded >= len(screenshots)
        # filter and sort work
        page.fill("input[data-filter='cookies-table']", "hubspot")
        visible = page.locator("#cookies-table tbody tr:not([hidden])").count()
        assert 0 < visible < page.locator("#cookies-table tbody tr").count()
        page.fill("input[data-filter='cookies-table']", "")
        header = page.locator("#cookies-table thead th", has_text="Requested")
        header.click()
        header.click()  # descending: longest requested lifetime first
        first = page.locator("#cookies-table tbody tr").first.locator("td").first.inner_text()
        assert first in ("_ga", "_ga_MPX24SCAN")   # 2 years asked
        assert header.get_attribute("aria-sort") == "descending"
        # print: controls hidden, filtered rows shown again, PDF renders
        page.fill("input[data-filter='cookies-table']", "zzz-no-match")
        page.emulate_media(media="print")
        assert page.locator("nav.toc").is_hidden() and page.locator(".controls").first.is_hidden()
        assert page.locator("#cookies-table tbody tr").first.is_visible()
        pdf = page.pdf(print_background=True)
        assert pdf.startswith(b"%PDF") and len(pdf) > 10_000
    finally:
        page.close()


def test_email_html_carries_its_screenshots(tmp_path: Path, realistic: dict, browser) -> None:
    """report-email.html is one file: sent alone (the folder gone), every screenshot still shows."""
    folder = tmp_path / "scan"
    add_screenshots(folder, realistic)
    (folder / "screenshots" / "evil.png").write_bytes(b"<script>alert(1)</script>")   # not a PNG: never embedded
    render_all(realistic, folder, ["html", "html-email"])
    alone = tmp_path / "sent" / "report-email.html"
    alone.parent.mkdir()
    shutil.copy(folder / "report-email.html", alone)
    text = alone.read_text(encoding="utf-8")
    shots = [s for st in realistic["states"] for s in st.get("screenshots") or []]
    assert shots and text.count('src="data:image/png;base64,') >= len(shots)
    assert 'href="screenshots/' not in text and 'src="screenshots/' not in text
    assert 'src="screenshots/' in (folder / "report.html").read_text(encoding="utf-8")   # the folder's page links them
    page, events = open_report(browser, alone)
    try:
        sizes = page.evaluate("[...document.querySelectorAll('img.thumb')].map(i => i.naturalWidth)")
        assert sizes and all(w > 0 for w in sizes), sizes
        assert not [c for c in events["console"] if "error" in c.lower()], events["console"]
        assert all(u.startswith(("file://", "data:")) for u in events["requests"]), events["requests"]
    finally:
        page.close()


def test_incomplete_report_in_chromium(tmp_path: Path, realistic: dict, browser) -> None:
    report = unreached(realistic)
    render_all(report, tmp_path, ["html"])
    add_screenshots(tmp_path, report)
    page, events = open_report(browser, tmp_path / "report.html")
    try:
        assert events["dialogs"] == [] and page.get_attribute("html", "data-js") == "ready"
        # verdict first, in the incomplete colour, never looking like a pass
        verdict_box = page.locator("header.verdict")
        assert "verdict--incomplete" in verdict_box.get_attribute("class")
        assert "not a pass" in verdict_box.inner_text()
        assert page.locator(".count--violation b").inner_text() == str(counts(report)["violation"])
        # the unreached state is loud, with its error and its failure screenshot
        unreached_box = page.locator(".state--unreached")
        assert unreached_box.count() == 1
        assert "withdraw control not found" in unreached_box.inner_text()
        assert page.locator("th.state-col.unreached").count() == 1
        assert page.locator("table.matrix td.c-not-reached").count() == len(build_matrix(report).rows)
        assert page.evaluate("[...document.querySelectorAll('img.thumb')].some("
                             "i => i.getAttribute('src') === 'screenshots/withdraw-failure.png' && i.naturalWidth > 0)")
    finally:
        page.close()


# --------------------------------------------------------------------------- CSV

@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("plain", "plain"), ("a=b", "a=b"), (-1, -1), (None, None), (True, True),
])
def test_neutralise(value: object, expected: object) -> None:
    assert neutralise(value) == expected


def read_csv(path: Path, sep: str) -> pd.DataFrame:
    return pd.read_csv(path, sep=sep, encoding="utf-8-sig", dtype=str, keep_default_na=False)


def test_csv_neutralises_formulas_and_uses_separator(tmp_path: Path, hostile: dict) -> None:
    render_all(hostile, tmp_path, ["csv"], csv_sep=";")
    for name, columns in COLUMNS.items():
        raw = (tmp_path / name).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), name  # UTF-8 BOM for Excel
        assert raw[3:].split(b"\r\n")[0].decode() == ";".join(columns)
    storage = read_csv(tmp_path / "storage.csv", ";")
    assert "'" + FORMULA_KEY in storage["key"].tolist() and "'-2+3" in storage["key"].tolist()
    cookies = read_csv(tmp_path / "cookies.csv", ";")
    assert "'+cmd|' /C calc'!A0" in cookies["name"].tolist()
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in cookies["name"].tolist()
    assert "'-evil.test" in cookies["domain"].tolist()
    assert "'\tleading tab" in cookies["purpose"].tolist()
    assert XSS_NAME in cookies["name"].tolist()
    assert set(cookies["requested_lifetime_s"]) == {"86400"}  # integers stay integers
    findings = read_csv(tmp_path / "findings.csv", ";")
    assert "'" + FORMULA_KEY in findings["subject_name"].tolist()
    for frame in (storage, cookies, findings):  # no cell a spreadsheet would evaluate
        for value in frame.to_numpy().ravel():
            assert not str(value).startswith(("=", "+", "-", "@", "\t", "\r")), value


def test_csv_one_inventory_row_per_item_with_states_pages_and_readable_cells(tmp_path: Path, realistic: dict) -> None:
    """cookies.csv is an inventory (19 rows for the demo's 19 cookies, not one per page and state):
    ISO dates, yes/no, the states and page count; findings.csv explains each problem."""
    render_all(realistic, tmp_path, ["csv"])
    cookies = read_csv(tmp_path / "cookies.csv", ",")
    distinct = {(c["name"], c["domain"], c["path"]) for s in realistic["states"] for p in s["pages"] for c in p["cookies"]}
    assert len(cookies) == len(distinct) == 19 and list(cookies.columns) == list(COLUMNS["cookies.csv"])
    ga = cookies.loc[cookies["name"] == "_ga"].iloc[0]
    assert ga["states"] == "; ".join(STATES)   # Google Analytics is there in every state, even after "reject all"
    assert ga["pages"] == "8" and ga["first_page"] == "https://www.micropep.com/"
    youtube = cookies.loc[cookies["name"] == "VISITOR_INFO1_LIVE"].iloc[0]
    assert youtube["expires"] == "2026-07-04T09:00:00Z" and youtube["secure"] == "yes" and youtube["session"] == "no"
    assert set(cookies["stored"]) == {"yes"}
    storage = read_csv(tmp_path / "storage.csv", ",")
    assert len(storage) == len({(e["kind"], e["origin"], e["key"]) for s in realistic["states"]
                                for p in s["pages"] for e in p["storage"]})
    requests = read_csv(tmp_path / "requests.csv", ",")
    assert len(requests) == sum(len(p["requests"]) for s in realistic["states"] for p in s["pages"])
    assert set(requests["tracker"]) == {"yes", "no"}
    findings = read_csv(tmp_path / "findings.csv", ",")
    assert len(findings) == len(realistic["findings"])
    assert set(findings["severity"]) == {"violation", "warning", "info"}
    leak = findings.loc[(findings["rule"] == "category-leak") & (findings["subject_name"] == "_gcl_au")].iloc[0]
    assert leak["states"] == "only:functional; only:marketing" and leak["page_count"] == "8"
    assert leak["legal_source"].startswith("GDPR art. 4(11)") and leak["remediation"].startswith("Map every tag")
    assert leak["cause"] == "Google Tag Manager tag" and leak["why"]
    assert "Set by: https://www.googletagmanager.com/" in leak["evidence"] and "{" not in leak["evidence"]


def test_xlsx_workbook_one_sheet_per_table_frozen_filtered_text_never_formula(tmp_path: Path, realistic: dict,
                                                                               hostile: dict) -> None:
    import io
    from openpyxl import load_workbook
    render_all(realistic, tmp_path, ["csv", "xlsx"])
    book = load_workbook(tmp_path / "report.xlsx")
    assert book.sheetnames == ["Summary", "Findings", "Causes", "Cookies", "Storage", "Requests"]
    for title, name in (("Findings", "findings.csv"), ("Cookies", "cookies.csv"), ("Storage", "storage.csv"),
                        ("Requests", "requests.csv")):
        sheet, csv_rows = book[title], read_csv(tmp_path / name, ",")
        assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
        assert [c.value for c in sheet[1]] == list(COLUMNS[name]) and sheet.max_row == len(csv_rows) + 1
    summary = {row[0].value: row[1].value for row in book["Summary"].iter_rows()}
    assert summary["Verdict"] == "violations" and summary["Violations"] == counts(realistic)["violation"]
    assert summary["1. " + realistic["causes"][0]["label"]].startswith("On ")
    cookies = {row[0].value: row for row in book["Cookies"].iter_rows(min_row=2)}
    header = [c.value for c in book["Cookies"][1]]
    youtube = cookies["VISITOR_INFO1_LIVE"]
    assert youtube[header.index("expires")].value == "2026-07-04T09:00:00Z" and youtube[header.index("secure")].value == "yes"
    # a hostile report: strings that look like formulas are text cells, and the file is valid XML
    data = render_xlsx_bytes(hostile)
    formulas = [(s.title, c.coordinate) for s in load_workbook(io.BytesIO(data)) for row in s.iter_rows() for c in row
                if c.data_type == "f"]
    assert formulas == [] and b"=HYPERLINK" in _unzipped(data)
    assert render_xlsx_bytes(hostile) == data          # re-rendered, the same bytes


def render_xlsx_bytes(report: dict) -> bytes:
    from scanner.report.xlsx import render_xlsx
    return render_xlsx(copy.deepcopy(report))


def _unzipped(data: bytes) -> bytes:
    import io
    import zipfile
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return b"".join(z.read(n) for n in z.namelist())


# --------------------------------------------------------------------------- Markdown

def test_md_escape() -> None:
    assert md_escape(MD_NAME) == "a\\|b\\]\\(http\\://x\\)"   # no live link on GitHub either
    assert md_escape(XSS_NAME) == "&lt;img src=x onerror=alert\\(1\\)&gt;"
    assert md_escape("a\nb\r\nc") == "a b c"
    assert md_escape("`x` *y* _z_ ~~s~~ $m$ ![i](u)") == "\\`x\\` \\*y\\* \\_z\\_ \\~\\~s\\~\\~ \\$m\\$ \\!\\[i\\]\\(u\\)"
    assert md_escape("&lt;") == "&amp;lt;"
    assert md_escape("@octocat") == "@\u200boctocat"
    assert md_escape("www.example.com https://a.test") == "www\\.example.com https\\://a.test"


def github_html(md: str) -> str:
    """summary.md as GitHub renders it: cmark-gfm with its table, strikethrough and autolink extensions."""
    import cmarkgfm
    return cmarkgfm.github_flavored_markdown_to_html(md)


def test_summary_domains_are_plain_text_on_github(realistic: dict) -> None:
    """No live link made of a site's string, and no invisible character inside a domain: a host
    copied from GitHub's page is the host (the escapes are gone once rendered)."""
    from bs4 import BeautifulSoup

    md = render_markdown(realistic)
    soup = BeautifulSoup(github_html(md), "html.parser")
    assert soup.find("a") is None
    text = soup.get_text()
    assert "\u200b" not in text.replace("@\u200b", "")
    for host in ("Cookie compliance: www.micropep.com", "Site: https://www.micropep.com/",
                 "(local, https://www.youtube.com)", "(vendor, region1.google-analytics.com)"):
        assert host in text, host


def test_markdown_cannot_inject(hostile: dict) -> None:
    from bs4 import BeautifulSoup
    from markdown_it import MarkdownIt

    md = render_markdown(hostile)
    assert md.count("\n## ") == 0 and md.startswith("## Cookie compliance: evil.test")
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)
    soup = BeautifulSoup(html, "html.parser")
    for tag in ("a", "img", "script", "b", "i", "u", "svg", "code", "del", "h1", "h4"):
        assert soup.find(tag) is None, tag
    assert [e.get_text() for e in soup.find_all("em")] == [
        "Full details: report.html (consent matrix, evidence, inventories, proposed declaration)."]
    for table in soup.find_all("table"):
        widths = {len(tr.find_all(["td", "th"])) for tr in table.find_all("tr")}
        assert len(widths) == 1, widths  # no row broken by a pipe
    text = soup.get_text().replace("@\u200b", "@")  # a zero-width space keeps "@x" from a mention
    for hostile_text in (XSS_NAME, MD_NAME, FORMULA_KEY):
        assert hostile_text in text, hostile_text
    github = BeautifulSoup(github_html(md), "html.parser")
    for tag in ("a", "img", "script", "code", "del", "h1", "h4"):
        assert github.find(tag) is None, tag


def test_markdown_summary_content(realistic: dict) -> None:
    md = render_markdown(realistic)
    n = counts(realistic)
    assert "**Violations found**" in md and f"**{n['violation']}** violations" in md
    assert f"**{n['warning']}** warnings" in md and "** not reached" not in md
    assert "Declaration: Micropep \\(rules/sites/micropep.yaml\\)" in md
    assert "Only “Functionnal Cookie” ✅" in md   # the state is named by the site's own label
    assert f"…and {len(realistic['findings']) - 15} more findings" in md  # capped at 15 rows
    assert "| violation | Trackers before consent | none | \\_ga \\(.micropep.com\\) |" in md


def test_markdown_summary_of_an_incomplete_scan_sorts_findings(realistic: dict) -> None:
    report = unreached(realistic)
    few = [f for f in report["findings"] if f["severity"] == "violation"][:2]
    report["findings"] = [f for f in report["findings"] if f["severity"] != "violation"][::-1] + few
    md = render_markdown(report)
    assert "Incomplete, not a pass" in md and "**2** violations" in md
    assert "**withdraw** not reached" in md and "withdraw control not found" in md
    table = [line for line in md.splitlines() if line.startswith("| violation") or line.startswith("| warning")
             or line.startswith("| info")]
    assert len(table) == 15
    severities = [line.split("|")[1].strip() for line in table]
    assert severities == ["violation"] * 2 + ["warning"] * 13


# --------------------------------------------------------------------------- JUnit

def test_junit_counts(tmp_path: Path, realistic: dict) -> None:
    from scanner.report.junit import render_junit
    (tmp_path / "junit.xml").write_text(render_junit(realistic, fail_on="warning"), encoding="utf-8")
    root = ET.parse(tmp_path / "junit.xml").getroot()
    n_audits, n_states = len(realistic["audits"]), len(realistic["states"])
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == STATES + ["site"]
    assert all(len(suites[s].findall("testcase")) == n_audits for s in STATES)
    # site-wide (state-less) findings: one test case per rule, the policy linter's among them
    site_rules = sorted({f["rule"] for f in realistic["findings"] if f["state"] is None})
    assert sorted(c.get("name") for c in suites["site"].findall("testcase")) == site_rules
    assert {"undeclared-cookie", "excessive-lifetime", "policy-empty-contact", "policy-drafting"} <= set(site_rules)
    assert int(root.get("tests")) == n_audits * n_states + len(site_rules)
    failed = {(c.get("classname"), c.get("name")) for c in root.iter("testcase") if c.find("failure") is not None}
    by_state = {state: {name for classname, name in failed if classname == f"cookie-scanner.{state}"}
                for state in STATES}
    assert by_state == {
        "none": {"pre-consent-cookie", "pre-consent-storage", "pre-consent-request", "third-party-content"},
        "reject": {"post-reject-cookie", "post-reject-storage", "post-reject-request", "third-party-content"},
        "accept": set(),
        "only:functional": {"category-leak", "third-party-content"},
        "only:marketing": {"category-leak", "third-party-content"},
        "withdraw": {"withdrawal-ignored", "third-party-content"},
    }
    # every site-wide rule with a violation or warning fails; info only (the drafting remarks) fails nothing
    site_failed = {name for classname, name in failed if classname == "cookie-scanner.site"}
    assert site_failed == {r for r in site_rules if r != "policy-drafting"}
    assert int(root.get("failures")) == len(failed) and int(root.get("skipped")) == 0
    failure = suites["none"].find("testcase[@name='pre-consent-cookie']/failure")
    assert "_ga (.micropep.com)" in failure.get("message") and "https://www.micropep.com/careers" in failure.text
    info_case = suites["site"].find("testcase[@name='policy-drafting']")
    assert info_case.find("failure") is None and "679/2016" in info_case.find("system-out").text
    # the default gate (--fail-on violation): warnings are reported, not failures
    strict = ET.fromstring(render_junit(realistic).encode("utf-8"))
    failing_rules = {c.get("name") for c in strict.iter("testcase") if c.find("failure") is not None}
    assert failing_rules == {f["rule"] for f in realistic["findings"] if f["severity"] == "violation"}


def test_junit_unreached_state_is_an_error(tmp_path: Path, realistic: dict) -> None:
    report = unreached(realistic)
    render_all(report, tmp_path, ["junit"])
    root = ET.parse(tmp_path / "junit.xml").getroot()
    errors = [c for c in root.iter("testcase") if c.find("error") is not None]
    assert len(errors) == len(report["audits"]) == int(root.get("errors")) and int(root.get("skipped")) == 0
    assert all(c.get("classname") == "cookie-scanner.withdraw" for c in errors)
    assert "withdraw control not found" in errors[0].find("error").get("message")


def test_junit_hostile_is_well_formed(tmp_path: Path, hostile: dict) -> None:
    from scanner.report.junit import render_junit
    raw = render_junit(hostile, fail_on="warning").encode("utf-8")
    root = ET.fromstring(raw)
    assert b"\x01" not in raw and b"\x08" not in raw and "\ufffe".encode() not in raw
    messages = " ".join(f.get("message") for f in root.iter("failure"))
    assert XSS_NAME in messages and FORMULA_KEY in messages
    assert int(root.get("errors")) == len(hostile["audits"])  # reject not reached


# --------------------------------------------------------------------------- SARIF

@pytest.mark.parametrize("fixture", [REALISTIC, HOSTILE])
def test_sarif_validates_against_the_official_schema(tmp_path: Path, fixture: Path) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    report = load_report(fixture)
    render_all(report, tmp_path, ["sarif"])
    log = json.loads((tmp_path / "results.sarif").read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_cls = jsonschema.validators.validator_for(schema)
    validator_cls.check_schema(schema)
    errors = sorted(validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER).iter_errors(log), key=str)
    assert errors == [], errors[:3]
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == [a["id"] for a in report["audits"]]
    assert len(run["results"]) == len(report["findings"])
    assert [r["partialFingerprints"]["findingId"] for r in run["results"]] == [f["id"] for f in report["findings"]]
    # the demo scan reached every state; the hostile one did not reach reject
    assert run["invocations"][0]["executionSuccessful"] is {REALISTIC: True, HOSTILE: False}[fixture]


def test_sarif_content(realistic: dict) -> None:
    run = build_sarif(apply_baseline(realistic, dict(realistic, findings=realistic["findings"][1:])))["runs"][0]
    rule = run["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == "Trackers before consent"
    assert rule["defaultConfiguration"]["level"] == "error" and "ePrivacy" in rule["properties"]["legal_source"]
    assert "click-to-load" in rule["help"]["text"]
    levels = {r["level"] for r in run["results"]}
    assert levels == {"error", "warning", "note"}
    assert run["results"][0]["baselineState"] == "new" and run["results"][1]["baselineState"] == "unchanged"
    ga = next(r for r in run["results"] if r["ruleId"] == "pre-consent-cookie"
              and r["locations"][0]["logicalLocations"][0]["fullyQualifiedName"] == "cookie:_ga@.micropep.com")
    assert ga["level"] == "error"
    # GitHub code scanning takes repository files only: the declaration; the page is in the message and properties
    assert ga["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "rules/sites/micropep.yaml"
    assert ga["properties"]["page"] == "https://www.micropep.com/" and "Page: https://www.micropep.com/" in ga["message"]["text"]
    # policy findings point at the linted policy file, by its path in the repository
    in_policy = [r for r in run["results"] if r["ruleId"].startswith("policy-")]
    assert in_policy and {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in in_policy} == {
        "scanner/demo/site/www.micropep.com/privacy-policy.html"}
    assert build_sarif(unreached(realistic))["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_sarif_hostile_pages_stay_data_and_uris_are_repository_paths(hostile: dict) -> None:
    results = build_sarif(hostile)["runs"][0]["results"]
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results]
    assert all("://" not in u and " " not in u and "<" not in u and '"' not in u for u in uris)
    assert "https://evil.test/?q=<svg/onload=alert(1)>" in {r["properties"]["page"] for r in results}


@pytest.mark.parametrize("broken", ["http://[broken/", "https://[::1/x", "file://[", "[::1"])
def test_sarif_survives_urls_python_cannot_split(realistic: dict, broken: str) -> None:
    """A page or --sarif-file value that urllib refuses ("Invalid IPv6 URL") is no repository path:
    the result falls back to report.json, and the page stays in its properties."""
    report = copy.deepcopy(realistic)
    report["findings"][0]["page"] = broken
    report["options"]["sarif_file"] = broken
    sarif = build_sarif(report)
    results = sarif["runs"][0]["results"]
    assert all("[" not in r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results)
    assert broken in {r["properties"].get("page") for r in results}


# --------------------------------------------------------------------------- baseline

def test_apply_baseline_marks_findings_and_inventory(realistic: dict) -> None:
    new = completed(realistic)
    old = copy.deepcopy(new)
    dropped = old["findings"].pop(0)  # _ga pre-consent: "new" now
    gone = dict(old["findings"][0], id="0123456789ab", message="fixed since",
                subject={**old["findings"][0]["subject"], "name": "_fixed_since"})
    old["findings"].append(gone)
    old["states"][0]["pages"][0]["cookies"].append(dict(old["states"][0]["pages"][0]["cookies"][0], name="_old_cookie"))
    out = apply_baseline(new, old, path="reports/old/report.json")
    assert out is new  # marked in place (the CLI relies on it) and returned
    marks = {f["id"]: f["baseline"] for f in out["findings"]}
    assert marks[dropped["id"]] == "new"
    assert sum(m == "new" for m in marks.values()) == 1 and sum(m == "unchanged" for m in marks.values()) == len(marks) - 1
    assert [g["id"] for g in out["baseline"]["gone"]] == ["0123456789ab"]
    assert out["baseline"]["path"] == "reports/old/report.json"
    cookies = {(c["name"], c["status"]) for c in out["baseline"]["inventory"]["cookies"]}
    assert ("_old_cookie", "gone") in cookies and ("_ga", "unchanged") in cookies
    assert {v["status"] for v in out["baseline"]["inventory"]["vendors"]} == {"unchanged"}


def test_baseline_gone_in_unreached_state_is_unverified(realistic: dict) -> None:
    """Withdrawal findings of the last scan are not "fixed" when this scan could not reach withdraw;
    a problem also seen in a reached state is not gone at all."""
    old = copy.deepcopy(realistic)
    out = apply_baseline(unreached(realistic), old)
    gone = out["baseline"]["gone"]
    withdraw_only = {f["id"] for f in old["findings"] if f["states"] == ["withdraw"]}
    assert withdraw_only and {g["id"] for g in gone} == withdraw_only
    assert all(g["unverified"] is True and g["baseline"] == "gone" for g in gone)
    assert {g["rule"] for g in gone} == {"withdrawal-ignored"}
    assert all(f["baseline"] == "unchanged" for f in out["findings"])


def test_one_finding_per_problem_with_its_states_and_cause(realistic: dict) -> None:
    """The demo's headline counts distinct (rule, item) problems; each names its states, pages and cause."""
    from scanner.audits import problem_key
    findings = realistic["findings"]
    assert len({problem_key(f) for f in findings}) == len(findings) == len({f["id"] for f in findings})
    leak = [f for f in findings if f["rule"] == "category-leak" and f["subject"]["name"] == "_gcl_au"]
    assert len(leak) == 1 and leak[0]["states"] == ["only:functional", "only:marketing"]
    assert [o["state"] for o in leak[0]["occurrences"]] == leak[0]["states"] and leak[0]["state"] == "only:functional"
    causes = {c["id"]: c for c in realistic["causes"]}
    assert all(f["cause"] in causes for f in findings)
    assert sum(c["counts"]["violation"] for c in causes.values()) == counts(realistic)["violation"]
    top = realistic["causes"][0]
    assert top["counts"]["violation"] == max(c["counts"]["violation"] for c in causes.values())
    gtm = next(c for c in realistic["causes"] if c["label"] == "Google Tag Manager tag")
    ga = next(f for f in findings if f["rule"] == "pre-consent-cookie" and f["subject"]["name"] == "_ga")
    assert ga["cause"] == gtm["id"] and gtm["kind"] == "tag" and gtm["pages"] == 8
    youtube = next(c for c in realistic["causes"] if c["vendor"] == "YouTube")
    assert youtube["kind"] == "embed" and youtube["label"] == "YouTube video embed"
    assert youtube["items"]["cookie"] >= 3 and "before any consent" in youtube["when"]
    # the same words on top of every report
    html = render_html(realistic)
    assert html.index('id="fix-first"') < html.index('id="matrix"')
    assert "What to fix first" in render_markdown(realistic).split("### Consent matrix")[0]


def test_baseline_of_schema_1_2_matches_problems(realistic: dict) -> None:
    """A baseline written before 1.3 (one finding per state, ids with the state) matches by problem:
    nothing is new, nothing gone; one problem removed since is gone once, not once per state."""
    report = completed(realistic)
    old = as_schema_1_2(report)
    assert len(old["findings"]) > len(report["findings"])
    out = apply_baseline(copy.deepcopy(report), old)
    assert {f["baseline"] for f in out["findings"]} == {"unchanged"} and out["baseline"]["gone"] == []
    leak = next(f for f in report["findings"] if f["rule"] == "category-leak" and len(f["states"]) > 1)
    fixed = copy.deepcopy(report)
    fixed["findings"] = [f for f in fixed["findings"] if f["id"] != leak["id"]]
    out = apply_baseline(fixed, old)
    assert [(g["rule"], g["subject"]["name"]) for g in out["baseline"]["gone"]] == [("category-leak", leak["subject"]["name"])]
    assert out["baseline"]["gone"][0]["states"] == leak["states"]


def test_diff_reports_and_format(realistic: dict, hostile: dict) -> None:
    old = completed(realistic)
    new = copy.deepcopy(old)
    new["findings"] = new["findings"][2:]
    accepted = new["states"][2]["pages"][0]["cookies"]
    accepted.append(dict(next(c for c in accepted if c["name"] == "_ga"), name="_new_one"))
    d = diff_reports(old, new)
    assert len(d["findings"]["gone"]) == 2 and d["findings"]["new"] == []
    assert len(d["findings"]["unchanged"]) == len(new["findings"])
    assert [c["name"] for c in d["cookies"] if c["status"] == "new"] == ["_new_one"]
    text = format_diff(d, "text")
    assert "Gone findings (2)" in text and "new: _new_one (.micropep.com)" in text
    md = format_diff(d, "md")
    assert "### Gone findings (2)" in md and "\\_new\\_one" in md
    with pytest.raises(ValueError):
        format_diff(d, "html")
    # hostile strings in a diff: no control characters in text, escaped in Markdown
    hd = diff_reports({**hostile, "findings": []}, hostile)
    assert "\x01" not in format_diff(hd, "text")
    assert "<img" not in format_diff(hd, "md")


def test_baseline_rendered_in_html_and_markdown(tmp_path: Path, realistic: dict) -> None:
    old = completed(realistic)
    old["findings"] = old["findings"][1:] + [dict(old["findings"][1], id="0123456789ab",
                                                  subject={**old["findings"][1]["subject"], "name": "_fixed_since"})]
    out = apply_baseline(completed(realistic), old, path="reports/old/report.json")
    render_all(out, tmp_path, ["html", "md"])
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert 'id="baseline"' in html and "reports/old/report.json" in html and 'class="badge base-new"' in html
    assert "1 new, 1 gone" in (tmp_path / "summary.md").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- manifest

def test_manifest_hashes_every_file(tmp_path: Path, realistic: dict) -> None:
    render_all(realistic, tmp_path, FORMATS)
    add_screenshots(tmp_path, realistic)
    (tmp_path / ".report.json.abc123").write_text("left by an interrupted write", encoding="utf-8")
    command = ["cookie-scanner", "scan", "https://www.micropep.com/"]
    path = write_manifest(tmp_path, realistic, command=command, declaration_sha256="ab" * 32)
    manifest = json.loads(path.read_text(encoding="utf-8"))
    on_disk = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file() and p.name != "manifest.json" and not p.name.startswith("."))
    assert [f["path"] for f in manifest["files"]] == on_disk
    assert any(f["path"].startswith("screenshots/") for f in manifest["files"])
    for f in manifest["files"]:
        data = (tmp_path / f["path"]).read_bytes()
        assert f["sha256"] == hashlib.sha256(data).hexdigest() and f["size"] == len(data)
    assert manifest["command"] == command and manifest["declaration_sha256"] == "ab" * 32
    # the report's tool facts (normalised in the fixture: tools/regen-report-fixtures.py)
    assert manifest["tool"]["version"] == "0.1.0" and manifest["chromium"] == realistic["tool"]["chromium"] == "0.0.0.0"
    assert manifest["rules_version"] == realistic["tool"]["rules_version"] == "000000000000"
    assert manifest["created_at"].endswith("Z")
    assert verify_manifest(tmp_path) == []
    (tmp_path / "report.html").write_text("tampered", encoding="utf-8")
    (tmp_path / "extra.txt").write_text("x", encoding="utf-8")
    os.remove(tmp_path / "summary.md")
    assert verify_manifest(tmp_path) == ["changed: report.html", "missing: summary.md", "unlisted: extra.txt"]


def test_manifest_defaults_from_report(tmp_path: Path, realistic: dict) -> None:
    render_all(realistic, tmp_path, ["json"])
    manifest = json.loads(write_manifest(tmp_path, realistic).read_text(encoding="utf-8"))
    assert manifest["command"] == realistic["command"]
    assert manifest["declaration_sha256"] == realistic["declaration"]["sha256"]


def test_report_without_declaration_or_findings_renders(tmp_path: Path, realistic: dict) -> None:
    r = completed(realistic)
    r.update(declaration=None, findings=[], audits=[], policy=None)
    for st in r["states"]:
        for p in st["pages"]:
            for c in p["cookies"] + p["storage"]:
                c["declared_as"] = None
    written = render_all(r, tmp_path, FORMATS)
    assert len(written) == sum(len(FILENAMES[f]) for f in FORMATS) and verdict(r) == "pass"
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "verdict--pass" in html and "No declaration was used" in html
    minimal = {"schema_version": "1.0", "states": [], "findings": [], "complete": True}
    render_all(minimal, tmp_path / "minimal", FORMATS)
    assert verdict(minimal) == "pass"
    shutil.rmtree(tmp_path / "minimal")


# --------------------------------------------------------------------------- recording limits

def test_recording_limits_are_shown_in_html_and_summary(realistic: dict) -> None:
    """pages[].dropped (the recorder's per-page caps) reaches the reader: a verdict reached on
    truncated data says so, in report.html and summary.md, in English and French."""
    from bs4 import BeautifulSoup

    assert "Recording limits" not in render_html(realistic) and "Recording limits" not in render_markdown(realistic)
    report = copy.deepcopy(realistic)
    pages = report["states"][0]["pages"]
    pages[0]["dropped"] = {"events": 40000, "cookies": 1200}
    pages[1]["dropped"] = {"cookies": 3, "storage": 0}
    text = BeautifulSoup(render_html(report), "html.parser").get_text(" ")
    assert "Recording limits reached on 2 pages: 40,000 page events, 1,203 cookies." in " ".join(text.split())
    assert pages[0]["url"] in text
    md = render_markdown(report)
    assert "Recording limits reached on 2 pages: 40,000 page events, 1,203 cookies: not recorded" in md
    french = BeautifulSoup(render_html(report, lang="fr"), "html.parser").get_text(" ")
    assert "Limites d’enregistrement atteintes sur 2 pages : 40\u202f000 événements de page, 1\u202f203 cookies" \
        in re.sub(r"[ \t\n]+", " ", french)
