"""The CLI a CI job runs: formats, step summary, baseline gating, diff, re-render, rules list."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import TESTS, run_cli
from scanner import SCHEMA_VERSION

SITE = "https://www.no-banner.test/"


def cli(*args, env=None):
    full = dict(os.environ, **(env or {}))
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True, text=True, timeout=300,
                          env=full, cwd=TESTS.parent)


def test_ci_run_with_baseline_summary_and_all_formats(sites_server, tmp_path):
    common = ["--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--states", "none",
              "--max-pages", "1", "--no-progress"]
    first = cli("scan", SITE, "--out", str(tmp_path / "old"), *common)
    assert first.returncode == 1, first.stderr          # violations, default --fail-on violation
    summary = tmp_path / "summary-for-ci.md"
    second = cli("scan", SITE, "--out", str(tmp_path / "new"), *common, "--format", "json,html,csv,md,junit,sarif",
                 "--baseline", str(tmp_path / "old" / "report.json"), "--fail-on", "new-violation",
                 env={"GITHUB_STEP_SUMMARY": str(summary)})
    assert second.returncode == 0, second.stderr        # nothing new since the baseline
    new = tmp_path / "new"
    for name in ("report.json", "report.html", "cookies.csv", "storage.csv", "requests.csv", "findings.csv",
                 "summary.md", "junit.xml", "results.sarif", "manifest.json"):
        assert (new / name).is_file(), name
    report = json.loads((new / "report.json").read_text())
    assert report["findings"] and all(f["baseline"] == "unchanged" for f in report["findings"])
    assert "Cookie compliance" in summary.read_text()    # appended to the job summary
    manifest = json.loads((new / "manifest.json").read_text())
    assert {f["path"] for f in manifest["files"]} >= {"report.json", "junit.xml", "results.sarif"}
    # diff of two stored reports, and re-rendering one
    diff = cli("diff", str(tmp_path / "old" / "report.json"), str(new / "report.json"), "--format", "md")
    assert diff.returncode == 0 and "unchanged" in diff.stdout.lower()
    rerender = tmp_path / "rerender"
    again = cli("report", str(new / "report.json"), "--format", "html,md", "--out", str(rerender))
    assert again.returncode == 0 and (rerender / "report.html").is_file()
    assert (rerender / "summary.md").read_text() == (new / "summary.md").read_text()


def test_baseline_that_is_not_a_report_is_a_usage_error(tmp_path):
    bogus = tmp_path / "old.json"
    bogus.write_text('{"hello": 1}')
    proc = run_cli("scan", SITE, "--baseline", str(bogus), "--resolve", "*=127.0.0.1:9")
    assert proc.returncode == 2 and "--baseline" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_unknown_format_and_state_are_usage_errors():
    for args in (("--format", "json,pdf"), ("--states", "none,maybe")):
        proc = run_cli("scan", SITE, "--resolve", "*=127.0.0.1:9", *args)
        assert proc.returncode == 2 and "unknown" in proc.stderr and "Traceback" not in proc.stderr


def test_rules_list_names_every_audit_with_its_legal_source():
    proc = run_cli("rules", "list")
    assert proc.returncode == 0
    for rule in ("pre-consent-cookie", "post-reject-request", "category-leak", "withdrawal-ignored",
                 "no-reject-option", "pre-ticked-choice", "third-country-transfer", "policy-empty-contact"):
        assert rule in proc.stdout
    assert "ePrivacy Directive art. 5(3)" in proc.stdout


def test_cookie_policy_import_on_the_fly(sites_server, tmp_path):
    policy = TESTS / "fixtures" / "policy" / "cookiebot-declaration.html"
    proc = cli("scan", SITE, "--out", str(tmp_path), "--resolve", sites_server.resolve_rule(), "--ignore-https-errors",
               "--states", "none", "--max-pages", "1", "--no-progress", "--cookie-policy", str(policy))
    assert proc.returncode in (0, 1), proc.stderr
    assert (tmp_path / "declaration-imported.yaml").is_file()
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["declaration"]["cookies"] and report["declaration"]["path"].endswith("declaration-imported.yaml")
    rules = {f["rule"] for f in report["findings"]}
    assert "declared-not-observed" in rules              # the imported list names cookies this site never sets


@pytest.mark.parametrize("content, message", [
    ('{"schema_version": "1.1", "states": "x"}', "invalid report.json: (top level): 'tool' is a required property"),
    ('{"schema_version": "1.99", "states": []}',
     f"written by a newer cookie-scanner (this version reads up to {SCHEMA_VERSION})"),
])
def test_report_refuses_invalid_or_newer_report_json(tmp_path, content, message):
    bad = tmp_path / "report.json"
    bad.write_text(content)
    proc = run_cli("report", str(bad), "--format", "html", "--out", str(tmp_path / "out"))
    assert proc.returncode == 2 and message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1 and not (tmp_path / "out" / "report.html").exists()


# --------------------------------------------------------------------------- --lang and the CSV separator

def _first_line(path):
    return path.read_text(encoding="utf-8").splitlines()[0]


def test_lang_fr_writes_french_reports_with_semicolon_csv_and_rerenders_the_same(sites_server, tmp_path):
    """The officer's French report: report.html, summary.md and report.xlsx in French, CSV files
    split on `;` (French Excel); `report` re-renders it byte for byte, and --lang en switches back."""
    out = tmp_path / "fr"
    proc = cli("scan", SITE, "--out", str(out), "--resolve", sites_server.resolve_rule(), "--ignore-https-errors",
               "--states", "none", "--max-pages", "1", "--no-progress", "--lang", "fr",
               "--format", "json,html,csv,md,xlsx")
    assert proc.returncode == 1, proc.stderr
    html = (out / "report.html").read_text(encoding="utf-8")
    assert '<html lang="fr"' in html and "Conformité cookies" in html and "À corriger en priorité" in html
    summary = (out / "summary.md").read_text(encoding="utf-8")
    assert summary.startswith("## Conformité cookies : www\\.no-banner.test")
    assert "Cookie compliance" not in summary
    header = _first_line(out / "cookies.csv")
    assert header.count(";") >= 5 and "," not in header, header
    report = json.loads((out / "report.json").read_text())
    assert report["options"]["lang"] == "fr" and report["options"]["csv_sep"] == ";"
    from openpyxl import load_workbook
    assert load_workbook(out / "report.xlsx").sheetnames[:2] == ["Synthèse", "Constats"]

    again = tmp_path / "again"
    rerender = cli("report", str(out / "report.json"), "--format", "html,csv,md", "--out", str(again))
    assert rerender.returncode == 0, rerender.stderr
    for name in ("report.html", "summary.md", "cookies.csv", "findings.csv"):
        assert (again / name).read_bytes() == (out / name).read_bytes(), name

    english = tmp_path / "en"
    proc = cli("report", str(out / "report.json"), "--format", "html,csv,md", "--out", str(english), "--lang", "en")
    assert proc.returncode == 0, proc.stderr
    assert '<html lang="en"' in (english / "report.html").read_text(encoding="utf-8")
    assert (english / "summary.md").read_text(encoding="utf-8").startswith("## Cookie compliance: ")
    assert _first_line(english / "cookies.csv") == header.replace(";", ",")   # English: its own default
    comma = tmp_path / "comma"
    proc = cli("report", str(out / "report.json"), "--format", "csv", "--out", str(comma), "--csv-sep", ",")
    assert proc.returncode == 0 and _first_line(comma / "cookies.csv") == header.replace(";", ",")


def test_french_locale_is_the_default_language(sites_server, tmp_path):
    """No --lang: LANG=fr_FR.UTF-8 gives French reports and `;` CSV files; LC_ALL wins over LANG."""
    common = ["--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--states", "none", "--max-pages", "1",
              "--no-progress", "--format", "json,csv,md"]
    proc = cli("scan", SITE, "--out", str(tmp_path / "fr"), *common, env={"LANG": "fr_FR.UTF-8"})
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "fr" / "summary.md").read_text(encoding="utf-8").startswith("## Conformité cookies")
    assert ";" in _first_line(tmp_path / "fr" / "cookies.csv")
    proc = cli("scan", SITE, "--out", str(tmp_path / "en"), *common, env={"LANG": "fr_FR.UTF-8", "LC_ALL": "en_GB.UTF-8"})
    assert proc.returncode == 1, proc.stderr
    assert (tmp_path / "en" / "summary.md").read_text(encoding="utf-8").startswith("## Cookie compliance")
    assert ";" not in _first_line(tmp_path / "en" / "cookies.csv")


@pytest.mark.parametrize("command", [("scan", SITE, "--resolve", "*=127.0.0.1:9"), ("demo",)])
def test_unknown_lang_is_a_usage_error_before_anything_runs(tmp_path, command):
    out = tmp_path / "out"
    proc = run_cli(*command, "--lang", "de", "--out", str(out))
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == "cookie-scanner: error: --lang must be one of en, fr, not 'de'"
    assert not out.exists()
