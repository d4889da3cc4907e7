"""The compliance audits. Each function receives (result, declaration, findings).

Whether an item is allowed in a consent state is never decided here: every state-dependent
audit asks scanner.judgement.judge, as the consent matrix does."""
from __future__ import annotations

import re

from ..classify import default_vendors
from ..classify import url_tracking
from ..classify.consent_mode import describe as describe_signal
from .. import consent_states
from ..consent_states import only_category
from ..durations import format_duration
from ..judgement import NOT_ALLOWED, WARNING, ConsentModel, judge, law_needs_consent, need_of
from ..vocabulary import purposes_for_label
from .registry import audit, describe

CNIL_LD = "CNIL Lignes directrices 2020-091"
CNIL_RECO = "CNIL Recommandation 2020-092"
THIRTEEN_MONTHS_S = 395 * 86400
# Session or authentication identifiers by name or shape (set by a server response). CSRF/XSRF
# tokens are not among them: a double-submit scheme must let scripts read them.
SESSION_NAME = re.compile(
    r"(?i)^(?:phpsessid|jsessionid|asp\.net_sessionid|aspsessionid\w*|\.aspxauth|\.aspnetcore\.(?:session|cookies|identity\.\w+)"
    r"|connect\.sid|laravel_session|ci_session|cfid|cftoken|wordpress_logged_in_\w*|wordpress_sec_\w*|wp-settings-\w*"
    r"|(?:\w+[_.-])?(?:session|sessionid|session_id|sess|sessid|sid|auth|authtoken|auth_token|access_token|refresh_token|"
    r"id_token|jwt|login|logged_in|remember_me|remember_token|identity))$")
CSRF_NAME = re.compile(r"(?i)csrf|xsrf|antiforgery|requestverificationtoken")

# every rule a state reports items under (scanner.consent_states), and the embedded-content rule
CONSENT_MODE_RULES = ("consent-mode-granted", "consent-mode-ping")
# tracking that is its own rule in every state, whatever its purpose (scanner.judgement's Need.rule)
OWN_RULES = ("fingerprinting", "tracking-pixel", "link-decoration")
STATE_RULES = (frozenset(r for st in consent_states.STATES for r in st.rules or ()) | {"third-party-content"}
               | frozenset(CONSENT_MODE_RULES) | frozenset(OWN_RULES))


def _cookie_subject(c):
    return {"kind": "cookie", "name": c["name"], "domain": c["domain"]}


def _storage_subject(s):
    return {"kind": "storage", "name": s["key"], "domain": s["origin"]}


def _request_subject(r):
    return {"kind": "request", "name": r.get("vendor") or r["host"], "host": r["host"]}


def _script_subject(s):
    return {"kind": "script", "name": script_name(s.get("script") or ""), "host": s.get("host") or ""}


def _link_subject(link):
    return {"kind": "link", "name": link.get("vendor") or link.get("host") or "", "host": link.get("host") or ""}


def script_name(url: str) -> str:
    """'cdn.example.com/fp.js' for a script URL (the query is not part of the name)."""
    return url.split("://", 1)[-1].split("?", 1)[0].split("#", 1)[0][:300]


def subject_of(kind: str, item: dict) -> dict:
    return {"cookie": _cookie_subject, "storage": _storage_subject, "request": _request_subject,
            "script": _script_subject, "link": _link_subject}[kind](item)


def _cookie_evidence(c):
    return {k: c.get(k) for k in ("set_by", "setter_url", "requested_lifetime_s", "lifetime_s", "category",
                                  "category_source", "declared_as", "known_category", "vendor", "party", "stored")
            if c.get(k) is not None}


def _evidence(kind: str, item: dict, reason: str) -> dict:
    if kind == "cookie":
        evidence = _cookie_evidence(item)
    elif kind == "storage":
        evidence = {k: item.get(k) for k in ("setter_url", "kind", "category", "category_source", "declared_as")
                    if item.get(k) is not None}
    elif kind == "script":
        evidence = {k: item.get(k) for k in ("script", "signals", "vendor", "category", "declared_as")
                    if item.get(k) is not None}
    elif kind == "link":
        evidence = {k: item.get(k) for k in ("url", "vendor", "declared_as") if item.get(k) is not None}
    else:
        evidence = {k: item.get(k) for k in ("url", "initiator_url", "resource_type", "category", "embed", "declared_as",
                                             "body_bytes")
                    if item.get(k) is not None}
        if item.get("pixel"):
            evidence["pixel"] = True
    if kind in ("link", "request") and item.get("identifiers"):
        evidence["identifiers"] = [url_tracking.describe(i) for i in item["identifiers"] if isinstance(i, dict)]
    evidence["why"] = reason
    return evidence


def _what(kind: str, item: dict) -> str:
    if kind == "cookie":
        return f"cookie {item['name']} ({item.get('category')}, {item.get('vendor') or item['domain']})"
    if kind == "storage":
        return f"storage entry {item['key']} ({item.get('category')}, {item['origin']})"
    if kind == "script":
        return f"fingerprinting script {script_name(item.get('script') or '')} ({', '.join(item.get('signals') or [])})"
    if kind == "link":
        return f"link to {item.get('host')} carrying {_params(item)}"
    if item.get("tracker"):
        return f"tracker request to {item['host']} ({item.get('category')}, {item.get('vendor')})"
    if item.get("embed"):
        return f"{item.get('embed')} from {item['host']} ({item.get('vendor') or 'third party'})"
    if item.get("pixel"):
        noun = "tracking pixel" if item.get("resource_type") == "image" else "beacon"
        return f"{noun} to {item['host']} ({item.get('vendor') or 'third party'})"
    return f"request to {item['host']} carrying {_params(item)}"


def _params(item: dict) -> str:
    return ", ".join(str(i.get("param")) for i in item.get("identifiers") or [] if isinstance(i, dict)) or "an identifier"


def observations(result):
    """(state record, page, kind, item) for every item PRESENT in a reached state (a cookie the
    browser refused was never present)."""
    for state in result["states"]:
        if not state.get("reached"):
            continue
        for page in state.get("pages") or []:
            for c in page.get("cookies") or []:
                if c.get("stored") is not False:
                    yield state, page, "cookie", c
            for s in page.get("storage") or []:
                yield state, page, "storage", s
            for r in page.get("requests") or []:
                yield state, page, "request", r
            for script in page.get("fingerprinting") or []:
                yield state, page, "script", script
            for link in page.get("decorated_links") or []:
                yield state, page, "link", link


@audit("pre-consent-cookie", "violation", "Trackers before consent",
       "Cookies, storage or tracker requests that need consent appear while the banner is unanswered, "
       "including after scrolling and opening a second page (browsing is not consent).",
       f"ePrivacy Directive art. 5(3); Loi Informatique et Libertés art. 82; {CNIL_LD} §§4, 16, 27; CNIL SAN-2020-012, SAN-2020-013",
       "Load analytics, advertising and embedded third-party content only after the visitor accepts their category; "
       "use click-to-load placeholders for embeds.")
def consent_states_audit(result, declaration, findings):
    """Every state-dependent finding: one pass, one judgement per item and state."""
    model = ConsentModel.from_report(result)
    unknown: dict[str, tuple[str, dict, dict, list[str], str]] = {}
    for state, page, kind, item in observations(result):
        name = state["state"]
        verdict = judge(kind, item, name, model)
        if verdict.status not in (NOT_ALLOWED, WARNING):
            continue
        subject = subject_of(kind, item)
        need = need_of(kind, item, model)
        if need is not None and need.rule in OWN_RULES:   # fingerprinting, pixels, identifiers in URLs
            findings.add(need.rule, verdict.severity or "warning", name, page["url"], subject,
                         f"{_what(kind, item)} {consent_states.when(name, model.label(only_category(name)) if only_category(name) else None)}",
                         _evidence(kind, item, verdict.reason))
            continue
        if verdict.rule == "unknown":
            key = "|".join((kind, subject["name"], subject.get("domain") or subject.get("host") or ""))
            entry = unknown.setdefault(key, (kind, item, subject, [], page["url"]))
            if name not in entry[3]:
                entry[3].append(name)
            continue
        category = only_category(name)
        what = _what(kind, item)
        when = consent_states.when(name, model.label(category) if category else None)
        if verdict.rule in CONSENT_MODE_RULES:
            findings.add(verdict.rule, verdict.severity, name, page["url"], subject,
                         f"{what} {when}: {verdict.reason.rsplit('; ', 1)[-1]}", {
                             **_evidence(kind, item, verdict.reason),
                             "consent_mode": describe_signal(item.get("consent_mode"))})
            continue
        if verdict.rule == "embed":
            findings.add("third-party-content", verdict.severity, name, page["url"], subject,
                         f"{what} loaded {when}", _evidence(kind, item, verdict.reason))
            continue
        findings.add(consent_states.rule_for(name, kind), verdict.severity, name, page["url"], subject,
                     f"{what} {when}", _evidence(kind, item, verdict.reason))
    for kind, item, subject, states, page in unknown.values():
        if declaration is not None and item.get("category_source") not in ("declared", "declared-vendor"):
            continue  # undeclared-cookie / undeclared-storage already ask the site to declare it
        findings.add("unknown-purpose", "warning", None, page, subject,
                     f"{_what(kind, item)}: purpose unknown, present in {', '.join(states)}",
                     {**_evidence(kind, item, "unknown purpose"), "states": states})


describe("consent-mode-granted", "violation", "Google tag signals consent the visitor did not give",
         "A Google tag request (Analytics, Ads, Floodlight) sent where the visitor's choice does not allow it "
         "carries a Google Consent Mode signal (gcs, gcd) saying ad_storage, analytics_storage, ad_user_data or "
         "ad_personalization is granted: Google is told it may store identifiers or use the data for advertising "
         "although the visitor refused or did not answer.",
         f"ePrivacy Directive art. 5(3); GDPR art. 6(1)(a) and 7(1) (consent must be given and demonstrable); {CNIL_LD} §§4, 16",
         "Set Consent Mode defaults to 'denied' for every signal before any tag fires, and update them only from "
         "the consent manager's choice (gtag('consent', 'update', ...)).")


describe("consent-mode-ping", "warning", "Google tag pings before consent (Consent Mode 'advanced')",
         "Google tags send requests although the visitor has not consented, with every consent signal denied "
         "(Consent Mode 'advanced': 'cookieless pings'). No cookie is written, but the request still reaches "
         "Google with the visitor's IP address, user agent, page and often a random identifier. Regulators do "
         "not exempt such pings: the EDPB's Guidelines 2/2023 bring tracking pixels and URL-based tracking "
         "within art. 5(3), and the CNIL exempts only audience measurement that meets its strict conditions "
         "(first-party, no cross-site tracking, limited retention). The declaration can raise this to a "
         "violation (consent.cookieless_pings).",
         "ePrivacy Directive art. 5(3); EDPB Guidelines 2/2023 §§ 38-43 (tracking pixels, URL tracking); "
         f"{CNIL_LD} §§50-52 (audience measurement exemption)",
         "Use Consent Mode 'basic' (tags load only after consent), or keep 'advanced' only if a legal assessment "
         "accepts it, and declare it.")


describe("fingerprinting", "violation", "Device fingerprinting without consent",
         "A script reads device properties that single out the browser (a canvas read back after drawing text, "
         "audio rendered offline, fonts probed by measurement, or several weaker reads together) while the visitor "
         "has not consented to what it is for. Fingerprinting is reading information from the device, like a "
         "cookie is; it needs the same consent, and it survives the deletion of cookies. With one optional "
         "category accepted, a script whose purpose nobody can tell is a warning.",
         "ePrivacy Directive art. 5(3); EDPB Guidelines 2/2023 on the technical scope of art. 5(3) §§47-56; "
         "Article 29 Working Party Opinion 9/2014 on device fingerprinting; Loi Informatique et Libertés art. 82",
         "Load the fingerprinting script only after the visitor accepts the category that covers its purpose, "
         "or remove it; declare its vendor and purpose in the cookie policy.")


describe("tracking-pixel", "violation", "Tracking pixel or beacon without consent",
         "A third party receives a tracking pixel (a tiny or empty image whose address carries data about the "
         "visit) or a beacon (navigator.sendBeacon, a link's ping) while the visitor has not consented to what it "
         "is for. No cookie is needed for this to be tracking: the request hands the visit, the visitor's IP "
         "address and often an identifier to the third party. A logo, an icon or an image with only a version "
         "parameter is not a pixel; requests to the site's own domain are not judged. With one optional category "
         "accepted, a pixel whose purpose nobody can tell is a warning.",
         "ePrivacy Directive art. 5(3); EDPB Guidelines 2/2023 on the technical scope of art. 5(3) §§38-43 "
         f"(tracking pixels); {CNIL_LD} §§4, 16",
         "Send the pixel only after the visitor accepts the category that covers its purpose (load the tag from "
         "the consent manager), or remove it; declare its vendor and purpose in the cookie policy.")


describe("link-decoration", "violation", "Identifier passed to a third party in a URL without consent",
         "An address sent to a third party, or an outgoing link of the page, carries an identifier of the visitor "
         "or of the visit: a click identifier (gclid, fbclid, msclkid, _gl...), a user or visitor id, an e-mail "
         "address (plain or hashed) or the value of a cookie the site wrote. The third party can then recognise "
         "the visitor without any cookie of its own. Campaign parameters that name no one (utm_source...) and the "
         "consent manager's own record are not identifiers.",
         "ePrivacy Directive art. 5(3); EDPB Guidelines 2/2023 on the technical scope of art. 5(3) §§44-46 "
         "(tracking links); GDPR art. 6(1)(a)",
         "Add identifiers to links and requests (cross-domain linkers, click ids, user ids) only after the visitor "
         "accepts the category that covers them; never put e-mail addresses, even hashed, in URLs.")


describe("pre-consent-storage", "violation", "Storage written before consent",
         "localStorage, sessionStorage or IndexedDB entries that need consent, written before any choice.",
         f"ePrivacy Directive art. 5(3); {CNIL_LD} §13", "Gate the scripts that write them on consent.")


describe("pre-consent-request", "violation", "Tracker requests before consent",
         "Requests to analytics or advertising endpoints (beacons, pixels, collect calls) before any choice.",
         f"ePrivacy Directive art. 5(3); EDPB Guidelines 2/2023 §3.1; {CNIL_LD} §§4, 16",
         "Do not load tags or fire pixels before consent; in Google Consent Mode use 'denied' defaults without pings.")


describe("post-reject-cookie", "violation", "Trackers after 'reject all'",
         "Cookies, storage or tracker requests that need consent are still present after the visitor refused.",
         f"ePrivacy Directive art. 5(3); {CNIL_LD} §30; {CNIL_RECO} art. 2; EDPB Cookie Banner Taskforce report ¶7; CNIL SAN-2020-012",
         "Make every non-essential tag listen to the consent manager and stay off after a refusal.")


describe("post-reject-storage", "violation", "Storage after 'reject all'", "Storage needing consent after a refusal.",
         f"ePrivacy Directive art. 5(3); {CNIL_LD} §30", "Gate the writing scripts on consent.")


describe("post-reject-request", "violation", "Tracker requests after 'reject all'",
         "Requests to analytics or advertising endpoints after a refusal.",
         f"ePrivacy Directive art. 5(3); {CNIL_LD} §30; {CNIL_RECO} art. 2", "Stop the tags after a refusal.")


describe("category-leak", "violation", "Refused category active",
         "With only one optional category accepted, items that the declaration (or, undeclared, what they are "
         "known to do) puts in another, refused category appear.",
         f"GDPR art. 4(11) (consent is specific); {CNIL_LD} §19; {CNIL_RECO} art. 2.4",
         "Map every tag to exactly the category that covers its purpose, and load it only when that category is accepted.")


describe("withdrawal-ignored", "violation", "Withdrawal of consent ignored",
         "After accepting, reopening the consent manager and withdrawing, items that need consent stay in place "
         "or trackers keep being contacted.",
         f"GDPR art. 7(3); {CNIL_LD} §31; {CNIL_RECO} art. 3; CNIL SAN-2020-012",
         "On withdrawal, stop the tags and delete the cookies and storage they set (first-party) or stop sending them.")


describe("third-party-content", "violation", "Third-party content before consent",
         "Web fonts, maps, video or audio players, social widgets or CAPTCHAs are loaded from their provider "
         "before the visitor accepts them: the visitor's IP address (and often an identifier) reaches the "
         "provider for no purpose the visitor asked for. Fonts and CAPTCHAs are warnings, the others violations.",
         f"ePrivacy Directive art. 5(3); GDPR art. 6(1); LG München I, 3 O 17493/20 (20 January 2022, Google Fonts); "
         f"{CNIL_LD} §49 (embedded content is not exempt)",
         "Self-host fonts and scripts; load players, maps and widgets only after consent (click-to-load placeholder).")


describe("unknown-purpose", "warning", "Item of unknown purpose",
         "A first-party cookie or storage entry that neither the declaration nor the knowledge base can place is "
         "present while only strictly necessary items may be (or while a category is accepted that may not "
         "cover it): it may be strictly necessary, only the site can say.",
         f"{CNIL_LD} §§24-25, 49", "Declare the item with its purpose, or remove it if it is not strictly necessary.")


def _all_items(result, kind, *, refused: bool = False):
    """(item, first state, first page) per distinct name and domain; cookies the browser refused
    only with `refused`."""
    seen = {}
    for state in result["states"]:
        for page in state.get("pages") or []:
            for item in page.get(kind) or []:
                if item.get("stored") is False and not refused:
                    continue
                key = (item.get("name") or item.get("key"), item.get("domain") or item.get("origin"),
                       item.get("stored") is False)
                seen.setdefault(key, (item, state["state"], page["url"]))
    return seen.values()


@audit("undeclared-cookie", "warning", "Cookie or storage not declared",
       "An observed cookie or storage entry is missing from the site's declaration (name, purpose, duration, provider).",
       f"{CNIL_LD} §§24-25; CJEU C-673/17 Planet49 (duration and third-party access); EDPB Cookie Banner Taskforce ¶28",
       "List every cookie and storage key in the cookie policy with its purpose, duration and provider.")
def undeclared(result, declaration, findings):
    if declaration is None:
        return
    model = ConsentModel.from_report(result)
    for kind, rule_kind in (("cookies", "cookie"), ("storage", "storage")):
        for item, state, page in _all_items(result, kind):
            if item.get("category_source") in ("declared", "cmp-record"):
                continue
            if item.get("category_source") == "declared-vendor" and item.get("party") == "third":
                continue  # a declared vendor's own cookie on its own domain: the vendor is what the site lists
            need = need_of(rule_kind, item, model)
            severity = "violation" if need is not None and need.needs_consent else "warning"
            subject = subject_of(rule_kind, item)
            findings.add("undeclared-cookie" if rule_kind == "cookie" else "undeclared-storage", severity, None, page,
                         subject, f"{rule_kind} {subject['name']} ({item.get('category')}) is not in the declaration",
                         {"first_seen_state": state, "category": item.get("category"), "vendor": item.get("vendor")})


describe("undeclared-storage", "warning", "Storage entry not declared", "An observed storage key is not declared.",
         f"{CNIL_LD} §§24-25", "Declare every storage key with purpose, duration and provider.")


@audit("miscategorized-cookie", "violation", "Declared strictly necessary but needs consent",
       "An item (cookie, storage entry or vendor) is declared in a strictly necessary category while it is known "
       "to need consent (e.g. an analytics cookie declared 'Required'). A declaration stricter than needed, or "
       "whose label does not describe what the item is known to do, is reported as info only.",
       f"EDPB Cookie Banner Taskforce ¶¶26-29; {CNIL_LD} §§47-49",
       "Move the item to a category that asks for consent and describes its real purpose.")
def miscategorized(result, declaration, findings):
    if declaration is None:
        return
    model = ConsentModel.from_report(result)
    for kind, rule_kind in (("cookies", "cookie"), ("storage", "storage")):
        for item, state, page in _all_items(result, kind):
            declared, known = item.get("declared_as"), item.get("known_category")
            if item.get("category_source") not in ("declared", "declared-vendor") or declared is None or known is None:
                continue
            _miscategorized(findings, model, rule_kind, item, page, declared, known, item.get("party"))
    seen = set()
    for state, page, kind, request in observations(result):
        declared = request.get("declared_as")
        if kind != "request" or declared is None or not request.get("tracker") or request.get("vendor") in seen:
            continue
        seen.add(request.get("vendor"))
        _miscategorized(findings, model, "request", request, page["url"], declared, request.get("category"), "third")


def _miscategorized(findings, model, kind, item, page, declared, known, party):
    subject = subject_of(kind, item)
    label = model.label(declared)
    vendor = item.get("vendor") or ""
    evidence = {"declared_category": declared, "known_category": known, "vendor": vendor or None}
    by_law = law_needs_consent(known, party)
    if model.essential(declared):
        if by_law:
            findings.add("miscategorized-cookie", "violation", None, page, subject,
                         f"{subject['name']} is declared as {label} (strictly necessary) but is known as {known}"
                         f"{f' ({vendor})' if vendor else ''}: it needs consent", evidence)
        return
    covered = model.purposes(declared)
    if known in covered or not covered or known == "preferences":
        return  # a preference the site asks consent for is asked more than needed: nothing to say
    if known == "necessary":
        text = f"{subject['name']} is known as {known}: exempt from consent, declared as {label} (stricter than needed)"
    else:
        text = (f"{subject['name']} is known as {known}{f' ({vendor})' if vendor else ''} but declared as {label} "
                f"({', '.join(sorted(covered))}): consent is asked, under a label that may not describe it")
    findings.add("miscategorized-cookie", "info", None, page, subject, text, evidence)


@audit("declaration-unknown-category", "warning", "Category the scanner cannot read",
       "A declared category's label names no purpose the scanner knows (in English, French, German, Spanish or "
       "Italian) and the declaration gives none: its items are treated as needing consent.",
       f"{CNIL_RECO} art. 2.1 (intelligible purposes); {CNIL_LD} §§24-25",
       "Give the category `purposes:` in the declaration (necessary, preferences, analytics, marketing, media).")
def unknown_category(result, declaration, findings):
    if declaration is None:
        return
    for category in declaration.unmapped_categories():
        findings.add("declaration-unknown-category", "warning", None, None,
                     {"kind": "category", "name": str(category.get("label") or category["id"])},
                     f"category {category.get('label') or category['id']!r} names no known purpose: "
                     "its items are treated as needing consent", {"category": category["id"]})


@audit("declared-as-other-kind", "info", "Declared as another kind of storage",
       "A name declared as a cookie is stored in localStorage, sessionStorage or IndexedDB (or the reverse). "
       "It is judged by its declaration all the same; the declaration should say where it lives.",
       "GDPR art. 13; " + f"{CNIL_LD} §§24-25", "Declare the item under the kind of storage it really uses.")
def declared_as_other_kind(result, declaration, findings):
    if declaration is None:
        return
    for kind, rule_kind in (("cookies", "cookie"), ("storage", "storage")):
        for item, state, page in _all_items(result, kind):
            if item.get("declared_kind") and item["declared_kind"] != rule_kind:
                where = item.get("kind") + "Storage" if rule_kind == "storage" and item.get("kind") in ("local", "session") \
                    else ("IndexedDB" if rule_kind == "storage" else "a cookie")
                findings.add("declared-as-other-kind", "info", None, page, subject_of(rule_kind, item),
                             f"{subject_of(rule_kind, item)['name']} is declared as a {item['declared_kind']} "
                             f"but observed in {where}", {"declared_kind": item["declared_kind"]})


@audit("consent-categories-differ", "warning", "Banner and declaration list different categories",
       "The consent manager offers an optional category that the site's declaration (its cookie policy) does not "
       "list: visitors are asked about a purpose the policy never explains. The scan still visits it alone.",
       f"GDPR arts. 4(11), 13 (informed, specific consent); {CNIL_RECO} art. 2.1; {CNIL_LD} §§24-25",
       "Describe every category of the banner in the cookie policy (and the declaration), with its cookies.")
def categories_differ(result, declaration, findings):
    if declaration is None:
        return
    none = next((s for s in result["states"] if s["state"] == consent_states.FIRST), None)
    offered = ((none or {}).get("banner") or {}).get("categories") or []
    toggles = {cmp_id for ids in (declaration.consent_mapping() or {}).values() for cmp_id in ids}
    declared_purposes = {p for c in declaration.categories.values() for p in c.get("purposes") or []}
    for category in offered:
        if category.get("required") or category["id"] in toggles or category["id"] in declaration.categories:
            continue
        if not toggles and set(purposes_for_label(category["label"])) & declared_purposes:
            continue  # no toggles given: a declared category with the same purpose covers it
        findings.add("consent-categories-differ", "warning", None, (none.get("pages") or [{}])[0].get("url"),
                     {"kind": "category", "name": category["label"]},
                     f"the consent manager offers the category {category['label']!r} ({category['id']}), "
                     "which the declaration does not list", {"cmp_category": category["id"]})


@audit("excessive-lifetime", "warning", "Tracker lifetime over 13 months",
       "A cookie that needs consent asks for a lifetime over 13 months (395 days).",
       f"{CNIL_RECO} art. 5 (13 months for audience measurement); {CNIL_LD} §50",
       "Limit tracker cookies to 13 months and do not extend them on each visit.")
def excessive_lifetime(result, declaration, findings):
    model = ConsentModel.from_report(result)
    for item, state, page in _all_items(result, "cookies"):
        lifetime = item.get("requested_lifetime_s")
        need = need_of("cookie", item, model)
        if lifetime and lifetime > THIRTEEN_MONTHS_S and need is not None and need.needs_consent:
            findings.add("excessive-lifetime", "warning", None, page, _cookie_subject(item),
                         f"cookie {item['name']} asks for {format_duration(lifetime)} (kept: {format_duration(item.get('lifetime_s'))})",
                         _cookie_evidence(item))


@audit("duration-mismatch", "warning", "Lives longer than declared",
       "The lifetime a cookie asks for is longer than the duration the declaration gives.",
       "GDPR art. 13(2)(a); CJEU C-673/17 Planet49", "Correct the declared duration or the cookie's Max-Age/Expires.")
def duration_mismatch(result, declaration, findings):
    if declaration is None:
        return
    for item, state, page in _all_items(result, "cookies"):
        declared = declaration.find_cookie(item["name"])
        requested = item.get("requested_lifetime_s")
        if declared and declared.duration_s is not None and requested and requested > declared.duration_s * 1.02 + 60:
            findings.add("duration-mismatch", "warning", None, page, _cookie_subject(item),
                         f"cookie {item['name']} asks for {format_duration(requested)}, declared {format_duration(declared.duration_s)}",
                         {"declared_s": declared.duration_s, "requested_lifetime_s": requested})


@audit("insecure-cookie", "warning", "Insecure cookie attributes",
       "On HTTPS, a first-party cookie the site sent (stored or refused by the browser): without Secure, "
       "SameSite=None without Secure (Chromium refuses it), or a session/authentication identifier set by the "
       "server without HttpOnly. Cookies written by scripts cannot be HttpOnly and CSRF/XSRF tokens must stay "
       "readable by scripts: neither is asked for HttpOnly.",
       "GDPR art. 32 (security of processing); CNIL developer guide, sheet 6",
       "Set Secure on every cookie of an HTTPS site, SameSite=None only with Secure, and HttpOnly on "
       "server-set session cookies.")
def insecure_cookie(result, declaration, findings):
    if not result["site"]["url"].startswith("https:"):
        return
    for item, state, page in _all_items(result, "cookies", refused=True):
        if item.get("party") != "first":
            continue
        problems = []
        refused = item.get("stored") is False
        reasons = " ".join(item.get("blocked_reasons") or [])
        if item.get("same_site") == "None" and not item.get("secure") or (refused and "SameSite" in reasons
                                                                        and "Secure" in reasons):
            problems.append("SameSite=None without Secure")
        elif not item.get("secure"):
            problems.append("no Secure")
        if (item.get("set_by") == "header" and not item.get("http_only") and SESSION_NAME.match(item["name"])
                and not CSRF_NAME.search(item["name"])):
            problems.append("session/authentication cookie without HttpOnly")
        if refused:
            problems.append(f"refused by the browser ({reasons or 'no reason given'})")
        if problems:
            findings.add("insecure-cookie", "warning", None, page,
                         {**_cookie_subject(item), **({"refused": True} if refused else {})},
                         f"cookie {item['name']}: {'; '.join(problems)}",
                         {"set_by": item.get("set_by"), "setter_url": item.get("setter_url"), "stored": not refused,
                          "blocked_reasons": item.get("blocked_reasons") or []})


@audit("declared-not-observed", "info", "Declared but never seen",
       "A declared cookie or storage key was not observed in any state, as a cookie or in any storage: the "
       "declaration may be out of date.",
       "GDPR art. 5(1)(a), 12 (accurate information)", "Remove stale entries or check the pages that set them were scanned.")
def declared_not_observed(result, declaration, findings):
    if declaration is None:
        return
    names = {item["name"] for item, _, _ in _all_items(result, "cookies", refused=True)}
    names |= {item["key"] for item, _, _ in _all_items(result, "storage")}
    for kind, entries in (("cookie", declaration.cookies), ("storage", declaration.storage)):
        for declared in entries:
            if not any(declared.matches(n) for n in names):
                findings.add("declared-not-observed", "info", None, None, {"kind": kind, "name": declared.name},
                             f"declared {'cookie' if kind == 'cookie' else 'storage key'} {declared.name} was not observed",
                             {"category": declared.category})


@audit("third-country-transfer", "warning", "Undisclosed transfer outside the EEA",
       "Requests reach a vendor established outside the EEA that the declaration does not name.",
       "GDPR arts. 13(1)(f), 44-46; Commission Decision (EU) 2023/1795 (EU-US Data Privacy Framework)",
       "Name the vendor, the country and the safeguard (adequacy, DPF, SCCs) in the privacy policy, or stop the transfer.")
def third_country(result, declaration, findings):
    declared_hosts = set()
    declared_names = set()
    if declaration is not None:
        for vendor in declaration.vendors:
            declared_names.add(str(vendor.get("name", "")).lower())
            declared_hosts.update(str(h).lower() for h in vendor.get("hosts") or [])
    vendors = default_vendors()
    for state in result["states"]:
        for page in state.get("pages") or []:
            for r in page.get("requests") or []:
                country = r.get("country")
                if not country or r.get("party") != "third" or not r.get("vendor"):
                    continue
                vendor = vendors.by_name(r["vendor"])
                if vendor is None or vendor.eea is not False:
                    continue
                host = r["host"]
                if r["vendor"].lower() in declared_names or any(host == h or host.endswith("." + h) for h in declared_hosts):
                    continue
                findings.add("third-country-transfer", "warning", None, page["url"],
                             {"kind": "request", "name": r["vendor"], "host": host},
                             f"requests to {r['vendor']} ({country}) are not disclosed", {"country": country, "url": r["url"]})


@audit("banner-missing", "violation", "No consent banner",
       "No consent manager or banner was found while the site sets items that need consent.",
       f"Loi Informatique et Libertés art. 82; {CNIL_LD} §24", "Install a consent manager that asks before any tracker.")
def banner_missing(result, declaration, findings):
    none = next((s for s in result["states"] if s["state"] == consent_states.FIRST and s.get("reached")), None)
    if none is None or (none.get("banner") or {}).get("shown"):
        return
    model = ConsentModel.from_report(result)
    offending = [item for state, page, kind, item in observations({"states": [none]})
                 if judge(kind, item, consent_states.FIRST, model).status == NOT_ALLOWED]
    if offending:
        findings.add("banner-missing", "violation", consent_states.FIRST, none["pages"][0]["url"], {"kind": "banner", "name": "consent banner"},
                     f"no consent banner found, yet {len(offending)} items need consent", {})


@audit("no-reject-option", "violation", "No way to refuse on the first layer",
       "The first layer offers 'accept' but no 'reject all' or 'continue without accepting' of equal prominence.",
       f"{CNIL_RECO} art. 2.4; EDPB Cookie Banner Taskforce ¶¶8, 13-14; CNIL SAN-2021-023",
       "Put a 'reject all' button next to 'accept all', with the same size and contrast.")
def no_reject(result, declaration, findings):
    none = next((s for s in result["states"] if s["state"] == consent_states.FIRST and s.get("reached")), None)
    banner = (none or {}).get("banner") or {}
    if not (banner.get("shown") and banner.get("accept_on_first_layer")):
        return
    screenshot = next((s["path"] for s in none.get("screenshots") or []), None)
    subject = {"kind": "banner", "name": banner.get("cmp") or "banner"}
    if not banner.get("reject_on_first_layer"):
        findings.add("no-reject-option", "violation", consent_states.FIRST, none["pages"][0]["url"], subject,
                     "the first layer offers accept but no reject", {"screenshot": screenshot})
    elif (banner.get("prominence") or {}).get("equal") is False:
        reason = banner["prominence"]["reason"]
        if banner.get("reject_is_close"):  # the banner says closing refuses: the × is the only refusal
            message = (f"the only way to refuse is the banner's close control (×), which the banner says means "
                       f"refusing, and it is less prominent than accept: {reason.replace('reject control', 'close control')}")
        else:
            message = f"the reject control is less prominent than accept: {reason}"
        findings.add("no-reject-option", "violation", consent_states.FIRST, none["pages"][0]["url"], subject,
                     message, {"screenshot": screenshot, "reason": reason})


@audit("pre-ticked-choice", "violation", "Pre-ticked optional categories",
       "The settings layer shows an optional category switched on before the visitor touched it.",
       f"CJEU C-673/17 Planet49; GDPR recital 32; {CNIL_LD} §27; EDPB Cookie Banner Taskforce ¶10",
       "Leave every optional category off until the visitor switches it on.")
def pre_ticked(result, declaration, findings):
    for state in result["states"]:
        for purpose in (state.get("banner") or {}).get("prechecked") or []:
            findings.add("pre-ticked-choice", "violation", None, (state.get("pages") or [{}])[0].get("url"),
                         {"kind": "banner", "name": str(purpose)}, f"purpose {purpose} is on before any choice", {})
