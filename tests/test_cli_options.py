"""Every option is checked before the scan: bad input exits 2 with one line on stderr and creates no
report folder; look-alike input that is valid is accepted. The README's option list and `scan --help`
agree, and `--help` listings are never cut mid-sentence.

Most checks need no scan: a valid option is shown accepted by the error being about a LATER option
(a baseline of another site), which is checked after it. The DNS-failure checks run real Chromium
against `.invalid` hosts (RFC 6761: they never resolve; the scanner's resolver answers that itself,
no lookup leaves the machine).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import TESTS

ROOT = TESTS.parent
SITE = "https://www.no-banner.test/"
NOWHERE = "https://www.no-such-site.invalid/"
DECLARATION = "tests/fixtures/declarations/preticked.yaml"   # categories: required, statistics, advertising


def cli(*args: str, cwd: Path = ROOT, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    env.pop("GITHUB_ACTIONS", None)
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=cwd)


def refused(proc: subprocess.CompletedProcess, *words: str) -> str:
    """Exit 2, exactly one line on stderr, no traceback; the line names every word."""
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def other_site_baseline(tmp_path_factory) -> Path:
    """A valid report.json of another site: refused last among the pre-scan checks, so an error
    about it shows that every option before it was accepted."""
    report = json.loads((TESTS / "fixtures" / "report" / "micropep.json").read_text(encoding="utf-8"))
    path = tmp_path_factory.mktemp("other") / "report.json"
    path.write_text(json.dumps(report), encoding="utf-8")
    return path


def scan_args(out: Path, *extra: str) -> list[str]:
    return ["scan", SITE, "--resolve", "*=127.0.0.1:9", "--out", str(out), "--no-progress", *extra]


# --------------------------------------------------------------------------- --csv-sep

@pytest.mark.parametrize("sep", [";;", "", '"', "ab"])
def test_csv_sep_of_more_or_less_than_one_character_is_refused(tmp_path, sep):
    out = tmp_path / "out"
    refused(cli(*scan_args(out, "--csv-sep", sep)), "--csv-sep", "one character")
    assert not out.exists()


@pytest.mark.parametrize("sep", [";", ",", "|", "\t", "tab", "\\t"])
def test_one_character_csv_sep_is_accepted(tmp_path, other_site_baseline, sep):
    out = tmp_path / "out"
    line = refused(cli(*scan_args(out, "--csv-sep", sep, "--baseline", str(other_site_baseline))), "--baseline")
    assert "another site" in line and not out.exists()


def test_report_rerender_checks_csv_sep_too(tmp_path):
    report = TESTS / "fixtures" / "report" / "micropep.json"
    refused(cli("report", str(report), "--format", "csv", "--csv-sep", ";;", "--out", str(tmp_path / "x")),
            "--csv-sep")
    assert not (tmp_path / "x").exists()
    ok = cli("report", str(report), "--format", "csv", "--csv-sep", "tab", "--out", str(tmp_path / "tab"))
    assert ok.returncode == 0, ok.stderr
    header = (tmp_path / "tab" / "cookies.csv").read_text(encoding="utf-8-sig").splitlines()[0]
    assert "\t" in header and "," not in header


# --------------------------------------------------------------------------- --states only:<category>

@pytest.mark.parametrize("extra, words", [
    (("--states", "none,only:bogus"), ("only:bogus", "unknown category", "analytics")),
    (("--states", "only:marketting"), ("only:marketting", "unknown category")),
    (("--declaration", DECLARATION, "--states", "only:analytics"), ("only:analytics", "statistics, advertising")),
    (("--declaration", DECLARATION, "--states", "only:required"), ("only:required", "strictly necessary")),
])
def test_unknown_only_category_is_refused_before_the_scan(tmp_path, extra, words):
    out = tmp_path / "out"
    refused(cli(*scan_args(out, *extra)), *words)
    assert not out.exists()


@pytest.mark.parametrize("extra", [
    ("--declaration", DECLARATION, "--states", "none,only:statistics,only:advertising"),
    ("--states", "only:analytics,only:marketing"),
    ("--states", "only:statistics"),        # a label the vocabulary knows (rules/categories.yaml)
    ("--states", "only:video"),             # a consent manager's "video" purpose
])
def test_known_only_category_is_accepted(tmp_path, other_site_baseline, extra):
    out = tmp_path / "out"
    line = refused(cli(*scan_args(out, *extra, "--baseline", str(other_site_baseline))), "--baseline")
    assert "another site" in line and not out.exists()


# --------------------------------------------------------------------------- --fail-on, --baseline

def test_new_violation_gate_without_baseline_is_refused(tmp_path):
    out = tmp_path / "out"
    refused(cli(*scan_args(out, "--fail-on", "new-violation")), "--fail-on new-violation", "needs --baseline")
    assert not out.exists()


def test_baseline_of_another_site_is_refused_before_the_scan(tmp_path, other_site_baseline):
    out = tmp_path / "deep" / "out"
    refused(cli(*scan_args(out, "--baseline", str(other_site_baseline), "--fail-on", "new-violation")),
            str(other_site_baseline), "micropep.com", "no-banner.test", "same site")
    assert not (tmp_path / "deep").exists()


@pytest.mark.parametrize("site", ["https://blog.no-banner.test/", "https://no-banner.test/",
                                  "https://WWW.No-Banner.test:8443/fr/"])
def test_baseline_of_the_same_site_on_another_subdomain_is_accepted(tmp_path, other_site_baseline, site):
    """Same registrable domain, same site: the baseline passes its check (the error is then about
    --sarif-file, checked after it)."""
    report = json.loads(other_site_baseline.read_text(encoding="utf-8"))
    report["site"].update(url=site, final_url=site)
    same = tmp_path / "same.json"
    same.write_text(json.dumps(report), encoding="utf-8")
    out = tmp_path / "out"
    line = refused(cli(*scan_args(out, "--baseline", str(same), "--fail-on", "new-violation",
                                  "--sarif-file", "no/such/file.yaml")), "--sarif-file")
    assert "--baseline" not in line and not out.exists()


def test_report_rerender_new_violation_needs_a_compared_report(tmp_path):
    report = TESTS / "fixtures" / "report" / "micropep.json"   # never compared with a baseline
    refused(cli("report", str(report), "--format", "junit", "--fail-on", "new-violation", "--out", str(tmp_path)),
            "--fail-on new-violation", "baseline")
    assert not (tmp_path / "junit.xml").exists()


# --------------------------------------------------------------------------- --sarif-file

def test_sarif_file_must_be_a_repository_file(tmp_path):
    out = tmp_path / "out"
    refused(cli(*scan_args(out, "--sarif-file", "rules/sites/no-such.yaml")), "--sarif-file", "no such file")
    outside = tmp_path / "outside.yaml"
    outside.write_text("x: 1\n")
    refused(cli(*scan_args(out, "--sarif-file", str(outside))), "--sarif-file", "outside the repository")
    assert not out.exists()


# --------------------------------------------------------------------------- --debug, --help

def test_debug_after_the_command_is_an_option_of_scan(tmp_path):
    proc = cli(*scan_args(tmp_path / "out", "--debug", "--csv-sep", ";;"))
    assert "No such option" not in proc.stderr
    assert "Traceback" in proc.stderr and "UsageError" in proc.stderr   # --debug shows the traceback
    plain = cli(*scan_args(tmp_path / "out", "--csv-sep", ";;"))
    refused(plain, "--csv-sep")


def command_lines(text: str) -> dict[str, str]:
    """The `Commands:` listing of a --help: command -> its one-line help."""
    listing = text.split("Commands:", 1)[1]
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"^  (\S+)\s+(.+)$", listing, re.M)}


@pytest.mark.parametrize("args", [(), ("policy",), ("rules",)])
def test_help_listings_are_whole_sentences(args):
    proc = cli(*args, "--help")
    assert proc.returncode == 0, proc.stderr
    commands = command_lines(proc.stdout)
    assert commands
    for name, text in commands.items():
        assert not text.endswith("..."), f"{name}: {text!r} is cut"
        assert text.endswith("."), f"{name}: {text!r} is not a sentence"
        assert not re.search(r"\b(art|e\.g|i\.e)\.$", text), f"{name}: {text!r} stops at an abbreviation"
    if args == ("policy",):
        assert set(commands) == {"lint", "import"}
        assert "Check a privacy/cookie policy text, or draft a declaration from a cookie-\n  policy page." \
            in proc.stdout  # the group's own help, whole


def test_readme_option_table_and_scan_help_agree():
    """Every long option of `scan --help` is in the README's option table, and every option the
    table lists exists."""
    proc = cli("scan", "--help")
    assert proc.returncode == 0, proc.stderr
    from_help = set()
    for line in proc.stdout.splitlines():
        match = re.match(r"^  (-\S.*?)(?:\s{2,}|$)", line)
        if match:
            from_help |= set(re.findall(r"--[a-z][a-z0-9-]*", match.group(1)))
    from_help.discard("--help")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Scanning a site", 1)[1].split("\n### ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `--")]
    in_table = set(re.findall(r"--[a-z][a-z0-9-]*", "\n".join(rows)))
    first_cells = set(re.findall(r"--[a-z][a-z0-9-]*", "\n".join(r.split(" | ")[0] for r in rows)))
    assert {"--sarif-file", "--debug", "--baseline", "--csv-sep"} <= from_help
    assert from_help - in_table == set(), f"in scan --help, not in the README: {sorted(from_help - in_table)}"
    assert first_cells - from_help == set(), f"in the README, not in scan --help: {sorted(first_cells - from_help)}"


# --------------------------------------------------------------------------- no empty report folder

def test_policy_that_cannot_be_fetched_leaves_no_folder(tmp_path):
    """The start URL's host does not resolve, and the policy is on it: exit 2 before the scan,
    and neither the report folder nor its missing parents are left behind."""
    out = tmp_path / "a" / "b"
    refused(cli("scan", NOWHERE, "--policy", NOWHERE + "privacy", "--out", str(out), "--no-progress",
                "--states", "none"), "could not fetch", NOWHERE + "privacy")
    assert not (tmp_path / "a").exists()


def test_cookie_policy_that_cannot_be_fetched_leaves_no_folder(tmp_path):
    """Without --out: nothing appears under the default reports/ folder either."""
    refused(cli("scan", NOWHERE, "--cookie-policy", NOWHERE + "cookies", "--no-progress", "--states", "none",
                cwd=tmp_path), "could not fetch")
    assert list(tmp_path.iterdir()) == []


def test_start_url_that_does_not_resolve_writes_what_was_collected(tmp_path):
    """The scan itself started: an incomplete report (exit 3), never an empty folder."""
    out = tmp_path / "out"
    proc = cli("scan", NOWHERE, "--out", str(out), "--no-progress", "--states", "none", "--format", "json,md")
    assert proc.returncode == 3, proc.stderr
    assert "DNS" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["complete"] is False and report["verdict"] == "incomplete"
    assert (out / "summary.md").is_file()
