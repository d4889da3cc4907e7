"""Fleet scans on this machine (issue 18): `cookie-scanner fleet FLEET.yaml` scans six local sites in
a pool of two worker processes, with no server, gives each site the verdict a single scan gives it,
records every scan in the history database, and writes fleet.json, fleet.csv and a dashboard that a
real browser shows without console errors, sortable and filterable by tag. A bad fleet file is exit
2 with one line naming the file and the site."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
import yaml

from conftest import run_cli
from scanner import ScanOptions, scan
from scanner.browser import find_chromium

SITES = {   # url: tags
    "https://www.pixel.test/": {"country": "fr", "owner": "web"},
    "https://www.fingerprint.test/": {"country": "de"},
    "https://www.consent-mode.test/": {"country": "fr"},
    "https://www.no-banner.test/": {"country": "es"},
    "https://www.late-banner.test/": {"country": "de", "owner": "brand"},
    "https://www.leaky.test/": {"country": "fr", "owner": "brand"},
}


def fleet_file(folder: Path, sites_server, **extra) -> Path:
    data = {"defaults": {"states": "none", "max_pages": 1, "ignore_https_errors": True,
                         "resolve": [sites_server.resolve_rule()], "deadline": 120},
            "sites": [{"url": url, "tags": tags} for url, tags in SITES.items()], **extra}
    path = folder / "fleet.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def fleet_run(sites_server, tmp_path_factory):
    base = tmp_path_factory.mktemp("fleet")
    out = base / "out"
    done = run_cli("fleet", str(fleet_file(base, sites_server)), "--out", str(out), "--workers", "2", "--history",
                   timeout=900)
    return out, done


def test_six_sites_in_two_workers_give_the_single_scan_verdicts(sites_server, fleet_run) -> None:
    out, done = fleet_run
    assert done.returncode == 1, done.stderr            # some sites have violations: the gate fails
    summary = json.loads((out / "fleet.json").read_text(encoding="utf-8"))
    rows = {row["url"]: row for row in summary["sites"]}
    assert list(rows) == list(SITES) and summary["exit_code"] == 1
    progress = [line for line in done.stdout.splitlines() if line.startswith("[")]
    assert len(progress) == 6 and progress[-1].startswith("[6/6]") and "ETA 0 s" in progress[-1]
    assert done.stdout.startswith("fleet: 6 site(s), 2 at once")
    for url, row in rows.items():
        single = scan(ScanOptions(url=url, states=("none",), max_pages=1, resolve=(sites_server.resolve_rule(),),
                                  ignore_https_errors=True))
        assert row["verdict"] == single["verdict"], url
        counts = [sum(1 for f in single["findings"] if f["severity"] == s) for s in ("violation", "warning", "info")]
        assert [row["violations"], row["warnings"], row["infos"]] == counts, url
        assert row["complete"] and row["tags"] == SITES[url] and (out / row["report"]).is_file()
    assert {row["verdict"] for row in rows.values()} >= {"violations"}


def test_every_scan_is_recorded_and_the_csv_lists_every_site(fleet_run) -> None:
    out, _done = fleet_run
    history = run_cli("history", "pixel.test", "--db", str(out / "history.sqlite"), "--format", "json")
    assert len(json.loads(history.stdout)["scans"]) == 1
    rows = list(csv.DictReader(io.StringIO((out / "fleet.csv").read_text(encoding="utf-8-sig"))))
    assert [r["url"] for r in rows] == list(SITES)
    assert rows[0]["tags"] == "country=fr; owner=web"


def test_dashboard_in_a_real_browser(fleet_run, tmp_path) -> None:
    out, _done = fleet_run
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium())
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto((out / "dashboard.html").as_uri())
            assert page.locator("#sites tbody tr").count() == 6 and page.inner_text("#shown") == "6 shown"
            page.select_option("#tag", "owner=brand")
            visible = page.locator("#sites tbody tr:not([hidden])")
            assert sorted(visible.nth(i).get_attribute("data-site") for i in range(visible.count())) == [
                "https://www.late-banner.test/", "https://www.leaky.test/"]
            page.select_option("#tag", "")
            page.click("button[data-key=v]")
            page.click("button[data-key=v]")   # descending
            counts = [int(v) for v in page.eval_on_selector_all("#sites tbody tr", "rows => rows.map(r => r.dataset.v)")]
            assert counts == sorted(counts, reverse=True)
            page.click("#sites tbody tr a >> nth=0")
            assert page.url.endswith("/report.html")
            shot = tmp_path / "dashboard.png"
            page.goto((out / "dashboard.html").as_uri())
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
            assert errors == []
        finally:
            browser.close()


@pytest.mark.parametrize("content, message", [
    ("sites: []", "needs a `sites:` list with at least one site"),
    ("sites: [{tags: {a: b}}]", "site 1: needs a `url`"),
    ("sites: [{url: 'https://a.test/', max_pagez: 3}]", "site 1: unknown scan option `max_pagez`"),
    ("sites: [{url: 'https://a.test/', out: x}]", "site 1: `out` is set by the fleet, not per site"),
    ("defaults: {keep_values: 3}\nsites: [{url: 'https://a.test/'}]", "site 1: `keep_values` is true or false"),
    ("sites: [{url: 'https://a.test/'}\n", "not valid YAML"),
    ("a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
     "f: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\nsites: []", "not valid YAML"),   # a "billion laughs" (531,441 nodes)
])
def test_a_bad_fleet_file_is_exit_2_with_one_line(tmp_path, content, message) -> None:
    path = tmp_path / "fleet.yaml"
    path.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("fleet", str(path), "--out", str(out))
    assert done.returncode == 2, done.stderr
    line = done.stderr.strip()
    assert "\n" not in line and line.startswith(f"cookie-scanner: error: {path}") and message in line, line
    assert not out.exists()


def test_an_unusable_history_database_is_exit_2_before_anything_is_created(tmp_path) -> None:
    from conftest import closed_port
    path = tmp_path / "fleet.yaml"
    path.write_text("sites: [{url: 'https://a.test/'}]\n", encoding="utf-8")
    out = tmp_path / "out"
    done = run_cli("fleet", str(path), "--out", str(out), "--db", f"postgresql+psycopg://u@127.0.0.1:{closed_port()}/x")
    assert done.returncode == 2 and done.stderr.startswith("cookie-scanner: error: history database postgresql+psycopg://127.0.0.1:")
    assert len(done.stderr.strip().splitlines()) == 1 and not out.exists()
