"""The TCF fixture www.tcf-banner.test, driven directly with Playwright (not through the scanner):
each choice in its banner must leave a TC string, in __tcfapi and in the euconsent-v2 cookie, that
scanner.consent.tcf decodes to the purposes and vendors the choice means, and the trackers must
follow it. The fixture runs the IAB's own @iabtcf/core and @iabtcf/cmpapi, so if they fail to load
or the page breaks, these tests fail rather than the scanner tests quietly losing their subject."""
from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest

from conftest import NODE_MODULES
from scanner.browser import find_chromium, launch_flags
from scanner.consent.tcf import decode
from scanner.resolve import host_resolver_rules

HOME = "https://www.tcf-banner.test/"
HOST = "www.tcf-banner.test"
ALL_VENDORS = [8, 28, 52, 755, 793]
THIRTEEN_MONTHS = 395 * 24 * 3600

TC_DATA = """() => new Promise((resolve, reject) => {
  setTimeout(() => reject(new Error('__tcfapi did not answer')), 5000);
  window.__tcfapi('getTCData', 2, (data, success) => resolve({data, success}));
})"""
PING = """() => new Promise((resolve) => window.__tcfapi('ping', 2, (data) => resolve(data)))"""
CHOSEN = "() => document.getElementById('tcf-banner').hidden && document.cookie.includes('euconsent-v2=')"


@pytest.fixture(scope="module")
def browser(sites_server):
    if not (NODE_MODULES / "@iabtcf" / "cmpapi" / "lib" / "mjs" / "index.js").is_file():
        pytest.fail("npm fixtures missing: run `make test` (it installs tests/node_modules)")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=find_chromium(),
                                      args=launch_flags(host_resolver_rules([sites_server.resolve_rule()])))
        try:
            yield chromium
        finally:
            chromium.close()


class Visit:
    """One fresh visitor: a new context, every request and page error recorded."""

    def __init__(self, browser):
        self.context = browser.new_context(ignore_https_errors=True, locale="en-US")
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.failures: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.failures.append(f"page error: {e}"))
        self.page.on("console", lambda m: m.type == "error" and self.failures.append(f"console: {m.text}"))
        self.page.on("response", lambda r: r.status >= 400 and self.failures.append(f"{r.status} {r.url}"))
        self.page.on("requestfailed", lambda r: self.failures.append(f"failed {r.url}"))

    def open(self, path: str = "") -> None:
        self.page.goto(HOME + path)
        self.ready()

    def ready(self) -> None:
        self.page.wait_for_function("() => document.readyState === 'complete'")
        # the CMP is a module: wait until it has replaced the stub
        self.page.wait_for_function("() => new Promise(r => __tcfapi('ping', 2, d => r(d.cmpStatus === 'loaded')))")

    def banner_layer(self) -> str | None:
        return self.page.evaluate("""() => {
          const b = document.getElementById('tcf-banner');
          if (b.hidden) return null;
          return document.getElementById('tcf-settings').hidden ? 'first' : 'settings';
        }""")

    def click(self, name: str) -> None:
        self.page.get_by_role("button", name=name, exact=True).click()
        self.page.wait_for_function(CHOSEN)

    def tc_data(self) -> dict:
        answer = self.page.evaluate(TC_DATA)
        assert answer["success"] is True
        return answer["data"]

    def cookies(self) -> dict[str, dict]:
        return {c["name"]: c for c in self.context.cookies()}

    def choice(self) -> dict:
        """The TC string from __tcfapi, checked against the cookie, decoded."""
        data = self.tc_data()
        assert data["eventStatus"] in ("useractioncomplete", "tcloaded")
        cookie = self.cookies()["euconsent-v2"]
        assert cookie["value"] == data["tcString"]
        assert THIRTEEN_MONTHS - 120 < cookie["expires"] - time.time() <= THIRTEEN_MONTHS + 5
        assert cookie["path"] == "/" and cookie["domain"] == HOST
        decoded = decode(data["tcString"])
        assert (decoded["cmp_id"], decoded["cmp_version"], decoded["policy_version"]) == (300, 2, 5)
        assert decoded["vendor_list_version"] == 87 and decoded["consent_language"] == "EN"
        assert decoded["is_service_specific"] is True and decoded["publisher_cc"] == "FR"
        assert decoded["publisher_tc"]["purpose_consents"] == decoded["purpose_consents"]
        # what the page's own library reports agrees with the decoder
        assert sorted(int(k) for k, v in data["purpose"]["consents"].items() if v) == decoded["purpose_consents"]
        assert sorted(int(k) for k, v in data["vendor"]["consents"].items() if v) == decoded["vendor_consents"]
        return decoded

    def trackers(self) -> set[str]:
        return set(self.cookies()) & {"_ga", "_fbp"}

    def close(self) -> None:
        offsite = sorted({u for u in self.requests if urlsplit(u).hostname not in (HOST, None)
                          and not u.startswith(("data:", "about:"))})
        self.context.close()
        assert offsite == [], f"requests left the site: {offsite}"
        assert self.failures == []


@pytest.fixture
def visit(browser):
    v = Visit(browser)
    yield v
    v.close()


def test_first_visit_shows_the_banner_and_no_choice(visit):
    visit.open()
    assert visit.banner_layer() == "first"
    for name in ("Accept all", "Reject all", "Manage options"):
        assert visit.page.get_by_role("button", name=name, exact=True).is_visible()
    ping = visit.page.evaluate(PING)
    assert ping["cmpLoaded"] is True and ping["displayStatus"] == "visible" and ping["cmpId"] == 300
    data = visit.tc_data()
    assert data["eventStatus"] == "cmpuishown" and data["tcString"] == "" and data["gdprApplies"] is True
    assert "euconsent-v2" not in visit.cookies() and visit.trackers() == set()
    # the IAB libraries really ran, loaded as ES modules from /_npm/
    loaded = {urlsplit(u).path for u in visit.requests}
    assert "/_npm/@iabtcf/core/lib/mjs/TCString.js" in loaded
    assert "/_npm/@iabtcf/cmpapi/lib/mjs/CmpApi.js" in loaded
    assert "/tcf/vendor-list.json" in loaded
    # the settings layer names purposes and partners from the vendor list
    visit.page.get_by_role("button", name="Manage options").click()
    assert visit.banner_layer() == "settings"
    text = visit.page.inner_text("#tcf-settings")
    assert "Measure content performance" in text and "Audience Measure Example" in text
    assert visit.page.get_by_label("Strictly necessary").is_disabled()


def test_accept_all(visit):
    visit.open()
    visit.click("Accept all")
    tc = visit.choice()
    assert tc["purpose_consents"] == list(range(1, 12))
    assert tc["vendor_consents"] == ALL_VENDORS
    assert tc["purpose_legitimate_interests"] == list(range(2, 12))
    assert tc["vendor_legitimate_interests"] == [52]
    assert tc["consent_screen"] == 1
    assert visit.trackers() == {"_ga", "_fbp"}
    # the next page reads the cookie: no banner, the same string, the same trackers
    string = visit.tc_data()["tcString"]
    visit.page.get_by_role("link", name="World news").first.click()
    visit.page.wait_for_url("**/page2.html")
    visit.ready()
    assert visit.banner_layer() is None
    data = visit.tc_data()
    assert data["eventStatus"] == "tcloaded" and data["tcString"] == string
    assert visit.trackers() == {"_ga", "_fbp"}


def test_reject_all(visit):
    visit.open()
    visit.click("Reject all")
    tc = visit.choice()
    assert tc["purpose_consents"] == [] and tc["vendor_consents"] == []
    assert tc["purpose_legitimate_interests"] == [] and tc["vendor_legitimate_interests"] == []
    assert visit.trackers() == set()
    visit.open("page2.html")
    assert visit.banner_layer() is None and visit.trackers() == set()


@pytest.mark.parametrize("ticked, purposes, vendors, trackers", [
    (("Analytics",), [1, 7, 8, 9], [8], {"_ga"}),
    (("Advertising",), [1, 2, 3, 4], [28, 755, 793], {"_fbp"}),
    (("Analytics", "Advertising"), [1, 2, 3, 4, 7, 8, 9], [8, 28, 755, 793], {"_ga", "_fbp"}),
    ((), [], [], set()),
])
def test_save_my_choices(visit, ticked, purposes, vendors, trackers):
    visit.open()
    visit.page.get_by_role("button", name="Manage options").click()
    for label in ticked:
        visit.page.get_by_label(label, exact=True).check()
    visit.click("Save my choices")
    tc = visit.choice()
    assert tc["purpose_consents"] == purposes and tc["vendor_consents"] == vendors
    assert tc["purpose_legitimate_interests"] == [] and tc["consent_screen"] == 2
    assert visit.trackers() == trackers


def test_cookie_settings_reopens_and_withdraws(visit):
    visit.open()
    visit.click("Accept all")
    assert visit.trackers() == {"_ga", "_fbp"}
    visit.open("page2.html")
    visit.page.get_by_role("link", name="Cookie settings").click()
    assert visit.banner_layer() == "settings"
    assert visit.page.get_by_label("Analytics", exact=True).is_checked()
    assert visit.page.get_by_label("Advertising", exact=True).is_checked()
    assert visit.tc_data()["eventStatus"] == "cmpuishown"
    visit.click("Reject all")
    tc = visit.choice()
    assert tc["purpose_consents"] == [] and tc["vendor_consents"] == []
    assert tc["vendor_legitimate_interests"] == [] and tc["consent_screen"] == 2
    assert visit.trackers() == set()
    # and again, this time unticking one category
    visit.page.get_by_role("link", name="Cookie settings").click()
    visit.page.get_by_label("Analytics", exact=True).check()
    visit.page.get_by_label("Advertising", exact=True).check()
    visit.click("Save my choices")
    assert visit.trackers() == {"_ga", "_fbp"}
    visit.page.get_by_role("link", name="Cookie settings").click()
    visit.page.get_by_label("Advertising", exact=True).uncheck()
    visit.click("Save my choices")
    tc = visit.choice()
    assert tc["purpose_consents"] == [1, 7, 8, 9] and tc["vendor_consents"] == [8]
    assert visit.trackers() == {"_ga"}


def test_unreadable_cookie_asks_again(visit):
    visit.context.add_cookies([{"name": "euconsent-v2", "value": "not-a-tc-string", "url": HOME}])
    visit.open()
    assert visit.banner_layer() == "first" and visit.trackers() == set()
