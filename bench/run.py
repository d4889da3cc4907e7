"""Crawl benchmark: scanner vs. a bare Playwright loop on synthetic sites of N pages and the demo.

    .venv/bin/python bench/run.py                        # everything (sizes 10,50,200 x concurrency 1,2,4,default)
    .venv/bin/python bench/run.py --quick                # demo + 10 pages at the default concurrency
    .venv/bin/python bench/run.py --sizes 10,50 --concurrency 1,2 --json /tmp/b.json
    .venv/bin/python bench/run.py --write-readme         # ... and rewrite the table in bench/README.md
    .venv/bin/python bench/run.py --readme-from a.json,b.json   # table from saved runs, no new run

Every run (scanner or bare loop) is a subprocess: this process serves the site on 127.0.0.1 and
samples the memory of the subprocess's whole tree (Python, Playwright driver, every Chromium
process) every 100 ms. See bench/README.md for what is measured and how.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.synthetic import DEEP_HOST, LATE_HOST, write_site  # noqa: E402

SIZES = (10, 50, 200)
CONCURRENCY = ("1", "2", "4", "default")
NEEDED_FIELDS = ("max_pages", "concurrency", "fast_forward_s", "quiet_ms")
DEMO_URL = "https://www.micropep.com/"
README = Path(__file__).resolve().parent / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
TARGETS = {"demo_wall_s": 15.0, "demo_s_per_ps": 0.35, "peak_rss_mb": 1536.0, "ratio": 1.3}


# ---- the scanner worker (runs in a subprocess) ---------------------------------------------------
def worker_scan(spec_path: Path, out_path: Path) -> int:
    spec = json.loads(spec_path.read_text())
    from scanner import ScanOptions, scan
    from scanner.declaration import load_declaration

    kwargs = dict(url=spec["url"], resolve=tuple(spec["resolve"]), ignore_https_errors=True,
                  quiet_ms=spec["quiet_ms"], fast_forward_s=spec["fast_forward_s"], concurrency=spec["concurrency"])
    if spec.get("max_pages"):
        kwargs["max_pages"] = spec["max_pages"]
    declaration = load_declaration(spec["declaration"]) if spec.get("declaration") else None
    options = ScanOptions(**kwargs)
    started = time.monotonic()
    result = scan(options, declaration=declaration)
    wall = time.monotonic() - started
    out_path.write_text(json.dumps(summarize_scan(result, wall, spec)))
    return 0


def summarize_scan(result: dict, wall: float, spec: dict) -> dict:
    deep = set(spec.get("deep_urls") or [])
    watch = spec.get("watch", True)
    states = []
    for record in result.get("states", []):
        pages = record.get("pages") or []
        row = {"state": record["state"], "reached": bool(record.get("reached")), "error": record.get("error"),
               "pages": len(pages), "page_errors": sum(1 for p in pages if p.get("error"))}
        if watch:
            def hit(page, host):
                return any(r.get("host") == host for r in page.get("requests") or [])
            row["late"] = sum(1 for p in pages if hit(p, LATE_HOST))
            row["deep"] = sum(1 for p in pages if hit(p, DEEP_HOST))
            row["deep_expected"] = sum(1 for p in pages if p.get("url") in deep)
            row["deep_on_deep"] = sum(1 for p in pages if p.get("url") in deep and hit(p, DEEP_HOST))
        states.append(row)
    crawl = result.get("crawl") or {}
    page_urls = list(crawl.get("pages") or [])
    if not page_urls and result.get("states"):
        page_urls = [p.get("url") for p in result["states"][0].get("pages") or []]
    errors = [p.get("error") for r in result.get("states", []) for p in r.get("pages") or [] if p.get("error")]
    return {
        "wall_s": round(wall, 3),
        "duration_s": result.get("duration_s"),
        "complete": result.get("complete"),
        "incomplete_reasons": (result.get("incomplete_reasons") or [])[:5],
        "page_errors_sample": errors[:5],
        "states": states,
        "states_reached": [s["state"] for s in states if s["reached"]],
        "page_states": sum(s["pages"] for s in states if s["reached"]),
        "pages": len(page_urls),
        "page_urls": page_urls,
        "crawl_skipped": crawl.get("skipped"),
        "concurrency": crawl.get("concurrency", spec.get("concurrency")),
        "quiet_ms": crawl.get("quiet_ms", spec.get("quiet_ms")),
        "fast_forward_s": crawl.get("fast_forward_s", spec.get("fast_forward_s")),
        "chromium": (result.get("tool") or {}).get("chromium"),
        "findings": len(result.get("findings") or []),
    }


# ---- running one measured subprocess --------------------------------------------------------------
def measured(kind: str, spec: dict, timeout_s: float, workdir: Path) -> dict:
    """Run the scanner ('scan') or the bare loop ('bare') on `spec` in a subprocess, sampling its tree."""
    from bench.treemem import TreeSampler, kill_tree

    tag = f"{kind}-{int(time.time() * 1000)}"
    spec_path, out_path, log_path = workdir / f"{tag}.spec.json", workdir / f"{tag}.out.json", workdir / f"{tag}.log"
    spec_path.write_text(json.dumps(spec))
    if kind == "scan":
        cmd = [sys.executable, str(Path(__file__).resolve()), "--worker-scan", str(spec_path), str(out_path)]
    else:
        cmd = [sys.executable, str(Path(__file__).resolve().parent / "bare_loop.py"), "--spec", str(spec_path),
               "--out", str(out_path)]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=str(REPO))
        sampler = TreeSampler(proc.pid).start()
        timed_out = False
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            kill_tree(proc.pid)
            proc.wait(timeout=30)
        memory = sampler.stop()
    outer = time.monotonic() - started
    summary: dict = {}
    if out_path.is_file():
        summary = json.loads(out_path.read_text())
    if timed_out or proc.returncode != 0 or not summary:
        tail = log_path.read_text(errors="replace")[-2000:] if log_path.is_file() else ""
        summary["failed"] = f"{'timed out' if timed_out else f'exit {proc.returncode}'}: {tail.strip()[-600:]}"
    summary["process_wall_s"] = round(outer, 3)
    summary["memory"] = memory
    return summary


# ---- one configuration ------------------------------------------------------------------------------
def bench_site(label: str, *, root: Path, url: str, declaration: Path, toggles: dict | None, max_pages: int | None,
               concurrency: int | None, args, workdir: Path, deep_urls: list[str] | None, watch: bool) -> dict:
    from scanner.demo import SiteServer

    row = {"site": label, "requested_concurrency": concurrency if concurrency is not None else "default",
           "max_pages": max_pages, "started_at": _now()}
    with SiteServer(root) as server:
        # A context closed mid-response makes the server thread print an SSL traceback: not news here.
        server._httpd.handle_error = lambda request, client_address: None
        spec = {"url": url, "resolve": [server.resolve_rule()], "declaration": str(declaration),
                "max_pages": max_pages, "concurrency": concurrency, "quiet_ms": args.quiet_ms,
                "fast_forward_s": args.fast_forward_s, "deep_urls": deep_urls or [], "watch": watch}
        budget = 300 + 6 * (max_pages or 20) * 8
        row["engine"] = engine_version()  # the engine is a working tree: note which sources this run used
        scans = []
        for i in range(args.repeat):
            _say(f"  scanner  {label} concurrency={row['requested_concurrency']} (scanner {row['engine']['scanner_sha256']})"
                 f"{f' run {i + 1}/{args.repeat}' if args.repeat > 1 else ''} ...")
            scans.append(measured("scan", spec, budget, workdir))
            _say("    " + _brief(scans[-1]))
        row["scan"] = scan = median_run(scans)
        if len(scans) > 1:
            row["scan_walls"] = [run.get("wall_s") for run in scans]
        if args.no_bare or scan.get("failed") or not scan.get("page_urls"):
            return row
        bare_spec = {"urls": scan["page_urls"], "states": scan["states_reached"], "resolve": spec["resolve"],
                     "concurrency": scan["concurrency"], "quiet_ms": args.quiet_ms,
                     "fast_forward_s": args.fast_forward_s, "toggles": toggles,
                     "watch_hosts": [LATE_HOST, DEEP_HOST] if watch else [], "consent": args.bare_consent}
        bares = []
        for i in range(args.repeat):
            _say(f"  bare     {label} concurrency={scan['concurrency']}{f' run {i + 1}/{args.repeat}' if args.repeat > 1 else ''} ...")
            bares.append(measured("bare", bare_spec, budget, workdir))
            _say("    " + _brief(bares[-1]))
        row["bare"] = median_run(bares)
        if len(bares) > 1:
            row["bare_walls"] = [run.get("wall_s") for run in bares]
    return row


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (the lower middle one for an even count); a failed run if any."""
    failed = [run for run in runs if run.get("failed")]
    if failed:
        return failed[0]
    ordered = sorted(runs, key=lambda run: run.get("wall_s") or 0.0)
    return ordered[(len(ordered) - 1) // 2]


def _brief(run: dict) -> str:
    if run.get("failed"):
        return f"FAILED {run['failed'][:300]}"
    mem = run.get("memory", {})
    return (f"wall {run.get('wall_s')} s, {run.get('page_states')} page-states, peak RSS {mem.get('peak_rss_mb')} MB, "
            f"other load {mem.get('other_cores')} cores")


# ---- derived numbers and the table -------------------------------------------------------------------
def derive(row: dict) -> dict:
    scan, bare = row.get("scan") or {}, row.get("bare") or {}
    out = {"site": row["site"], "pages": scan.get("pages"), "states": len(scan.get("states_reached") or []),
           "concurrency": scan.get("concurrency") or row.get("requested_concurrency"),
           "default": row.get("requested_concurrency") == "default", "failed": scan.get("failed")}
    ps, wall = scan.get("page_states") or 0, scan.get("wall_s")
    out.update(wall=wall, page_states=ps,
               ps_per_s=round(ps / wall, 2) if ps and wall else None,
               s_per_ps=round(wall / ps, 3) if ps and wall else None,
               cpu_per_ps=round((scan.get("memory") or {}).get("tree_cpu_s", 0) / ps, 2) if ps else None,
               rss=(scan.get("memory") or {}).get("peak_rss_mb"), pss=(scan.get("memory") or {}).get("peak_pss_mb"),
               other=(scan.get("memory") or {}).get("other_cores"), load=(scan.get("memory") or {}).get("load1_mean"))
    bps, bwall = bare.get("page_states") or 0, bare.get("wall_s")
    out.update(bare_wall=bwall, bare_ps=bps,
               bare_cpu_per_ps=round((bare.get("memory") or {}).get("tree_cpu_s", 0) / bps, 2) if bps else None, bare_rss=(bare.get("memory") or {}).get("peak_rss_mb"),
               bare_other=(bare.get("memory") or {}).get("other_cores"), bare_failed=bare.get("failed"),
               # runs before 2026-11-27 wrote the consent cookies instead of clicking the banner
               bare_consent=bare.get("consent", "preset"))
    out["ratio"] = round((wall / ps) / (bwall / bps), 2) if ps and wall and bps and bwall else None
    out["cpu_ratio"] = (round(out["cpu_per_ps"] / out["bare_cpu_per_ps"], 2)
                        if out.get("cpu_per_ps") and out.get("bare_cpu_per_ps") else None)
    watched = [s for s in scan.get("states") or [] if "late" in s]
    if watched:
        reached = [s for s in watched if s["reached"]]
        key = [s for s in reached if s["state"] in ("none", "accept")]
        out["late_found"] = any(s["late"] for s in key)
        out["deep_found"] = any(s["deep"] for s in key)
        out["late_cov"] = (sum(s["late"] for s in reached), sum(s["pages"] for s in reached))
        out["deep_cov"] = (sum(s["deep_on_deep"] for s in reached), sum(s["deep_expected"] for s in reached))
        out["deep_off_deep"] = sum(s["deep"] - s["deep_on_deep"] for s in reached)
    return out


def table(rows: list[dict]) -> str:
    head = ("| site | pages × states = page-states | concurrency | wall (s) | page-states/s | s / page-state "
            "| CPU s / page-state | peak RSS (MB) | peak PSS (MB) | bare loop wall (s) | bare CPU s / page-state "
            "| scanner / bare (wall) | scanner / bare (CPU) | 4-s tracker | deep tracker | other load (cores) |")
    engines = {(row.get("engine") or {}).get("scanner_sha256") for row in rows}
    several = len(engines) > 1
    if several:
        head += " engine |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row, r in zip(rows, map(derive, rows)):
        conc = f"{r['concurrency']}{' (default)' if r['default'] else ''}"
        wall = _num(r["wall"])
        if row.get("scan_walls"):
            wall += f" ({_num(min(row['scan_walls']))}–{_num(max(row['scan_walls']))}, median of {len(row['scan_walls'])})"
        tail = f" {(row.get('engine') or {}).get('scanner_sha256') or '?'} |" if several else ""
        if r["failed"]:
            lines.append(f"| {r['site']} | | {conc} | failed: {_cell(r['failed'][:120])} |" + " |" * 12 + tail)
            continue
        late = deep = "n/a"
        if "late_found" in r:
            late = f"{'found' if r['late_found'] else '**MISSED**'} ({r['late_cov'][0]}/{r['late_cov'][1]})"
            deep = f"{'found' if r['deep_found'] else '**MISSED**'} ({r['deep_cov'][0]}/{r['deep_cov'][1]})"
        bare = _num(r["bare_wall"]) if not r["bare_failed"] else "failed"
        if not r["bare_failed"] and r["bare_wall"] is not None and r["bare_consent"] != "clicks":
            bare += f" ({r['bare_consent']})"
        if row.get("bare_walls"):
            bare += f" ({_num(min(row['bare_walls']))}–{_num(max(row['bare_walls']))}, median of {len(row['bare_walls'])})"
        other = _num(r["other"])
        if r["bare_other"] is not None:
            other += f" / {_num(r['bare_other'])}"
        lines.append(f"| {r['site']} | {r['pages']} × {r['states']} = {r['page_states']} | {conc} | {wall} "
                     f"| {_num(r['ps_per_s'])} | {_num(r['s_per_ps'])} | {_num(r['cpu_per_ps'])} | {_num(r['rss'])} "
                     f"| {_num(r['pss'])} | {bare} | {_num(r['bare_cpu_per_ps'])} | {_num(r['ratio'])} | {_num(r['cpu_ratio'])} "
                     f"| {late} | {deep} "
                     f"| {other} |" + tail)
    return "\n".join(lines)


ROLES = (("python", "Python"), ("driver", "Playwright driver"), ("chromium renderer", "renderers"),
         ("chromium browser", "browser"), ("chromium zygote", "zygote"), ("chromium gpu-process", "GPU"),
         ("chromium utility", "utility"))


def cpu_table(rows: list[dict]) -> str:
    """CPU seconds per page-state by process, scanner vs bare loop, for the default-concurrency runs."""
    head = "| site | concurrency | run | " + " | ".join(label for _, label in ROLES) + " | other | total |"
    lines = [head, "|" + "---|" * (head.count("|") - 1)]
    for row in rows:
        if row.get("requested_concurrency") != "default":
            continue
        for kind in ("scan", "bare"):
            run = row.get(kind) or {}
            ps = run.get("page_states")
            roles = (run.get("memory") or {}).get("cpu_by_role_s") or {}
            if not ps or not roles:
                continue
            cells, listed = [], 0.0
            for key, _ in ROLES:
                total = sum(v for k, v in roles.items() if k == key or (key == "chromium utility" and k.startswith(key)))
                listed += total
                cells.append(f"{total / ps:.2f}")
            cells.append(f"{max(0.0, sum(roles.values()) - listed) / ps:.2f}")
            lines.append(f"| {row['site']} | {run.get('concurrency')} | {'scanner' if kind == 'scan' else 'bare loop'} | "
                         + " | ".join(cells) + f" | {sum(roles.values()) / ps:.2f} |")
    return "\n".join(lines) if len(lines) > 2 else ""


def verdicts(rows: list[dict]) -> list[str]:
    """The issue's targets, each with the measured number."""
    out = []
    derived = [derive(r) for r in rows if not (r.get("scan") or {}).get("failed")]
    demo = [d for d in derived if d["site"] == "demo"]
    for d in demo:
        ok = d["wall"] < TARGETS["demo_wall_s"] and d["s_per_ps"] < TARGETS["demo_s_per_ps"]
        out.append(f"- demo full state matrix (concurrency {d['concurrency']}): {_num(d['wall'])} s wall, "
                   f"{_num(d['s_per_ps'])} s per page-state (target < 15 s and < 0.35 s): {'met' if ok else '**missed**'}")
    synth = [d for d in derived if d["site"] != "demo"]
    by_conc: dict = {}
    for d in synth:
        by_conc.setdefault(d["concurrency"], {})[d["pages"]] = d
    for conc, sizes in sorted(by_conc.items(), key=lambda kv: str(kv[0])):
        if len(sizes) < 2:
            continue
        small, big = sizes[min(sizes)], sizes[max(sizes)]
        ok = (big["ps_per_s"] or 0) >= (small["ps_per_s"] or 0)
        out.append(f"- concurrency {conc}: {big['pages']} pages {big['ps_per_s']} page-states/s vs {small['pages']} pages "
                   f"{small['ps_per_s']} (target: at least as high): {'met' if ok else '**missed**'}")
        # Judged on PSS (each shared page counted once across the tree: what the tree really holds);
        # summed RSS counts Chromium's shared pages once per process and is shown beside it.
        key = "pss" if big.get("pss") and small.get("pss") else "rss"
        grow = (big[key] or 0) / (small[key] or 1)
        ok = (big[key] or 0) < TARGETS["peak_rss_mb"] and grow <= 1.25
        out.append(f"- concurrency {conc}: peak {key.upper()} {small[key]} MB at {small['pages']} pages, {big[key]} MB at "
                   f"{big['pages']} pages (×{grow:.2f}; target < 1536 MB and flat): {'met' if ok else '**missed**'}"
                   + (f"; summed RSS {small['rss']} → {big['rss']} MB" if key == "pss" else ""))
    ratios = [d for d in synth + demo if d["ratio"] is not None]
    if ratios:
        worst = max(ratios, key=lambda d: d["ratio"])
        ok = worst["ratio"] <= TARGETS["ratio"]
        out.append(f"- scanner / bare loop (wall): {min(d['ratio'] for d in ratios)} to {worst['ratio']} (worst: {worst['site']}, "
                   f"concurrency {worst['concurrency']}; target ≤ 1.3): {'met' if ok else '**missed**'}")
        cpu = [d["cpu_ratio"] for d in ratios if d.get("cpu_ratio")]
        if cpu:
            out.append(f"- scanner / bare loop (CPU time per page-state, less sensitive to other load): "
                       f"{min(cpu)} to {max(cpu)}")
    tracked = [d for d in synth if "late_found" in d]
    if tracked:
        missed = [d for d in tracked if not (d["late_found"] and d["deep_found"])]
        out.append(f"- 4-second and deep-page trackers found in {len(tracked) - len(missed)} of {len(tracked)} runs"
                   + ("" if not missed else ": **missed** in " + ", ".join(f"{d['site']}@{d['concurrency']}" for d in missed)))
    return out


def _num(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.2f}" if value < 10 else f"{value:.1f}"
    return str(value)


def _cell(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


# ---- machine and README ------------------------------------------------------------------------------
def machine() -> dict:
    info = {"nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
            "cpu_count": os.cpu_count(), "python": platform.python_version(), "kernel": platform.release()}
    try:
        meminfo = Path("/proc/meminfo").read_text()
        info["ram_gb"] = round(int(re.search(r"MemTotal:\s+(\d+)", meminfo).group(1)) / 2**20, 1)
    except (OSError, AttributeError):
        info["ram_gb"] = None
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text()
        info["cpu"] = re.search(r"model name\s*:\s*(.+)", cpuinfo).group(1).strip()
    except (OSError, AttributeError):
        info["cpu"] = platform.processor() or None
    try:
        from importlib.metadata import version
        info["playwright"] = version("playwright")
    except Exception:
        info["playwright"] = None
    return info


def engine_version() -> dict:
    """Which scanner was measured: git HEAD, whether scanner/ had uncommitted changes, a hash of its sources."""
    import hashlib
    digest = hashlib.sha256()
    for path in sorted((REPO / "scanner").rglob("*")):
        if path.is_file() and path.suffix in (".py", ".js", ".yaml") and "demo" not in path.parts:
            digest.update(path.relative_to(REPO).as_posix().encode())
            digest.update(path.read_bytes())
    info = {"scanner_sha256": digest.hexdigest()[:12]}
    try:
        info["git_head"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                          text=True, timeout=10).stdout.strip() or None
        status = subprocess.run(["git", "status", "--porcelain", "--", "scanner"], cwd=REPO, capture_output=True,
                                text=True, timeout=10).stdout
        info["scanner_dirty"] = bool(status.strip())
    except (OSError, subprocess.SubprocessError):
        pass
    return info


def render_results(runs: list[dict]) -> str:
    rows = [row for run in runs for row in run["rows"]]
    first = runs[0]
    m = first["machine"]
    chromium = next(((r.get("scan") or {}).get("chromium") for r in rows if (r.get("scan") or {}).get("chromium")), None)
    dates = sorted({run["date"] for run in runs})
    loads = [r.get("load_before") for run in runs for r in run["rows"] if r.get("load_before") is not None]
    text = [
        f"Measured {', '.join(dates)} on {m['nproc']} cores ({m.get('cpu') or 'unknown CPU'}), "
        f"{m.get('ram_gb')} GB RAM, Chromium {chromium}, Playwright {m.get('playwright')}, Python {m.get('python')}; "
        f"quiet window {first['settings']['quiet_ms']} ms, fast-forward {first['settings']['fast_forward_s']} s. "
        + (f"1-minute load average before the runs {min(loads):.1f} to {max(loads):.1f} (it lags, so it includes "
           f"the previous configuration's own run; the `other load` column is what other work took during a run). "
           if loads else "")
        + _engine_text(runs), "",
        table(rows), "",
        "Targets:", "", *_verdicts_by_engine(rows), "",
        "CPU seconds per page-state by process (default concurrency):", "", cpu_table(rows), "",
    ]
    return "\n".join(text)


def _verdicts_by_engine(rows: list[dict]) -> list[str]:
    """The targets judged on each engine's rows separately (newest first when several)."""
    engines = list(dict.fromkeys((row.get("engine") or {}).get("scanner_sha256") for row in rows))
    if len(engines) <= 1:
        return verdicts(rows)
    out = []
    for engine in engines:
        mine = [row for row in rows if (row.get("engine") or {}).get("scanner_sha256") == engine]
        head = next(((row.get("engine") or {}).get("git_head") for row in mine), None)
        out += [f"Engine {engine} ({head}):", "", *verdicts(mine), ""]
    return out[:-1]


def _engine_text(runs: list[dict]) -> str:
    parts = []
    for run in runs:
        engines = [r["engine"] for r in run["rows"] if r.get("engine")] or [run["machine"].get("engine") or {}]
        for e in engines:
            if e:
                parts.append(f"{e.get('git_head')}{' + uncommitted changes' if e.get('scanner_dirty') else ''} "
                             f"(scanner sources {e.get('scanner_sha256')})")
    parts = list(dict.fromkeys(parts))
    if not parts:
        return ""
    if len(parts) == 1:
        return f"Scanner measured: {parts[0]}."
    return ("The scanner changed between runs (column `engine`): " + "; ".join(parts) + ".")


def write_readme(runs: list[dict]) -> None:
    body = README.read_text(encoding="utf-8") if README.is_file() else f"# Benchmark\n\n{START}\n{END}\n"
    if START not in body or END not in body:
        body += f"\n## Results\n\n{START}\n{END}\n"
    before, rest = body.split(START, 1)
    _, after = rest.split(END, 1)
    README.write_text(before + START + "\n" + render_results(runs) + "\n" + END + after, encoding="utf-8")


# ---- main ------------------------------------------------------------------------------------------
def scanner_missing_fields() -> list[str]:
    from scanner.options import ScanOptions
    names = {f.name for f in dataclasses.fields(ScanOptions)}
    return [f for f in NEEDED_FIELDS if f not in names]


def scanner_default_concurrency() -> int | None:
    from scanner import ScanOptions
    try:
        value = ScanOptions(url=DEMO_URL, concurrency=None).concurrency
    except Exception:
        return None
    return value if isinstance(value, int) else None


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["--worker-scan"]:
        return worker_scan(Path(argv[1]), Path(argv[2]))
    parser = argparse.ArgumentParser(description="cookie-scanner crawl benchmark")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="synthetic site sizes (default 10,50,200)")
    parser.add_argument("--concurrency", default=",".join(CONCURRENCY), help="e.g. 1,2,4,default")
    parser.add_argument("--quick", action="store_true", help="demo + 10 pages at the default concurrency")
    parser.add_argument("--no-demo", action="store_true", help="skip the demo-site run")
    parser.add_argument("--no-bare", action="store_true", help="skip the bare-loop baseline")
    parser.add_argument("--bare-consent", choices=("clicks", "preset"), default="clicks",
                        help="the bare loop reaches each state through the banner (default) or writes its cookies")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run each configuration N times; the table shows the median run and the range")
    parser.add_argument("--quiet-ms", type=int, default=500)
    parser.add_argument("--fast-forward-s", type=float, default=10.0)
    parser.add_argument("--json", type=Path, help="save the raw results here")
    parser.add_argument("--resume", action="store_true",
                        help="with --json FILE: keep the configurations FILE already has, measure the rest")
    parser.add_argument("--write-readme", action="store_true", help="rewrite the results table in bench/README.md")
    parser.add_argument("--readme-from", help="comma-separated saved --json files: render the README table, no run")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")

    if args.readme_from:
        runs = [json.loads(Path(p).read_text()) for p in args.readme_from.split(",")]
        write_readme(runs)
        print(render_results(runs))
        return 0
    try:
        import psutil  # noqa: F401
    except ImportError:
        print("the benchmark needs psutil (bench-only requirement): "
              f"{Path(sys.executable).parent / 'pip'} install psutil", file=sys.stderr)
        return 2
    missing = scanner_missing_fields()
    if missing:
        print(f"the scanner's ScanOptions lacks {', '.join(missing)}: the crawl engine has not landed", file=sys.stderr)
        return 2
    sizes = [10] if args.quick else [int(s) for s in args.sizes.split(",") if s.strip()]
    wanted = ["default"] if args.quick else [c.strip() for c in args.concurrency.split(",") if c.strip()]
    default = scanner_default_concurrency()
    levels: list[int | None] = []
    for c in wanted:
        if c == "default":
            if default is not None and default in [int(x) for x in wanted if x != "default"]:
                continue  # the default is one of the explicit levels: measured there, marked below
            levels.append(None)
        else:
            levels.append(int(c))
    from scanner.declaration import load_declaration
    from scanner.paths import demo_site_dir, rules_dir

    info = machine()
    engine = engine_version()
    _say(f"machine: {info['nproc']} cores, {info['ram_gb']} GB, {info.get('cpu')}; scanner default concurrency "
         f"{default}; load {os.getloadavg()[0]:.2f}")
    workdir = Path(tempfile.mkdtemp(prefix="bench-run-"))
    rows: list[dict] = []
    if args.resume and args.json and args.json.is_file():
        rows = json.loads(args.json.read_text())["rows"]
        _say(f"resuming: {len(rows)} configurations already measured in {args.json}")
    done = {(r["site"], r.get("level", r["requested_concurrency"] if isinstance(r["requested_concurrency"], int)
                                   else None)) for r in rows}
    try:
        if not args.no_demo and ("demo", None) not in done:
            load_before = os.getloadavg()[0]
            decl = rules_dir() / "sites" / "micropep.yaml"
            row = bench_site("demo", root=demo_site_dir(), url=DEMO_URL, declaration=decl,
                             toggles=load_declaration(decl).consent_mapping(), max_pages=None, concurrency=None,
                             args=args, workdir=workdir, deep_urls=None, watch=False)
            row["load_before"] = round(load_before, 2)
            row["level"] = None
            rows.append(row)
            if args.json:
                _save(args.json, dict(info, engine=engine), args, rows)
        for n in sizes:
            if all((f"synthetic {n}", level) in done for level in levels):
                continue
            site = write_site(n, workdir / f"site-{n}")
            toggles = load_declaration(site.declaration).consent_mapping()
            for level in levels:
                if (f"synthetic {n}", level) in done:
                    continue
                load_before = os.getloadavg()[0]
                row = bench_site(f"synthetic {n}", root=site.root, url=site.url, declaration=site.declaration,
                                 toggles=toggles, max_pages=n, concurrency=level, args=args, workdir=workdir,
                                 deep_urls=site.deep_urls(), watch=True)
                row["load_before"] = round(load_before, 2)
                row["level"] = level
                if level is not None and level == scanner_default_concurrency():  # (the default may change mid-run)
                    row["requested_concurrency"] = "default"
                rows.append(row)
                if args.json:  # keep what we have if a later run dies
                    _save(args.json, dict(info, engine=engine), args, rows)
            shutil.rmtree(site.root.parent, ignore_errors=True)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    after = engine_version()
    engine["changed_during_run"] = after["scanner_sha256"] != engine["scanner_sha256"]
    info["engine"] = engine
    run = _save(args.json, info, args, rows) if args.json else _record(info, args, rows)
    print()
    print(table(rows))
    print()
    print("\n".join(verdicts(rows)))
    if args.write_readme:
        write_readme([run])
        _say(f"results written to {README}")
    return 0


def _record(info: dict, args, rows: list[dict]) -> dict:
    slim = []
    for row in rows:
        row = json.loads(json.dumps(row))
        (row.get("scan") or {}).pop("page_urls", None)
        slim.append(row)
    return {"date": datetime.date.today().isoformat(), "machine": info,
            "settings": {"quiet_ms": args.quiet_ms, "fast_forward_s": args.fast_forward_s}, "rows": slim}


def _save(path: Path, info: dict, args, rows: list[dict]) -> dict:
    run = _record(info, args, rows)
    path.write_text(json.dumps(run, indent=1))
    return run


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
