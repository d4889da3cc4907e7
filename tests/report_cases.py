"""Report cases the renderer tests share: the demo report (tests/fixtures/report/micropep.json), the
hostile one, the demo with a state not reached, the demo compared with a baseline, and screenshot
files for a rendered folder."""
from __future__ import annotations

import json
from pathlib import Path

from scanner.report import apply_baseline
from scanner.report.html import safe_local

FIXTURES = Path(__file__).parent / "fixtures" / "report"
PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                    "1f15c4890000000d4944415478da63f8ffff3f0005fe02fea7d6a4b00000000049454e44ae426082")


def demo() -> dict:
    return json.loads((FIXTURES / "micropep.json").read_text(encoding="utf-8"))


def hostile() -> dict:
    return json.loads((FIXTURES / "hostile.json").read_text(encoding="utf-8"))


def incomplete() -> dict:
    r = demo()
    for s in r["states"]:
        if s["state"] == "withdraw":
            s.update(reached=False, error="the consent manager could not be reopened", pages=[])
    r["complete"], r["incomplete_reasons"] = False, ["state withdraw not reached"]
    return r


def with_baseline() -> dict:
    r, old = demo(), demo()
    old["findings"] = old["findings"][4:]
    return apply_baseline(r, old, path="reports/previous/report.json")


def with_consent_mode() -> dict:
    """The demo with Google Consent Mode signals on its Google Analytics hits: denied before an
    answer and after a refusal, granted after accept (the report's Consent Mode table)."""
    from scanner.classify.consent_mode import decode
    r = demo()
    for state in r["states"]:
        query = "gcs=G111&gcd=13t3t3t3t5l1" if state["state"] == "accept" else "gcs=G100&gcd=13p3p3p2p5l1"
        for page in state["pages"]:
            for request in page["requests"]:
                if "google-analytics" in request["host"]:
                    request["consent_mode"] = decode(f"https://{request['host']}/g/collect?{query}")
    return r


def add_screenshots(out: Path, report: dict) -> None:
    """The report's screenshots as files (a 1×1 PNG), so that the page loads every image it links."""
    paths = [s["path"] for st in report["states"] for s in st.get("screenshots") or []]
    paths += [f["evidence"]["screenshot"] for f in report["findings"] if "screenshot" in (f.get("evidence") or {})]
    for p in paths:
        if safe_local(p):
            (out / p).parent.mkdir(parents=True, exist_ok=True)
            (out / p).write_bytes(PNG)
