"""The compliance audits. Each function receives (result, declaration, findings)."""
from __future__ import annotations

from ..classify import default_known_cookies, default_vendors
from ..durations import format_duration
from .classify import needs_consent
from .registry import audit, describe

CNIL_LD = "CNIL Lignes directrices 2020-091"
CNIL_RECO = "CNIL Recommandation 2020-092"
THIRTEEN_MONTHS_S = 395 * 86400
AUTH_NAMES = ("sess", "sid", "auth", "token", "login", "jsessionid", "phpsessid", "csrf", "xsrf")


def _states(result, prefix):
    for state in result["states"]:
        if state.get("reached") and (state["state"] == prefix or (prefix.endswith(":") and state["state"].startswith(prefix))):
            yield state


def _cookie_subject(c):
    return {"kind": "cookie", "name": c["name"], "domain": c["domain"]}


def _storage_subject(s):
    return {"kind": "storage", "name": s["key"], "domain": s["origin"]}


def _request_subject(r):
    return {"kind": "request", "name": r.get("vendor") or r["host"], "host": r["host"]}


def _cookie_evidence(c):
    return {k: c.get(k) for k in ("set_by", "setter_url", "requested_lifetime_s", "lifetime_s", "category",
                                  "category_source", "vendor", "party", "stored") if c.get(k) is not None}


def _flag_items(result, findings, state_name, rules, message, pick=needs_consent):
    cookie_rule, storage_rule, request_rule = rules
    for state in _states(result, state_name):
        for page in state["pages"]:
            for c in page.get("cookies") or []:
                if pick(c):
                    findings.add(cookie_rule, "violation", state["state"], page["url"], _cookie_subject(c),
                                 message.format(kind="cookie", name=c["name"], detail=f"{c.get('category')}, {c.get('vendor') or c['domain']}"),
                                 _cookie_evidence(c))
            for s in page.get("storage") or []:
                if pick(s):
                    findings.add(storage_rule, "violation", state["state"], page["url"], _storage_subject(s),
                                 message.format(kind="storage entry", name=s["key"], detail=f"{s.get('category')}, {s['origin']}"),
                                 {"setter_url": s.get("setter_url"), "kind": s["kind"], "category": s.get("category")})
            for r in page.get("requests") or []:
                if r.get("tracker"):
                    findings.add(request_rule, "violation", state["state"], page["url"], _request_subject(r),
                                 message.format(kind="tracker request to", name=r["host"], detail=f"{r.get('category')}, {r.get('vendor')}"),
                                 {"url": r["url"], "initiator_url": r.get("initiator_url"), "resource_type": r.get("resource_type")})


@audit("pre-consent-cookie", "violation", "Trackers before consent",
       "Cookies, storage or tracker requests that need consent appear while the banner is unanswered, "
       "including after scrolling and opening a second page (browsing is not consent).",
       f"ePrivacy Directive art. 5(3); Loi Informatique et Libertés art. 82; {CNIL_LD} §§4, 16, 27; CNIL SAN-2020-012, SAN-2020-013",
       "Load analytics, advertising and embedded third-party content only after the visitor accepts their category; "
       "use click-to-load placeholders for embeds.")
def pre_consent(result, declaration, findings):
    _flag_items(result, findings, "none", ("pre-consent-cookie", "pre-consent-storage", "pre-consent-request"),
                "{kind} {name} ({detail}) before any consent")


describe("pre-consent-storage", "violation", "Storage written before consent",
       "localStorage, sessionStorage or IndexedDB entries that need consent, written before any choice.",
       f"ePrivacy Directive art. 5(3); {CNIL_LD} §13", "Gate the scripts that write them on consent.")


describe("pre-consent-request", "violation", "Tracker requests before consent",
       "Requests to analytics or advertising endpoints (beacons, pixels, collect calls) before any choice.",
       f"ePrivacy Directive art. 5(3); EDPB Guidelines 2/2023 §3.1; {CNIL_LD} §§4, 16",
       "Do not load tags or fire pixels before consent; in Google Consent Mode use 'denied' defaults without pings.")


@audit("post-reject-cookie", "violation", "Trackers after 'reject all'",
       "Cookies, storage or tracker requests that need consent are still present after the visitor refused.",
       f"ePrivacy Directive art. 5(3); {CNIL_LD} §30; {CNIL_RECO} art. 2; EDPB Cookie Banner Taskforce report ¶7; CNIL SAN-2020-012",
       "Make every non-essential tag listen to the consent manager and stay off after a refusal.")
def post_reject(result, declaration, findings):
    _flag_items(result, findings, "reject", ("post-reject-cookie", "post-reject-storage", "post-reject-request"),
                "{kind} {name} ({detail}) after the visitor rejected all")


describe("post-reject-storage", "violation", "Storage after 'reject all'", "Storage needing consent after a refusal.",
       f"ePrivacy Directive art. 5(3); {CNIL_LD} §30", "Gate the writing scripts on consent.")


describe("post-reject-request", "violation", "Tracker requests after 'reject all'",
       "Requests to analytics or advertising endpoints after a refusal.",
       f"ePrivacy Directive art. 5(3); {CNIL_LD} §30; {CNIL_RECO} art. 2", "Stop the tags after a refusal.")


def _category_purposes(result, declaration, category):
    if declaration is not None and category in declaration.categories:
        return set(declaration.categories[category].get("purposes") or [])
    return {category}


@audit("category-leak", "violation", "Refused category active",
       "With only one optional category accepted, items of another (refused) category appear.",
       f"GDPR art. 4(11) (consent is specific); {CNIL_LD} §19; {CNIL_RECO} art. 2.4",
       "Map every tag to exactly the category that covers its purpose, and load it only when that category is accepted.")
def category_leak(result, declaration, findings):
    for state in _states(result, "only:"):
        allowed = _category_purposes(result, declaration, state["state"].split(":", 1)[1])
        for page in state["pages"]:
            for c in page.get("cookies") or []:
                if needs_consent(c) and c.get("category") not in allowed:
                    findings.add("category-leak", "violation", state["state"], page["url"], _cookie_subject(c),
                                 f"cookie {c['name']} ({c.get('category')}, {c.get('vendor') or c['domain']}) with only "
                                 f"{state['state'][5:]} accepted", _cookie_evidence(c))
            for r in page.get("requests") or []:
                if r.get("tracker") and r.get("category") not in allowed:
                    findings.add("category-leak", "violation", state["state"], page["url"], _request_subject(r),
                                 f"tracker request to {r['host']} ({r.get('category')}, {r.get('vendor')}) with only "
                                 f"{state['state'][5:]} accepted", {"url": r["url"], "initiator_url": r.get("initiator_url")})


@audit("withdrawal-ignored", "violation", "Withdrawal of consent ignored",
       "After accepting, reopening the consent manager and withdrawing, non-essential cookies stay in place or "
       "trackers keep being contacted.",
       f"GDPR art. 7(3); {CNIL_LD} §31; {CNIL_RECO} art. 3; CNIL SAN-2020-012",
       "On withdrawal, stop the tags and delete the cookies they set (first-party) or stop sending them.")
def withdrawal_ignored(result, declaration, findings):
    for state in _states(result, "withdraw"):
        for page in state["pages"]:
            for c in page.get("cookies") or []:
                if needs_consent(c) and c.get("stored"):
                    findings.add("withdrawal-ignored", "violation", "withdraw", page["url"], _cookie_subject(c),
                                 f"cookie {c['name']} ({c.get('category')}) still present after withdrawal", _cookie_evidence(c))
            for r in page.get("requests") or []:
                if r.get("tracker"):
                    findings.add("withdrawal-ignored", "violation", "withdraw", page["url"], _request_subject(r),
                                 f"tracker request to {r['host']} after withdrawal", {"url": r["url"]})


def _all_items(result, kind):
    seen = {}
    for state in result["states"]:
        for page in state.get("pages") or []:
            for item in page.get(kind) or []:
                key = (item.get("name") or item.get("key"), item.get("domain") or item.get("origin"))
                seen.setdefault(key, (item, state["state"], page["url"]))
    return seen.values()


@audit("undeclared-cookie", "warning", "Cookie or storage not declared",
       "An observed cookie or storage entry is missing from the site's declaration (name, purpose, duration, provider).",
       f"{CNIL_LD} §§24-25; CJEU C-673/17 Planet49 (duration and third-party access); EDPB Cookie Banner Taskforce ¶28",
       "List every cookie and storage key in the cookie policy with its purpose, duration and provider.")
def undeclared(result, declaration, findings):
    if declaration is None:
        return
    for kind, rule_kind in (("cookies", "cookie"), ("storage", "storage")):
        for item, state, page in _all_items(result, kind):
            if item.get("category_source") in ("declared", "cmp-record") or item.get("stored") is False:
                continue
            severity = "violation" if needs_consent(item) else "warning"
            subject = _cookie_subject(item) if rule_kind == "cookie" else _storage_subject(item)
            name = subject["name"]
            findings.add("undeclared-cookie" if rule_kind == "cookie" else "undeclared-storage", severity, None, page, subject,
                         f"{rule_kind} {name} ({item.get('category')}) is not in the declaration",
                         {"first_seen_state": state, "category": item.get("category"), "vendor": item.get("vendor")})


describe("undeclared-storage", "warning", "Storage entry not declared", "An observed storage key is not declared.",
       f"{CNIL_LD} §§24-25", "Declare every storage key with purpose, duration and provider.")


@audit("miscategorized-cookie", "violation", "Declared in the wrong category",
       "A cookie is declared in a category whose purposes do not cover what it is known to do "
       "(e.g. an analytics cookie declared strictly necessary).",
       f"EDPB Cookie Banner Taskforce ¶¶26-29; {CNIL_LD} §§47-49",
       "Move the cookie to a category that describes its real purpose.")
def miscategorized(result, declaration, findings):
    if declaration is None:
        return
    known = default_known_cookies()
    for item, state, page in _all_items(result, "cookies"):
        declared = declaration.find_cookie(item["name"])
        row = known.lookup(item["name"])
        if declared is None or row is None:
            continue
        purposes = set((declaration.categories.get(declared.category) or {}).get("purposes") or [])
        if row.category not in purposes:
            findings.add("miscategorized-cookie", "violation", None, page, _cookie_subject(item),
                         f"cookie {item['name']} is known as {row.category} ({row.platform}) but declared as "
                         f"{declared.category} ({', '.join(sorted(purposes))})",
                         {"declared_category": declared.category, "known_category": row.category})


@audit("excessive-lifetime", "warning", "Tracker lifetime over 13 months",
       "A cookie that needs consent asks for a lifetime over 13 months (395 days).",
       f"{CNIL_RECO} art. 5 (13 months for audience measurement); {CNIL_LD} §50",
       "Limit tracker cookies to 13 months and do not extend them on each visit.")
def excessive_lifetime(result, declaration, findings):
    for item, state, page in _all_items(result, "cookies"):
        lifetime = item.get("requested_lifetime_s")
        if lifetime and lifetime > THIRTEEN_MONTHS_S and needs_consent(item):
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
       "On HTTPS: a cookie without Secure, SameSite=None without Secure, or a session/authentication cookie "
       "readable by scripts (no HttpOnly).",
       "GDPR art. 32 (security of processing); CNIL developer guide, sheet 6", "Set Secure on every cookie of an HTTPS site and HttpOnly on session cookies.")
def insecure_cookie(result, declaration, findings):
    if not result["site"]["url"].startswith("https:"):
        return
    for item, state, page in _all_items(result, "cookies"):
        if not item.get("stored") or item.get("party") != "first":
            continue
        problems = []
        if not item.get("secure"):
            problems.append("no Secure")
        if item.get("same_site") == "None" and not item.get("secure"):
            problems.append("SameSite=None without Secure")
        lname = item["name"].lower()
        if any(n in lname for n in AUTH_NAMES) and not item.get("http_only"):
            problems.append("session/authentication cookie without HttpOnly")
        if problems:
            findings.add("insecure-cookie", "warning", None, page, _cookie_subject(item),
                         f"cookie {item['name']}: {'; '.join(problems)}", {"set_by": item.get("set_by"), "setter_url": item.get("setter_url")})


@audit("declared-not-observed", "info", "Declared but never seen",
       "A declared cookie or storage key was not observed in any state: the declaration may be out of date.",
       "GDPR art. 5(1)(a), 12 (accurate information)", "Remove stale entries or check the pages that set them were scanned.")
def declared_not_observed(result, declaration, findings):
    if declaration is None:
        return
    names = {item["name"] for item, _, _ in _all_items(result, "cookies")}
    keys = {item["key"] for item, _, _ in _all_items(result, "storage")}
    for declared in declaration.cookies:
        if not any(declared.matches(n) for n in names):
            findings.add("declared-not-observed", "info", None, None, {"kind": "cookie", "name": declared.name},
                         f"declared cookie {declared.name} was not observed", {"category": declared.category})
    for declared in declaration.storage:
        if not any(declared.matches(k) for k in keys):
            findings.add("declared-not-observed", "info", None, None, {"kind": "storage", "name": declared.name},
                         f"declared storage key {declared.name} was not observed", {"category": declared.category})


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
    none = next((s for s in result["states"] if s["state"] == "none" and s.get("reached")), None)
    if none is None or (none.get("banner") or {}).get("shown"):
        return
    offending = [c for p in none["pages"] for c in p.get("cookies") or [] if needs_consent(c)]
    offending += [r for p in none["pages"] for r in p.get("requests") or [] if r.get("tracker")]
    if offending:
        findings.add("banner-missing", "violation", "none", none["pages"][0]["url"], {"kind": "banner", "name": "consent banner"},
                     f"no consent banner found, yet {len(offending)} items need consent", {})


@audit("no-reject-option", "violation", "No way to refuse on the first layer",
       "The first layer offers 'accept' but no 'reject all' or 'continue without accepting' of equal prominence.",
       f"{CNIL_RECO} art. 2.4; EDPB Cookie Banner Taskforce ¶¶8, 13-14; CNIL SAN-2021-023",
       "Put a 'reject all' button next to 'accept all', with the same size and contrast.")
def no_reject(result, declaration, findings):
    none = next((s for s in result["states"] if s["state"] == "none" and s.get("reached")), None)
    banner = (none or {}).get("banner") or {}
    if not (banner.get("shown") and banner.get("accept_on_first_layer")):
        return
    screenshot = next((s["path"] for s in none.get("screenshots") or []), None)
    subject = {"kind": "banner", "name": banner.get("cmp") or "banner"}
    if not banner.get("reject_on_first_layer"):
        findings.add("no-reject-option", "violation", "none", none["pages"][0]["url"], subject,
                     "the first layer offers accept but no reject", {"screenshot": screenshot})
    elif (banner.get("prominence") or {}).get("equal") is False:
        findings.add("no-reject-option", "violation", "none", none["pages"][0]["url"], subject,
                     f"the reject control is less prominent than accept: {banner['prominence']['reason']}",
                     {"screenshot": screenshot, "reason": banner["prominence"]["reason"]})


@audit("pre-ticked-choice", "violation", "Pre-ticked optional categories",
       "The settings layer shows an optional category switched on before the visitor touched it.",
       f"CJEU C-673/17 Planet49; GDPR recital 32; {CNIL_LD} §27; EDPB Cookie Banner Taskforce ¶10",
       "Leave every optional category off until the visitor switches it on.")
def pre_ticked(result, declaration, findings):
    for state in result["states"]:
        for purpose in (state.get("banner") or {}).get("prechecked") or []:
            findings.add("pre-ticked-choice", "violation", None, (state.get("pages") or [{}])[0].get("url"),
                         {"kind": "banner", "name": str(purpose)}, f"purpose {purpose} is on before any choice", {})
