"""Fleet benchmark (issue 18): the same fleet on the local worker pool and on two Celery workers.

    .venv/bin/python bench/fleet.py                       # 6 sites of 10 pages, 6 states each
    .venv/bin/python bench/fleet.py --sites 8 --pages 20 --json /tmp/fleet.json

The fleet is N copies of the synthetic benchmark site (bench/synthetic.py: the demo's trackers and
HubSpot banner, its declaration, six consent states), served on 127.0.0.1 by SiteServer. Each engine
runs the real CLI (`cookie-scanner fleet`), the Celery one against a redis-server started here on a
loopback port with two `cookie-scanner worker` processes. Measured: wall time, sites per hour,
page-states per second, and CPU-seconds per page-state (the whole machine's CPU time during the
run, psutil.cpu_times(), over the page-states scanned: run it on an otherwise idle machine).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _cpu() -> float:
    import psutil
    times = psutil.cpu_times()
    return times.user + times.system + getattr(times, "nice", 0.0)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def page_states(out: Path) -> int:
    total = 0
    for row in json.loads((out / "fleet.json").read_text(encoding="utf-8"))["sites"]:
        report = json.loads((out / row["slug"] / "report.json").read_text(encoding="utf-8"))
        total += sum(len(s.get("pages") or []) for s in report["states"])
    return total


def run(command: list[str], out: Path) -> dict:
    cpu, began = _cpu(), time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
    wall = time.monotonic() - began
    cpu = _cpu() - cpu
    if done.returncode not in (0, 1):
        raise SystemExit(f"fleet failed ({done.returncode}): {done.stderr[-500:]}")
    rows = json.loads((out / "fleet.json").read_text(encoding="utf-8"))["sites"]
    states = page_states(out)
    return {"sites": len(rows), "complete": sum(1 for r in rows if r["complete"]), "wall_s": round(wall, 1),
            "sites_per_hour": round(len(rows) / wall * 3600), "page_states": states,
            "page_states_per_s": round(states / wall, 2), "cpu_s_per_page_state": round(cpu / states, 3)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=6)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from bench.synthetic import HOST, write_site
    from scanner.demo import SiteServer

    rows = {}
    with tempfile.TemporaryDirectory(prefix="fleet-bench-") as tmp:
        base = Path(tmp)
        site = write_site(args.pages, base / "site")
        with SiteServer(site.root) as server:
            fleet = base / "fleet.yaml"
            fleet.write_text(yaml.safe_dump({
                "defaults": {"declaration": str(site.declaration), "max_pages": args.pages, "ignore_https_errors": True,
                             "resolve": [server.resolve_rule()], "deadline": 900},
                "sites": [{"url": f"https://{HOST}/", "tags": {"copy": str(i)}} for i in range(args.sites)]}))
            cli = [sys.executable, "-m", "scanner.cli", "fleet", str(fleet)]
            rows["local pool (2 workers)"] = run([*cli, "--out", str(base / "local"), "--workers", "2"], base / "local")
            print("local:", rows["local pool (2 workers)"], flush=True)
            redis = shutil.which("redis-server")
            port = _free_port()
            broker = f"redis://127.0.0.1:{port}/0"
            server_process = subprocess.Popen([redis, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                               "--dir", tmp], stdout=subprocess.DEVNULL)
            workers = [subprocess.Popen([sys.executable, "-m", "scanner.cli", "worker", "--broker", broker],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                                        cwd=REPO) for _ in range(2)]
            try:
                time.sleep(3)
                rows["Celery (2 workers, 1 scan each)"] = run([*cli, "--out", str(base / "celery"), "--broker", broker],
                                                              base / "celery")
                print("celery:", rows["Celery (2 workers, 1 scan each)"], flush=True)
            finally:
                for worker in workers:
                    try:
                        os.killpg(worker.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                server_process.terminate()
    print("| engine | sites | wall | sites/hour | page-states | page-states/s | CPU-s per page-state |")
    print("|---|---|---|---|---|---|---|")
    for name, row in rows.items():
        print(f"| {name} | {row['sites']} | {row['wall_s']} s | {row['sites_per_hour']} | {row['page_states']} | "
              f"{row['page_states_per_s']} | {row['cpu_s_per_page_state']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
