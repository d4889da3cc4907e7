"""results.sarif is accepted by GitHub code scanning: valid SARIF 2.1.0 (the official schema,
tests/fixtures/sarif-2.1.0.schema.json) AND GitHub's own constraints, written out below from
"SARIF support for code scanning" and "About code scanning limits on SARIF results" (GitHub Docs):

* `version` 2.1.0 and `$schema`; 1 to 20 runs per file; a file of at most 10 MB;
* `tool.driver.name`; at most 25,000 rules and 25,000 results per run;
* each rule: an `id`; `shortDescription.text` and `fullDescription.text` (at most 1,024 characters),
  `help.text`; at most 20 `properties.tags`; `properties.security-severity` a number from 0.0 to 10.0
  written as a string;
* each result: a `ruleId` naming a rule (and `ruleIndex` pointing at it), `message.text`,
  1 to 10 `locations` (GitHub needs one to show the alert), each a `physicalLocation` whose
  `artifactLocation.uri` is a file of the repository: a RELATIVE path (no scheme such as https:,
  not absolute, not leaving the repository) and whose `region.startLine` is at least 1;
  `partialFingerprints` (how an alert is recognised from one upload to the next);
* a level among error, warning, note, none.

These run on re-rendered stored reports (no scan); tests/test_cli_gate.py runs them on real scans.
"""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import jsonschema
import pytest

from conftest import TESTS

ROOT = TESTS.parent
SARIF_SCHEMA = TESTS / "fixtures" / "sarif-2.1.0.schema.json"
REPORTS = TESTS / "fixtures" / "report"

MAX_RUNS, MAX_RESULTS, MAX_RULES, MAX_LOCATIONS, MAX_TAGS = 20, 25_000, 25_000, 10, 20
MAX_DESCRIPTION, MAX_BYTES = 1_024, 10 * 1024 * 1024
LEVELS = {"error", "warning", "note", "none"}


@lru_cache(maxsize=1)
def _validator():
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def schema_problems(log: dict) -> list[str]:
    return [f"{e.message[:160]} at {list(e.absolute_path)}" for e in _validator().iter_errors(log)]


def _relative_repository_uri(uri: object) -> str | None:
    """Why `uri` is not a relative path of a repository file, or None when it is."""
    if not isinstance(uri, str) or not uri:
        return "no uri"
    if urlsplit(uri).scheme:
        return f"{uri!r} has a scheme: code scanning wants a path in the repository"
    path = unquote(uri)
    if path.startswith("/") or path.startswith("\\"):
        return f"{uri!r} is absolute"
    if ".." in path.split("/"):
        return f"{uri!r} leaves the repository"
    if any(c in uri for c in ' "<>\\'):
        return f"{uri!r} is not percent-encoded"
    return None


def github_problems(log: dict, raw: bytes | None = None) -> list[str]:
    """GitHub code scanning's constraints on an uploaded SARIF file; [] when it would be accepted."""
    problems: list[str] = []
    if raw is not None and len(gzip.compress(raw)) > MAX_BYTES:
        problems.append("file over 10 MB (gzip)")
    if log.get("version") != "2.1.0" or not log.get("$schema"):
        problems.append("version 2.1.0 and $schema required")
    runs = log.get("runs")
    if not isinstance(runs, list) or not 1 <= len(runs) <= MAX_RUNS:
        return problems + [f"runs: 1 to {MAX_RUNS} expected"]
    for r, run in enumerate(runs):
        driver = (run.get("tool") or {}).get("driver") or {}
        if not driver.get("name"):
            problems.append(f"run {r}: tool.driver.name required")
        rules = driver.get("rules") or []
        results = run.get("results")
        if not isinstance(results, list):
            problems.append(f"run {r}: results required")
            continue
        if len(rules) > MAX_RULES or len(results) > MAX_RESULTS:
            problems.append(f"run {r}: {len(rules)} rules, {len(results)} results: over 25,000")
        ids = [rule.get("id") for rule in rules]
        if len(set(ids)) != len(ids) or not all(isinstance(i, str) and i for i in ids):
            problems.append(f"run {r}: rule ids must be unique non-empty strings")
        for rule in rules:
            where = f"rule {rule.get('id')}"
            for key in ("shortDescription", "fullDescription", "help"):
                text = (rule.get(key) or {}).get("text")
                if not isinstance(text, str) or not text.strip():
                    problems.append(f"{where}: {key}.text required")
                elif key != "help" and len(text) > MAX_DESCRIPTION:
                    problems.append(f"{where}: {key}.text over {MAX_DESCRIPTION} characters")
            props = rule.get("properties") or {}
            tags = props.get("tags", [])
            if not isinstance(tags, list) or len(tags) > MAX_TAGS or not all(isinstance(t, str) for t in tags):
                problems.append(f"{where}: at most {MAX_TAGS} string tags")
            if "security-severity" in props:
                value = props["security-severity"]
                try:
                    ok = isinstance(value, str) and 0.0 <= float(value) <= 10.0
                except ValueError:
                    ok = False
                if not ok:
                    problems.append(f"{where}: security-severity must be a string number 0.0-10.0, not {value!r}")
        seen_fingerprints = set()
        for n, result in enumerate(results):
            where = f"result {n} ({result.get('ruleId')})"
            if result.get("ruleId") not in ids:
                problems.append(f"{where}: ruleId names no rule")
            elif "ruleIndex" in result and ids[result["ruleIndex"]] != result["ruleId"]:
                problems.append(f"{where}: ruleIndex points at another rule")
            if not ((result.get("message") or {}).get("text") or "").strip():
                problems.append(f"{where}: message.text required")
            if result.get("level", "warning") not in LEVELS:
                problems.append(f"{where}: level {result.get('level')!r}")
            locations = result.get("locations")
            if not isinstance(locations, list) or not 1 <= len(locations) <= MAX_LOCATIONS:
                problems.append(f"{where}: 1 to {MAX_LOCATIONS} locations required")
                locations = []
            for location in locations:
                physical = location.get("physicalLocation") or {}
                why = _relative_repository_uri((physical.get("artifactLocation") or {}).get("uri"))
                if why:
                    problems.append(f"{where}: {why}")
                line = (physical.get("region") or {}).get("startLine")
                if not isinstance(line, int) or line < 1:
                    problems.append(f"{where}: region.startLine (>= 1) required")
            prints = result.get("partialFingerprints")
            if not isinstance(prints, dict) or not prints or not all(isinstance(v, str) and v for v in prints.values()):
                problems.append(f"{where}: partialFingerprints required")
            else:
                key = (result.get("ruleId"), tuple(sorted(prints.items())))
                if key in seen_fingerprints:
                    problems.append(f"{where}: same fingerprint as another result: one alert would hide the other")
                seen_fingerprints.add(key)
    return problems


def check_sarif_file(path: Path) -> dict:
    """Both checks on a written results.sarif; the parsed log."""
    raw = path.read_bytes()
    log = json.loads(raw)
    assert schema_problems(log) == [], schema_problems(log)[:3]
    assert github_problems(log, raw) == [], github_problems(log, raw)[:5]
    return log


def rerender(report: Path, out: Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run([sys.executable, "-m", "scanner.cli", "report", str(report), "--format", "sarif",
                           "--out", str(out), *args], capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)


# --------------------------------------------------------------------------- the checks can fail

def test_the_github_checks_catch_what_github_refuses():
    """The pre-fix SARIF (a page URL as the location) and other refusals are caught."""
    good = {"$schema": "x", "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "t", "rules": [{"id": "r", "shortDescription": {"text": "s"},
                                                    "fullDescription": {"text": "f"}, "help": {"text": "h"}}]}},
        "results": [{"ruleId": "r", "ruleIndex": 0, "level": "error", "message": {"text": "m"},
                     "partialFingerprints": {"findingId": "1"},
                     "locations": [{"physicalLocation": {"artifactLocation": {"uri": "rules/sites/x.yaml"},
                                                         "region": {"startLine": 1}}}]}]}]}
    assert github_problems(good) == [] and schema_problems(good) == []

    def broken(edit) -> list[str]:
        log = json.loads(json.dumps(good))
        edit(log["runs"][0])
        return github_problems(log)

    page = lambda run: run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"].update(
        uri="https://www.micropep.com/")
    assert any("scheme" in p for p in broken(page))
    assert broken(lambda run: run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"].update(uri="/etc/x"))
    assert broken(lambda run: run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"].update(uri="../x"))
    assert broken(lambda run: run["results"][0]["locations"][0]["physicalLocation"].pop("region"))
    assert broken(lambda run: run["results"][0].pop("partialFingerprints"))
    assert broken(lambda run: run["results"][0].update(ruleId="other"))
    assert broken(lambda run: run["results"][0].update(locations=[]))
    assert broken(lambda run: run["tool"]["driver"]["rules"][0].pop("help"))
    assert broken(lambda run: run["tool"]["driver"]["rules"][0].update(properties={"security-severity": 9}))
    assert broken(lambda run: run["tool"]["driver"]["rules"][0].update(properties={"tags": ["t"] * 21}))
    assert broken(lambda run: run["results"].append(dict(run["results"][0])))   # duplicate fingerprint
    assert github_problems(dict(good, runs=good["runs"] * 21))


# --------------------------------------------------------------------------- stored reports re-rendered

@pytest.mark.parametrize("name", ["micropep.json", "hostile.json"])
def test_rerendered_sarif_is_accepted_by_github(tmp_path, name):
    proc = rerender(REPORTS / name, tmp_path)
    report = json.loads((REPORTS / name).read_text(encoding="utf-8"))
    assert proc.returncode == (0 if report["complete"] else 3), proc.stderr   # the hostile scan is incomplete
    log = check_sarif_file(tmp_path / "results.sarif")
    run = log["runs"][0]
    assert len(run["results"]) == len(report["findings"])
    declaration = report["declaration"]["path"]          # rules/sites/micropep.yaml, rules/sites/evil.yaml
    for result, finding in zip(run["results"], report["findings"]):
        uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        page = finding.get("page") or ""
        if finding["rule"].startswith("policy-") and page and "://" not in page:
            assert uri == page      # the policy file of the repository, at the quoted line
            line = (finding.get("evidence") or {}).get("line")
            assert result["locations"][0]["physicalLocation"]["region"]["startLine"] == (line or 1)
        else:
            assert uri == declaration
            if page.startswith("http"):   # the page stays visible: in the message and the properties
                assert page in result["message"]["text"] and result["properties"]["page"] == page
        assert result["partialFingerprints"]["findingId"] == finding["id"]
        assert finding["state"] is None or finding["state"] in result["message"]["text"]


def test_sarif_file_option_points_every_web_result_at_that_file(tmp_path):
    proc = rerender(REPORTS / "micropep.json", tmp_path, "--sarif-file", "README.md")
    assert proc.returncode == 0, proc.stderr
    log = check_sarif_file(tmp_path / "results.sarif")
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in log["runs"][0]["results"]
            if not r["ruleId"].startswith("policy-")}
    assert uris == {"README.md"}


def test_rules_carry_what_the_alert_shows(tmp_path):
    proc = rerender(REPORTS / "micropep.json", tmp_path)
    assert proc.returncode == 0, proc.stderr
    rules = {r["id"]: r for r in check_sarif_file(tmp_path / "results.sarif")["runs"][0]["tool"]["driver"]["rules"]}
    rule = rules["pre-consent-cookie"]
    assert rule["defaultConfiguration"]["level"] == "error" and rule["properties"]["security-severity"] == "7.5"
    assert "ePrivacy" in rule["help"]["text"] and "ePrivacy" in rule["help"]["markdown"]
    assert float(rules["excessive-lifetime"]["properties"]["security-severity"]) < 7.0  # a warning: medium
