"""report.html: one self-contained page for a compliance officer (and a PDF printer).

Security model (every string from the scanned site is hostile):
* Jinja2 autoescape is ON and no site string is ever marked safe; the only
  Markup inserted is our own CSS and JS, read from templates/;
* links are made only from http(s) URLs (`safe_href`), images only from relative
  paths inside the report folder (`safe_local`); anything else stays plain text;
* no data is handed to JavaScript: the small script only sorts and filters the
  tables already in the page, reading textContent;
* a Content-Security-Policy meta tag allows only our inline style and script (by
  SHA-256 hash), local images, and nothing else: even an escaping bug could not
  run injected script or load anything from the network.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context
from markupsafe import Markup

from . import is_complete, verdict
from ..redact import redacted
from ..consent_states import proof_text
from .i18n import CODES, DEFAULT, N_, Translator, translator
from .consent_signals import consent_mode_rows
from .limits import limits_text, recording_limits
from .matrix import (SEVERITIES, Report, build_matrix, category_labels, check_declaration, cookie_items,
                     host_rows, human_duration, proposed_declaration, severity_counts, sorted_findings, state_hint,
                     state_label, states_in_order, storage_items)

TEMPLATES = Path(__file__).parent / "templates"
_LOCAL_PATH = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*(/[A-Za-z0-9_][A-Za-z0-9._-]*)*")

# English message ids (scanner/report/i18n.py): translated where they are shown, e.g. _(VERDICTS[v][0]).
VERDICTS = {
    "pass": (N_("Pass"), N_("No violation or warning was found in any of the consent states tested.")),
    "violations": (N_("Violations found"),
                   N_("The site stores data or contacts trackers in a way that is not allowed in at least one consent "
                      "state. Each violation below names the legal rule, the evidence and the fix.")),
    "warnings": (N_("Warnings"), N_("No clear violation was found, but some points need a human review.")),
    "incomplete": (N_("Incomplete scan: not a pass"),
                   N_("Some consent states could not be tested, so this report cannot show that the site complies. "
                      "Findings below remain valid for the states that were reached.")),
}
SEVERITY_LABELS = {"violation": N_("Violations"), "warning": N_("Warnings"), "info": N_("Information")}
# Evidence keys of the audits and the policy linter; any other key is shown as "Key name".
_EVIDENCE_LABELS = {
    "setter_url": N_("Set by"), "requested_lifetime_s": N_("Requested lifetime"),
    "lifetime_s": N_("Kept by the browser"),
    "limit_s": N_("Recommended maximum"), "declared_s": N_("Lifetime stated in the policy"), "frame_url": N_("Frame"),
    "url": N_("Request"), "screenshot": N_("Screenshot"), "quote": N_("Quote"), "policy_url": N_("Policy page"),
    "declared_as": N_("Declared category"), "blocked_reasons": N_("Browser refused because"),
    "initiator_url": N_("Initiated by"), "first_seen_state": N_("First seen in state"), "set_by": N_("Set by (how)"),
    "category_source": N_("Category from"),
    # the same words as "key name".capitalize(), so that they can be translated
    "category": N_("Category"), "known_category": N_("Known category"), "declared_category": N_("Declared category"),
    "declared_kind": N_("Declared kind"), "cmp_category": N_("Cmp category"), "vendor": N_("Vendor"),
    "party": N_("Party"), "stored": N_("Stored"), "refused": N_("Refused"), "kind": N_("Kind"),
    "script": N_("Script"), "signals": N_("Signals"), "resource_type": N_("Resource type"), "embed": N_("Embed"),
    "why": N_("Why"), "consent_mode": N_("Consent mode"), "states": N_("States"), "country": N_("Country"),
    "reason": N_("Reason"), "line": N_("Line"), "note": N_("Note"),
    "identifiers": N_("Identifiers"), "pixel": N_("Pixel"), "body_bytes": N_("Body size (bytes)"),
}
# evidence whose value is a code of the contract (shown translated; other values as recorded)
_EVIDENCE_CODES = {"category": "category", "known_category": "category", "category_source": "category_source",
                   "set_by": "set_by", "party": "party", "kind": "storage_kind", "embed": "embed"}
# matrix.proposed_declaration's words
_PROPOSED_TYPES = (N_("Cookie"), N_("Local storage"), N_("Session storage"), N_("IndexedDB"))
_TO_BE_DESCRIBED = N_("(to be described)")


# --------------------------------------------------------------------------- safety helpers

def safe_href(value: Any) -> str | None:
    """The URL itself when it is a plain http(s) URL; None otherwise (then shown as text only)."""
    if not isinstance(value, str) or len(value) > 4000 or re.search(r"[\x00-\x20\x7f]", value):
        return None
    try:
        parts = urlsplit(value)
    except ValueError:
        return None
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def safe_local(value: Any) -> str | None:
    """A relative path inside the report folder ("screenshots/none-banner.png"), else None."""
    if isinstance(value, str) and _LOCAL_PATH.fullmatch(value) and ".." not in value.split("/"):
        return value
    return None


# --------------------------------------------------------------------------- view model

@dataclass
class Link:
    text: str
    href: str | None


@dataclass
class Evidence:
    label: str
    text: str
    href: str | None = None
    image: str | None = None
    detail: str = ""
    screenshot: bool = False     # the `screenshot` evidence: a thumbnail, or says it is not a file here

    @property
    def wide(self) -> bool:
        """URLs, images and long texts take a whole line; short facts flow in columns."""
        return bool(self.href or self.image) or len(self.text) > 40

    @property
    def order(self) -> int:
        return 2 if self.image or self.screenshot else (0 if self.wide else 1)


@dataclass
class FindingView:
    id: str
    rule: str
    severity: str
    state: str | None
    state_label: str
    subject_kind: str
    subject_name: str
    subject_where: str
    message: str
    pages: list[Link]
    evidence: list[Evidence]
    baseline: str | None
    unverified: bool = False
    occurrences: list[tuple[str, str, int]] = field(default_factory=list)   # (state, label, pages)
    cause: tuple[str, str] | None = None          # (cause id, label)
    history: tuple[bool, str] | None = None       # (new since the site's last recorded scan, first seen)


@dataclass
class CauseView:
    id: str
    label: str
    summary: str
    severity: str
    counts: dict
    legal_source: str
    remediation: str
    findings: list[str]


@dataclass
class RuleGroup:
    rule: str
    title: str
    description: str
    legal_source: str
    remediation: str
    findings: list[FindingView] = field(default_factory=list)


@dataclass
class SeverityGroup:
    severity: str
    label: str
    count: int
    rules: list[RuleGroup]


@dataclass
class PageView:
    url: Link
    title: str
    status: Any
    error: str | None
    counts: str


@dataclass
class StateView:
    state: str
    label: str
    hint: str
    reached: bool
    error: str | None
    cmp: str | None
    method: list[str]
    verified_by: str | None
    proof: str
    proof_detail: list[str]
    screenshots: list[Evidence]
    pages: list[PageView]


def _s(value: Any) -> str:
    return "" if value is None else str(value)


def format_time(value: Any, lang: str = DEFAULT) -> str:
    """"26 Nov 2026, 14:00 UTC", "26 nov. 2026, 14:00 UTC" (the machine's locale is never read); the raw
    text when it is not an ISO time."""
    try:
        dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return _s(value)
    if dt.utcoffset() is None or dt.utcoffset():
        return dt.isoformat()
    month = translator(lang).month(dt.month)
    return f"{dt.day} {month} {dt.year}, {dt.hour:02d}:{dt.minute:02d} UTC"


def format_elapsed(seconds: Any) -> str:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return "—"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def evidence_view(key: str, value: Any, lang: str = DEFAULT) -> Evidence:
    _ = translator(lang)
    label = _(_EVIDENCE_LABELS[key]) if key in _EVIDENCE_LABELS else key.replace("_", " ").capitalize()
    if key.endswith("_s") and isinstance(value, (int, float)) and not isinstance(value, bool):
        return Evidence(label, human_duration(value, lang=lang), detail=f"{int(value):,} s".replace(",", " "))
    if key == "screenshot" or key.endswith("_screenshot"):
        path = safe_local(value)
        return Evidence(label, _s(value), href=path, image=path, screenshot=key == "screenshot")
    if isinstance(value, bool) or value is None:
        return Evidence(label, {True: _("yes"), False: _("no"), None: "—"}[value])
    if isinstance(value, (list, tuple)):
        text = ", ".join(_s(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    elif key in _EVIDENCE_CODES and isinstance(value, str):
        text = _.code(_EVIDENCE_CODES[key], value)
    else:
        text = _s(value)
    return Evidence(label, text, href=safe_href(value))


def _occurrences(f: dict, report: Report, lang: str = DEFAULT) -> list[tuple[str, str, int]]:
    """(state, label, pages) of each state a finding occurs in; a pre-1.3 finding has one state."""
    found = [o for o in f.get("occurrences") or [] if isinstance(o, dict) and o.get("state")]
    if not found:
        found = [{"state": s, "pages": f.get("pages") or []} for s in f.get("states") or ([f["state"]] if f.get("state") else [])]
    return [(_s(o["state"]), state_label(str(o["state"]), report, lang=lang), len(o.get("pages") or [])) for o in found]


def _finding_view(f: dict, report: Report, causes: dict[str, str] | None = None, lang: str = DEFAULT) -> FindingView:
    _ = translator(lang)
    subject = f.get("subject") or {}
    pages = [Link(_s(p), safe_href(p)) for p in f.get("pages") or ([f["page"]] if f.get("page") else [])]
    evidence = sorted((evidence_view(str(k), v, lang) for k, v in (f.get("evidence") or {}).items()),
                      key=lambda e: e.order)
    state = f.get("state")
    occurrences = _occurrences(f, report, lang)
    cause = str(f.get("cause") or "")
    return FindingView(
        _s(f.get("id")), _s(f.get("rule")), _s(f.get("severity")), state,
        ", ".join(label for _code, label, _n in occurrences) if occurrences else _("Whole site"),
        _.code("subject_kind", _s(subject.get("kind"))), _s(subject.get("name")),
        _s(subject.get("domain") or subject.get("host")), _s(f.get("message")), pages, evidence,
        f.get("baseline"), bool(f.get("unverified")), occurrences,
        (cause, _s((causes or {}).get(cause))) if cause and (causes or {}).get(cause) else None,
        _history(f, lang))


def _history(f: dict, lang: str) -> tuple[bool, str] | None:
    """(new, first seen) from the history database (report.json `findings[].history`); None on a
    site's first recorded scan, or without history."""
    history = f.get("history") if isinstance(f.get("history"), dict) else {}
    if not isinstance(history.get("new"), bool):
        return None
    return history["new"], format_time(history.get("first_seen"), lang)


def cause_views(report: Report, lang: str = DEFAULT) -> list[CauseView]:
    """report.json `causes`, most removed first, for 'What to fix first' and the causes table."""
    from ..audits.causes import summary
    _ = translator(lang)
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    out = []
    for c in report.get("causes") or []:
        if not isinstance(c, dict) or not c.get("id"):
            continue
        counts = {sev: int((c.get("counts") or {}).get(sev) or 0) for sev in SEVERITIES}
        rules = c.get("rules") or []
        legal = c.get("legal_source") or (audits.get((rules or [None])[0]) or {}).get("legal_source")
        out.append(CauseView(_s(c["id"]), _.cause_label(c, audits), _s(summary(c, label=False, lang=lang)),
                             _s(c.get("severity")), counts, _.legal(legal),
                             _.rule_by_text(audits, rules, "remediation", c.get("remediation")),
                             [_s(i) for i in c.get("findings") or []]))
    return out


def finding_groups(report: Report, findings: list[dict], lang: str = DEFAULT) -> list[SeverityGroup]:
    _ = translator(lang)
    audits = {a.get("id"): a for a in report.get("audits") or [] if isinstance(a, dict)}
    causes = {str(c.get("id")): _.cause_label(c, audits) for c in report.get("causes") or [] if isinstance(c, dict)}
    groups = []
    for sev in SEVERITIES:
        mine = [f for f in findings if f.get("severity") == sev]
        if not mine:
            continue
        rules: dict[str, RuleGroup] = {}
        for f in sorted_findings(report, mine):
            rid = _s(f.get("rule"))
            if rid not in rules:
                a = audits.get(rid) or {}
                rules[rid] = RuleGroup(rid, (_.rule(a, "title") if a.get("title") else "") or rid,
                                       _.rule(a, "description"), _.rule(a, "legal_source"), _.rule(a, "remediation"))
            rules[rid].findings.append(_finding_view(f, report, causes, lang))
        groups.append(SeverityGroup(sev, _(SEVERITY_LABELS[sev]), len(mine), list(rules.values())))
    return groups


def _state_views(report: Report, lang: str = DEFAULT) -> list[StateView]:
    _ = translator(lang)
    views = []
    for s in states_in_order(report):
        name = str(s["state"])
        shots = [Evidence(_s(sh.get("label")), _s(sh.get("path")), href=safe_local(sh.get("path")),
                          image=safe_local(sh.get("path"))) for sh in s.get("screenshots") or []]
        pages = [PageView(Link(_s(p.get("url")), safe_href(p.get("url"))), _s(p.get("title")), p.get("status"),
                          p.get("error"),
                          _("{cookies} cookies · {storage} storage · {requests} requests",
                            cookies=len(p.get('cookies') or []), storage=len(p.get('storage') or []),
                            requests=len(p.get('requests') or [])))
                 for p in s.get("pages") or []]
        views.append(StateView(name, state_label(name, report, lang=lang), state_hint(name, lang=lang),
                               bool(s.get("reached")),
                               s.get("error"), s.get("cmp"), [_s(m) for m in s.get("method") or []],
                               None if s.get("verified_by") == proof_text(s.get("proof")) else s.get("verified_by"),
                               _.proof_text(s.get("proof")), _.proof_details(s.get("proof")),
                               shots, pages))
    return views


def _fields(value: Any, *names: str) -> dict[str, Any]:
    """A dict with exactly `names` (missing ones None), so the template never meets an undefined key."""
    source = value if isinstance(value, dict) else {}
    return {n: source.get(n) for n in names}


def _proposed(report: Report, _: Translator) -> list:
    """matrix.proposed_declaration in the report's language (the site's own words stay as they are)."""
    out = []
    for p in proposed_declaration(report):
        category = p.category
        if p.rank >= 100 and category.lower() in CODES["category"]:   # not a declaration label: a category id
            category = _.code("category", category.lower())
            category = category[:1].upper() + category[1:]
        out.append(replace(p, type=_(p.type) if p.type in _PROPOSED_TYPES else p.type,
                           purpose=_(p.purpose) if p.purpose == _TO_BE_DESCRIBED else p.purpose,
                           category=category, duration=_.duration(p.duration)))
    return out


def build_context(report: Report, lang: str = DEFAULT) -> dict[str, Any]:
    _ = translator(lang)
    v = verdict(report)
    findings = [f for f in report.get("findings") or [] if isinstance(f, dict)]
    policy_findings = [f for f in findings if _s(f.get("rule")).startswith("policy-")]
    others = [f for f in findings if not _s(f.get("rule")).startswith("policy-")]
    base = report.get("baseline") or None
    causes = cause_views(report, lang)
    site = _fields(report.get("site"), "url", "final_url", "host", "registrable_domain")
    tool = _fields(report.get("tool"), "name", "version", "chromium", "rules_version")
    decl = _fields(report.get("declaration"), "name", "path", "sha256") if report.get("declaration") else None
    policy = _fields(report.get("policy"), "source", "findings_count") if report.get("policy") else None
    css, js = _asset("report.css"), _asset("report.js")
    page_css = _page_css(_("{site} · scanned {date}", site=_s(site.get('host') or site.get('url')),
                           date=format_time(report.get('started_at'), lang)), _("Page {page} of {pages}"))
    matrix = build_matrix(report)
    matrix.columns = [replace(c, label=state_label(c.state, report, lang=lang), hint=state_hint(c.state, lang=lang))
                      for c in matrix.columns]
    return {
        "_": _, "lang": lang,
        "css": Markup(css), "js": Markup(js), "page_css": Markup(page_css), "csp": _csp([css, page_css], js),
        "verdict": v, "verdict_title": _(VERDICTS[v][0]), "verdict_text": _(VERDICTS[v][1]),
        "complete": is_complete(report),
        "counts": severity_counts(report),
        "site": site,
        "site_href": safe_href(site["final_url"] or site["url"]),
        "tool": tool,
        "declaration": decl,
        "started": format_time(report.get("started_at"), lang),
        "elapsed": format_elapsed(report.get("duration_s")),
        "schema_version": _s(report.get("schema_version")),
        "command": " ".join(_s(c) for c in report.get("command") or []),
        "incomplete_reasons": [_s(r) for r in report.get("incomplete_reasons") or []],
        "egress_refused": [_refused_line(r, _) for r in ((report.get("egress") or {}).get("refused") or [])[:50]
                           if isinstance(r, dict)],
        "limits": _limits_view(report, _),
        "consent_mode": consent_mode_rows(report, lang),
        "states": _state_views(report, lang),
        "matrix": matrix,
        "causes": causes,
        "fix_first": [c for c in causes if c.counts["violation"] or c.counts["warning"]][:3],
        "finding_groups": finding_groups(report, others, lang),
        "policy_groups": finding_groups(report, policy_findings, lang),
        "policy": policy,
        "policy_href": safe_href((policy or {}).get("source")),
        "decl": check_declaration(report),
        "category_labels": category_labels(report),
        "proposed": _proposed(report, _),
        "cookies": cookie_items(report),
        "storage": storage_items(report),
        "hosts": host_rows(report),
        "baseline": base,
        "baseline_gone": [_finding_view(f, report, lang=lang) for f in (base or {}).get("gone") or []],
    }


# --------------------------------------------------------------------------- rendering

@lru_cache(maxsize=None)
def _asset(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def _sha256_source(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"


def css_string(text: str) -> str:
    """`text` as a CSS string literal that no character can end or escape from: everything but
    letters, digits, space and a few signs becomes a hex escape."""
    safe = "".join(ch if (ch.isascii() and (ch.isalnum() or ch in " .,:-_/")) else f"\\{ord(ch):06x}"
                   for ch in text[:200])
    return f'"{safe}"'


def _page_css(margin_text: str, page_of: str = "Page {page} of {pages}") -> str:
    """The printed page's margins: site and scan date at the bottom left, 'Page N of M' at the right
    (`page_of`: where {page} and {pages} go in the words)."""
    box = "font: 8.5px system-ui, sans-serif; color: #667085;"
    counter = " ".join(f"counter({part[1:-1]})" if part in ("{page}", "{pages}") else css_string(part)
                       for part in re.split(r"(\{pages?\})", page_of) if part)
    return (f"@page {{ @bottom-left {{ content: {css_string(margin_text)}; {box} }} "
            f"@bottom-right {{ content: {counter}; {box} }} }}")


def _csp(styles: list[str], js: str) -> str:
    """Only our own style blocks and script run: each allowed by its hash."""
    return (f"default-src 'none'; style-src {' '.join(_sha256_source(css) for css in styles)}; "
            f"script-src {_sha256_source(js)}; "
            "img-src 'self' data: file:; base-uri 'none'; form-action 'none'")


# C0 controls and DEL shown as their visible Unicode "control pictures" (U+0001 -> ␁).
_CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {0x7F: 0x2421}


def _finalize(value: Any) -> Any:
    """Applied to every {{ expression }} before autoescaping: makes control characters visible."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return value.translate(_CONTROL_PICTURES)
    return value


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, finalize=_finalize)
    env.filters["duration"] = _duration_filter
    return env


@pass_context
def _duration_filter(context, value: Any, session: bool = False) -> str:
    return human_duration(value, session=session, lang=context.get("lang", DEFAULT))


def _limits_view(report: dict, _: Translator) -> dict | None:
    """What the recorder's per-page caps left out (scanner.report.limits), for the alert at the top."""
    summary = recording_limits(report)
    if summary is None:
        return None
    return {"text": limits_text(summary, _),
            "examples": [f"{_s(state)}: {_s(url)}" for state, url in summary["examples"]],
            "more": max(0, summary["pages"] - len(summary["examples"]))}


def _refused_line(entry: dict, _: Translator | None = None) -> str:
    """'host:port → address (reason), asked by <page> and 2 other pages in none, reject'."""
    _ = _ or translator(DEFAULT)
    line = f"{_s(entry.get('host'))}:{_s(entry.get('port'))} → {_s(entry.get('address'))} ({_s(entry.get('reason'))})"
    pages = [_s(p) for p in entry.get("pages") or [] if p]
    if pages:
        others = len(pages) - 1 + int(entry.get("pages_more") or 0)
        line += _(", asked by {page}", page=pages[0]) + (_(" and {n} other page(s)", n=others) if others else "")
        states = [_s(s) for s in entry.get("states") or [] if s]
        line += _(" in {states}", states=", ".join(states)) if states else ""
    return line


MAX_EMBEDDED_IMAGE = 3 * 1024 * 1024     # bytes per screenshot
MAX_EMBEDDED_TOTAL = 40 * 1024 * 1024    # bytes for the whole page


class _Embedder:
    """`src(path)` for <img>: the relative path, or (embedding) the PNG from the report folder as a
    data: URI, so that one file carries its evidence (e-mail). Only PNG files inside the folder,
    within the size limits; anything else keeps its path (and shows as missing)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder.resolve() if folder is not None else None
        self.total = 0

    @property
    def embedding(self) -> bool:
        return self.folder is not None

    def src(self, path: str | None) -> str | None:
        if self.folder is None or not path:
            return path
        target = (self.folder / path).resolve()
        try:
            target.relative_to(self.folder)
            data = target.read_bytes() if target.is_file() and target.stat().st_size <= MAX_EMBEDDED_IMAGE else b""
        except (ValueError, OSError):
            data = b""
        if not data.startswith(b"\x89PNG\r\n\x1a\n") or self.total + len(data) > MAX_EMBEDDED_TOTAL:
            return path
        self.total += len(data)
        return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def render_html(report: Report, *, embed_from: Path | str | None = None, lang: str = DEFAULT) -> str:
    """report.html in `lang` ("en" | "fr"); with `embed_from` (the report folder), every screenshot is
    embedded in the page."""
    report = redacted(report)  # also a report.json written before URLs were redacted
    embedder = _Embedder(Path(embed_from) if embed_from is not None else None)
    return _env().get_template("report.html.j2").render(**build_context(report, lang), img_src=embedder.src,
                                                         embedded=embedder.embedding)
