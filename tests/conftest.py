"""Shared fixtures: local HTTPS sites on 127.0.0.1 reached under real host names."""
from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from scanner import ScanOptions, scan
from scanner.demo import SiteServer
from scanner.paths import demo_site_dir

TESTS = Path(__file__).resolve().parent
SITES = TESTS / "sites"
NODE_MODULES = TESTS / "node_modules"

# The reports' language follows the locale (--lang's default): every test, and every CLI it starts,
# runs in an English locale unless it sets another one, whatever the developer's machine uses.
for _name in ("LC_ALL", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LANG"] = "C.UTF-8"


@pytest.fixture(scope="session", autouse=True)
def every_result_matches_the_schema():
    """Every scan result a test produces (scan, checkpoint, re-audit) is checked against
    docs/report.schema.json: the contract is tested, not only written down."""
    import scanner.audits as audits
    from scanner.report.schema import validate_report

    original = audits.annotate_and_audit

    def checked(result, *args, **kwargs):
        out = original(result, *args, **kwargs)
        problems = validate_report(out)
        assert problems == [], f"report.json breaks docs/report.schema.json: {problems[:3]}"
        return out

    audits.annotate_and_audit = checked
    yield
    audits.annotate_and_audit = original


@pytest.fixture(scope="session")
def demo_server():
    with SiteServer(demo_site_dir()) as server:
        yield server


@pytest.fixture(scope="session")
def sites_server():
    """tests/sites/<host>/..., /cmp/<id>/ on every host, /_npm/<package>/ from tests/node_modules."""
    with SiteServer(SITES, mounts={"/_npm/": NODE_MODULES, "/cmp/": SITES / "cmp"}) as server:
        yield server


def scan_site(server, url: str, **kwargs) -> dict:
    """A scan of a local site; its consent matrix must agree with its findings (one judgement)."""
    from consistency import disagreements
    options = ScanOptions(url=url, resolve=(server.resolve_rule(),), ignore_https_errors=True, **kwargs)
    result = scan(options)
    assert disagreements(result) == [], "the consent matrix and the findings disagree"
    return result


@pytest.fixture(scope="session")
def demo_none(demo_server) -> dict:
    """One scan of the demo site in state `none`, shared by the foundation tests."""
    return scan_site(demo_server, "https://www.micropep.com/", states=("none",))


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    env.pop("GITHUB_STEP_SUMMARY", None)
    return subprocess.run([sys.executable, "-m", "scanner.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env, cwd=TESTS.parent)


def page_items(result: dict, state: str, kind: str, page: int = 0) -> list[dict]:
    for entry in result["states"]:
        if entry["state"] == state:
            return entry["pages"][page][kind]
    raise AssertionError(f"state {state} not in result")


def by_name(items: list[dict], name: str) -> dict:
    found = [c for c in items if c.get("name") == name or c.get("key") == name]
    assert found, f"{name} not recorded; have {sorted({c.get('name') or c.get('key') for c in items})}"
    return found[0]


@pytest.fixture(scope="session")
def demo_full(demo_server, tmp_path_factory) -> dict:
    """The demo site in every consent state, with Micropep's declaration and policy."""
    from scanner.declaration import load_declaration
    from scanner.paths import rules_dir
    from scanner.policy import lint_policy, load_policy_text

    text, origin = load_policy_text(str(demo_site_dir() / "www.micropep.com" / "privacy-policy.html"))
    options = ScanOptions(url="https://www.micropep.com/", resolve=(demo_server.resolve_rule(),),
                          ignore_https_errors=True, out_dir=tmp_path_factory.mktemp("demo-full"))
    return scan(options, declaration=load_declaration(rules_dir() / "sites" / "micropep.yaml"),
                policy_findings=lint_policy(text, source=origin))


@pytest.fixture
def without_recipes(monkeypatch):
    """No recipe at all: only the generic rules can drive the banner. Times each consent phase."""
    scan_module = importlib.import_module("scanner.scan")
    states_module = importlib.import_module("scanner.states")
    from scanner.consent import load_recipes
    _, generic = load_recipes()
    monkeypatch.setattr(scan_module, "load_recipes", lambda: ((), generic))
    timings: dict[str, float] = {}
    original = states_module.ConsentPhase.reach

    async def timed(self, state):
        began = time.monotonic()
        try:
            return await original(self, state)
        finally:
            timings[state] = round(time.monotonic() - began, 2)

    monkeypatch.setattr(states_module.ConsentPhase, "reach", timed)
    return timings
