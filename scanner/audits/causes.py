"""What caused each problem, so that one fix can be named for many findings.

The cause of a cookie, storage entry or request is what the site put in its pages that made the
browser set or send it: a third party's embed or tag (grouped by vendor, or by registrable domain
when the vendor is unknown), or the site's own script or server. For each item-level finding,
`attribute` reads the items the finding is about (in the states and on the pages it occurs) and
takes the loader of most of them:

    request   the third-party frame it was sent from; else the script that sent it; else the
              request itself (a tag, pixel or iframe written in the page)
    cookie    the script that wrote it, or the response that set it
    storage   the third-party frame it lives in; else the script that wrote it

Findings about the whole site (no banner, no reject button...) are each their own cause; the
cookie-policy findings share one. Every finding gets `cause` (an id of report.json `causes`);
`causes` is ordered by what fixing the cause removes: violations, then warnings, then items.
"""
from __future__ import annotations

import hashlib
from collections import Counter
from urllib.parse import urlsplit

from .. import consent_states
from ..domains import host_of, party, registrable_domain
from .checks import subject_of
from .registry import SEVERITIES

ITEM_KINDS = ("cookie", "storage", "request", "script")
_KEYS = {"cookie": "cookies", "storage": "storage", "request": "requests", "script": "fingerprinting"}
EMBED_WORDS = {"video": "video embed", "map": "map embed", "social": "social widget", "audio": "audio player",
               "font": "web fonts", "captcha": "CAPTCHA"}


def _subject_key(subject: dict) -> tuple:
    return (subject.get("kind"), subject.get("name"), subject.get("domain") or subject.get("host"))


def _loader(kind: str, item: dict, site_domain: str) -> tuple[str, bool]:
    """(URL of what made the browser set or send `item`, whether it came from inside a frame)."""
    if kind == "script":     # a fingerprinting script is its own cause
        return item.get("script") or "", False
    frame = item.get("frame_url") or ""
    if kind in ("request", "storage") and frame and party(host_of(frame), site_domain) == "third":
        return frame, True
    if kind == "request":
        initiator = item.get("initiator_url") or ""
        if item.get("initiator_type") == "script" and initiator:
            return initiator, False
        return item.get("url") or "", False
    return item.get("setter_url") or "", False


def _path(url: str) -> str:
    try:
        return urlsplit(url).path or "/"
    except ValueError:
        return "/"


def _cause_of(kind: str, item: dict, site_domain: str, vendors) -> dict:
    url, framed = _loader(kind, item, site_domain)
    host = host_of(url)
    if not host:
        return {"key": "unknown", "kind": "unknown", "label": "an unknown source"}
    if party(host, site_domain) == "third":
        vendor = vendors.for_host(host) if vendors is not None else None
        name = vendor.name if vendor else (item.get("vendor") or registrable_domain(host))
        embed = item.get("embed")
        if embed in EMBED_WORDS:
            noun = EMBED_WORDS[embed]
        else:
            noun = "embed" if framed else "tag"
        return {"key": f"third:{name}", "kind": "embed" if (embed or framed) else "tag", "label": f"{name} {noun}",
                "vendor": name, "host": registrable_domain(host)}
    scripted = kind in ("storage", "script") or item.get("set_by") == "script" or (
        kind == "request" and item.get("initiator_type") == "script")
    if scripted:
        path = _path(url)
        return {"key": f"site-script:{host}{path}", "kind": "site-script", "label": f"the site's script {path}",
                "host": host}
    return {"key": f"site-server:{host}", "kind": "site-server", "label": f"the site's pages and server ({host})",
            "host": host}


def _index(result: dict) -> dict[tuple, list[tuple[str, str, str, dict]]]:
    """subject key -> [(state, page url, kind, item)] of every observed item."""
    out: dict[tuple, list] = {}
    for state in result.get("states") or []:
        for page in state.get("pages") or []:
            for kind in ITEM_KINDS:
                for item in page.get(_KEYS[kind]) or []:
                    try:
                        key = _subject_key(subject_of(kind, item))
                    except (KeyError, TypeError):
                        continue
                    out.setdefault(key, []).append((str(state.get("state")), str(page.get("url")), kind, item))
    return out


def _id(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _when(findings: list[dict], order: dict[str, int]) -> list[str]:
    """'before any consent', 'after the visitor rejected all', 'in a category the visitor refused'...
    in the order of the scan's states."""
    states = sorted({str(s) for f in findings for s in f.get("states") or []}, key=lambda s: order.get(s, len(order)))
    out: list[str] = []
    for state in states:
        try:
            text = ("in a category the visitor refused" if consent_states.only_category(state)
                    else consent_states.when(state))
        except KeyError:
            continue
        if text not in out:
            out.append(text)
    return out


def attribute(result: dict, vendors=None) -> list[dict]:
    """Set `cause` on every finding of `result` and return the causes, most removed first."""
    site_domain = str((result.get("site") or {}).get("registrable_domain") or "")
    index = _index(result)
    audits = {a.get("id"): a for a in result.get("audits") or [] if isinstance(a, dict)}
    causes: dict[str, dict] = {}
    members: dict[str, list[dict]] = {}
    for f in result.get("findings") or []:
        subject = f.get("subject") if isinstance(f.get("subject"), dict) else {}
        kind = subject.get("kind")
        if kind in ITEM_KINDS:
            states = set(f.get("states") or ([f["state"]] if f.get("state") else []))
            pages = set(f.get("pages") or [])
            seen = [(k, item) for state, page, k, item in index.get(_subject_key(subject), [])
                    if (not states or state in states) and (not pages or page in pages)]
            votes = Counter()
            found: dict[str, dict] = {}
            for k, item in seen[:200]:
                cause = _cause_of(k, item, site_domain, vendors)
                votes[cause["key"]] += 1
                found.setdefault(cause["key"], cause)
            cause = found[votes.most_common(1)[0][0]] if votes else {
                "key": "unknown", "kind": "unknown", "label": "an unknown source"}
        elif str(f.get("rule", "")).startswith("policy-"):
            cause = {"key": "policy", "kind": "policy", "label": "the privacy and cookie policy text"}
        else:
            title = (audits.get(f.get("rule")) or {}).get("title") or f.get("rule")
            cause = {"key": f"site:{f.get('rule')}", "kind": "site", "label": str(title)}
        cid = _id(cause["key"])
        f["cause"] = cid
        if cid not in causes:
            causes[cid] = {"id": cid, **{k: v for k, v in cause.items() if k != "key"}}
            members[cid] = []
        members[cid].append(f)
    order = {str(s.get("state")): i for i, s in enumerate(result.get("states") or [])}
    for cid, group in members.items():
        causes[cid].update(_facts(group, audits, order))
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    return sorted(causes.values(), key=lambda c: (-c["counts"]["violation"], -c["counts"]["warning"],
                                                  -sum(c["items"].values()), rank.get(c["severity"], 9), c["label"]))


def _facts(group: list[dict], audits: dict, order: dict[str, int]) -> dict:
    counts = {s: sum(1 for f in group if f.get("severity") == s) for s in SEVERITIES}
    worst = min(group, key=lambda f: (SEVERITIES.index(f["severity"]) if f.get("severity") in SEVERITIES else 9,
                                      list(audits).index(f.get("rule")) if f.get("rule") in audits else 999))
    items: dict[str, set] = {k: set() for k in ITEM_KINDS}
    pages: set[str] = set()
    for f in group:
        subject = f.get("subject") if isinstance(f.get("subject"), dict) else {}
        if subject.get("kind") in items:
            items[subject["kind"]].add(_subject_key(subject))
        pages.update(str(p) for p in f.get("pages") or [])
    audit = audits.get(worst.get("rule")) or {}
    return {"severity": worst.get("severity"), "counts": counts, "findings": [f.get("id") for f in group],
            "rules": list(dict.fromkeys(str(f.get("rule")) for f in group)),
            "items": {k: len(v) for k, v in items.items()}, "pages": len(pages), "when": _when(group, order),
            "legal_source": audit.get("legal_source"), "remediation": audit.get("remediation")}


def summary(cause: dict, *, label: bool = True, lang: str = "en") -> str:
    """One plain sentence: 'Youtube video embed on 8 pages, before any consent and after the visitor
    rejected all: 3 cookies, 3 storage entries, 2 third-party requests (12 violations)'; without
    `label`, from 'on 8 pages' on. `lang` "fr": the same sentence in French (rules/i18n/fr.yaml)."""
    if lang != "en":
        from ..report.i18n import translator
        return translator(lang).cause_summary(cause, label=label)
    parts = []
    items = cause.get("items") or {}
    for kind, one, many in (("cookie", "cookie", "cookies"), ("storage", "storage entry", "storage entries"),
                            ("request", "third-party request", "third-party requests")):
        n = int(items.get(kind) or 0)
        if n:
            parts.append(f"{n} {one if n == 1 else many}")
    counts = cause.get("counts") or {}
    problems = ", ".join(f"{n} {sev}{'' if n == 1 else 's'}" for sev, n in counts.items() if n)
    where = f" on {cause['pages']} page{'' if cause['pages'] == 1 else 's'}" if cause.get("pages") else ""
    when = list(cause.get("when") or [])
    when = f", {', '.join(when[:-1])} and {when[-1]}" if len(when) > 1 else (f", {when[0]}" if when else "")
    what = f": {', '.join(parts)}" if parts else ""
    text = f"{where}{when}{what} ({problems})".lstrip(", ")
    return f"{cause.get('label')} {text}" if label else text[:1].upper() + text[1:]


__all__ = ["attribute", "summary"]
