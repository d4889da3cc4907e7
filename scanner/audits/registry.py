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
    key = "|".join([rule, state or "", subject.get("kind", ""), subject.get("name", ""),
                    subject.get("domain") or subject.get("host") or ""])
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:12]


class Findings:
    """Collects findings, one per rule, state and subject, listing every page it occurred on."""

    def __init__(self) -> None:
        self._by_id: dict[str, dict] = {}

    def add(self, rule: str, severity: str, state: str | None, page: str | None, subject: dict,
            message: str, evidence: dict | None = None) -> None:
        if not any(a.id == rule for a in AUDITS):
            raise ValueError(f"finding for unregistered rule {rule!r}: register it with @audit or describe()")
        if severity not in SEVERITIES:
            raise ValueError(f"unknown severity {severity!r}")
        fid = finding_id(rule, state, subject)
        existing = self._by_id.get(fid)
        if existing:
            if page and page not in existing["pages"]:
                existing["pages"].append(page)
            return
        self._by_id[fid] = {"id": fid, "rule": rule, "severity": severity, "state": state, "page": page,
                            "pages": [page] if page else [], "subject": subject, "message": message,
                            "evidence": evidence or {}}

    def all(self) -> list[dict]:
        order = {s: i for i, s in enumerate(SEVERITIES)}
        return sorted(self._by_id.values(), key=lambda f: (order.get(f["severity"], 9), f["rule"], f["state"] or "",
                                                           f["subject"].get("name", "")))
