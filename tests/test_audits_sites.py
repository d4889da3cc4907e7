"""Audits and declarations on local sites: each finding fires where it should, not where it should not."""
from __future__ import annotations

import json

import pytest

from scanner.declaration import load_declaration
from scanner.errors import UsageError
from conftest import TESTS, page_items, run_cli, scan_site
from consistency import per_state

DECLARATIONS = TESTS / "fixtures" / "declarations"


def rules_of(result):
    return {(f["rule"], state, f["subject"]["name"]) for f, state, _ in per_state(result["findings"])}


def test_refused_set_cookie_is_recorded_with_reason(sites_server):
    result = scan_site(sites_server, "https://www.refused.test/", states=("none",))
    cookies = page_items(result, "none", "cookies")
    refused = [c for c in cookies if c["name"] == "tracker_id"][0]
    assert refused["stored"] is False and refused["set_by"] == "header"
    assert any("SameSite" in r or "Secure" in r for r in refused["blocked_reasons"]), refused["blocked_reasons"]
    assert refused["requested_lifetime_s"] == 63072000
    ok = [c for c in cookies if c["name"] == "ok"][0]
    assert ok["stored"] is True and ok["blocked_reasons"] == []


def test_no_reject_option_fires_on_accept_only_banner(sites_server):
    result = scan_site(sites_server, "https://www.accept-only.test/", states=("none",))
    banner = result["states"][0]["banner"]
    assert banner["shown"] and banner["accept_on_first_layer"] and not banner["reject_on_first_layer"]
    assert any(f["rule"] == "no-reject-option" for f in result["findings"])


def test_no_reject_option_silent_when_reject_is_offered(demo_server):
    from scanner import ScanOptions, scan
    result = scan(ScanOptions(url="https://www.micropep.com/", states=("none",), resolve=(demo_server.resolve_rule(),),
                              ignore_https_errors=True))
    assert result["states"][0]["banner"]["reject_on_first_layer"] is True
    assert not any(f["rule"] == "no-reject-option" for f in result["findings"])


def test_custom_selectors_prechecked_categories_and_declared_cookies(sites_server):
    decl = load_declaration(DECLARATIONS / "preticked.yaml")
    from scanner import ScanOptions, scan
    result = scan(ScanOptions(url="https://www.preticked.test/", states=("none", "reject", "only:statistics"),
                              resolve=(sites_server.resolve_rule(),), ignore_https_errors=True), declaration=decl)
    states = {s["state"]: s for s in result["states"]}
    assert all(s["reached"] for s in states.values()), [(s["state"], s["error"]) for s in result["states"]]
    assert states["reject"]["cmp"] == "custom" and states["reject"]["verified_by"].startswith("custom readback")
    assert states["only:statistics"]["banner"]["prechecked"] == ["stats", "ads"]
    rules = rules_of(result)
    assert ("pre-ticked-choice", None, "stats") in rules and ("pre-ticked-choice", None, "ads") in rules
    names = {c["name"] for c in page_items(result, "only:statistics", "cookies")}
    assert "_ga" in names and "_fbp" not in names
    ga = [c for c in page_items(result, "only:statistics", "cookies") if c["name"] == "_ga"][0]
    assert ga["category_source"] == "declared" and ga["declared_as"] == "statistics"
    # declared consent record: never flagged; declared cookie: not "undeclared"
    assert not [r for r in rules if r[2] in ("mychoice", "_ga") and r[0] in ("undeclared-cookie", "post-reject-cookie")]
    assert ("declared-not-observed", None, "_fb[a-z]") in rules


def test_micropep_demo_declares_no_cookie_so_every_tracker_is_undeclared(demo_none):
    # demo_none was scanned without a declaration: no undeclared-* findings can exist
    assert not [f for f in demo_none["findings"] if f["rule"].startswith("undeclared")]
    assert {"pre-consent-cookie", "pre-consent-request", "pre-consent-storage", "excessive-lifetime"} <= {
        f["rule"] for f in demo_none["findings"]}
    consent_cookies = [f for f in demo_none["findings"] if f["subject"]["name"] in ("__cf_bm", "mp-theme")
                       and f["rule"].startswith("pre-consent")]
    assert consent_cookies == []   # a security cookie and a UI preference are exempt


@pytest.mark.parametrize("text, message", [
    ("site: {name: x}\nbogus: 1\n", ":2: unknown key 'bogus'"),
    ("categories:\n  - {id: a, purposes: [necessary]}\ncookies:\n  - {name: '(', match: regex, category: a}\n", ":4: bad regular expression"),
    ("categories:\n  - {id: a, purposes: [necessary]}\ncookies:\n  - {name: x, category: nope}\n", ":4: unknown category 'nope'"),
    ("categories:\n  - {id: a, purposes: [tracking]}\n", ":2: unknown purpose 'tracking'"),
    ("site: [unclosed\n", "invalid YAML"),
])
def test_declaration_errors_name_file_and_line(tmp_path, text, message):
    path = tmp_path / "site.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        load_declaration(path)
    assert message in str(info.value) and str(path) in str(info.value)
    proc = run_cli("scan", "https://www.example.com/", "--declaration", str(path))
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_shipped_micropep_declaration_is_valid():
    decl = load_declaration(TESTS.parent / "rules" / "sites" / "micropep.yaml")
    assert set(decl.categories) == {"required", "functional", "marketing"}
    assert decl.categories["marketing"]["purposes"] == ["analytics"]       # the policy describes statistics
    assert decl.cookies == [] and decl.consent_mapping()["marketing"] == ["advertisement"]


def test_reject_as_a_faint_text_link_counts_as_no_reject_option(sites_server):
    result = scan_site(sites_server, "https://www.small-reject.test/", states=("none",))
    banner = result["states"][0]["banner"]
    assert banner["reject_on_first_layer"] is True and banner["prominence"]["equal"] is False
    finding = [f for f in result["findings"] if f["rule"] == "no-reject-option"][0]
    assert "less prominent" in finding["message"] and "text link" in finding["message"]


@pytest.mark.parametrize("text, message", [
    ("categories:\n  - {id: a, label: A}\nvendors:\n  - {name: X, hots: [x.com]}\n", ":4: unknown key 'hots' in vendors[]"),
    ("consent:\n  selectors: {first_layer: '#b', reject: '#r'}\n", ":2: unknown key 'reject' in consent.selectors"),
    ("categories:\n  - {id: a, essential: yes please}\n", ":2: categories[].essential: 'yes please' is not of type 'boolean'"),
    ("categories:\n  - {label: nameless}\n", ":2: categories[]: 'id' is a required property"),
    ("crawl:\n  max_pages: 0\n", ":2: crawl.max_pages: 0 is less than the minimum of 1"),
])
def test_declaration_schema_errors_name_file_line_and_key(tmp_path, text, message):
    path = tmp_path / "site.yaml"
    path.write_text(text)
    with pytest.raises(UsageError) as info:
        load_declaration(path)
    assert message in str(info.value), str(info.value)


def test_every_shipped_declaration_matches_the_schema():
    from jsonschema import Draft202012Validator
    from scanner.paths import schema_path
    schema = json.loads(schema_path("declaration.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    for path in sorted((TESTS.parent / "rules" / "sites").glob("*.yaml")) + sorted(DECLARATIONS.glob("*.yaml")):
        load_declaration(path)   # raises on any schema or reference error


def test_declaration_crawl_policy_and_cmp_keys_work(sites_server, tmp_path):
    """crawl.max_pages, crawl.urls, policy.file and consent.cmp are used, not merely accepted."""
    text = (DECLARATIONS / "tienda.yaml").read_text().replace(
        "crawl:\n  second_page: /productos\n",
        "crawl:\n  second_page: /productos\n  max_pages: 2\n  urls: [/politica-de-cookies]\n"
        "policy:\n  file: ../../sites/www.tienda-ejemplo.es/politica-de-cookies.html\n")
    path = DECLARATIONS.parent / "declarations" / "_tmp_tienda_keys.yaml"
    path.write_text(text)
    try:
        decl = load_declaration(path)
        assert decl.cmp == "cookieconsent-v3" and decl.policy_source().endswith("politica-de-cookies.html")
        out = tmp_path / "out"
        proc = run_cli("scan", "https://www.tienda-ejemplo.es/", "--declaration", str(path), "--states", "none",
                       "--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--out", str(out),
                       "--no-progress", "--format", "json", "--fail-on", "never")
        assert proc.returncode == 0, proc.stderr
        report = json.loads((out / "report.json").read_text())
    finally:
        path.unlink()
    # the forced URL is in the page set, which max_pages bounds (a forced --url counts beyond it)
    assert "https://www.tienda-ejemplo.es/politica-de-cookies" in report["crawl"]["pages"]
    assert report["crawl"]["max_pages"] == 2
    # the policy named by the declaration was linted with the scan
    assert report["policy"] and report["policy"]["source"].endswith("politica-de-cookies.html")
    assert report["states"][0]["cmp"] == "cookieconsent-v3"
