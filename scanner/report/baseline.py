"""Compare two reports: `apply_baseline` for `scan --baseline`, `diff_reports` + `format_diff` for `diff OLD NEW`.

Findings are matched by the problem they are about (rule and subject: scanner.audits.problem_key),
so a baseline written before schema 1.3 (one finding per state) matches the one finding per
problem of a newer report.
Inventory items are matched by identity: cookies by (name, domain), storage by
(kind, origin, key), vendors by vendor name (or host when no vendor is known).

A finding or item that is gone while the state it belonged to was NOT reached in
the new scan is not evidence of a fix: it is marked `"unverified": true`.
"""
from __future__ import annotations

from typing import Any

from . import verdict
from .markdown import md_escape
from .matrix import Report, iter_observations, severity_counts, sorted_findings, states_in_order
from ..audits.registry import problem_key


def _cookie_keys(report: Report) -> dict[tuple, dict[str, Any]]:
    out: dict[tuple, dict[str, Any]] = {}
    for state, _page, c in iter_observations(report, "cookies"):
        if c.get("stored") is False:
            continue
        key = (str(c.get("name")), str(c.get("domain")))
        entry = out.setdefault(key, {"name": key[0], "domain": key[1], "category": c.get("category"),
                                     "vendor": c.get("vendor"), "states": []})
        if state not in entry["states"]:
            entry["states"].append(state)
    return out


def _storage_keys(report: Report) -> dict[tuple, dict[str, Any]]:
    out: dict[tuple, dict[str, Any]] = {}
    for state, _page, s in iter_observations(report, "storage"):
        key = (str(s.get("kind")), str(s.get("origin")), str(s.get("key")))
        entry = out.setdefault(key, {"kind": key[0], "origin": key[1], "key": key[2], "category": s.get("category"),
                                     "vendor": s.get("vendor"), "states": []})
        if state not in entry["states"]:
            entry["states"].append(state)
    return out


def _vendor_keys(report: Report) -> dict[tuple, dict[str, Any]]:
    out: dict[tuple, dict[str, Any]] = {}
    for state, _page, r in iter_observations(report, "requests"):
        if not (r.get("vendor") or r.get("tracker")):
            continue
        name = str(r.get("vendor") or r.get("host"))
        entry = out.setdefault((name,), {"name": name, "category": r.get("vendor_category") or r.get("category"),
                                         "hosts": [], "states": []})
        if r.get("host") and r["host"] not in entry["hosts"]:
            entry["hosts"].append(r["host"])
        if state not in entry["states"]:
            entry["states"].append(state)
    return out


def _unreached(report: Report) -> set[str]:
    return {str(s["state"]) for s in states_in_order(report) if not s.get("reached")}


def _compare(old: dict[tuple, dict], new: dict[tuple, dict], unreached: set[str]) -> list[dict[str, Any]]:
    out = []
    for key, item in new.items():
        out.append({**item, "status": "unchanged" if key in old else "new"})
    for key, item in old.items():
        if key not in new:
            gone = {**item, "status": "gone"}
            if set(item.get("states") or []) & unreached:
                gone["unverified"] = True
            out.append(gone)
    order = {"new": 0, "gone": 1, "unchanged": 2}
    return sorted(out, key=lambda i: (order[i["status"]], str(i.get("name") or i.get("key")),
                                      str(i.get("domain") or i.get("origin") or "")))


def inventory_diff(old: Report, new: Report) -> dict[str, list[dict[str, Any]]]:
    unreached = _unreached(new)
    return {
        "cookies": _compare(_cookie_keys(old), _cookie_keys(new), unreached),
        "storage": _compare(_storage_keys(old), _storage_keys(new), unreached),
        "vendors": _compare(_vendor_keys(old), _vendor_keys(new), unreached),
    }


def _states_of(f: dict) -> list[str]:
    return [str(x) for x in f.get("states") or ([f["state"]] if f.get("state") else [])]


def _by_problem(report: Report) -> dict[str, dict]:
    """problem key -> finding; a pre-1.3 report's findings of one problem merged (states, pages)."""
    out: dict[str, dict] = {}
    for f in report.get("findings") or []:
        if not isinstance(f, dict):
            continue
        key = problem_key(f)
        if key not in out:
            out[key] = {**f, "states": _states_of(f), "pages": list(f.get("pages") or [])}
            continue
        merged = out[key]
        merged["states"] += [x for x in _states_of(f) if x not in merged["states"]]
        merged["pages"] += [p for p in f.get("pages") or [] if p not in merged["pages"]]
    return out


def _gone_findings(old: Report, new: Report) -> list[dict]:
    current = _by_problem(new)
    unreached = _unreached(new)
    gone = []
    for key, f in _by_problem(old).items():
        if key in current:
            continue
        g = {k: v for k, v in f.items() if k != "baseline"}
        g["baseline"] = "gone"
        if set(_states_of(f)) & unreached:
            g["unverified"] = True
        gone.append(g)
    return gone


def apply_baseline(report: Report, baseline_report: Report, *, path: str | None = None) -> Report:
    """Mark `report` IN PLACE (findings new / unchanged, a `baseline` section) and return it."""
    out = report
    before = _by_problem(baseline_report)
    for f in out.get("findings") or []:
        f["baseline"] = "unchanged" if problem_key(f) in before else "new"
    site = baseline_report.get("site") or {}
    out["baseline"] = {
        "path": path,
        "site": site.get("url"),
        "started_at": baseline_report.get("started_at"),
        "verdict": verdict(baseline_report),
        "gone": _gone_findings(baseline_report, out),
        "inventory": inventory_diff(baseline_report, out),
    }
    return out


def _summary(report: Report) -> dict[str, Any]:
    return {"site": (report.get("site") or {}).get("url"), "started_at": report.get("started_at"),
            "verdict": verdict(report), "counts": severity_counts(report)}


def diff_reports(old: Report, new: Report) -> dict[str, Any]:
    before = _by_problem(old)
    after = _by_problem(new)
    return {
        "old": _summary(old),
        "new": _summary(new),
        "verdict_changed": verdict(old) != verdict(new),
        "findings": {
            "new": sorted_findings(new, [f for i, f in after.items() if i not in before]),
            "gone": sorted_findings(old, _gone_findings(old, new)),
            "unchanged": sorted_findings(new, [f for i, f in after.items() if i in before]),
        },
        **inventory_diff(old, new),
    }


# --------------------------------------------------------------------------- formatting

def _finding_line(f: dict[str, Any], esc) -> str:
    subject = f.get("subject") or {}
    where = subject.get("domain") or subject.get("host")
    flag = " (state not reached now: unverified)" if f.get("unverified") else ""
    states = ", ".join(_states_of(f)) or "site"
    return (f"[{esc(f.get('severity'))}] {esc(f.get('rule'))} in {esc(states)}: "
            f"{esc(subject.get('kind'))} {esc(subject.get('name'))}" + (f" ({esc(where)})" if where else "")
            + _on_pages(f, esc) + flag)


def _on_pages(f: dict[str, Any], esc) -> str:
    pages = [p for p in f.get("pages") or ([f["page"]] if f.get("page") else []) if p]
    if not pages:
        return ""
    return f" on {esc(pages[0])}" + (f" and {len(pages) - 1} other page{'' if len(pages) == 2 else 's'}"
                                     if len(pages) > 1 else "")


def _item_line(kind: str, item: dict[str, Any], esc) -> str:
    if kind == "cookies":
        text = f"{esc(item['name'])} ({esc(item['domain'])})"
    elif kind == "storage":
        text = f"{esc(item['kind'])} {esc(item['key'])} ({esc(item['origin'])})"
    else:
        text = f"{esc(item['name'])} ({esc(', '.join(item.get('hosts') or []))})"
    return text + (" (state not reached now: unverified)" if item.get("unverified") else "")


def finding_line(f: dict[str, Any]) -> str:
    """One terminal line for a finding, as `diff` prints it: severity, rule, states, item, page."""
    return _finding_line(f, _plain)


def _plain(value: object) -> str:
    # Terminal output: drop control characters so a hostile name cannot move the cursor.
    return "".join(ch if ch.isprintable() else "?" for ch in ("" if value is None else str(value)))


def format_diff(diff: dict[str, Any], fmt: str = "text") -> str:
    if fmt not in ("text", "md"):
        raise ValueError(f"unknown diff format {fmt!r}; choose text or md")
    md = fmt == "md"
    esc = md_escape if md else _plain
    bullet = "- " if md else "  "
    old, new = diff["old"], diff["new"]
    head = (f"{'## ' if md else ''}Diff of {esc(old['site'])}: {esc(old['started_at'])} -> {esc(new['started_at'])}")
    lines = [head, "", f"Verdict: {esc(old['verdict'])} -> {esc(new['verdict'])}"
             + (" (changed)" if diff["verdict_changed"] else " (same)")]
    for label, key in (("New findings", "new"), ("Gone findings", "gone")):
        items = diff["findings"][key]
        lines += ["", f"{'### ' if md else ''}{label} ({len(items)})"]
        lines += [bullet + _finding_line(f, esc) for f in items] or [bullet + "none"]
    lines += ["", f"Unchanged findings: {len(diff['findings']['unchanged'])}"]
    for kind, label in (("cookies", "Cookies"), ("storage", "Storage"), ("vendors", "Vendors")):
        changed = [i for i in diff[kind] if i["status"] != "unchanged"]
        new_count = sum(i["status"] == "new" for i in changed)
        lines += ["", f"{'### ' if md else ''}{label}: {new_count} new, {len(changed) - new_count} gone"]
        lines += [f"{bullet}{i['status']}: {_item_line(kind, i, esc)}" for i in changed]
    return "\n".join(lines) + "\n"
