"""Micro-benchmarks: the in-process speed targets that used to be timed assertions in the tests.

    .venv/bin/python bench/micro.py              # table of median / worst of 5 runs against each target
    .venv/bin/python bench/micro.py --repeat 20  # more runs
    .venv/bin/python bench/micro.py --json out.json

The tests check what these pieces do (a hostile TC string raises, a huge one is capped and its peak
memory is bounded by tracemalloc); how fast they do it is measured here, where a loaded CI machine
cannot turn a slow second into a failed deploy. Exit status 1 when a median misses its target.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parent.parent
for extra in (REPO, REPO / "tests"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

import test_tcf_decode as tcf  # noqa: E402  (the tests' own TC-string builders)

from scanner.classify import KnownCookies, Vendors  # noqa: E402
from scanner.consent.tcf import TCStringError, decode  # noqa: E402
from scanner.report import FORMATS, load_report, render_all  # noqa: E402

REALISTIC = REPO / "tests" / "fixtures" / "report" / "micropep.json"


def _decode_raises(text: str) -> Callable[[], None]:
    def run() -> None:
        try:
            decode(text)
        except TCStringError:
            return
        raise AssertionError("expected TCStringError")
    return run


def _vendor_lookups() -> Callable[[], None]:
    vendors = Vendors.load()
    hosts = ["region1.google-analytics.com", "a.b.c.d.example.org", "px.ads.linkedin.com", "cdn.jsdelivr.net"] * 2500

    def run() -> None:
        for host in hosts:
            vendors.for_host(host)
    return run


def _render() -> Callable[[], None]:
    report = load_report(REALISTIC)
    out = Path(tempfile.mkdtemp(prefix="bench-micro-"))
    render_all(report, out / "warm-up", FORMATS)          # first call loads templates; measure the next ones

    def run() -> None:
        render_all(report, out / "run", FORMATS)
    return run


def cases() -> list[tuple[str, float, Callable[[], None]]]:
    """(name, target in seconds, callable)."""
    restriction = tcf.n(2, 6) + tcf.n(1, 2) + tcf.n(1, 12) + "1" + tcf.n(1, 16) + tcf.n(65535, 16)
    hostile = [(f"TC string, hostile: {name}", 0.5, _decode_raises(text)) for name, text in sorted(tcf.HOSTILE.items())]
    return [
        ("TC string, 600 ranges 1..65535", 1.0,
         lambda: decode(tcf.core(consents=tcf.ranges([(1, 65535)] * 600), li=tcf.ranges([(2, 65535)])))),
        ("TC string, full 65535-bit bitfield", 1.0, lambda: decode(tcf.core(consents=tcf.bitfield(set(range(1, 65536)))))),
        ("TC string, alternating bitfield", 1.0,
         lambda: decode(tcf.core(consents=tcf.bitfield(set(range(1, 65536, 2)))))),
        ("TC string, 300 restrictions x 65535", 1.0,
         lambda: decode(tcf.core(restrictions=tcf.n(300, 12) + restriction * 300))),
        ("TC string, 4095 single entries", 1.0,
         lambda: decode(tcf.core(consents=tcf.ranges([(v, v) for v in range(1, 4096)], max_id=4095)))),
        *hostile,
        ("known cookies table load", 0.5, KnownCookies.load),
        ("10,000 vendor host lookups", 0.1, _vendor_lookups()),
        ("render_all, 6 formats, realistic report", 5.0, _render()),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rows, missed = [], 0
    for name, target, run in cases():
        times = []
        for _ in range(max(1, args.repeat)):
            began = time.perf_counter()
            run()
            times.append(time.perf_counter() - began)
        median, worst = statistics.median(times), max(times)
        ok = median <= target
        missed += not ok
        rows.append({"case": name, "target_s": target, "median_s": median, "worst_s": worst, "met": ok})
        print(f"{'ok    ' if ok else 'MISSED'} {name:<58} median {median * 1000:8.1f} ms  "
              f"worst {worst * 1000:8.1f} ms  target {target * 1000:6.0f} ms", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"{len(rows) - missed} of {len(rows)} targets met")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
