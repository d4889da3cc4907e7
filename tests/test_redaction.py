"""Secrets out of every output (scanner/redact.py).

A scan of tests/sites/www.leaky.test/ started at https://user:hunter2@www.leaky.test/?session=s3cr3t-...,
whose page links to /account?token=s3cr3t-..., with an extra page that cannot be reached (its error
quotes its URL) and a policy fetched through a URL with a password, run through the CLI in every format:
no file written and no line printed may carry the password or, unless --keep-query, a query value.
Then the two functions themselves, with hostile input.
"""
from __future__ import annotations

import copy
import hashlib
import json
import re
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from conftest import closed_port, run_cli
from scanner.redact import (escape_controls, redact_arg, redact_command, redact_report, redact_text,
                            redact_url, redacted)

PASSWORD = "hunter2"
START_SECRET = "s3cr3t-start-91c4"
LINK_SECRET = "s3cr3t-link-5b2f9c"       # in tests/sites/www.leaky.test/index.html
DOWN_SECRET = "s3cr3t-down-77aa"
POLICY_SECRET = "s3cr3t-policy-0e3d"
QUERY_SECRETS = (START_SECRET, LINK_SECRET, DOWN_SECRET, POLICY_SECRET)
START = f"https://user:{PASSWORD}@www.leaky.test/?session={START_SECRET}"
DOWN = f"https://admin:{PASSWORD}@down.leaky.test/?session={DOWN_SECRET}"
POLICY = f"https://user:{PASSWORD}@www.leaky.test/privacy?session={POLICY_SECRET}"
ALL_FORMATS = "json,html,csv,md,junit,sarif"


def hashed(value: str) -> str:
    return "~" + hashlib.sha256(value.encode()).hexdigest()[:8]


def leaks(folder: Path, texts: dict[str, str], secrets) -> list[str]:
    """Every (file or stream, secret) where the secret appears, as text or percent-encoded."""
    found = []
    files = {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}
    files.update({name: text.encode() for name, text in texts.items()})
    for name, data in files.items():
        found += [f"{name}: {secret}" for secret in secrets if secret.encode() in data]
    return found


def scan_leaky(sites_server, out: Path, *extra: str):
    return run_cli("scan", START, "--resolve", f"down.leaky.test=127.0.0.1:{closed_port()}",
                   "--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--states", "none",
                   "--url", DOWN, "--policy", POLICY, "--format", ALL_FORMATS, "--out", str(out),
                   "--fail-on", "never", *extra, timeout=240)


@pytest.fixture(scope="module")
def hashed_run(sites_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("leaky")
    proc = scan_leaky(sites_server, out)
    assert proc.returncode == 3, proc.stderr  # the unreachable page makes it incomplete
    return out, proc


@pytest.fixture(scope="module")
def kept_run(sites_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("leaky-keep-query")
    proc = scan_leaky(sites_server, out, "--keep-query")
    assert proc.returncode == 3, proc.stderr
    return out, proc


def pages(report: dict) -> list[dict]:
    return [p for s in report["states"] for p in s["pages"]]


# --------------------------------------------------------------------------- end to end, through the CLI

def test_no_secret_in_any_output(hashed_run) -> None:
    out, proc = hashed_run
    written = {p.name for p in out.iterdir()}
    assert {"report.json", "report.html", "cookies.csv", "findings.csv", "requests.csv", "storage.csv",
            "summary.md", "junit.xml", "results.sarif", "manifest.json"} <= written
    assert leaks(out, {"stdout": proc.stdout, "stderr": proc.stderr}, (PASSWORD,) + QUERY_SECRETS) == []


def test_the_secrets_reached_the_scan_and_the_outputs_say_where(hashed_run) -> None:
    """The test above proves nothing unless every secret-carrying URL really was scanned and written."""
    out, proc = hashed_run
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["site"]["url"] == f"https://www.leaky.test/?session={hashed(START_SECRET)}"
    urls = {p["url"] for p in pages(report)}
    assert f"https://www.leaky.test/account?token={hashed(LINK_SECRET)}" in urls
    down = f"https://down.leaky.test/?session={hashed(DOWN_SECRET)}"
    assert down in urls
    failed = next(p for p in pages(report) if p["url"] == down)
    assert failed["error"] and down in failed["error"]       # the error quotes the URL, redacted
    assert any(down in r for r in report["incomplete_reasons"])
    method = report["states"][0]["method"]
    assert f"second page https://www.leaky.test/account?token={hashed(LINK_SECRET)}" in method
    assert START.replace(f"user:{PASSWORD}@", "").replace(START_SECRET, hashed(START_SECRET)) in report["command"]
    assert f"https://down.leaky.test/?session={hashed(DOWN_SECRET)}" in report["command"]
    beacons = [r["url"] for p in pages(report) for r in p["requests"] if "/pixel.gif" in r["url"]]
    assert beacons and all(re.search(r"\?(dl|page)=~[0-9a-f]{8}", u) for u in beacons), beacons
    # the policy was fetched through its URL; its findings name it without the secrets
    policy_pages = {f["page"] for f in report["findings"] if f["rule"].startswith("policy-")}
    assert policy_pages == {f"https://www.leaky.test/privacy?session={hashed(POLICY_SECRET)}"}
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["site"] == report["site"]["url"] and manifest["command"] == report["command"]
    assert down in proc.stderr                                 # progress line and incomplete line
    assert "page failed" in proc.stderr and "incomplete" in proc.stderr


def test_keep_query_keeps_query_values_never_the_password(kept_run) -> None:
    out, proc = kept_run
    assert leaks(out, {"stdout": proc.stdout, "stderr": proc.stderr}, (PASSWORD,)) == []
    report_text = (out / "report.json").read_text(encoding="utf-8")
    for secret in QUERY_SECRETS:
        assert secret in report_text, secret
    report = json.loads(report_text)
    assert report["site"]["url"] == f"https://www.leaky.test/?session={START_SECRET}"
    assert f"https://down.leaky.test/?session={DOWN_SECRET}" in report["command"]
    for name in ("report.html", "summary.md", "results.sarif", "manifest.json", "requests.csv"):
        assert START_SECRET in (out / name).read_text(encoding="utf-8-sig"), name
    assert DOWN_SECRET in proc.stderr


def test_rerendering_an_old_report_redacts(hashed_run, tmp_path) -> None:
    """A report.json written before redaction existed: `cookie-scanner report` must not copy its secrets."""
    out, _ = hashed_run
    old = json.loads((out / "report.json").read_text(encoding="utf-8"))
    old["site"]["url"] = old["site"]["final_url"] = START
    old["command"] = ["cookie-scanner", "scan", START, "--url", DOWN]
    state = old["states"][0]
    state["method"] = ["no interaction", f"second page https://www.leaky.test/account?token={LINK_SECRET}"]
    state["error"] = f"net::ERR_FAILED at {DOWN}"
    page = pages(old)[0]
    page["url"] = START
    page["requests"][0]["url"] = START
    old["incomplete_reasons"] = [f"state none: page {DOWN} failed: net::ERR_CONNECTION_REFUSED at {DOWN}"]
    old["findings"][0]["page"] = START
    old["findings"][0]["pages"] = [START, DOWN]
    old["findings"][0]["message"] = f"seen on {POLICY}, see ({DOWN})."
    old["findings"][0]["evidence"] = {"url": START, "initiator_url": DOWN}
    source = tmp_path / "old" / "report.json"
    source.parent.mkdir()
    source.write_text(json.dumps(old), encoding="utf-8")
    assert PASSWORD in source.read_text(encoding="utf-8")
    rendered = tmp_path / "rendered"
    proc = run_cli("report", str(source), "--format", ALL_FORMATS, "--out", str(rendered))
    assert proc.returncode == 3, proc.stderr   # an incomplete report
    assert leaks(rendered, {"stdout": proc.stdout, "stderr": proc.stderr}, (PASSWORD,) + QUERY_SECRETS) == []
    again = json.loads((rendered / "report.json").read_text(encoding="utf-8"))
    assert again["findings"][0]["message"] == (f"seen on https://www.leaky.test/privacy?session="
                                               f"{hashed(POLICY_SECRET)}, see (https://down.leaky.test/"
                                               f"?session={hashed(DOWN_SECRET)}).")
    # and as a --baseline or in a diff
    proc = run_cli("diff", str(source), str(source))
    assert proc.returncode == 0, proc.stderr
    assert PASSWORD not in proc.stdout and START_SECRET not in proc.stdout


def test_usage_errors_do_not_echo_secrets(tmp_path) -> None:
    for args in (("scan", f"ftp://user:{PASSWORD}@www.leaky.test/?session={START_SECRET}"),
                 ("scan", START, "--resolve", "not-a-rule"),
                 ("scan", f"https://user:{PASSWORD}@/?session={START_SECRET}")):
        proc = run_cli(*args, "--out", str(tmp_path / "x"))
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stderr.startswith("cookie-scanner: error:"), proc.stderr
        assert PASSWORD not in proc.stderr + proc.stdout and START_SECRET not in proc.stderr + proc.stdout


def test_line_progress_redacts_and_escapes() -> None:
    import io

    from scanner.progress import LineProgress

    for keep_query in (False, True):
        stream = io.StringIO()
        progress = LineProgress(stream, keep_query=keep_query)
        progress.page_done("none", DOWN, f"\x1b]0;pwned\x07 net::ERR_FAILED at {DOWN}\x1b[2J")
        progress.state_done({"state": "reject", "reached": False, "error": f"failed at {START}", "pages": []})
        text = stream.getvalue()
        assert PASSWORD not in text and "\x1b" not in text and "\x07" not in text
        assert "\\x1b]0;pwned\\x07" in text
        assert (DOWN_SECRET in text) is keep_query and (START_SECRET in text) is keep_query


# --------------------------------------------------------------------------- redact_url

def old_scheme(url: str) -> str:
    """The query-value hashing scanner/gather/redact.py did before (parse_qsl + urlencode)."""
    parts = urlsplit(url)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, f"~{hashlib.sha256(v.encode()).hexdigest()[:8]}" if v else "") for k, v in pairs],
                      safe="~")
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


@pytest.mark.parametrize("url", [
    "https://track.hubspot.com/__ptq.gif?k=1&a=4431234&vi=abc&r=https%3A%2F%2Fwww.micropep.com%2F&t=Home+page",
    "https://region1.google-analytics.com/g/collect?v=2&tid=G-MPX24SCAN&en=page_view&_p=123",
    "https://www.example.com/a?x=&y=%E2%82%AC",
])
def test_query_values_hashed_as_before(url: str) -> None:
    assert redact_url(url) == old_scheme(url)
    assert redact_url(url, keep_query=True) == url


@pytest.mark.parametrize("url, hashed_form, kept_form", [
    (f"https://user:{PASSWORD}@www.leaky.test/?session={START_SECRET}",
     f"https://www.leaky.test/?session={hashed(START_SECRET)}", f"https://www.leaky.test/?session={START_SECRET}"),
    ("https://user@host.test/p", "https://host.test/p", "https://host.test/p"),
    (f"https://:{PASSWORD}@host.test:8443/p#frag", "https://host.test:8443/p", "https://host.test:8443/p"),
    (f"HTTP://u:{PASSWORD}@[::1]:8080/?a=1#x", f"HTTP://[::1]:8080/?a={hashed('1')}", "HTTP://[::1]:8080/?a=1"),
    (f"https://a@b:{PASSWORD}@host.test/", "https://host.test/", "https://host.test/"),   # the last @ ends it
    (f"https:\\\\u:{PASSWORD}@host.test\\x", "https:\\\\host.test\\x", "https:\\\\host.test\\x"),
    (f"//u:{PASSWORD}@host.test/?t=1", f"//host.test/?t={hashed('1')}", "//host.test/?t=1"),
    ("https://host.test/@someone?x=1", f"https://host.test/@someone?x={hashed('1')}", "https://host.test/@someone?x=1"),
    ("https://host.test/?flag&a=&b=2&&c=d=e", f"https://host.test/?flag&a=&b={hashed('2')}&&c={hashed('d=e')}",
     "https://host.test/?flag&a=&b=2&&c=d=e"),
    ("https://host.test/#access_token=abc", "https://host.test/", "https://host.test/"),
    # an absolute URL nested in a kept query loses its user info too (plain or percent-encoded)
    (f"https://t.test/?u=https://u:{PASSWORD}@x.test/&e=https%3A%2F%2Fu%3A{PASSWORD}%40x.test%2F",
     f"https://t.test/?u={hashed(f'https://u:{PASSWORD}@x.test/')}&e={hashed(f'https://u:{PASSWORD}@x.test/')}",
     "https://t.test/?u=https://x.test/&e=https%3A%2F%2Fx.test%2F"),
    ("https://例え.テスト/パス?q=値#frag", f"https://例え.テスト/パス?q={hashed('値')}",
     "https://例え.テスト/パス?q=値"),
])
def test_redact_url(url: str, hashed_form: str, kept_form: str) -> None:
    assert redact_url(url) == hashed_form
    assert redact_url(url, keep_query=True) == kept_form
    assert redact_url(hashed_form) == hashed_form               # idempotent
    assert redact_url(kept_form, keep_query=True) == kept_form


HOSTILE_URLS = [
    "", "?", "#", "@", "://", "http://", "https://@", "https://:@/", "http://[broken/", "https://[::1", "]:/@?#",
    "https://evil.test:99999/", "javascript:alert(1)", "data:text/html,<script>alert(1)</script>?a=b",
    "https://evil.test/\x00\x1b]0;pwned\x07?q=\u202e", "https://u:p\ud800@evil.test/?x=\udfff",
    "https://evil.test/?" + "a=b&" * 5000, "https://" + "u" * 5000 + f":{PASSWORD}@evil.test/",
    "%" * 100, "https://evil.test/?q=%zz%", "\\\\?\\C:\\x", "https://evil.test/?=value-without-key",
    f"not a url at all, user:{PASSWORD}", 12345, None, b"https://u:p@x/",
]


@pytest.mark.parametrize("url", HOSTILE_URLS, ids=range(len(HOSTILE_URLS)))
@pytest.mark.parametrize("keep_query", [False, True])
def test_redact_url_never_raises(url, keep_query: bool) -> None:
    out = redact_url(url, keep_query)
    if not isinstance(url, str):
        assert out is url
        return
    assert isinstance(out, str) and len(out) <= 2048
    assert redact_url(out, keep_query) == out
    if "://" in url and "@" in url.split("://", 1)[1].split("/", 1)[0]:
        assert PASSWORD not in out and "u" * 100 not in out
    assert "value-without-key" not in redact_url("https://evil.test/?=value-without-key")


def test_redact_url_property() -> None:
    pytest.importorskip("hypothesis")
    from hypothesis import given, settings, strategies as st

    text = st.text(max_size=30)

    @settings(max_examples=300, deadline=None, database=None)
    @given(scheme=st.sampled_from(["https", "http", "HTTPS", "ws", "x-y+z"]), user=text,
           host=st.from_regex(r"[a-z0-9.\-]{1,20}", fullmatch=True), path=text, key=text, value=text, frag=text)
    def check(scheme, user, host, path, key, value, frag):
        secret = "Zq9" + re.sub(r"[&#@%]", "", value)
        user = re.sub(r"[/\\?#@]", "", user)
        path = re.sub(r"[?#]", "", path)
        key = re.sub(r"[&=#]", "", key)
        url = f"{scheme}://{user}:{PASSWORD}@{host}/{path}?{key}={secret}#{frag}"
        for keep in (False, True):
            out = redact_url(url, keep)
            assert PASSWORD not in out.split("?", 1)[0]
            assert "#" not in out
            assert (secret in out) is keep
            assert redact_url(out, keep) == out

    check()


# --------------------------------------------------------------------------- redact_text, redact_arg

def test_redact_text_in_messages() -> None:
    playwright = (f"page.goto: net::ERR_CONNECTION_REFUSED at {DOWN}\nCall log:\n"
                  f"  - navigating to \"{DOWN}\", waiting until \"load\"")
    out = redact_text(playwright)
    assert PASSWORD not in out and DOWN_SECRET not in out
    assert out.count(f"https://down.leaky.test/?session={hashed(DOWN_SECRET)}") == 2
    assert out.startswith("page.goto: net::ERR_CONNECTION_REFUSED at ") and "\nCall log:\n" in out
    # trailing punctuation and a closing parenthesis are not part of the URL
    assert redact_text(f"see ({START}).") == f"see (https://www.leaky.test/?session={hashed(START_SECRET)})."
    assert redact_text(f"'{START}', <{DOWN}>") == (f"'https://www.leaky.test/?session={hashed(START_SECRET)}', "
                                                 f"<https://down.leaky.test/?session={hashed(DOWN_SECRET)}>")
    assert (redact_text(f"second page {START}", keep_query=True)
            == f"second page https://www.leaky.test/?session={START_SECRET}")
    # text without a URL, and site strings that merely look like one, are left alone
    for text in ("net::ERR_NAME_NOT_RESOLVED", "a|b](http://x)|c", "!click https://phish.example/login",
                 "www.phish.example/reset?x=1", "ratio 1:2 @ 3?", "", None, 42):
        assert redact_text(text) == text
    once = redact_text(playwright)
    assert redact_text(once) == once


def test_redact_arg_and_command() -> None:
    spaced = f"https://user:{PASSWORD}@www.leaky.test/?session={START_SECRET} and more"
    assert redact_arg(spaced) == f"https://www.leaky.test/?session={hashed(START_SECRET + ' and more')}"
    assert redact_arg(f"--url={DOWN}") == f"--url=https://down.leaky.test/?session={hashed(DOWN_SECRET)}"
    assert redact_arg("--resolve") == "--resolve" and redact_arg("*=127.0.0.1:9") == "*=127.0.0.1:9"
    assert redact_command(("cookie-scanner", "scan", START), keep_query=True) == [
        "cookie-scanner", "scan", f"https://www.leaky.test/?session={START_SECRET}"]
    assert redact_command(None) == [] and redact_command(START) == [redact_url(START)]


@pytest.mark.parametrize("text", [h for h in HOSTILE_URLS if isinstance(h, str)]
                         + [f"x {u} y" for u in HOSTILE_URLS if isinstance(u, str)])
def test_redact_text_never_raises(text: str) -> None:
    out = redact_text(text)
    assert isinstance(out, str)
    assert redact_text(out) == out
    assert isinstance(redact_arg(text), str)


# --------------------------------------------------------------------------- redact_report

def test_redact_report_everywhere_but_kept_values() -> None:
    report = {
        "options": {"keep_query": False}, "command": ["cookie-scanner", "scan", START],
        "site": {"url": START, "final_url": DOWN},
        "states": [{"method": [f"second page {START}"], "error": f"x at {DOWN}", "pages": [
            {"url": START, "cookies": [{"name": "c", "value": START, "setter_url": DOWN}],
             "requests": [{"url": DOWN, "redirect_chain": [START]}]}]}],
        "findings": [{"page": START, "pages": [DOWN], "message": f"on {START}", "evidence": {"url": DOWN}}],
        "crawl": {"pages": [START], "skipped": {START: 1}},
    }
    original = copy.deepcopy(report)
    view = redacted(report)
    assert report == original                                   # a view leaves the caller's dict alone
    assert redact_report(report) is report and report == view
    text = json.dumps(report)
    assert text.count(START) == 1 and report["states"][0]["pages"][0]["cookies"][0]["value"] == START
    assert PASSWORD not in text.replace(START, "") and START_SECRET not in text.replace(START, "")
    assert DOWN_SECRET not in text
    assert redact_report(copy.deepcopy(report)) == report       # idempotent
    kept = redact_report(copy.deepcopy(original) | {"options": {"keep_query": True}})
    assert START_SECRET in json.dumps(kept["site"]) and PASSWORD not in json.dumps(kept["site"])


def test_escape_controls_basics() -> None:
    assert escape_controls("a\x1b]0;pwned\x07b") == "a\\x1b]0;pwned\\x07b"
    assert escape_controls("\x9b\x7f\x85\u202a\u202e\u2066\u2069") == "\\x9b\\x7f\\x85\\u202a\\u202e\\u2066\\u2069"
    assert escape_controls("l1\nl2\tx\r", keep="\n\t") == "l1\nl2\tx\\x0d"
    assert escape_controls("plain café 日本 \u200b") == "plain café 日本 \u200b"
    assert escape_controls(None) is None
