"""Fuzz the renderers: a realistic report (tests/fixtures/report/micropep.json) whose site strings are
replaced by random hostile ones (markup, script, CDATA ends, pipes, backticks, formula prefixes, quotes,
control characters, line separators, bidi overrides, non-characters, astral characters), rendered in
every format, must give files that stay well-formed and inert:

  report.html    parses (html.parser), has exactly the renderer's own script (same count, same code), no
                 element with an on* attribute, no javascript:/data:/vbscript: link or source, and no more
                 script-capable or embedding elements than the renderer itself writes;
  *.csv          parse back with pandas, header and row count intact (a line break in a cell is not a
                 row), no cell a spreadsheet would evaluate (= + - @ tab CR first), numbers excepted;
  summary.md     no raw "<", every table row starts and ends with a pipe and has as many unescaped pipes
                 as its header, and markdown-it renders every table with rows of equal width and no
                 link, image or raw HTML;
  junit.xml      parses with xml.etree;
  results.sarif  parses as JSON and validates against the SARIF 2.1.0 schema.
"""
from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from scanner.report import FORMATS, load_report, render_all  # noqa: E402
from scanner.report.csv import COLUMNS  # noqa: E402

TESTS = Path(__file__).resolve().parent
FIXTURE = TESTS / "fixtures" / "report" / "micropep.json"
SARIF_SCHEMA = TESTS / "fixtures" / "sarif-2.1.0.schema.json"

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMERIC_COLUMNS = {"expires", "lifetime_s", "requested_lifetime_s", "size", "value_len", "status", "time_ms"}
# Elements that run script, embed content, restyle or redirect the page: only as many as the renderer writes.
GUARDED_TAGS = ("script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "svg", "math",
                "base", "form", "link", "meta", "textarea", "template", "noscript", "img", "video", "audio",
                "source", "input", "button", "select", "portal")
URL_ATTRS = ("href", "src", "action", "formaction", "srcdoc", "xlink:href", "data", "poster", "background")

FRAGMENTS = [
    "<script>alert(1)</script>", "</script>", "<script", "</title>", "</textarea>", "</style>", "<style>",
    "<img src=x onerror=alert(1)>", "<svg/onload=alert(1)>", "<iframe src=javascript:alert(1)>",
    "<a href=\"javascript:alert(1)\">x</a>", "\" onmouseover=\"alert(1)", "' onfocus='alert(1)' autofocus '",
    "<!--", "-->", "<![CDATA[", "]]>", "]]]]><![CDATA[>", "<?xml version='1.0'?>", "<!DOCTYPE x [<!ENTITY a 'b'>]>",
    "&amp;", "&lt;script&gt;", "&#x3C;", "&", "&#0;",
    "|", "||", "\\|", "| --- |", "`", "```", "``x``", "*", "**", "_", "~~", "[x](http://evil.test)",
    "![i](http://evil.test/x.png)", "<https://evil.test>", "www.evil.test", "https://evil.test/login", "@octocat",
    "# heading", "> quote", "- item", "1. item", "\\", "$x$", "{{7*7}}", "${7*7}", "%s%n", "{0}",
    "=HYPERLINK(\"http://evil.test\",\"x\")", "=1+1", "+1", "-1", "@SUM(A1)", "=cmd|' /C calc'!A0", "\t=1", "\r=1",
    "\"", "'", "\"\"", "',", "\",\"", ";", ",",
    "\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b[31m", "\x7f", "\x85", "\x9b", "\n", "\r", "\r\n",
    "\u2028", "\u2029", "\u202e", "\u2066", "\u200b", "\ufeff", "\ufffe", "\uffff", "\U0001F36A", "\U0010FFFF",
    "e\u0301", "\u0130", "ß", "日本語", "العربية",
]
NASTY_URLS = [
    "javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>", "vbscript:msgbox(1)", "//evil.test/x", "/relative/path",
    "https://evil.test/\"><script>alert(1)</script>", "https://evil.test/?q=<svg/onload=alert(1)>",
    "https://evil.test/a b|c`d", "https://user:pass@evil.test/", "https://[::1]/", "http://[broken/",
    "https://evil.test:99999/", "https://xn--80ak6aa92e.com/", "https://例え.テスト/パス?q=値#frag",
    "file:///etc/passwd", "https://evil.test/" + "a" * 3000, "",
]

# Text drawn freely: any Unicode scalar value (surrogates cannot be encoded in a UTF-8 report.json).
free_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=24)
hostile_text = st.lists(st.one_of(st.sampled_from(FRAGMENTS), free_text), min_size=1, max_size=5).map("".join)
hostile_url = st.one_of(
    st.sampled_from(NASTY_URLS),
    hostile_text.map(lambda s: "https://evil.test/" + s),
    hostile_text.map(lambda s: "https://www.micropep.com/en/?q=" + s),
    hostile_text,
)


# --------------------------------------------------------------------------- slots: where site strings live

def slots(report: dict) -> list[tuple[object, object, str]]:
    """(container, key, kind) of every string in the report that comes from the site; kind: text | url."""
    found: list[tuple[object, object, str]] = []

    def add(obj, key, kind):
        if isinstance(obj, dict) and isinstance(obj.get(key), str) or isinstance(obj, list):
            found.append((obj, key, kind))

    add(report["site"], "final_url", "url")
    for i in range(len(report.get("incomplete_reasons") or [])):   # scanner sentences quoting site strings
        add(report["incomplete_reasons"], i, "reason")
    for state in report["states"]:
        add(state, "error", "text")
        add(state, "verified_by", "text")
        for i in range(len(state.get("method") or [])):
            add(state["method"], i, "text")
        for page in state.get("pages", []):
            for key in ("url", "final_url"):
                add(page, key, "url")
            add(page, "title", "text")
            add(page, "error", "text")
            for cookie in page.get("cookies", []):
                for key in ("name", "domain", "path", "purpose", "vendor"):
                    add(cookie, key, "text")
                add(cookie, "setter_url", "url")
                for i in range(len(cookie.get("blocked_reasons") or [])):
                    add(cookie["blocked_reasons"], i, "text")
            for item in page.get("storage", []):
                for key in ("key", "purpose", "vendor"):
                    add(item, key, "text")
                for key in ("origin", "setter_url", "frame_url"):
                    add(item, key, "url")
            for request in page.get("requests", []):
                for key in ("url", "frame_url", "initiator_url"):
                    add(request, key, "url")
                add(request, "host", "text")
                add(request, "error", "text")
                for i in range(len(request.get("redirect_chain") or [])):
                    add(request["redirect_chain"], i, "url")
    for finding in report["findings"]:
        add(finding, "message", "text")
        add(finding, "page", "url")
        for i in range(len(finding.get("pages") or [])):
            add(finding["pages"], i, "url")
        subject = finding.get("subject") or {}
        for key in ("name", "domain", "host"):
            add(subject, key, "text")
        evidence = finding.get("evidence") or {}
        for key, value in list(evidence.items()):
            if isinstance(value, str) and key != "screenshot":   # screenshots are the scanner's own files
                add(evidence, key, "url" if "url" in key else "text")
    return found


def fill(report: dict, texts: list[str], urls: list[str], offset: int) -> dict:
    """Put the drawn strings into every slot, cycling through them."""
    for i, (container, key, kind) in enumerate(slots(report)):
        text, url = texts[(i + offset) % len(texts)], urls[(i + offset) % len(urls)]
        if kind == "reason":   # as the scanner words them: its own sentence, the site's URL and error inside
            container[key] = f"state none: page {url} failed: {text}"
        else:
            container[key] = url if kind == "url" else text
    return report


def with_failed_page(report: dict) -> dict:
    """The demo scan as if its last page had failed in the last state: a page error and the incomplete
    reason that quotes it (worded as scanner/result.py words it), two more site strings to fuzz."""
    state = report["states"][-1]
    page = state["pages"][-1]
    page["error"] = "net::ERR_CONNECTION_RESET"
    report["complete"] = False
    report["incomplete_reasons"] = [f"state {state['state']}: page {page['url']} failed: {page['error']}"]
    return report


@pytest.fixture(scope="module")
def base_report() -> dict:
    """A real scan of the demo site (complete), made incomplete by one failed page. Only the first two
    pages of each state and one finding per rule and state are kept: the rest add rows to render,
    not kinds of site string."""
    report = load_report(FIXTURE)
    for state in report["states"]:
        state["pages"] = state["pages"][:2]
    kept: dict[tuple, dict] = {}
    for finding in report["findings"]:
        kept.setdefault((finding["rule"], finding["state"]), finding)
    report["findings"] = list(kept.values())
    return with_failed_page(report)


@pytest.fixture(scope="module")
def baseline_html(base_report) -> dict:
    """What the renderer itself writes into report.html: script code, counts of guarded elements."""
    from bs4 import BeautifulSoup

    with tempfile.TemporaryDirectory() as tmp:
        render_all(copy.deepcopy(base_report), Path(tmp), ["html"])
        soup = BeautifulSoup((Path(tmp) / "report.html").read_text(encoding="utf-8"), "html.parser")
    return {"scripts": [s.string or "" for s in soup.find_all("script")],
            "counts": Counter(el.name for el in soup.find_all(GUARDED_TAGS))}


@pytest.fixture(scope="module")
def sarif_validator():
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


# --------------------------------------------------------------------------- checks, one per format

def html_problems(path: Path, baseline: dict) -> list[str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
    problems = []
    scripts = [s.string or "" for s in soup.find_all("script")]
    if scripts != baseline["scripts"]:
        problems.append(f"{len(scripts)} script elements, not the renderer's {len(baseline['scripts'])}: "
                        f"{[s[:60] for s in scripts if s not in baseline['scripts']]}")
    counts = Counter(el.name for el in soup.find_all(GUARDED_TAGS))
    for tag in set(counts) | set(baseline["counts"]):
        if counts[tag] != baseline["counts"][tag]:
            problems.append(f"{counts[tag]} <{tag}> elements, the renderer writes {baseline['counts'][tag]}")
    for el in soup.find_all(True):
        for name, value in el.attrs.items():
            if name.lower().startswith("on"):
                problems.append(f"<{el.name} {name}=...>")
            if name.lower() in URL_ATTRS:
                text = " ".join(value) if isinstance(value, list) else str(value)
                if re.match(r"^[\s\x00-\x20]*(javascript|data|vbscript)\s*:", re.sub(r"[\t\n\r]", "", text), re.I):
                    problems.append(f"<{el.name} {name}={text[:60]!r}>")
    return problems


def csv_problems(folder: Path, report: dict) -> list[str]:
    import pandas as pd

    pages = [p for s in report["states"] for p in s["pages"]]
    cookies = {(c.get("name"), c.get("domain"), c.get("path"), c.get("stored") is False) for p in pages for c in p["cookies"]}
    storage = {(e.get("kind"), e.get("origin"), e.get("key")) for p in pages for e in p["storage"]}
    expected = {"cookies.csv": len(cookies), "storage.csv": len(storage),   # one row per item
                "requests.csv": sum(len(p["requests"]) for p in pages), "findings.csv": len(report["findings"])}
    problems = []
    for name, columns in COLUMNS.items():
        try:
            frame = pd.read_csv(folder / name, sep=",", encoding="utf-8-sig", dtype=str, keep_default_na=False)
        except Exception as exc:  # noqa: BLE001 - any parse failure is the finding
            problems.append(f"{name}: does not parse: {exc}")
            continue
        if list(frame.columns) != list(columns):
            problems.append(f"{name}: header {list(frame.columns)[:5]}...")
        if len(frame) != expected[name]:
            problems.append(f"{name}: {len(frame)} rows, expected {expected[name]}")
        for column in frame.columns:
            for cell in frame[column]:
                if not cell.startswith(FORMULA_START):
                    continue
                if column in NUMERIC_COLUMNS and re.fullmatch(r"-?\d+(\.\d+)?", cell):
                    continue
                problems.append(f"{name}: {column}: formula cell {cell[:60]!r}")
    return problems


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

    problems = []
    if "<" in md:
        at = md.index("<")
        problems.append(f"raw '<': {md[max(0, at - 30):at + 30]!r}")
    width = None
    for line in md.split("\n"):
        if not line.startswith("|"):
            width = None
            continue
        if not (line.endswith("|") and not line.endswith("\\|")):
            problems.append(f"table row cut short (a line break from a site string?): {line[-80:]!r}")
        pipes = _unescaped_pipes(line)
        if width is None:
            width = pipes
        elif pipes != width:
            problems.append(f"table row with {pipes} unescaped pipes, header has {width}: {line[:100]!r}")
    html = MarkdownIt("commonmark", {"html": True, "linkify": False}).enable(["table", "strikethrough"]).render(md)
    soup = BeautifulSoup(html, "html.parser")
    for tag in ("a", "img", "script", "iframe", "svg", "style", "h1", "h4", "h5", "h6", "blockquote", "pre"):
        problems += [f"markdown renders <{tag}>: {str(el)[:80]!r}" for el in soup.find_all(tag)]
    for table in soup.find_all("table"):
        widths = {len(tr.find_all(["td", "th"])) for tr in table.find_all("tr")}
        if len(widths) != 1:
            problems.append(f"markdown table with rows of {sorted(widths)} cells")
    return problems


def junit_problems(path: Path) -> list[str]:
    try:
        ET.fromstring(path.read_bytes())
    except ET.ParseError as exc:
        return [f"junit.xml: {exc}"]
    return []


def sarif_problems(path: Path, validator) -> list[str]:
    try:
        log = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        return [f"results.sarif: not JSON: {exc}"]
    return [f"results.sarif: {e.message[:150]} at {list(e.absolute_path)}" for e in validator.iter_errors(log)][:5]


def render_problems(report: dict, baseline: dict, validator) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        render_all(report, out, FORMATS)
        for path in out.iterdir():   # every text file is UTF-8 (report.xlsx is a zip: opened below)
            if path.suffix == ".xlsx":
                from openpyxl import load_workbook
                load_workbook(path)
                continue
            try:
                path.read_bytes().decode("utf-8")
            except UnicodeDecodeError as exc:
                return [f"{path.name}: not UTF-8: {exc}"]
        problems = html_problems(out / "report.html", baseline)
        problems += csv_problems(out, report)
        problems += markdown_problems((out / "summary.md").read_text(encoding="utf-8"))
        problems += junit_problems(out / "junit.xml")
        problems += sarif_problems(out / "results.sarif", validator)
        reloaded = load_report(out / "report.json")   # report.json itself round-trips
        if reloaded != json.loads(json.dumps(report)):
            problems.append("report.json does not read back as written")
    return problems


# --------------------------------------------------------------------------- the tests

def test_the_checks_catch_unescaped_output(base_report, baseline_html, sarif_validator, tmp_path):
    """Canary: the checks fail on output that was not neutralised (else the fuzz test proves nothing)."""
    render_all(copy.deepcopy(base_report), tmp_path, FORMATS)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    (tmp_path / "bad.html").write_text(html.replace("</body>", "<img src=x onerror=alert(1)><script>1</script></body>"),
                                       encoding="utf-8")
    assert len(html_problems(tmp_path / "bad.html", baseline_html)) >= 3
    assert html_problems(tmp_path / "report.html", baseline_html) == []
    md = (tmp_path / "summary.md").read_text(encoding="utf-8")
    row = next(line for line in md.split("\n") if line.startswith("| violation"))
    assert markdown_problems(md) == []
    assert markdown_problems(md.replace(row, row.replace("none", "<b>a|b</b>\nx", 1)))
    cookies = (tmp_path / "cookies.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "cookies.csv").write_text(cookies.replace("_ga,", "=1+1,", 1), encoding="utf-8-sig")
    assert any("formula" in p for p in csv_problems(tmp_path, base_report))
    (tmp_path / "junit.xml").write_text("<testsuites><a></testsuites>", encoding="utf-8")
    assert junit_problems(tmp_path / "junit.xml")
    sarif = json.loads((tmp_path / "results.sarif").read_text(encoding="utf-8"))
    assert sarif_problems(tmp_path / "results.sarif", sarif_validator) == []
    sarif["runs"][0]["results"][0]["level"] = "fatal"
    (tmp_path / "results.sarif").write_text(json.dumps(sarif), encoding="utf-8")
    assert sarif_problems(tmp_path / "results.sarif", sarif_validator)


def test_slots_cover_the_site_strings(base_report):
    kinds = Counter(kind for _, _, kind in slots(copy.deepcopy(base_report)))
    assert kinds["reason"] >= 1
    assert kinds["text"] > 100 and kinds["url"] > 100, kinds
    report = copy.deepcopy(base_report)
    pages = [p for s in report["states"] for p in s["pages"]]
    # every kind of item the scan records is there to carry hostile strings
    assert all(any(p[kind] for p in pages) for kind in ("cookies", "storage", "requests"))
    assert any(r["redirect_chain"] for p in pages for r in p["requests"])


# 40 examples keep the suite fast; FUZZ_EXAMPLES=1000 for a longer hunt. No example database in the repo.
@settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "40")), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(hostile_text, min_size=1, max_size=8), urls=st.lists(hostile_url, min_size=1, max_size=6),
       offset=st.integers(min_value=0, max_value=64))
def test_hostile_site_strings_render_inert(base_report, baseline_html, sarif_validator, texts, urls, offset):
    report = copy.deepcopy(base_report)
    fill(report, texts, urls, offset)
    assert render_problems(report, baseline_html, sarif_validator) == []
