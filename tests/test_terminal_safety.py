"""Terminal and spreadsheet safety: a site's control characters are shown, never acted on.

ESC sequences (colour, clear screen, OSC "retitle the terminal"), BEL, C1 controls (\\x9b is a one-byte
CSI), DEL and bidi overrides/isolates (U+202A-U+202E, U+2066-U+2069) from a site are written as escapes
(\\x1b, \\u202e) in every line the CLI prints and in every CSV cell; CSV formulas stay neutralised.

The scanned site is tests/sites/www.hostile.test (tests/test_hostile_report.py checks every renderer
against it); its storage key "\\x01ctrl\\x07" and cookie "cookie\\u202eevil\\u2028line" reach the CSV
files; an extra page whose URL carries the rest cannot be reached, so its URL reaches the terminal.
"""
from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path

import pytest

from conftest import closed_port, run_cli
from scanner.redact import escape_controls

TESTS = Path(__file__).resolve().parent
FIXTURE = TESTS / "fixtures" / "report" / "micropep.json"
# What a terminal must never receive from a site: C0 but line feed, DEL, C1, bidi overrides/isolates.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
RAW_IN_CELL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")   # a cell may hold \n and \t
OSC_TITLE = "\x1b]0;pwned\x07"
HOSTILE_PATH = f"/{OSC_TITLE}\x1b[2J\x9b31m\u202etxt.exe\u2066x\x7f"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def raw_controls(text: str) -> list[str]:
    return sorted({repr(m.group(0)) for m in RAW.finditer(text)})


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


def cells(folder: Path) -> dict[str, list[str]]:
    return {p.name: [c for row in read_csv(p)[1:] for c in row] for p in sorted(folder.glob("*.csv"))}


# --------------------------------------------------------------------------- a real scan, through the CLI

@pytest.fixture(scope="module")
def hostile_cli(sites_server, tmp_path_factory):
    out = tmp_path_factory.mktemp("terminal")
    proc = run_cli("scan", "https://www.hostile.test/", "--resolve", f"down.hostile.test=127.0.0.1:{closed_port()}",
                   "--resolve", sites_server.resolve_rule(), "--ignore-https-errors", "--states", "none",
                   "--url", f"https://down.hostile.test{HOSTILE_PATH}", "--keep-values", "--out", str(out),
                   "--format", "json,csv", "--fail-on", "never", timeout=240)
    assert proc.returncode == 3, proc.stderr          # the unreachable page: incomplete
    return out, proc


def test_cli_lines_show_control_characters_as_escapes(hostile_cli) -> None:
    _, proc = hostile_cli
    assert raw_controls(proc.stdout) == [] and raw_controls(proc.stderr) == []
    # the URL did reach the terminal (progress line and incomplete line), escaped
    shown = "\\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202etxt.exe\\u2066x\\x7f"
    lines = [line for line in proc.stderr.splitlines() if "down.hostile.test" in line]
    assert len(lines) >= 2 and all(shown in line for line in lines), proc.stderr
    assert any(line.startswith("cookie-scanner: incomplete:") for line in lines)


def test_csv_cells_escape_control_characters(hostile_cli) -> None:
    out, _ = hostile_cli
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert any(s["key"] == "\x01ctrl\x07" for st in report["states"] for p in st["pages"] for s in p["storage"])
    found = cells(out)
    problems = [f"{name}: {cell[:60]!r}" for name, values in found.items() for cell in values
                if RAW_IN_CELL.search(cell)]
    assert problems == []
    storage = read_csv(out / "storage.csv")
    keys = {row[storage[0].index("key")] for row in storage[1:]}
    assert {"\\x01ctrl\\x07", "line1\nline2|x", "'=HYPERLINK(\"http://x\")"} <= keys  # escaped; \n kept; formula
    cookies = read_csv(out / "cookies.csv")
    names = {row[cookies[0].index("name")] for row in cookies[1:]}
    assert "cookie\\u202eevil\u2028line" in names and "'-2+3" in names
    assert not any(cell.startswith(FORMULA_START) for values in found.values() for cell in values
                   if not re.fullmatch(r"-?\d+(\.\d+)?", cell))


# --------------------------------------------------------------------------- CSV, from a report

def test_csv_escapes_every_kind_of_control_character(tmp_path: Path) -> None:
    from scanner.report import load_report, render_all

    report = load_report(FIXTURE)
    page = report["states"][0]["pages"][0]
    cookie, item, request = page["cookies"][0], page["storage"][0], page["requests"][0]
    cookie["name"] = f"=cmd{OSC_TITLE}"
    cookie["purpose"] = "\u202ecod.exe\u2069 \x85next\x7f"
    item["key"] = "\x1b[31mred\x1b[0m\tkey\r\nline"
    page["url"] = f"https://www.micropep.com{HOSTILE_PATH}"
    request["error"] = "\x9b2J\x00\x08"
    report["findings"][0]["message"] = f"@{OSC_TITLE}"
    report["findings"][0]["evidence"] = {"quote": "\u202a\u202b\u202c\u202d\u2066\u2067\u2068"}
    render_all(copy.deepcopy(report), tmp_path, ["csv"])
    found = cells(tmp_path)
    assert [c for values in found.values() for c in values if RAW_IN_CELL.search(c)] == []
    every = [c for values in found.values() for c in values]
    assert "'=cmd\\x1b]0;pwned\\x07" in every                    # escaped, and still no formula
    assert "\\u202ecod.exe\\u2069 \\x85next\\x7f" in every
    assert "\\x1b[31mred\\x1b[0m\tkey\\x0d\nline" in every
    assert "\\x9b2J\\x00\\x08" in every and "'@\\x1b]0;pwned\\x07" in every
    assert any("\\u202a\\u202b\\u202c\\u202d\\u2066\\u2067\\u2068" in c for c in every)
    assert any(c.startswith("https://www.micropep.com/\\x1b]0;pwned\\x07") for c in found["cookies.csv"])


# --------------------------------------------------------------------------- policy lint, policy import

POLICY_HTML = ("<!doctype html><html><head><title>Privacy\x1b]0;pwned\x07</title></head><body>"
               "<h1>Privacy policy\x1b]0;pwned\x07</h1>"
               "<p>We use cookies\x1b[31m for analytics\u202e and keep them 13 months.\x1b]0;pwned\x07\x9b2J</p>"
               "<p>Write to https://user:hunter2@www.example.test/contact?session=s3cr3t-lint \x7f</p>"
               "</body></html>")


def test_policy_lint_does_not_play_escape_sequences(tmp_path: Path) -> None:
    from scanner.policy import lint_policy, load_policy_text

    page = tmp_path / "policy.html"
    page.write_text(POLICY_HTML, encoding="utf-8")
    text, origin = load_policy_text(str(page))
    assert OSC_TITLE in text                                      # the page's escape sequence is in the text
    quotes = [f["evidence"]["quote"] for f in lint_policy(text, source=origin)
              if (f.get("evidence") or {}).get("quote")]
    assert any(OSC_TITLE in q for q in quotes), quotes            # ... and would be quoted

    proc = run_cli("policy", "lint", str(page))
    assert proc.returncode == 1, proc.stderr
    assert raw_controls(proc.stdout) == [] and raw_controls(proc.stderr) == []
    assert "\\x1b]0;pwned\\x07" in proc.stdout and "\\u202e" in proc.stdout
    assert "hunter2" not in proc.stdout and "s3cr3t-lint" not in proc.stdout
    assert proc.stdout.rstrip().endswith("findings")

    proc = run_cli("policy", "lint", str(page), "--format", "json")
    assert raw_controls(proc.stdout.replace("\n", "")) == []
    findings = json.loads(proc.stdout)                            # still JSON, the same data
    assert [f["evidence"].get("quote") for f in findings if (f.get("evidence") or {}).get("quote")] == quotes


def test_policy_import_prints_yaml_without_raw_controls(tmp_path: Path) -> None:
    import yaml

    page = tmp_path / "cookies.html"
    page.write_text("<html><body><h1>Cookie policy</h1><table><tr><th>Name</th><th>Purpose</th><th>Duration</th>"
                    "</tr><tr><td>_pk\u202egpj.exe</td><td>Analytics statistics \x1b]0;pwned\x07</td><td>13 months</td>"
                    "</tr></table></body></html>", encoding="utf-8")
    proc = run_cli("policy", "import", str(page))
    assert proc.returncode == 0, proc.stderr
    assert raw_controls(proc.stdout) == []
    draft = yaml.safe_load(proc.stdout)                           # escaped the YAML way: same data
    assert "_pk\u202egpj.exe" in [c["name"] for c in draft["cookies"]]


# --------------------------------------------------------------------------- the rich progress bar

def test_rich_progress_escapes_and_treats_brackets_as_text(capsys) -> None:
    pytest.importorskip("rich")
    from scanner.progress import RichProgress

    progress = RichProgress()
    progress.set_states(["none"])
    progress.page_done("none", f"https://u:hunter2@x.test/[/]{OSC_TITLE}?t=s3cr3t[bold]", None)
    progress.state_done({"state": "none", "reached": False, "pages": [],
                         "error": f"[/red]{OSC_TITLE}\u202e at https://x.test/?t=s3cr3t"})
    progress.close()
    captured = capsys.readouterr()
    text = captured.out + captured.err
    assert "pwned\x07" not in text and "\u202e" not in text and "s3cr3t" not in text and "hunter2" not in text
    assert "\\x1b]0;pwned\\x07" in text and "[/red]" in text


def test_escape_controls_leaves_ordinary_text() -> None:
    for text in ("café, 日本語, العربية, emoji \U0001F36A", "tab\tand\nline", "\u200b\u00a0\u2028"):
        assert escape_controls(text, keep="\t\n") == text
