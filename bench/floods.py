"""Flood benchmark (issue 16): memory, report size and time of the CLI on pages that flood the scanner.

    .venv/bin/python bench/floods.py                          # every case; a table; exit 1 if a target is missed
    .venv/bin/python bench/floods.py --cases binding,request  # some cases
    .venv/bin/python bench/floods.py --json /tmp/floods.json  # also save the raw numbers
    .venv/bin/python bench/floods.py --states default         # the scanner's default states, not only `none`

Each case runs `cookie-scanner scan --states none` (the real CLI, `python -m scanner.cli`) in a
subprocess on one page of the fixture sites (tests/sites/, served on 127.0.0.1 by
scanner.demo.SiteServer), while this process samples, every 0.2 s, the PSS (proportional set size:
shared pages split between the processes sharing them) of the subprocess's whole tree - the
scanner, Playwright's driver, every Chromium process - summed (bench/treemem.py, psutil's
memory_full_info().pss). State `none` only: the pages have no banner; with `--states default` no
--states is passed, and the scanner then also loads each page for a `reject` it cannot reach, at
the same time as `none`.

Targets (issue 16), per case: peak tree PSS under 1.5 GB, report.json under 5 MB, and a scan with
`--deadline N` ended (the process gone) by N + 10 s after it was started.

Cases (pages of tests/sites/):
  binding          www.flood.test/binding.html: 60,000 calls of 8 KB to the recorder's binding. The
                   binding is hidden from pages, so the CLI runs with it leaked (as tests/test_limits.py
                   does): what the page would do if hiding it failed
  refused-header   www.flood.test/refused.html: 3,000 Set-Cookie headers Chromium refuses, 1,000 twice
  refused-script   www.flood.test/refused-js.html: 6,000 document.cookie writes Chromium refuses
  writes           www.flood.test/writes.html: 6 frames x 5,000 cookie writes of 4 KB, 3,000 storage keys
  request          www.hostile-suite.test/requests.html?real: 5,600 distinct requests and 1,500 repeats
  history-fetch    www.busy.test/: history.pushState and fetch() as fast as it can, forever; --deadline 20
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SITES = REPO / "tests" / "sites"
SAMPLE_S = 0.2
TARGETS = {"pss_mb": 1536.0, "report_mb": 5.0, "deadline_slack_s": 10.0}

# The CLI with the recorder's binding leaked to the page (the flood's only way in).
LEAKED_BINDING = r"""
import json, sys
from scanner.gather import recorder
original = recorder.instrument_source
recorder.instrument_source = lambda binding, secret: (
    f"window.__leaked = window[{json.dumps(binding)}];\n" + original(binding, secret))
import scanner.cli
sys.argv[0] = "cookie-scanner"
scanner.cli.main()
"""

CASES = {   # name: (start URL, extra options, --deadline, run with the leaked binding)
    "binding": ("https://www.flood.test/binding.html", ["--max-pages", "1"], None, True),
    "refused-header": ("https://www.flood.test/refused.html", ["--max-pages", "1"], None, False),
    "refused-script": ("https://www.flood.test/refused-js.html", ["--max-pages", "1"], None, False),
    "writes": ("https://www.flood.test/writes.html", ["--max-pages", "1"], None, False),
    "request": ("https://www.hostile-suite.test/requests.html?real", ["--max-pages", "1"], None, False),
    "history-fetch": ("https://www.busy.test/", [], 20.0, False),
}


def run_case(name: str, server, workdir: Path, states: str = "none") -> dict:
    from bench import treemem

    url, extra, deadline, leaked = CASES[name]
    out = workdir / name
    args = ["scan", url, "--resolve", server.resolve_rule(), "--ignore-https-errors", "--no-progress",
            "--out", str(out), *extra]
    args += ["--states", states] if states != "default" else []
    args += ["--deadline", f"{deadline:g}"] if deadline else []
    command = [sys.executable, "-c", LEAKED_BINDING, *args] if leaked else [sys.executable, "-m", "scanner.cli", *args]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.pop("GITHUB_STEP_SUMMARY", None)
    treemem.PSS_EVERY_S = SAMPLE_S           # PSS at every sample, not once a second
    log = workdir / f"{name}.log"
    began = time.monotonic()
    with open(log, "wb") as handle:
        proc = subprocess.Popen(command, stdout=handle, stderr=subprocess.STDOUT, cwd=str(REPO), env=env)
        sampler = treemem.TreeSampler(proc.pid, interval=SAMPLE_S).start()
        try:
            code = proc.wait(timeout=600)
        except subprocess.TimeoutExpired:
            treemem.kill_tree(proc.pid)
            code = proc.wait(timeout=30)
        memory = sampler.stop()
    wall = time.monotonic() - began
    report_path = out / "report.json"
    row = {"case": name, "url": url, "states": states, "exit": code, "wall_s": round(wall, 1), "deadline_s": deadline,
           "overrun_s": round(wall - deadline, 1) if deadline else None,
           "peak_pss_mb": memory["peak_pss_mb"], "peak_rss_mb": memory["peak_rss_mb"],
           "pss_by_role_mb": memory["peak_pss_by_role_mb"], "samples": memory["samples"],
           "other_cores": memory["other_cores"],
           "report_bytes": report_path.stat().st_size if report_path.is_file() else None,
           "log_tail": log.read_text(errors="replace")[-400:]}
    if report_path.is_file():
        report = json.loads(report_path.read_text(encoding="utf-8"))
        pages = [p for s in report.get("states") or [] for p in s.get("pages") or []]
        row.update(complete=report.get("complete"), pages=len(pages),
                   dropped={k: sum((p.get("dropped") or {}).get(k, 0) for p in pages)
                            for k in ("events", "cookies", "refused_cookies", "storage", "requests")})
    row["missed"] = missed(row)
    return row


def missed(row: dict) -> list[str]:
    problems = []
    if row["peak_pss_mb"] >= TARGETS["pss_mb"]:
        problems.append(f"peak PSS {row['peak_pss_mb']:.0f} MB >= {TARGETS['pss_mb']:.0f} MB")
    if row["report_bytes"] is None:
        problems.append("no report.json")
    elif row["report_bytes"] >= TARGETS["report_mb"] * 2**20:
        problems.append(f"report.json {row['report_bytes'] / 2**20:.1f} MB >= {TARGETS['report_mb']:g} MB")
    if row["deadline_s"] and row["wall_s"] > row["deadline_s"] + TARGETS["deadline_slack_s"]:
        problems.append(f"ended {row['overrun_s']} s after its deadline (> {TARGETS['deadline_slack_s']:g} s)")
    if row["exit"] not in (0, 1, 3):
        problems.append(f"exit {row['exit']}")
    return problems


def table(rows: list[dict]) -> str:
    lines = ["| case | exit | peak tree PSS | peak tree RSS | report.json | wall | deadline overrun | dropped "
             "| target |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        dropped = ", ".join(f"{k} {v:,}" for k, v in (r.get("dropped") or {}).items() if v) or "-"
        size = f"{r['report_bytes'] / 1024:,.0f} KB" if r["report_bytes"] is not None else "none"
        overrun = f"{r['overrun_s']:+.1f} s (deadline {r['deadline_s']:g} s)" if r["deadline_s"] else "-"
        lines.append(f"| {r['case']} | {r['exit']} | {r['peak_pss_mb']:,.0f} MB | {r['peak_rss_mb']:,.0f} MB | {size} "
                     f"| {r['wall_s']:.1f} s | {overrun} | {dropped} | {'; '.join(r['missed']) or 'met'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="cookie-scanner flood benchmark (issue 16)")
    parser.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {', '.join(CASES)}")
    parser.add_argument("--json", type=Path, help="save the raw results here")
    parser.add_argument("--states", default="none",
                        help="--states passed to the scanner (default none; `default`: none passed)")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.cases.split(",") if n.strip()]
    unknown = [n for n in names if n not in CASES]
    if unknown:
        parser.error(f"unknown case(s) {', '.join(unknown)}: choose from {', '.join(CASES)}")
    if importlib.util.find_spec("psutil") is None:
        print(f"the benchmark needs psutil: {Path(sys.executable).parent / 'pip'} install psutil", file=sys.stderr)
        return 2
    from scanner.demo import SiteServer

    rows = []
    with tempfile.TemporaryDirectory(prefix="floods-") as tmp, SiteServer(SITES) as server:
        server._httpd.handle_error = lambda request, client_address: None   # a closed tab mid-response
        for name in names:
            print(f"{name} ...", file=sys.stderr, flush=True)
            rows.append(run_case(name, server, Path(tmp), args.states))
            r = rows[-1]
            missed_text = "; MISSED: " + "; ".join(r["missed"]) if r["missed"] else ""
            print(f"  exit {r['exit']}, {r['wall_s']} s, peak PSS {r['peak_pss_mb']} MB, "
                  f"report.json {r['report_bytes']} bytes{missed_text}", file=sys.stderr, flush=True)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine(), "rows": rows}, indent=1))
    print(table(rows))
    print(f"\n{machine()}")
    return 1 if any(r["missed"] for r in rows) else 0


def machine() -> str:
    import platform

    import psutil
    return (f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GB, "
            f"Python {platform.python_version()}, load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    sys.exit(main())
