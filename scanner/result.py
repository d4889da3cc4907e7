"""The scan result (report.json): skeleton and completion (writes: scanner.report.write_json)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from . import SCHEMA_VERSION, __version__
from .domains import host_of, registrable_domain
from .paths import rules_version
from .redact import redact_command, redact_report, redact_url


def utc_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def new_result(options) -> dict:
    host = host_of(options.url)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "cookie-scanner", "version": __version__, "chromium": None, "rules_version": rules_version()},
        "site": {"url": redact_url(options.url, options.keep_query), "final_url": None, "host": host,
                 "registrable_domain": registrable_domain(host)},
        "declaration": None,
        "command": redact_command(options.command, options.keep_query),
        "options": {
            "states": list(options.states),
            "resolve": list(options.resolve),
            "ignore_https_errors": options.ignore_https_errors,
            "locale": options.locale,
            "timeout_s": options.timeout_s,
            "quiet_ms": options.quiet_ms,
            "keep_values": options.keep_values,
            "keep_query": options.keep_query,
        },
        "started_at": utc_now(),
        "finished_at": None,
        "duration_s": None,
        "complete": False,
        "incomplete_reasons": [],
        "states": [],
        "findings": [],
        "audits": [],
    }


def finish(result: dict, started: float, now: float) -> dict:
    """Set completion: a scan is complete only if every state was reached and every page loaded.
    Every URL in the result is then redacted (scanner.redact): credentials, fragments and, unless
    --keep-query, query values never leave the scan; nested containers are rebuilt, not edited."""
    reasons = []
    for state in result["states"]:
        if not state.get("reached"):
            reasons.append(f"state {state['state']} not reached: {state.get('error') or 'unknown reason'}")
        if state.get("interrupted"):
            reasons.append(f"state {state['state']} interrupted after {state.get('interrupted_after')}")
        for page in state.get("pages", []):
            if page.get("error"):
                reasons.append(f"state {state['state']}: page {page['url']} failed: {page['error']}")
    for state in result["states"]:
        pages = state.get("pages") or []
        if pages and pages[0].get("final_url"):
            result["site"]["final_url"] = pages[0]["final_url"]
            break
    wanted = set(result["options"]["states"])
    done = {s["state"] for s in result["states"]}
    reasons.extend(f"state {name} not scanned" for name in result["options"]["states"] if name not in done)
    # reasons set during the scan (deadline, interruption) come first: they explain the rest
    result["incomplete_reasons"] = list(dict.fromkeys(list(result["incomplete_reasons"]) + reasons))
    result["complete"] = not result["incomplete_reasons"] and wanted <= done
    result["finished_at"] = utc_now()
    result["duration_s"] = round(now - started, 3)
    return redact_report(result)


def default_out_dir(url: str, base: Path | None = None) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    host = "".join(ch if ch.isalnum() or ch in ".-" else "_" for ch in host_of(url)) or "site"
    return (base or Path("reports")) / f"{host}-{stamp}"
