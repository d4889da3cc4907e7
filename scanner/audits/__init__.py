"""Audits: small pure functions over the scan result and the site's declaration.

    annotate_and_audit(result, declaration=None) -> result   # classifies items, adds findings, causes, audits
    problem_key(finding) -> str     # the (rule, subject) a finding is about, in any schema version
    cause_summary(cause) -> str     # one plain sentence for an entry of report.json `causes`
"""
from __future__ import annotations

from ..classify import default_known_cookies, default_vendors
from ..classify.annotate import classify_result
from ..consent import load_recipes
from . import checks, tcf  # noqa: F401  (registers the audits)
from .causes import attribute, summary as cause_summary
from .registry import AUDITS, Findings, finding_id, problem_key

__all__ = ["AUDITS", "annotate_and_audit", "cause_summary", "problem_key", "verdict"]


from .verdict import verdict  # the audits' conclusion; renderers display it


def annotate_and_audit(result: dict, declaration=None, *, policy_findings: list[dict] | None = None) -> dict:
    recipes, _ = load_recipes()
    if declaration is not None:  # the judgement reads the categories from the result
        result["declaration"] = declaration.summary()
    classify_result(result, declaration=declaration, known=default_known_cookies(), vendors=default_vendors(),
                    recipes=recipes)
    _keep_contacted_tcf_vendors(result)
    findings = Findings()
    for entry in AUDITS:
        if entry.check is not None:
            entry.check(result, declaration, findings)
    result["findings"] = (findings.all([str(s.get("state")) for s in result["states"]])
                          + [_with_id(f) for f in policy_findings or []])
    result["audits"] = [a.meta() for a in AUDITS]
    if policy_findings is not None:
        from ..policy import POLICY_RULES
        result["audits"] += [dict(meta) for meta in POLICY_RULES]
        result["policy"] = {"source": policy_findings[0]["page"] if policy_findings else None,
                            "findings_count": len(policy_findings)}
    result["causes"] = attribute(result, default_vendors())   # sets each finding's `cause`
    result["verdict"] = verdict(result)
    return result


def _keep_contacted_tcf_vendors(result: dict) -> None:
    """The Global Vendor List given with --gvl stays in report.json only for the TCF vendors the
    scan's requests went to (idempotent)."""
    tcf_block = result.get("tcf")
    if not isinstance(tcf_block, dict) or not isinstance(tcf_block.get("vendors"), dict):
        return
    seen = {str((r.get("tcf_vendor") or {}).get("id")) for s in result.get("states") or []
            for p in s.get("pages") or [] for r in p.get("requests") or [] if isinstance(r.get("tcf_vendor"), dict)}
    tcf_block["vendors"] = {k: v for k, v in tcf_block["vendors"].items() if k in seen}


def _with_id(finding: dict) -> dict:
    """Policy findings get a stable id too: rule, subject and the quoted words."""
    finding = {**finding, "states": [finding["state"]] if finding.get("state") else []}
    if finding.get("id"):
        return finding
    quote = str((finding.get("evidence") or {}).get("quote") or "")
    subject = dict(finding.get("subject") or {})
    return {"id": finding_id(finding["rule"], None, {**subject, "name": f"{subject.get('name', '')}|{quote}"}), **finding}
