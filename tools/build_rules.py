#!/usr/bin/env python3
"""Regenerate the rule data under rules/ from the reference data sets in shared/data.

    python tools/build_rules.py [DATA_DIR] [--out RULES_DIR]

DATA_DIR defaults to ../shared/data relative to the repository root; RULES_DIR to
<repo>/rules. Writes, in a stable sorted order so that reviews are plain diffs:

    rules/known-cookies.csv     facts from the Open Cookie Database (Apache-2.0)
    rules/vendors.json          entities from third-party-web (MIT)
    rules/NOTICE, rules/licenses/*-LICENSE   attribution and licence texts

rules/vendor-countries.yaml is curated by hand; this script only checks that its
vendor names exist in vendors.json and warns otherwise.

Only facts are kept from the Open Cookie Database: its `Description` prose is
never copied. The `purpose` column is a short phrase written here, chosen from
the table PURPOSES below by category and the name signals below.

How OCD categories become our four purposes (see `classify_row`):

    Necessary, Security -> necessary      Analytics -> analytics
    Personalization     -> preferences    Marketing -> marketing
    Functional          -> necessary or preferences, by the first rule that applies:
      1. the name records a consent choice (CONSENT_NAME)         -> necessary
      2. the platform's business is measurement, advertising or testing
         (TRACKER_PLATFORMS), or the name hints at tracking (TRACKING_NAME)
                                                                  -> preferences
      3. the name is a setting or UI state (PREFERENCE_NAME)      -> preferences
      4. the name is a security, authentication, session, load-balancing or
         cart cookie (NECESSARY_NAMES)                            -> necessary
      5. the platform is a consent manager, or security, load-balancing,
         identity or payment infrastructure (INFRA_PLATFORMS)     -> necessary
      6. anything else                                            -> preferences
    "preferences" is the cautious default: it needs consent, so an unsure row is
    never treated as exempt.
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import re
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _load_durations():
    """scanner/durations.py loaded on its own, so this tool needs none of the
    scanner's run-time dependencies (importing the `scanner` package would)."""
    spec = importlib.util.spec_from_file_location(
        "_scanner_durations", REPO / "scanner" / "durations.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


parse_duration = _load_durations().parse_duration

OCD_DIR = "open-cookie-database"
OCD_FILE = "open-cookie-database.csv"
TPW_DIR = "third-party-web"
TPW_FILE = "entities.json"

COLUMNS = ["name", "match", "platform", "category", "purpose", "domain",
           "retention", "retention_s", "controller", "privacy_url"]

OCD_CATEGORY = {
    "Necessary": "necessary",
    "Security": "necessary",
    "Analytics": "analytics",
    "Marketing": "marketing",
    "Personalization": "preferences",
}

# --- signals used to split OCD "Functional" (matched case-insensitively) -------------
CONSENT_NAME = re.compile(
    r"consent|gdpr|optanon|usprivacy|cookielaw|cookie_?notice|cookie_?policy|"
    r"cookie_?banner|cookies?_?(?:level|seen|status|accepted|agreement)|"
    r"cmplz|complianz|borlabs|axeptio|didomi|cookieyes|^cky-|^_?_cmp|^ckies_|"
    r"^tc_privacy|opt_?out|opt_?in|do_not_track|cookiecontrol|cli_user_preference",
    re.I)
CMP_PLATFORMS = frozenset({
    "Axeptio", "Borlabs", "Civic", "Complianz", "Consentmanager.net", "Cookie First",
    "Cookie Law Info", "Cookie Script", "CookieConsent.io", "CookieYes", "Cookiebot",
    "Didomi", "Enzuzo", "Hu-manity.co", "Iubenda", "Moove", "OneTrust", "Osano",
    "PrivacyPillar", "Termly", "Usercentrics",
})
TRACKER_PLATFORMS = frozenset({
    "Adcalls", "Adobe Analytics", "Adobe Audience Manager", "Blueconic.com", "Braze",
    "Convert Insights", "Crazy Egg", "CreativeCDN", "DoubleClick/Google Marketing",
    "Dynamic Yield", "Ezoic", "Facebook", "Fastclick", "Flowbox", "Google AdSense",
    "Google Ads", "Google Analytics", "Google Optimize", "Hotjar", "ID5", "Instagram",
    "Lucky Orange", "Microsoft Azure App Insights", "Parse.ly", "Permutive",
    "Pinterest", "Prebid", "PubMatic", "Qualtrics", "ShareThis", "SiteSpect",
    "Smartadserver", "Snapchat", "Snapwidget", "Sooqr", "Squeezely", "Taboola",
    "Tailtarget", "Visual Website Optimizer", "Xandr", "Yandex.Metrica", "Youtube",
    "betweendigital.com",
})
TRACKING_NAME = re.compile(r"utm|campaign|referr|tracking|tracker|analytics|visitor", re.I)
PREFERENCE_NAME = re.compile(
    r"lang|locale|culture|currency|country|theme|color_?mode|^tz$|timezone|font|"
    r"player|volume|layout|style|sort|display|viewport|pixelratio|dismiss|notice|"
    r"welcome|collapsed|expanded|per-page|toggle|emoji|pref|settings|wishlist|"
    r"recently|compare",
    re.I)
NECESSARY_NAMES: dict[str, re.Pattern[str]] = {   # reason -> name pattern, in order
    "security": re.compile(r"csrf|xsrf|antiforgery|verificationtoken|captcha|firewall|"
                           r"fraud|2fa|tfa|_mf\b|-mf\b|secure_customer|customer_sig", re.I),
    "auth": re.compile(r"auth(?!or)|login|logged|sso|saml|oauth|token|remember|identity|"
                       r"password|user_?id|^user$", re.I),
    "session": re.compile(r"sess|(?:^|[_.-])sid(?:$|[_.-])", re.I),
    "load-balancing": re.compile(r"affinity|balanc|^awsalb|^awselb|lb(?:$|[_\d])|"
                                 r"^f?dlb|route|routing|sticky|serverid|ingress|slice",
                                 re.I),
    "cart": re.compile(r"cart|basket|checkout", re.I),
}
INFRA_PLATFORMS: dict[str, str] = {   # platform -> reason
    **dict.fromkeys(("Axeptio", "Borlabs", "Civic", "Complianz", "Consentmanager.net",
                     "Cookie First", "Cookie Law Info", "Cookie Script",
                     "CookieConsent.io", "CookieYes", "Cookiebot", "Didomi", "Enzuzo",
                     "Hu-manity.co", "Iubenda", "Moove", "OneTrust", "Osano",
                     "PrivacyPillar", "Termly", "Usercentrics"), "consent"),
    **dict.fromkeys(("Akamai", "Akamai Botmanager", "CHEQ AI Technologies",
                     "CleanTalk", "CloudFlare", "Cloudflare", "Datadome",
                     "Google reCAPTCHA", "Imperva"), "security"),
    **dict.fromkeys(("Alteon", "Citrix", "f5 BIG-IP", "HAproxy", "Lightbox CDN",
                     "NGINX Ingresss"), "load-balancing"),
    **dict.fromkeys(("Auth0", "Keycloak"), "auth"),
    **dict.fromkeys(("Adyen", "PayPal", "Stripe"), "payment"),
}

# --- purpose phrases (our own words), by reason -----------------------------------------
PURPOSES = {
    "consent": "stores the visitor's consent choices",
    "security": "security: request forgery, bot or fraud protection",
    "auth": "keeps the user signed in",
    "session": "keeps the browsing session",
    "load-balancing": "routes requests to the same server",
    "cart": "keeps the shopping cart or checkout",
    "payment": "payment processing and fraud checks",
    "technical": "technical operation of the site",
    "settings": "remembers settings or interface state",
    "feature": "feature of the site or of an embedded service",
    "tracker-feature": "used by a measurement, advertising or testing service",
    "analytics": "audience measurement and visit statistics",
    "marketing": "advertising, retargeting or cross-site tracking",
}


def classify_row(category: str, platform: str, name: str) -> tuple[str, str]:
    """(standard purpose, reason key) for one OCD row."""
    if category in ("Analytics", "Marketing"):
        return OCD_CATEGORY[category], category.lower()
    if category == "Personalization":
        return "preferences", "settings"
    if category in ("Necessary", "Security"):
        if CONSENT_NAME.search(name):
            return "necessary", "consent"
        for reason, pattern in NECESSARY_NAMES.items():
            if pattern.search(name):
                return "necessary", reason
        return "necessary", "security" if category == "Security" else "technical"
    if category != "Functional":
        raise ValueError(f"unknown Open Cookie Database category {category!r} for {name!r}")
    # Functional: rules 1-6 of the module docstring.
    if CONSENT_NAME.search(name):
        return "necessary", "consent"
    if platform in TRACKER_PLATFORMS or TRACKING_NAME.search(name):
        return "preferences", "settings" if PREFERENCE_NAME.search(name) else "tracker-feature"
    if PREFERENCE_NAME.search(name):
        return "preferences", "settings"
    for reason, pattern in NECESSARY_NAMES.items():
        if pattern.search(name):
            return "necessary", reason
    if platform in INFRA_PLATFORMS:
        return "necessary", INFRA_PLATFORMS[platform]
    return "preferences", "feature"


def purpose_text(reason: str, platform: str) -> str:
    text = PURPOSES[reason]
    return f"{text} ({platform})" if platform else text


def clean_name(raw: str) -> tuple[str, bool]:
    """Strip stray whitespace and soft hyphens; a trailing '*' means a prefix."""
    name = raw.replace("\u00ad", "").strip()
    if name.endswith("*"):
        return name.rstrip("*"), True
    return name, False


def build_known_cookies(ocd_csv: Path) -> tuple[list[dict[str, str]], dict[str, int]]:
    with ocd_csv.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    out: list[dict[str, str]] = []
    for row in rows:
        name, starred = clean_name(row["Cookie / Data Key name"])
        if not name:
            continue
        platform = row["Platform"].strip()
        category, reason = classify_row(row["Category"].strip(), platform, name)
        retention = " ".join(row["Retention period"].split())
        seconds = parse_duration(retention)
        out.append({
            "name": name,
            "match": "prefix" if starred or row["Wildcard match"].strip() == "1" else "exact",
            "platform": platform,
            "category": category,
            "purpose": purpose_text(reason, platform),
            "domain": " ".join(row["Domain"].split()),
            "retention": retention,
            "retention_s": "" if seconds is None else str(seconds),
            "controller": row["Data Controller"].strip(),
            "privacy_url": row["User Privacy & GDPR Rights Portals"].strip(),
        })
    out.sort(key=lambda r: tuple(r[c] for c in COLUMNS))
    counts: dict[str, int] = {}
    for r in out:
        counts[r["category"]] = counts.get(r["category"], 0) + 1
    return out, counts


def write_csv(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def build_vendors(entities_json: Path, source: dict[str, str]) -> dict[str, object]:
    entities = json.loads(entities_json.read_text(encoding="utf-8"))
    vendors = [{
        "name": e["name"].strip(),
        "company": (e.get("company") or "").strip(),
        "category": (e.get("category") or "").strip(),
        "domains": sorted({d.strip() for d in e.get("domains", []) if d.strip()}),
    } for e in entities]
    vendors.sort(key=lambda v: (v["name"], v["company"]))
    return {"_source": source, "vendors": vendors}


def write_vendors(path: Path, data: dict[str, object]) -> None:
    """One vendor per line: small, and a change shows as a one-line diff."""
    lines = ["{", f'"_source": {json.dumps(data["_source"], ensure_ascii=False)},',
             '"vendors": [']
    vendors = data["vendors"]
    assert isinstance(vendors, list)
    for i, v in enumerate(vendors):
        sep = "," if i < len(vendors) - 1 else ""
        lines.append(json.dumps(v, ensure_ascii=False) + sep)
    lines += ["]", "}", ""]
    path.write_text("\n".join(lines), encoding="utf-8")


def check_domains(vendors: list[dict[str, object]]) -> list[str]:
    """Warnings about entries the run-time matcher would read differently."""
    warnings: list[str] = []
    seen: dict[str, str] = {}
    try:
        import tldextract
        extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

        def registrable_domain(host: str) -> str:
            return extract(host).top_domain_under_public_suffix
    except ImportError:  # pragma: no cover - the check is skipped without tldextract
        registrable_domain = None
    for v in vendors:
        for d in v["domains"]:  # type: ignore[union-attr]
            key = d.lower().removeprefix("*.")
            if key in seen and seen[key] != v["name"]:
                warnings.append(f"domain {d} listed by both {seen[key]!r} and {v['name']!r}")
            seen.setdefault(key, str(v["name"]))
            # The matcher treats a plain two-label entry ("googleapis.com") as a
            # registrable domain covering its subdomains; flag other registrable ones.
            if registrable_domain and not d.startswith("*.") and key.count(".") > 1 \
                    and registrable_domain(key) == key:
                warnings.append(f"{v['name']}: plain entry {d} is a registrable domain "
                                "with more than two labels; its subdomains will not match")
    return warnings


def readme_facts(data_dir: Path) -> dict[str, dict[str, str]]:
    """Source URL, commit and licence per folder, from the data README's table."""
    facts: dict[str, dict[str, str]] = {}
    readme = data_dir / "README.md"
    if not readme.is_file():
        return facts
    for line in readme.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].endswith("/"):
            continue
        m = re.match(r"([0-9a-f]{40})(?:\s*\(([^)]*)\))?", cells[2])
        facts[cells[0].rstrip("/")] = {
            "url": "https://" + cells[1].split(",")[0].strip(),
            "commit": m.group(1) if m else "unknown",
            "date": (m.group(2) or "") if m else "",
            "licence": cells[3],
        }
    return facts


def notice_text(facts: dict[str, dict[str, str]]) -> str:
    def fact(folder: str, key: str, default: str) -> str:
        return facts.get(folder, {}).get(key) or default

    return f"""Rule data in this folder is derived in part from the following works.

known-cookies.csv
  Open Cookie Database
  {fact(OCD_DIR, "url", "https://github.com/jkwakman/Open-Cookie-Database")}
  Commit {fact(OCD_DIR, "commit", "unknown")} ({fact(OCD_DIR, "date", "date unknown")})
  Licensed under the Apache License, Version 2.0: licenses/open-cookie-database-LICENSE
  Changes: only names, match type, platform, category, domain, retention,
  data controller and privacy URL are kept; the category "Functional" is split
  into necessary / preferences by the rules in tools/build_rules.py; retention
  is normalised to seconds; the purpose phrases are our own; the descriptions
  are not included.

vendors.json
  third-party-web
  {fact(TPW_DIR, "url", "https://github.com/patrickhulce/third-party-web")}
  Commit {fact(TPW_DIR, "commit", "unknown")} ({fact(TPW_DIR, "date", "date unknown")})
  Copyright (c) Patrick Hulce. Licensed under the MIT License:
  licenses/third-party-web-LICENSE
  Changes: only name, company, category and domains are kept, sorted.

vendor-countries.yaml is curated by this project; each entry cites its source.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO / "rules")
    args = parser.parse_args(argv)
    data_dir: Path = args.data_dir.resolve()
    out: Path = args.out.resolve()
    (out / "licenses").mkdir(parents=True, exist_ok=True)
    facts = readme_facts(data_dir)

    rows, counts = build_known_cookies(data_dir / OCD_DIR / OCD_FILE)
    write_csv(out / "known-cookies.csv", rows)
    print(f"known-cookies.csv: {len(rows)} rows {dict(sorted(counts.items()))}")

    tpw = facts.get(TPW_DIR, {})
    source = {
        "name": "third-party-web",
        "url": tpw.get("url", "https://github.com/patrickhulce/third-party-web"),
        "commit": tpw.get("commit", "unknown"),
        "licence": tpw.get("licence", "MIT"),
        "file": "data/entities.js (as JSON)",
    }
    vendors = build_vendors(data_dir / TPW_DIR / TPW_FILE, source)
    write_vendors(out / "vendors.json", vendors)
    vendor_list = vendors["vendors"]
    assert isinstance(vendor_list, list)
    print(f"vendors.json: {len(vendor_list)} vendors")
    for warning in check_domains(vendor_list):
        print("warning:", warning, file=sys.stderr)

    licenses = out / "licenses"
    shutil.copyfile(data_dir / OCD_DIR / "LICENSE", licenses / "open-cookie-database-LICENSE")
    shutil.copyfile(data_dir / TPW_DIR / "LICENSE", licenses / "third-party-web-LICENSE")
    (out / "NOTICE").write_text(notice_text(facts), encoding="utf-8")

    countries = out / "vendor-countries.yaml"
    if countries.is_file():
        import yaml
        names = {v["name"] for v in vendor_list}
        entries = yaml.safe_load(countries.read_text(encoding="utf-8")).get("vendors", [])
        for entry in entries:
            missing = [n for n in [entry["vendor"], *entry.get("aliases", [])] if n not in names]
            if entry["vendor"] in missing and entry.get("category"):
                missing.remove(entry["vendor"])   # a vendor added by the table itself
            for name in missing:
                print(f"warning: vendor-countries.yaml: {name!r} is not in vendors.json",
                      file=sys.stderr)
        print(f"vendor-countries.yaml: {len(entries)} entries checked")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
