"""Durations, known-cookie and vendor lookups (no browser)."""
from __future__ import annotations

import csv
import importlib.util
import json
from pathlib import Path

import pytest

from scanner.classify import (
    CATEGORY_PURPOSE, KnownCookie, KnownCookies, Vendor, Vendors,
    default_known_cookies, default_vendors,
)
from scanner.durations import DAY, HOUR, MINUTE, MONTH, WEEK, YEAR, format_duration, parse_duration

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


# --- durations ----------------------------------------------------------------------

@pytest.mark.parametrize("text, seconds", [
    ("session", 0),
    ("Session", 0),
    ("End of session (browser)", 0),
    ("à la fin de la session", 0),
    ("fin de session", 0),
    ("13 mois", 13 * 30 * DAY),
    ("13 months", 390 * DAY),
    ("6 mois", 180 * DAY),
    ("2 years", 2 * 365 * DAY),
    ("2 ans", 2 * 365 * DAY),
    ("1 an", 365 * DAY),
    ("1 année", 365 * DAY),
    ("400 days", 400 * DAY),
    ("400 jours", 400 * DAY),
    ("24 hours", 24 * HOUR),
    ("24 heures", 24 * HOUR),
    ("30 minutes", 30 * MINUTE),
    ("1 minute", MINUTE),
    ("1 year 1 month", YEAR + MONTH),
    ("1 an et 6 mois", YEAR + 6 * MONTH),
    ("1 semaine", WEEK),
    ("1 week", WEEK),
    ("2 Weeks", 2 * WEEK),
    ("1.5 years", round(1.5 * YEAR)),
    ("1,5 an", round(1.5 * YEAR)),
    ("0.5 h", 30 * MINUTE),
    ("1y", YEAR),
    ("2d", 2 * DAY),
    ("30m", 30 * MINUTE),
    ("1h", HOUR),
    ("90 sec", 90),
    ("  1 Year ", YEAR),
    ("30 seconds till 1 year", YEAR),          # a range: the longest bound
    ("1 week to 1 year", YEAR),
    ("30 minutes, 3w or 1y depending on value", YEAR),
    ("Session to 30 days", 30 * DAY),
    ("2 years after last activity", 2 * YEAR),
])
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", [
    "persistent", "Persistent", "permanent", "forever", "Unlimited", "no expiration",
    "Unknown", "Varies", "", "   ", "Local Storage", "10 Nov 2030", None,
])
def test_parse_duration_unknown(text: str | None) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize("seconds, text", [
    (None, "unknown"),
    (0, "session"),
    (30 * MINUTE, "30 min"),
    (HOUR, "1 h"),
    (24 * HOUR, "24 h"),
    (90 * DAY, "90 days"),
    (396 * DAY, "396 days"),
    (13 * MONTH, "13 months"),
    (YEAR, "1 year"),
    (2 * YEAR, "2 years"),
    (2 * YEAR - DAY, "2 years"),               # observed a day after it was set
    (45, "45 s"),
])
def test_format_duration(seconds: int | None, text: str) -> None:
    assert format_duration(seconds) == text


def test_format_parse_round_trip() -> None:
    for text in ("13 months", "2 years", "90 days", "24 h", "30 min", "session"):
        assert format_duration(parse_duration(text)) == text


# --- known cookies (shipped table) --------------------------------------------------------

@pytest.fixture(scope="module")
def cookies() -> KnownCookies:
    return KnownCookies.load()


@pytest.mark.parametrize("name, matched, category, retention_s", [
    ("_ga", "_ga", "analytics", 2 * YEAR),
    ("_ga_ABC123", "_ga_", "analytics", 2 * YEAR),
    ("_gid", "_gid", "analytics", DAY),
    ("__hstc", "__hstc", "marketing", 13 * MONTH),
    ("hubspotutk", "hubspotutk", "marketing", 13 * MONTH),
    ("li_sugr", "li_sugr", "marketing", 90 * DAY),
    ("bcookie", "bcookie", "marketing", YEAR),
    ("VISITOR_INFO1_LIVE", "VISITOR_INFO1_LIVE", "marketing", 179 * DAY),
    ("PHPSESSID", "PHPSESSID", "necessary", 0),
    ("CookieConsent", "CookieConsent", "necessary", YEAR),
    ("OptanonConsent", "OptanonConsent", "necessary", YEAR),
    ("_hjSession_1234567", "_hjSession_", "preferences", 30 * MINUTE),
    ("_hjSessionUser_1234567", "_hjSessionUser_", "preferences", YEAR),
])
def test_known_cookie(cookies: KnownCookies, name: str, matched: str, category: str,
                      retention_s: int) -> None:
    hit = cookies.lookup(name)
    assert hit is not None
    assert (hit.name, hit.category, hit.retention_s) == (matched, category, retention_s)
    assert hit.match == ("exact" if matched == name else "prefix")


def test_known_cookie_details(cookies: KnownCookies) -> None:
    ga = cookies.lookup("_ga")
    assert ga is not None
    assert ga.platform == "Google Analytics" and ga.controller == "Google"
    assert ga.privacy_url.startswith("https://")
    assert format_duration(ga.retention_s) == "2 years"
    cookiebot = cookies.lookup("CookieConsent")
    assert cookiebot is not None and cookiebot.platform == "Cookiebot"
    ysc = cookies.lookup("YSC")
    assert ysc is not None and ysc.platform == "Youtube" and ysc.retention_s == 0
    assert ysc.category != "necessary"         # a YouTube id is never exempt


def test_unknown_cookie(cookies: KnownCookies) -> None:
    assert cookies.lookup("definitely_not_a_known_cookie_42") is None
    assert cookies.lookup("") is None
    assert cookies.lookup("_GA") is None       # names are case-sensitive


def test_short_prefixes_do_not_claim_names(cookies: KnownCookies) -> None:
    # "_s" (Marfeel) and "tp" are prefix rows in the data; too short to trust.
    assert cookies.lookup("_session_token_of_some_app") is None
    assert cookies.lookup("tpxyz") is None


def test_lookup_prefers_exact_then_longest_prefix() -> None:
    def row(name: str, match: str, category: str) -> KnownCookie:
        return KnownCookie(name, match, "P", category, "p", "", "", None, "", "")
    table = KnownCookies([row("_abc", "exact", "analytics"), row("_ab", "prefix", "marketing"),
                          row("_abc_", "prefix", "preferences"), row("x", "exact", "necessary"),
                          row("x", "exact", "marketing")])
    assert table.lookup("_abc").category == "analytics"           # type: ignore[union-attr]
    assert table.lookup("_abc_1").category == "preferences"       # type: ignore[union-attr]
    assert table.lookup("_abd").category == "marketing"           # type: ignore[union-attr]
    # same name twice: the stricter category first, both available
    assert [r.category for r in table.lookup_all("x")] == ["marketing", "necessary"]


def test_known_cookies_table_is_sane(cookies: KnownCookies) -> None:
    rows = list(cookies)
    assert len(rows) > 2000
    assert {r.category for r in rows} == {"necessary", "preferences", "analytics", "marketing"}
    assert {r.match for r in rows} == {"exact", "prefix"}
    assert all(r.purpose and r.name == r.name.strip() for r in rows)


# --- vendors (shipped tables) --------------------------------------------------------------

@pytest.fixture(scope="module")
def vendors() -> Vendors:
    return Vendors.load()


@pytest.mark.parametrize("host, name, purpose", [
    ("region1.google-analytics.com", "Google Analytics", "analytics"),
    ("www.googletagmanager.com", "Google Tag Manager", "tag-manager"),
    ("px.ads.linkedin.com", "LinkedIn Ads", "marketing"),
    ("js.hs-scripts.com", "Hubspot", "marketing"),
    ("track.hubspot.com", "Hubspot", "marketing"),
    ("www.youtube.com", "YouTube", "video"),
    ("connect.facebook.net", "Facebook", "marketing"),
    ("www.clarity.ms", "Clarity", "analytics"),               # override of "utility"
    ("static.axept.io", "Axeptio", "necessary"),              # only in vendor-countries
])
def test_vendor_for_host(vendors: Vendors, host: str, name: str, purpose: str) -> None:
    vendor = vendors.for_host(host)
    assert vendor is not None
    assert (vendor.name, vendor.purpose) == (name, purpose)


@pytest.mark.parametrize("host", [
    "example.org", "google-analytics.com.evil.example", "", "localhost",
])
def test_vendor_unknown_host(vendors: Vendors, host: str) -> None:
    assert vendors.for_host(host) is None


def test_vendor_host_normalisation(vendors: Vendors) -> None:
    for host in ("WWW.Google-Analytics.com", "www.google-analytics.com.",
                 "www.google-analytics.com:443"):
        vendor = vendors.for_host(host)
        assert vendor is not None and vendor.name == "Google Analytics"


def test_vendor_countries(vendors: Vendors) -> None:
    google = vendors.for_host("www.google-analytics.com")
    assert google is not None
    assert (google.country, google.eea, google.dpf) == ("US", False, True)
    assert google.legal_entity == "Google Ireland Limited"
    assert google.source and google.source.startswith("https://")
    youtube = vendors.by_name("YouTube")                      # an alias of the Google entry
    assert youtube is not None and youtube.eea is False
    axeptio = vendors.for_host("static.axept.io")
    assert axeptio is not None and (axeptio.country, axeptio.eea) == ("FR", True)
    hotjar = vendors.for_host("script.hotjar.com")
    assert hotjar is not None and (hotjar.country, hotjar.eea, hotjar.dpf) == ("MT", True, None)
    hubspot = vendors.by_name("Hubspot")
    assert hubspot is not None and hubspot.dpf is None        # "unknown" in the table
    plain = vendors.by_name("15gifts")
    assert plain is not None and plain.country is None and plain.eea is None


def test_vendor_countries_names_exist(vendors: Vendors) -> None:
    """Every vendor and alias named in vendor-countries.yaml got its facts."""
    import yaml
    from scanner.paths import rules_dir
    doc = yaml.safe_load((rules_dir() / "vendor-countries.yaml").read_text(encoding="utf-8"))
    assert 15 <= len(doc["vendors"]) <= 30
    for entry in doc["vendors"]:
        for name in [entry["vendor"], *entry.get("aliases", [])]:
            vendor = vendors.by_name(name)
            assert vendor is not None, name
            assert vendor.eea is entry["eea"], name
            assert entry["source"] == "unknown" or entry["source"].startswith("https://"), name



def test_category_purpose_mapping() -> None:
    assert CATEGORY_PURPOSE["ad"] == CATEGORY_PURPOSE["social"] == "marketing"
    assert CATEGORY_PURPOSE["consent-provider"] == "necessary"
    assert CATEGORY_PURPOSE["cdn"] == "functional-third-party"
    assert CATEGORY_PURPOSE["customer-success"] == "preferences"
    assert Vendor("x", "x", "no-such-category", ()).purpose == "unknown"


def test_vendor_matching_rules(tmp_path: Path) -> None:
    (tmp_path / "v.json").write_text(json.dumps({"_source": {}, "vendors": [
        {"name": "Wild", "company": "W", "category": "ad", "domains": ["*.wild.com"]},
        {"name": "Deep", "company": "D", "category": "analytics", "domains": ["*.x.wild.com"]},
        {"name": "Host", "company": "H", "category": "cdn", "domains": ["cdn.host.net"]},
        {"name": "Reg", "company": "R", "category": "utility", "domains": ["reg.io"]},
    ]}), encoding="utf-8")
    (tmp_path / "c.yaml").write_text(
        "vendors:\n"
        "  - {vendor: Wild, legal_entity: Wild SA, hq_country: FR, eea: true, dpf: n/a,\n"
        "     domains: [wild.com], source: 'https://wild.example/privacy'}\n"
        "  - {vendor: Extra, category: video, legal_entity: unknown, hq_country: unknown,\n"
        "     eea: false, dpf: unknown, domains: [extra.tv], source: unknown}\n",
        encoding="utf-8")
    table = Vendors.load(tmp_path / "v.json", tmp_path / "c.yaml")
    name = lambda h: getattr(table.for_host(h), "name", None)  # noqa: E731
    assert name("wild.com") == name("a.wild.com") == name("xx.wild.com") == "Wild"
    assert name("x.wild.com") == name("a.x.wild.com") == "Deep"   # longest suffix wins
    assert name("cdn.host.net") == "Host"
    assert name("img.host.net") is None and name("host.net") is None   # plain host: exact only
    assert name("reg.io") == name("api.reg.io") == "Reg"       # plain registrable domain
    assert name("wild.com.example") is None
    assert name("player.extra.tv") == "Extra"
    wild = table.by_name("Wild")
    assert wild is not None and (wild.country, wild.eea, wild.dpf) == ("FR", True, None)
    extra = table.by_name("Extra")
    assert extra is not None and extra.country is None and extra.legal_entity is None
    assert extra.purpose == "video"


def test_default_loaders_are_cached() -> None:
    assert default_known_cookies() is default_known_cookies()
    assert default_vendors() is default_vendors()


# --- the shipped data is what tools/build_rules.py makes ----------------------------------

def _load_build_rules():
    spec = importlib.util.spec_from_file_location("build_rules", REPO / "tools" / "build_rules.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared/data not present")
def test_rules_are_up_to_date(tmp_path: Path) -> None:
    build = _load_build_rules()
    assert build.main([str(SHARED_DATA), "--out", str(tmp_path)]) == 0
    for rel in ("known-cookies.csv", "vendors.json", "NOTICE",
                "licenses/open-cookie-database-LICENSE", "licenses/third-party-web-LICENSE"):
        assert (tmp_path / rel).read_bytes() == (REPO / "rules" / rel).read_bytes(), \
            f"rules/{rel} is stale: run tools/build_rules.py"


@pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="shared/data not present")
def test_no_description_prose_is_shipped() -> None:
    ocd = SHARED_DATA / "open-cookie-database" / "open-cookie-database.csv"
    with ocd.open(encoding="utf-8", newline="") as fh:
        descriptions = {r["Description"].strip() for r in csv.DictReader(fh)}
    descriptions = {d for d in descriptions if len(d) > 25}
    shipped = (REPO / "rules" / "known-cookies.csv").read_text(encoding="utf-8")
    assert not [d for d in descriptions if d in shipped]


def test_functional_split_examples() -> None:
    build = _load_build_rules()
    classify = build.classify_row
    assert classify("Functional", "Cookiebot", "CookieConsent")[0] == "necessary"
    assert classify("Functional", "PHP.net", "PHPSESSID")[0] == "necessary"
    assert classify("Functional", "Amazon Web Services", "AWSALB")[0] == "necessary"
    assert classify("Functional", "Django", "django_language")[0] == "preferences"
    assert classify("Functional", "Hotjar", "_hjSession_")[0] == "preferences"
    assert classify("Functional", "WordPress", "comment_author_")[0] == "preferences"
    assert classify("Security", "", "XSRF-TOKEN") == ("necessary", "security")
    assert classify("Personalization", "X", "y")[0] == "preferences"
