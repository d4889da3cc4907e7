"""Audit metadata and the finding shape. Each audit is a pure function over the scan result
and the declaration, registered with its id, severity, legal source and remediation."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable

SEVERITIES = ("violation", "warning", "info")


@dataclass(frozen=True)
class Audit:
    id: str
    severity: str
    title: str
    description: str
    legal_source: str
    remediation: str
    check: Callable | None   # None: a rule id reported by another audit's check

    def meta(self) -> dict:
        return {"id": self.id, "severity": self.severity, "title": self.title, "description": self.description,
                "legal_source": self.legal_source, "remediation": self.remediation}


AUDITS: list[Audit] = []


def audit(id: str, severity: str, title: str, description: str, legal_source: str, remediation: str):
    def register(fn: Callable) -> Callable:
        AUDITS.append(Audit(id, severity, title, description, legal_source, remediation, fn))
        return fn
    return register


def describe(id: str, severity: str, title: str, description: str, legal_source: str, remediation: str) -> None:
    """Register a rule id whose findings another audit's check reports (e.g. one pass over the
    `none` state reports cookies, storage and requests under three ids)."""
    AUDITS.append(Audit(id, severity, title, description, legal_source, remediation, None))


def finding_id(rule: str, state: str | None, subject: dict) -> str:
    """Stable id of a problem: its rule and subject (`state` is kept for the ids of reports before
    schema 1.3, when a problem had one finding per state; audits pass None)."""
    key = "|".join([rule, state or "", subject.get("kind", ""), subject.get("name", ""),
                    subject.get("domain") or subject.get("host") or ""])
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


def problem_key(finding: dict) -> str:
    """The (rule, subject) a finding is about, whatever the report's schema: findings of a report
    before 1.3 (one per state) share the key of the one finding that replaces them."""
    subject = finding.get("subject") if isinstance(finding.get("subject"), dict) else {}
    if subject.get("kind") in ("policy", "category") or str(finding.get("rule", "")).startswith("policy-"):
        return str(finding.get("id"))       # policy findings: already one per problem
    return finding_id(str(finding.get("rule")), None, {k: str(v) for k, v in subject.items() if v is not None})


_RANK = {s: i for i, s in enumerate(SEVERITIES)}


class Findings:
    """Collects findings: ONE per rule and subject (a problem), listing the states it occurs in
    (`states`, with each state's severity, pages and wording in `occurrences`) and every page (`pages`).
    `state`, `page` and `message` are those of its first occurrence."""

    def __init__(self) -> None:
        self._by_id: dict[str, dict] = {}

    def add(self, rule: str, severity: str, state: str | None, page: str | None, subject: dict,
            message: str, evidence: dict | None = None) -> None:
        if not any(a.id == rule for a in AUDITS):
            raise ValueError(f"finding for unregistered rule {rule!r}: register it with @audit or describe()")
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        fid = finding_id(rule, None, subject)
        found = self._by_id.get(fid)
        if found is None:
            found = self._by_id[fid] = {"id": fid, "rule": rule, "severity": severity, "state": state,
                                        "states": [], "page": page, "pages": [], "subject": subject,
                                        "message": message, "evidence": evidence or {}, "occurrences": []}
        elif _RANK[severity] < _RANK[found["severity"]]:   # the worst occurrence sets the severity
            found.update(severity=severity, message=message, evidence=evidence or {})
        if page and page not in found["pages"]:
            found["pages"].append(page)
        if state is None:
            return
        occurrence = next((o for o in found["occurrences"] if o["state"] == state), None)
        if occurrence is None:
            found["states"].append(state)
            occurrence = {"state": state, "severity": severity, "pages": [], "message": message}
            found["occurrences"].append(occurrence)
        elif _RANK[severity] < _RANK[occurrence["severity"]]:
            occurrence.update(severity=severity, message=message)
        if page and page not in occurrence["pages"]:
            occurrence["pages"].append(page)

    def all(self, state_order=()) -> list[dict]:
        """Sorted by severity, rule, first state, subject name; `state_order` (the result's states
        in scan order) orders each finding's states."""
        rank = {name: i for i, name in enumerate(state_order)}
        for f in self._by_id.values():
            f["occurrences"].sort(key=lambda o: rank.get(o["state"], len(rank)))
            f["states"] = [o["state"] for o in f["occurrences"]]
            if f["occurrences"]:
                first = f["occurrences"][0]
                f["state"], f["page"] = first["state"], (first["pages"] or [f["page"]])[0]
        return sorted(self._by_id.values(), key=lambda f: (_RANK.get(f["severity"], 9), f["rule"],
                                                           rank.get(f["state"], -1) if f["state"] else -1,
                                                           f["subject"].get("name", "")))
