"""End to end: scan a hostile site with the real scanner, render every format, prove nothing breaks.

tests/sites/www.hostile.test/ plants, through every channel a site has (Set-Cookie headers,
document.cookie, localStorage/sessionStorage/IndexedDB, its <title>, script and link URLs),
strings that try to inject HTML/script into report.html, Markdown/HTML and table-breaking pipes
into summary.md, formulas into the CSV files, and to break junit.xml and results.sarif.

Each renderer check is a function returning the problems it finds; the `canary` tests feed the
same functions deliberately unescaped output to prove they can fail.
"""
from __future__ import annotations

import csv
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from scanner import ScanOptions, scan
from scanner.report import FORMATS, load_report, render_all

TESTS = Path(__file__).resolve().parent
SARIF_SCHEMA = TESTS / "fixtures" / "sarif-2.1.0.schema.json"
START = "https://www.hostile.test/"

# What the site plants, as Chromium stores it (names cut at the first "=" are the browser's doing).
TITLE = "</title></script><script>alert(1)</script> | a|b **bold** @octocat"
PAGE2_TITLE = "<img src=x onerror=alert(11)> page|2"
HEADER_COOKIES = (
    "<img src",                      # from "<img src=x onerror=alert(2)>": the value keeps the rest
    "<script>alert(2)</script>",
    '"><svg/onload',
    "'\"><img/src/onerror",
    "a|b](http://x)|c",
    "-2+3",
    "@octocat",
    "</td></tr></table><h1>x",
    "{{7*7}}${7*7}",
    "`code`_u_~~s~~",
    "!click https://phish.example/login",
    "formula_value",                 # value: =HYPERLINK("http://x")
)
SCRIPT_COOKIES = (
    "<script>alert(6)</script>",
    "<img/src/onerror",
    "'><svg/onload",
    '+HYPERLINK("http://x","click")',
    "@SUM(1+1)|x",
    "md|[x](javascript:alert(6))|*em*",
    "cookie\u202eevil\u2028line",
)
A_JS_COOKIE = "<svg><script>alert(8)</script>"      # written by /a.js?x="><script>alert(5)</script>...
A_JS_KEY = "<iframe src=javascript:alert(8)>"
FORMULA_KEY = '=HYPERLINK("http://x")'
LOCAL_KEYS = (FORMULA_KEY, "<script>alert(4)</script>", "<img src=x onerror=alert(4)>", "a|b](javascript:alert(4))",
              "line1\nline2|x", "\x01ctrl\x07", "www.phish.example/reset", A_JS_KEY)
SESSION_KEYS = ("+cmd|' /C calc'!A0", "@here")
IDB_NAMES = ("<svg onload=alert(12)>",)
PAGE2_KEY = "<b>page2</b>|key"
ALL_COOKIES = HEADER_COOKIES + SCRIPT_COOKIES + (A_JS_COOKIE,)
ALL_KEYS = LOCAL_KEYS + SESSION_KEYS + IDB_NAMES + (PAGE2_KEY,)
HOSTILE = ALL_COOKIES + ALL_KEYS + (TITLE, PAGE2_TITLE)

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# report.html shows C0 controls as Unicode control pictures (U+2401...); the rest as is.
CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)} | {0x7F: 0x2421}


def pages(result: dict) -> list[dict]:
    return [p for s in result["states"] for p in s["pages"]]


def items(result: dict, kind: str) -> list[dict]:
    return [i for p in pages(result) for i in p[kind]]


def page_at(result: dict, path: str) -> dict:
    found = [p for p in pages(result) if urlsplit(p["url"]).path == path]
    assert found, f"no page {path}: {[p['url'] for p in pages(result)]}"
    return found[0]


# --------------------------------------------------------------------------- the scan

@pytest.fixture(scope="module")
def scanned(sites_server, tmp_path_factory) -> tuple[dict, Path]:
    """One real scan of the hostile site (state `none`), every format rendered."""
    out = tmp_path_factory.mktemp("hostile-report")
    result = scan(ScanOptions(url=START, resolve=(sites_server.resolve_rule(),), ignore_https_errors=True,
                              states=("none",), out_dir=out, keep_query=True, keep_values=True))
    render_all(result, out, FORMATS)
    report = load_report(out / "report.json")
    # Nothing below means anything unless the hostile strings really reached the report.
    assert report["complete"], report["incomplete_reasons"]
    assert page_at(report, "/")["title"] == TITLE
    assert {c["name"] for c in items(report, "cookies") if c["stored"]} >= set(ALL_COOKIES)
    return report, out


def test_hostile_strings_reach_report_json(scanned) -> None:
    report, out = scanned
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["schema_version"].startswith("1.")
    home, second = page_at(report, "/"), page_at(report, "/page2")
    assert home["title"] == TITLE and second["title"] == PAGE2_TITLE
    cookies = {c["name"]: c for c in items(report, "cookies") if c["stored"]}
    for name in HEADER_COOKIES:
        assert cookies[name]["set_by"] == "header", name
    for name in SCRIPT_COOKIES + (A_JS_COOKIE,):
        assert cookies[name]["set_by"] == "script", name
    assert cookies["formula_value"]["value"] == FORMULA_KEY  # keep_values
    assert cookies["<img src"]["value"] == "x onerror=alert(2)>"
    keys = {(s["kind"], s["key"]) for s in items(report, "storage")}
    assert {("local", k) for k in LOCAL_KEYS + (PAGE2_KEY,)} <= keys
    assert {("session", k) for k in SESSION_KEYS} <= keys and {("indexeddb", k) for k in IDB_NAMES} <= keys
    # keep_query: the script URL reaches the report with its markup (Chromium encodes " < > ' only)
    script = [r["url"] for r in items(report, "requests") if urlsplit(r["url"]).path == "/a.js"]
    assert script and "alert(5)" in script[0] and "|[z](javascript:alert(5))" in script[0], script
    # the second page was reached through a link whose URL carries markup
    assert "javascript" in second["url"] and "onerror" in second["url"]


def test_script_with_parentheses_in_its_url_is_the_recorded_setter(scanned) -> None:
    report, _ = scanned
    cookie = next(c for c in items(report, "cookies") if c["name"] == A_JS_COOKIE)
    storage = next(s for s in items(report, "storage") if s["key"] == A_JS_KEY)
    assert urlsplit(cookie["setter_url"] or "").path == "/a.js", cookie["setter_url"]
    assert urlsplit(storage["setter_url"] or "").path == "/a.js", storage["setter_url"]


# --------------------------------------------------------------------------- report.html in Chromium

@pytest.fixture(scope="module")
def chromium():
    sync_api = pytest.importorskip("playwright.sync_api")
    from scanner.browser import find_chromium, is_root, launch_flags

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=launch_flags(),
                                    chromium_sandbox=not is_root())
        yield browser
        browser.close()


INJECTED_JS = r"""() => {
  const bad = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) {
      if (/^on/i.test(a.name)) bad.push(`${el.tagName} ${a.name}`);
      if (/^(href|src|action|formaction|srcdoc|xlink:href)$/i.test(a.name) && /^\s*(javascript|data|vbscript):/i.test(a.value))
        bad.push(`${el.tagName} ${a.name}=${a.value}`);
    }
  }
  for (const sel of ['img[src="x"]', 'svg', 'iframe', 'object', 'embed', 'form', 'base', 'meta[http-equiv="refresh" i]'])
    for (const el of document.querySelectorAll(sel)) bad.push(`${sel}: ${el.outerHTML.slice(0, 80)}`);
  // images: only the report's own local screenshots
  for (const img of document.images) {
    const src = img.getAttribute('src') || '';
    if (!/^screenshots\/[A-Za-z0-9._-]+$/.test(src)) bad.push(`img ${src}`);
  }
  if (document.scripts.length !== 1) bad.push(`${document.scripts.length} scripts`);
  // elements only the site's strings would create
  for (const el of document.querySelectorAll('h1')) if (el.textContent.trim() === 'x') bad.push('h1 x');
  for (const el of document.querySelectorAll('b')) if (el.textContent.includes('page2')) bad.push('b page2');
  return bad;
}"""


def html_problems(browser, path: Path, *, bypass_csp: bool) -> tuple[list[str], str]:
    """(problems, visible text) of a report.html opened in Chromium.

    With bypass_csp the page's Content-Security-Policy is ignored, so any markup that escaped
    escaping would really run: the check does not rest on the CSP alone.
    """
    context = browser.new_context(bypass_csp=bypass_csp, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    events: list[str] = []
    requests: list[str] = []
    page.on("dialog", lambda d: (events.append(f"dialog: {d.message}"), d.dismiss()))
    page.on("pageerror", lambda e: events.append(f"pageerror: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(300)
        problems = list(events) + page.evaluate(INJECTED_JS)
        problems += [f"request {u}" for u in requests if not u.startswith("file://")]
        if page.get_attribute("html", "data-js") != "ready":
            problems.append("the report's own script did not run")
        return problems, page.inner_text("body")
    finally:
        context.close()


def visible_form(text: str) -> str:
    """How report.html shows a site string: control pictures for C0 controls."""
    return text.translate(CONTROL_PICTURES)


@pytest.mark.parametrize("bypass_csp", [False, True], ids=["with-csp", "csp-bypassed"])
def test_report_html_runs_and_injects_nothing(scanned, chromium, bypass_csp: bool) -> None:
    report, out = scanned
    problems, text = html_problems(chromium, out / "report.html", bypass_csp=bypass_csp)
    assert problems == []
    # every hostile string is there, as text
    missing = []
    for value in HOSTILE:
        if "\n" in value or "\u2028" in value:  # line breaks are laid out as white space
            parts = [p for p in re.split(r"[\n\u2028]", value) if p]
        else:
            parts = [value]
        missing += [p for p in parts if visible_form(p) not in text]
    assert missing == []
    for page in pages(report):  # page URLs as recorded, markup included
        assert page["url"] in text


def test_report_html_source_has_no_raw_site_markup(scanned) -> None:
    html = (scanned[1] / "report.html").read_text(encoding="utf-8")
    assert html.count("<script") == 1  # the report's own
    for raw in ("<script>alert", "<img src=x", "<svg", "<iframe", "<h1>x", "<b>page2", 'href="javascript:'):
        assert raw not in html, raw
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html


# --------------------------------------------------------------------------- summary.md

def _unescaped_pipes(line: str) -> int:
    count, i = 0, 0
    while i < len(line):
        if line[i] == "\\":
            i += 2
            continue
        count += line[i] == "|"
        i += 1
    return count


def markdown_problems(md: str) -> list[str]:
    from bs4 import BeautifulSoup
    from markdown_it import MarkdownIt

    problems = [f"raw markup {m.group(0)!r}" for m in re.finditer(r"<\s*/?\s*(script|img|svg|iframe|b|h1|td|tr|table|a)\b", md, re.I)]
    problems += [f"mention {m.group(0)!r}" for m in re.finditer(r"@(?!\u200b)\w+", md)]
    lines = md.splitlines()
    width = None
    for i, line in enumerate(lines):
        if not line.startswith("|"):
            width = None
            continue
        if width is None:  # header row of a table
            width = _unescaped_pipes(line)
        elif _unescaped_pipes(line) != width:
            problems.append(f"table row broken by a pipe: {line[:120]!r}")
    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)
    soup = BeautifulSoup(html, "html.parser")
    for tag in ("script", "img", "svg", "iframe", "a", "b", "h1", "code", "del", "s"):
        problems += [f"<{tag}> {str(el)[:80]!r}" for el in soup.find_all(tag)]
    for el in soup.find_all(["em", "strong"]):  # emphasis made of a site string
        inner = el.get_text()
        if len(inner) > 1 and not inner.isdigit() and any(inner in h for h in HOSTILE):
            problems.append(f"<{el.name}> {inner!r}")
    for table in soup.find_all("table"):
        widths = {len(tr.find_all(["td", "th"])) for tr in table.find_all("tr")}
        if len(widths) != 1:
            problems.append(f"table with rows of {sorted(widths)} cells")
    return problems


def markdown_text(md: str) -> str:
    from bs4 import BeautifulSoup
    from markdown_it import MarkdownIt

    html = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"]).render(md)
    return BeautifulSoup(html, "html.parser").get_text().replace("\u200b", "")


def md_visible(value: str) -> str:
    """Line breaks and controls become spaces in summary.md (docs/report-format.md)."""
    return re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", value).strip()


def test_summary_md_is_inert(scanned) -> None:
    report, out = scanned
    md = (out / "summary.md").read_text(encoding="utf-8")
    assert markdown_problems(md) == []
    assert "<script" not in md.lower() and "<img" not in md.lower()
    # the rows it shows carry the site's strings as plain text
    from scanner.report.markdown import MAX_MATRIX_ROWS
    from scanner.report.matrix import build_matrix

    text = markdown_text(md)
    shown = [row.name for row in build_matrix(report).problem_rows[:MAX_MATRIX_ROWS]]
    assert len([n for n in shown if n in HOSTILE]) >= 10, shown
    for name in shown:
        assert md_visible(name) in text, name


def test_summary_md_site_strings_cannot_autolink(scanned) -> None:
    md = (scanned[1] / "summary.md").read_text(encoding="utf-8")
    assert "phish.example/login" in md  # the cookie's row is shown
    # GFM autolinks http(s)://host and www.host anywhere in text; any change to these breaks them.
    assert "https://phish.example" not in md
    assert "www.phish.example" not in md


# --------------------------------------------------------------------------- CSV

def read_csv(path: Path, sep: str) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=sep))


def csv_problems(folder: Path, report: dict, sep: str) -> list[str]:
    from scanner.report.csv import COLUMNS

    problems = []
    cookies = {(c.get("name"), c.get("domain"), c.get("path"), c.get("stored") is False) for c in items(report, "cookies")}
    storage = {(e.get("kind"), e.get("origin"), e.get("key")) for e in items(report, "storage")}
    expected_rows = {"cookies.csv": len(cookies), "storage.csv": len(storage),   # one row per item
                     "requests.csv": len(items(report, "requests")), "findings.csv": len(report["findings"])}
    for name, columns in COLUMNS.items():
        rows = read_csv(folder / name, sep)
        if rows[0] != list(columns):
            problems.append(f"{name}: header {rows[0]}")
        if len(rows) - 1 != expected_rows[name]:  # a line break in a cell must not add a row
            problems.append(f"{name}: {len(rows) - 1} rows, expected {expected_rows[name]}")
        for row in rows[1:]:
            if len(row) != len(columns):
                problems.append(f"{name}: row of {len(row)} cells")
            problems += [f"{name}: formula cell {cell!r}" for cell in row if cell.startswith(FORMULA_START)]
    return problems


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_neutralises_formulas(scanned, tmp_path: Path, sep: str) -> None:
    report, out = scanned
    folder = out
    if sep != ",":
        folder = tmp_path
        render_all(report, folder, ["csv"], csv_sep=sep)
    assert csv_problems(folder, report, sep) == []
    storage = read_csv(folder / "storage.csv", sep)
    key = storage[0].index("key")
    keys = {row[key] for row in storage[1:]}
    assert "'" + FORMULA_KEY in keys and FORMULA_KEY not in keys
    assert {"'+cmd|' /C calc'!A0", "'@here", "<script>alert(4)</script>", "line1\nline2|x"} <= keys
    cookies = read_csv(folder / "cookies.csv", sep)
    name, value = cookies[0].index("name"), cookies[0].index("value")
    names = {row[name] for row in cookies[1:]}
    assert {"'-2+3", "'@octocat", "'@SUM(1+1)|x", "'+HYPERLINK(\"http://x\",\"click\")", "<img src"} <= names
    assert "'" + FORMULA_KEY in {row[value] for row in cookies[1:] if row[name] == "formula_value"}


# --------------------------------------------------------------------------- junit.xml and results.sarif

def test_junit_parses_and_keeps_site_strings_as_text(scanned) -> None:
    report, out = scanned
    root = ET.parse(out / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert {el.tag for el in root.iter()} <= {"testsuites", "testsuite", "testcase", "failure", "skipped",
                                              "system-out", "system-err", "error", "properties", "property"}
    assert "none" in {s.get("name") for s in root.iter("testsuite")}
    assert int(root.get("tests")) == sum(1 for _ in root.iter("testcase"))
    # violations fail (--fail-on violation); the hostile names' warnings are reported in <system-out>
    texts = " ".join((f.get("message") or "") + (f.text or "") for f in root.iter("failure"))
    texts += " ".join(out_.text or "" for out_ in root.iter("system-out"))
    assert "<script>alert(2)</script>" in texts and "a|b](http://x)|c" in texts


def test_sarif_validates_and_keeps_site_strings_as_text(scanned) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    report, out = scanned
    log = json.loads((out / "results.sarif").read_text(encoding="utf-8"))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    validator_cls = jsonschema.validators.validator_for(schema)
    errors = sorted(validator_cls(schema, format_checker=validator_cls.FORMAT_CHECKER).iter_errors(log), key=str)
    assert errors == [], errors[:3]
    results = log["runs"][0]["results"]
    assert len(results) == len(report["findings"]) > 0
    for r in results:
        uri = r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        assert re.fullmatch(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+", uri), uri
    names = {r["locations"][0]["logicalLocations"][0]["name"] for r in results}
    assert {"<script>alert(2)</script>", "</td></tr></table><h1>x"} <= names


# --------------------------------------------------------------------------- canaries: the checks can fail

def test_canary_html_check_catches_unescaped_html(scanned, chromium, tmp_path: Path, monkeypatch) -> None:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    import scanner.report.html as html_mod

    unsafe = Environment(loader=FileSystemLoader(str(html_mod.TEMPLATES)), autoescape=False,
                         undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    unsafe.filters.update(html_mod._env().filters)
    monkeypatch.setattr(html_mod, "_env", lambda: unsafe)
    render_all(scanned[0], tmp_path, ["html"])
    problems, _ = html_problems(chromium, tmp_path / "report.html", bypass_csp=True)
    assert any(p.startswith("dialog") for p in problems), problems
    assert any("img" in p or "svg" in p for p in problems), problems


def test_canary_markdown_check_catches_unescaped_markdown(scanned, monkeypatch) -> None:
    import scanner.report.markdown as md_mod

    monkeypatch.setattr(md_mod, "md_escape", lambda value, limit=200: "" if value is None else str(value))
    problems = markdown_problems(md_mod.render_markdown(scanned[0]))
    assert any(p.startswith("raw markup") for p in problems), problems
    assert any(p.startswith("table row broken") for p in problems), problems
    assert any(p.startswith("mention") for p in problems), problems


def test_canary_csv_check_catches_formulas(scanned, tmp_path: Path, monkeypatch) -> None:
    import scanner.report.csv as csv_mod

    monkeypatch.setattr(csv_mod, "neutralise", lambda value: value)
    render_all(scanned[0], tmp_path, ["csv"])
    problems = csv_problems(tmp_path, scanned[0], ",")
    assert any(FORMULA_KEY in p for p in problems), problems
