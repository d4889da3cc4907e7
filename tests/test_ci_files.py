"""The GitHub files: the composite action (action.yml), the example deploy workflow and the CI workflow.

Checked offline with PyYAML against what GitHub requires, plus one real run of the action's scan
script under `bash -e` (as GitHub runs it) with a stub scanner, to prove the exit code is kept as
an output instead of failing the step before the reports are uploaded.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
DEPLOY = ROOT / ".github" / "workflows" / "scan-on-deploy.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)


def load(path: Path) -> dict:
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(doc, dict), path
    return doc


def triggers(workflow: dict) -> dict:
    """`on:` is YAML 1.1's boolean true for PyYAML: accept both keys."""
    assert not ("on" in workflow and True in workflow), "two `on` keys"
    on = workflow.get("on", workflow.get(True))
    assert on is not None, "workflow has no `on:`"
    if isinstance(on, str):
        return {on: None}
    if isinstance(on, list):
        return {name: None for name in on}
    return on


def steps_of(workflow: dict) -> list[dict]:
    return [step for job in workflow["jobs"].values() for step in job.get("steps") or []]


def uses(step: dict, name: str) -> bool:
    return str(step.get("uses", "")).split("@")[0] == name


def runs_always(step: dict) -> bool:
    condition = str(step.get("if", ""))
    return "always()" in condition or "!cancelled()" in condition


@pytest.fixture(scope="module")
def action() -> dict:
    return load(ACTION)


@pytest.fixture(scope="module")
def deploy() -> dict:
    return load(DEPLOY)


# --------------------------------------------------------------------------- action.yml

def test_action_metadata(action: dict) -> None:
    assert isinstance(action.get("name"), str) and action["name"].strip()
    assert isinstance(action.get("description"), str) and action["description"].strip()
    assert action["runs"]["using"] == "composite"
    assert isinstance(action["runs"]["steps"], list) and action["runs"]["steps"]


def test_action_inputs_and_defaults(action: dict) -> None:
    inputs = action["inputs"]
    for name in ("url", "declaration", "policy", "states", "baseline", "fail-on", "formats", "out",
                 "python-version", "extra-args"):
        assert name in inputs, name
        assert str(inputs[name].get("description", "")).strip(), f"input {name} has no description"
    assert inputs["url"].get("required") is True
    for name in ("declaration", "policy", "states", "baseline", "extra-args"):
        assert not inputs[name].get("required"), name
    assert inputs["formats"]["default"] == "json,html,csv,md,sarif"
    assert inputs["out"]["default"] == "cookie-report"
    assert str(inputs["python-version"]["default"]) == "3.11"  # a string: YAML 3.10 would be 3.1


def test_every_composite_run_step_has_a_shell(action: dict) -> None:
    for step in action["runs"]["steps"]:
        assert ("run" in step) != ("uses" in step), f"a step needs exactly one of run/uses: {step.get('name')}"
        if "run" in step:
            assert step.get("shell") in ("bash", "sh", "pwsh", "python", "powershell", "cmd"), step.get("name")


def test_every_referenced_input_is_declared(action: dict) -> None:
    text = ACTION.read_text(encoding="utf-8")
    referenced = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text))
    assert referenced, "the action uses no input at all?"
    assert referenced <= set(action["inputs"]), sorted(referenced - set(action["inputs"]))
    # and every declared input is used somewhere
    assert set(action["inputs"]) <= referenced, sorted(set(action["inputs"]) - referenced)


def test_action_outputs_come_from_the_scan_step(action: dict) -> None:
    ids = {step.get("id") for step in action["runs"]["steps"]}
    outputs = action["outputs"]
    assert set(outputs) >= {"report-dir", "verdict", "exit-code"}
    for name, spec in outputs.items():
        match = re.fullmatch(r"\$\{\{\s*steps\.([A-Za-z0-9_-]+)\.outputs\.([A-Za-z0-9_-]+)\s*\}\}", spec["value"])
        assert match and match.group(1) in ids, (name, spec["value"])
        assert match.group(2) == name


def test_action_steps(action: dict) -> None:
    steps = action["runs"]["steps"]
    assert any(uses(s, "actions/setup-python") and "inputs.python-version" in str(s.get("with")) for s in steps)
    scripts = "\n".join(str(s.get("run", "")) for s in steps)
    assert re.search(r"apt-get install[^\n]*\bchromium\b", scripts), "Chromium must come from apt"
    install = [s for s in steps if "pip install" in str(s.get("run", ""))]
    assert install and "github.action_path" in str(install[0]), "pip install the action's own repository"
    # Site-controlled inputs never expand inside a script: they go through env variables.
    for step in steps:
        for expr in EXPR.findall(str(step.get("run", ""))):
            assert "inputs." not in expr, f"${{{{{expr}}}}} expanded inside a script (injection)"
    scan = next(s for s in steps if "cookie-scanner" in str(s.get("run", "")))
    assert scan.get("id") == "scan" and "GITHUB_OUTPUT" in scan["run"]
    assert not scan.get("continue-on-error"), "the exit code is captured, not ignored"
    last = steps[-1]  # the only failing step comes after the outputs are written
    assert "exit" in last.get("run", "") and "steps.scan.outputs.exit-code" in str(last.get("if", ""))


def _scan_script(action: dict) -> str:
    return next(s for s in action["runs"]["steps"] if s.get("id") == "scan")["run"]


STUB = r'''#!{python}
"""Stub cookie-scanner: record argv, write report.json with the verdict asked, exit with the code asked."""
import json, os, sys
args = sys.argv[1:]
out = args[args.index("--out") + 1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(out, "argv.json"), "w") as fh:
    json.dump(args, fh)
if os.environ.get("STUB_VERDICT"):
    with open(os.path.join(out, "report.json"), "w") as fh:
        json.dump({{"schema_version": "1.0", "verdict": os.environ["STUB_VERDICT"]}}, fh)
sys.exit(int(os.environ["STUB_CODE"]))
'''


@pytest.mark.parametrize("code, verdict, baseline_exists, expected_fail_on", [
    (0, "pass", False, "violation"),
    (1, "violations", True, "new-violation"),
    (3, "incomplete", False, "violation"),
    (2, "", False, "violation"),  # usage error: no report written
])
def test_action_scan_script_keeps_the_exit_code(tmp_path: Path, action: dict, code: int, verdict: str,
                                                baseline_exists: bool, expected_fail_on: str) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    stub = bindir / "cookie-scanner"
    stub.write_text(STUB.format(python=sys.executable))
    stub.chmod(0o755)
    (bindir / "python").symlink_to(sys.executable)
    baseline = tmp_path / "baseline" / "report.json"
    if baseline_exists:
        baseline.parent.mkdir()
        baseline.write_text("{}")
    out = tmp_path / "cookie-report"
    gh_output = tmp_path / "github_output"
    gh_output.write_text("")
    env = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", GITHUB_OUTPUT=str(gh_output),
               STUB_CODE=str(code), STUB_VERDICT=verdict,
               INPUT_URL="https://www.example.test/", INPUT_DECLARATION="rules/sites/x.yaml", INPUT_POLICY="",
               INPUT_STATES="none,accept", INPUT_BASELINE=str(baseline), INPUT_FAIL_ON="",
               INPUT_FORMATS="json,sarif", INPUT_OUT=str(out),
               INPUT_EXTRA_ARGS="--resolve '*=127.0.0.1:8443' --locale \"fr-FR\" $(touch pwned)")
    # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _scan_script(action)],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in gh_output.read_text().splitlines() if "=" in line)
    assert outputs["exit-code"] == str(code)
    assert outputs["verdict"] == (verdict or "error")
    assert Path(outputs["report-dir"]) == out.resolve()
    argv = json.loads((out / "argv.json").read_text())
    assert argv[:2] == ["scan", "https://www.example.test/"]
    assert argv[argv.index("--fail-on") + 1] == expected_fail_on
    assert argv[argv.index("--format") + 1] == "json,sarif"
    assert argv[argv.index("--declaration") + 1] == "rules/sites/x.yaml"
    assert argv[argv.index("--states") + 1] == "none,accept"
    assert "--policy" not in argv
    assert ("--baseline" in argv) == baseline_exists
    # extra-args split like a shell command line, never evaluated
    assert argv[-6:] == ["--resolve", "*=127.0.0.1:8443", "--locale", "fr-FR", "$(touch", "pwned)"]
    assert not (tmp_path / "pwned").exists()


# --------------------------------------------------------------------------- scan-on-deploy.yml

def test_deploy_workflow_triggers(deploy: dict) -> None:
    on = triggers(deploy)
    assert "deployment_status" in on and "workflow_dispatch" in on
    dispatch_inputs = (on["workflow_dispatch"] or {}).get("inputs") or {}
    assert "url" in dispatch_inputs and dispatch_inputs["url"].get("required") is True
    text = DEPLOY.read_text(encoding="utf-8")
    referenced = set(re.findall(r"\binputs\.([A-Za-z0-9_-]+)", text))
    assert referenced <= set(dispatch_inputs), sorted(referenced - set(dispatch_inputs))


def test_deploy_workflow_job(deploy: dict) -> None:
    assert isinstance(deploy.get("jobs"), dict) and deploy["jobs"]
    for job_id, job in deploy["jobs"].items():
        assert job.get("runs-on"), f"jobs.{job_id}.runs-on"
        assert isinstance(job.get("steps"), list) and job["steps"], f"jobs.{job_id}.steps"
        for step in job["steps"]:
            assert ("run" in step) != ("uses" in step), step.get("name")
    job = next(iter(deploy["jobs"].values()))
    condition = str(job.get("if", ""))
    assert "deployment_status.state == 'success'" in condition and "workflow_dispatch" in condition
    text = DEPLOY.read_text(encoding="utf-8")
    assert "github.event.deployment_status.environment_url" in text
    assert "github.event.deployment_status.target_url" in text


def test_deploy_workflow_permissions(deploy: dict) -> None:
    scopes = [deploy.get("permissions") or {}] + [job.get("permissions") or {} for job in deploy["jobs"].values()]
    assert any(isinstance(p, dict) and p.get("security-events") == "write" for p in scopes)


def test_deploy_workflow_steps(deploy: dict) -> None:
    steps = steps_of(deploy)

    baseline = [s for s in steps if uses(s, "dawidd6/action-download-artifact") or "gh run download" in str(s.get("run"))]
    assert baseline and baseline[0].get("continue-on-error") is True, "no baseline must not fail the job"

    scan = [s for s in steps if s.get("uses") == "./"]
    assert len(scan) == 1, "the composite action runs as uses: ./"
    scan = scan[0]
    with_ = scan.get("with") or {}
    assert with_.get("url") and with_.get("fail-on") == "new-violation" and "report.json" in str(with_.get("baseline"))
    assert "sarif" in str(with_.get("formats", "json,html,csv,md,sarif"))

    artifact = [s for s in steps if uses(s, "actions/upload-artifact")]
    assert artifact and runs_always(artifact[0]), "upload the report even when the scan fails"
    sarif = [s for s in steps if uses(s, "github/codeql-action/upload-sarif")]
    assert sarif and runs_always(sarif[0]), "upload the SARIF even when the scan fails"
    assert str(sarif[0]["with"]["sarif_file"]).endswith("results.sarif")
    # the artifact name the baseline step downloads is the one uploaded
    assert artifact[0]["with"]["name"] == baseline[0].get("with", {}).get("name", artifact[0]["with"]["name"])

    # order: baseline, scan, uploads, and failing last
    index = steps.index
    assert index(baseline[0]) < index(scan) < index(artifact[0]) and index(scan) < index(sarif[0])
    fail = steps[-1]
    assert "exit" in str(fail.get("run")) and "steps.scan.outputs.exit-code" in str(fail)
    assert runs_always(fail)


def test_deploy_workflow_steps_are_commented() -> None:
    lines = DEPLOY.read_text(encoding="utf-8").splitlines()
    starts = [i for i, line in enumerate(lines) if re.match(r"\s+- (name|uses|run):", line)]
    assert starts
    for i in starts:
        assert lines[i - 1].strip().startswith("#"), f"step at line {i + 1} has no comment"


# --------------------------------------------------------------------------- ci.yml and all files

def test_ci_workflow_runs_make_test() -> None:
    ci = load(CI)
    assert triggers(ci)
    for job_id, job in ci["jobs"].items():
        assert job.get("runs-on"), f"jobs.{job_id}.runs-on"
    runs = [str(s.get("run", "")) for s in steps_of(ci)]
    assert any(re.search(r"(^|[\s;&])make\s+test\b", r) for r in runs), runs


@pytest.mark.parametrize("path", [ACTION, DEPLOY, CI, ROOT / "Makefile"], ids=lambda p: p.name)
def test_no_browser_download(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path.name} not present")
    text = path.read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # comments may mention it
    assert not re.search(r"playwright\s+install", code), f"{path.name} downloads a browser"
