"""The CI gate, from real scans of a local site in real Chromium: `--fail-on new-violation` works from
the first run (no baseline yet: a notice, the gate passes), fails on what is new since the baseline
and says what it is, and junit.xml / results.sarif follow the same gate.

Three scans of www.no-banner.test (no consent banner, Google Analytics' _ga before consent: two
violations, banner-missing and pre-consent-cookie), state `none`, one page:
  first     no baseline yet                      -> exit 0 and a notice
  compared  a baseline without the _ga finding   -> exit 1, the new _ga violation listed
  unreached states none,reject (reject cannot be reached without a banner) -> exit 3
"""
from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conftest import TESTS
from test_sarif_github import check_sarif_file

ROOT = TESTS.parent
SITE = "https://www.no-banner.test/"
DECLARATION = "tests/fixtures/declarations/preticked.yaml"   # in the repository: where SARIF alerts point


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    full = dict(os.environ)
    full.pop("GITHUB_STEP_SUMMARY", None)
    full.pop("GITHUB_ACTIONS", None)
    full.update(env or {})
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True, text=True,
                          timeout=300, env=full, cwd=ROOT)


def scan(server, out: Path, *extra: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return cli("scan", SITE, "--resolve", server.resolve_rule(), "--ignore-https-errors", "--max-pages", "1",
               "--no-progress", "--out", str(out), *extra, env=env)


def junit_cases(path: Path) -> dict[tuple[str, str], ET.Element]:
    root = ET.parse(path).getroot()
    return {(c.get("classname").removeprefix("cookie-scanner."), c.get("name")): c for c in root.iter("testcase")}


def failed(path: Path) -> set[tuple[str, str]]:
    return {key for key, case in junit_cases(path).items() if case.find("failure") is not None}


@pytest.fixture(scope="module")
def first(sites_server, tmp_path_factory):
    """The first run of a new-violation gate: the baseline file does not exist yet."""
    tmp = tmp_path_factory.mktemp("first")
    summary = tmp / "step-summary.md"
    missing = tmp / "never-made" / "report.json"
    proc = scan(sites_server, tmp / "out", "--states", "none", "--declaration", DECLARATION,
                "--format", "json,csv,md,junit,sarif", "--csv-sep", ";", "--fail-on", "new-violation",
                "--baseline", str(missing), env={"GITHUB_STEP_SUMMARY": str(summary)})
    return proc, tmp / "out", missing, summary


@pytest.fixture(scope="module")
def compared(sites_server, first, tmp_path_factory):
    """A later run, compared with a baseline that did not have the _ga violation yet. The baseline's
    site is the bare domain no-banner.test: the same site as www.no-banner.test."""
    _, first_out, _, _ = first
    tmp = tmp_path_factory.mktemp("compared")
    baseline = json.loads((first_out / "report.json").read_text(encoding="utf-8"))
    baseline["findings"] = [f for f in baseline["findings"] if f["rule"] != "pre-consent-cookie"]
    baseline["site"]["url"] = "https://no-banner.test/"
    baseline["site"]["final_url"] = "https://no-banner.test/"
    (tmp / "base").mkdir()
    (tmp / "base" / "report.json").write_text(json.dumps(baseline), encoding="utf-8")
    proc = scan(sites_server, tmp / "out", "--states", "none", "--declaration", DECLARATION,
                "--format", "json,junit,sarif", "--fail-on", "new-violation", "--baseline",
                str(tmp / "base" / "report.json"))
    return proc, tmp / "out"


# --------------------------------------------------------------------------- first run

def test_first_run_passes_the_gate_with_a_notice(first):
    proc, out, missing, summary = first
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["complete"] is True and report["verdict"] == "violations"   # the gate passes, not the site
    notice = [line for line in proc.stdout.splitlines() if "no baseline yet" in line]
    assert len(notice) == 1, proc.stdout
    assert str(missing) in notice[0] and str(out / "report.json") in notice[0] and "baseline" in notice[0]
    assert proc.stderr == ""
    assert not missing.parent.exists()                       # nothing is made where the baseline goes
    assert "no baseline yet" in summary.read_text(encoding="utf-8")   # the job summary says it too
    assert report["options"]["baseline"] == {"path": str(missing), "found": False}
    assert report.get("baseline") is None


def test_first_run_junit_fails_nothing_and_csv_uses_the_separator(first):
    _, out, _, _ = first
    root = ET.parse(out / "junit.xml").getroot()
    assert root.get("failures") == "0" and root.get("errors") == "0"
    with open(out / "findings.csv", encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert len(rows[0]) > 5 and any("pre-consent-cookie" in row for row in rows[1:])


def test_sarif_points_at_the_declaration(first):
    _, out, _, _ = first
    log = check_sarif_file(out / "results.sarif")          # SARIF 2.1.0 schema and GitHub's constraints
    results = log["runs"][0]["results"]
    assert results and {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results} == {
        DECLARATION}
    ga = next(r for r in results if r["ruleId"] == "pre-consent-cookie")
    assert SITE in ga["message"]["text"] and "_ga" in ga["message"]["text"] and "none" in ga["message"]["text"]
    assert ga["properties"]["page"] == SITE and ga["properties"]["states"] == ["none"]


# --------------------------------------------------------------------------- a new violation

def test_a_new_violation_fails_the_gate_and_is_listed(compared):
    proc, out = compared
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    head = [i for i, line in enumerate(lines) if line.startswith("gate failed")]
    assert len(head) == 1 and "1 new violation" in lines[head[0]], proc.stdout
    listed = lines[head[0] + 1:]
    assert len(listed) == 1, proc.stdout
    assert all(word in listed[0] for word in ("pre-consent-cookie", "none", "_ga", SITE)), listed[0]
    assert not any("banner-missing" in line for line in lines)   # an old violation is not listed
    assert "no baseline yet" not in proc.stdout
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    marks = {f["rule"]: f.get("baseline") for f in report["findings"] if f["severity"] == "violation"}
    assert marks == {"pre-consent-cookie": "new", "banner-missing": "unchanged"}


def test_junit_fails_what_the_gate_fails(compared):
    _, out = compared
    assert failed(out / "junit.xml") == {("none", "pre-consent-cookie")}   # not the unchanged banner-missing
    case = junit_cases(out / "junit.xml")[("none", "banner-missing")]
    assert "consent banner" in case.find("system-out").text              # listed, not failed


def test_junit_rerendered_for_another_gate(compared, tmp_path):
    _, out = compared
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    warnings = {f["rule"] for f in report["findings"] if f["severity"] == "warning"}
    assert warnings, "the scan should have warnings (undeclared or mis-declared items)"
    expectations = [(None, 0, {("none", "pre-consent-cookie")}),          # the scan's own gate
                    ("violation", 1, {("none", "pre-consent-cookie"), ("none", "banner-missing")}),
                    ("never", 0, set())]
    for fail_on, code, expected in expectations:
        where = tmp_path / str(fail_on)
        proc = cli("report", str(out / "report.json"), "--format", "junit", "--out", str(where),
                   *(["--fail-on", fail_on] if fail_on else []))
        assert proc.returncode == code, (fail_on, proc.stdout, proc.stderr)
        assert failed(where / "junit.xml") == expected, fail_on
    where = tmp_path / "warning"
    proc = cli("report", str(out / "report.json"), "--format", "junit", "--out", str(where), "--fail-on", "warning")
    assert proc.returncode == 1
    failing_rules = {rule for _, rule in failed(where / "junit.xml")}
    assert failing_rules >= warnings | {"pre-consent-cookie", "banner-missing"}


def test_sarif_marks_new_and_unchanged(compared):
    _, out = compared
    results = check_sarif_file(out / "results.sarif")["runs"][0]["results"]
    states = {r["ruleId"]: r.get("baselineState") for r in results if r["level"] == "error"}
    assert states == {"pre-consent-cookie": "new", "banner-missing": "unchanged"}


# --------------------------------------------------------------------------- a state not reached

def test_unreached_state_is_an_error_in_junit_and_the_first_run_is_still_incomplete(sites_server, tmp_path):
    """`--debug` after the URL is accepted; the first run of the gate passes, but an incomplete scan
    never does (exit 3); in junit.xml each check of the state not reached is an <error>."""
    out = tmp_path / "out"
    proc = scan(sites_server, out, "--debug", "--states", "none,reject", "--format", "json,junit,csv",
                "--csv-sep", "tab", "--fail-on", "new-violation", "--baseline", str(tmp_path / "none.json"))
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert "no baseline yet" in proc.stdout and "reject" in proc.stderr and "Traceback" not in proc.stderr
    root = ET.parse(out / "junit.xml").getroot()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    cases = junit_cases(out / "junit.xml")
    reject = [case for (state, _), case in cases.items() if state == "reject"]
    assert len(reject) == len(report["audits"])
    assert all(case.find("error") is not None and case.find("skipped") is None for case in reject)
    assert "not reached" in reject[0].find("error").get("message")
    assert root.get("errors") == str(len(reject)) and root.get("skipped") == "0"
    assert not any(case.find("error") is not None for (state, _), case in cases.items() if state == "none")
    header = (out / "cookies.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "\t" in header


# --------------------------------------------------------------------------- two deploys

DEPLOY_SITE = "https://www.deploy.test/"
PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Blog</title></head><body>
<h1>Blog</h1><p><a href="/page2.html">Older posts</a></p>
<script>document.cookie = '_ga=GA1.1.4.4; max-age=63072000; path=/';</script>
{extra}</body></html>
"""
PIXEL = '<img alt="" width="1" height="1" src="https://px.ads.linkedin.com/collect?pid=4242&fmt=gif">\n'


def test_two_deploys_the_second_adds_one_tracker(tmp_path):
    """The CI sequence the README describes, with a real site changing between two deploys: the
    first run has no baseline yet and passes with a notice; the second deploy adds a LinkedIn
    pixel, and the run that uses the first report as its baseline fails on exactly that tracker,
    on screen, in the job summary and in SARIF (the old `_ga` violation is not new)."""
    from scanner.demo import SiteServer

    root = tmp_path / "site"
    (root / "www.deploy.test").mkdir(parents=True)
    (root / "www.deploy.test" / "page2.html").write_text(PAGE.format(extra=""))
    (root / "px.ads.linkedin.com").mkdir()
    (root / "px.ads.linkedin.com" / "_fallback").write_bytes(b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff"
                                                            b"\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00"
                                                            b"\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")
    (root / "px.ads.linkedin.com" / "_fallback.headers").write_text("Content-Type: image/gif\n")
    baseline = tmp_path / "baseline" / "report.json"

    def deploy_and_scan(extra: str, out: Path) -> tuple[subprocess.CompletedProcess, Path]:
        (root / "www.deploy.test" / "index.html").write_text(PAGE.format(extra=extra))
        summary = out.parent / f"{out.name}-summary.md"
        with SiteServer(root) as server:
            proc = cli("scan", DEPLOY_SITE, "--resolve", server.resolve_rule(), "--ignore-https-errors",
                       "--states", "none", "--max-pages", "2", "--no-progress", "--out", str(out),
                       "--format", "json,md,sarif", "--fail-on", "new-violation", "--baseline", str(baseline),
                       "--sarif-file", DECLARATION, env={"GITHUB_STEP_SUMMARY": str(summary)})
        return proc, summary

    first, first_summary = deploy_and_scan("", tmp_path / "first")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "no baseline yet" in first.stdout and "gate failed" not in first.stdout
    assert "no baseline yet" in first_summary.read_text(encoding="utf-8")
    # the CI job promotes the complete first report to baseline
    assert json.loads((tmp_path / "first" / "report.json").read_text())["complete"] is True
    baseline.parent.mkdir()
    baseline.write_bytes((tmp_path / "first" / "report.json").read_bytes())

    second, second_summary = deploy_and_scan(PIXEL, tmp_path / "second")
    assert second.returncode == 1, second.stdout + second.stderr
    report = json.loads((tmp_path / "second" / "report.json").read_text())
    new = [f for f in report["findings"] if f.get("baseline") == "new"]
    # one new violation (the pixel before consent); the only other new finding is the warning that the
    # same request goes to a US company (third-country transfer): both are about the new tracker
    assert all(f["subject"].get("host") == "px.ads.linkedin.com" for f in new), [(f["rule"], f["subject"]) for f in new]
    violations = [f for f in new if f["severity"] == "violation"]
    assert [f["rule"] for f in violations] == ["pre-consent-request"], [(f["rule"], f["severity"]) for f in new]
    assert {f["rule"] for f in new} <= {"pre-consent-request", "third-country-transfer"}
    assert violations[0]["states"] == ["none"]
    # on screen: the gate's list is that finding and nothing else
    lines = second.stdout.splitlines()
    head = [i for i, line in enumerate(lines) if line.startswith("gate failed")]
    assert len(head) == 1 and "1 new violation" in lines[head[0]], second.stdout
    listed = [line for line in lines[head[0] + 1:] if line.startswith("  ")]
    assert len(listed) == 1 and "linkedin" in listed[0].lower() and "none" in listed[0], second.stdout
    assert "_ga" not in listed[0]
    # the job summary names the new finding first
    summary = second_summary.read_text(encoding="utf-8")
    assert f"**Compared with baseline:** {len(new)} new, 0 gone." in summary, summary[:1500]
    section = summary.split("### New since the baseline", 1)[1].split("###", 1)[0]
    new_rows = [line for line in section.splitlines() if line.startswith("| ") and "🆕" in line]
    assert len(new_rows) == len(new) and all("px.ads.linkedin.com" in line for line in new_rows), section
    # before anything else: the counts, then what is new, then what to fix first and the rest
    assert summary.index("### New since the baseline") < summary.index("### What to fix first")
    # SARIF: the new results are the tracker's, one of them an error; the rest is unchanged
    log = check_sarif_file(tmp_path / "second" / "results.sarif")
    results = log["runs"][0]["results"]
    assert {r.get("baselineState") for r in results} == {"new", "unchanged"}
    fresh = [r for r in results if r.get("baselineState") == "new"]
    assert len(fresh) == len(new) and all("px.ads.linkedin.com" in r["message"]["text"] for r in fresh)
    assert [r["ruleId"] for r in fresh if r["level"] == "error"] == ["pre-consent-request"]
