#!/usr/bin/env python3
"""Regenerate the renderer tests' report fixture from a real scan of the embedded demo site.

    .venv/bin/python tools/regen-report-fixtures.py            # scan, normalise, write the fixture
    .venv/bin/python tools/regen-report-fixtures.py --from reports/x/report.json   # normalise a saved scan
    .venv/bin/python tools/regen-report-fixtures.py --out /tmp/micropep.json      # write elsewhere

It scans the demo site the way `cookie-scanner demo` and the tests' `demo_full` fixture do
(scanner/demo/site served by SiteServer, www.micropep.com resolved to it, the declaration
rules/sites/micropep.yaml, the demo's privacy-policy.html linted), then rewrites what changes
from one run to the next so that regenerating after a scanner change shows only what the
change did (see `normalise` for the list). The result must validate against
docs/report.schema.json and every finding must name a registered rule, or nothing is written.

Writes tests/fixtures/report/micropep.json. tests/fixtures/report/hostile.json is written by
hand on purpose (it plants injection strings in fields a scan fills from the declaration and
the rules, not only from the site) and is not touched; tests/test_hostile_report.py is its
real-scan counterpart.
"""
from __future__ import annotations

import argparse
import calendar
import hashlib
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

FIXTURE = REPO / "tests" / "fixtures" / "report" / "micropep.json"

# What the volatile fields become.
STARTED_AT = "2026-01-05T09:00:00Z"
DURATION_S = 60.0
CHROMIUM = "0.0.0.0"
RULES_VERSION = "000000000000"
COMMAND = ["cookie-scanner", "demo"]
PORT = 8443
# Query values the demo site's trackers fill with random ids or the current time, hashed to
# "~xxxxxxxx" since keep_query is off: GA's client id, HubSpot's visitor id, LinkedIn's
# timestamp. The other hashed values (tracking ids, page URLs, titles, event names) are the
# same on every run and are kept. (Found by diffing two scans; extend it if a new demo
# tracker adds one.)
VOLATILE_PARAMS = ("cid", "vi", "time")
# Cookies and storage keys whose values hold a random number (GA's "GA1.1.<random>.<time>"),
# so their length varies by a digit from one run to the next: each gets, everywhere, the
# longest length it has in the report.
VOLATILE_LENGTHS = (("cookie", "_ga"), ("cookie", "_gid"), ("cookie", "_gcl_au"), ("storage", "yt-remote-device-id"))


def _epoch(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def _token(*parts: object, size: int = 16) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode("utf-8", "surrogatepass")).hexdigest()[:size]


def scan_demo(out_dir: Path) -> dict:
    """One scan of the demo site, as `cookie-scanner demo` runs it (report files go to out_dir)."""
    from scanner import ScanOptions, scan
    from scanner.declaration import load_declaration
    from scanner.demo import SiteServer
    from scanner.paths import demo_site_dir, rules_dir
    from scanner.policy import lint_policy, load_policy_text

    text, origin = load_policy_text(str(demo_site_dir() / "www.micropep.com" / "privacy-policy.html"))
    declaration = load_declaration(rules_dir() / "sites" / "micropep.yaml")
    with SiteServer(demo_site_dir()) as server:
        options = ScanOptions(url="https://www.micropep.com/", resolve=(server.resolve_rule(),),
                              ignore_https_errors=True, out_dir=out_dir, command=tuple(COMMAND))
        return scan(options, declaration=declaration, policy_findings=lint_policy(text, source=origin))


def normalise(report: dict, *, scratch: tuple[str, ...] = ()) -> dict:
    """Rewrite, in place, what differs between two scans of the same site:

    * started_at, finished_at, duration_s: a fixed start and a fixed 60 s;
    * tool.chromium, tool.rules_version: placeholders (they change on every upgrade or rules edit);
    * command: `cookie-scanner demo` (the real one names a temporary folder);
    * absolute paths: the checkout's prefix (the linted policy file) is made relative to it; the
      scan's temporary folders (`scratch`) are dropped;
    * the demo server's port (a free one each run): 8443;
    * cookie `expires` (an absolute time): the fixed start plus the cookie's lifetime;
    * request `time_ms` (milliseconds since navigation): 0;
    * `value_sha256` of cookies and storage: a token per item (name, domain or origin, path);
    * value_len (and a cookie's size) of the items in VOLATILE_LENGTHS: the longest in the report;
    * hashed query values in VOLATILE_PARAMS (random ids, timestamps): a token per parameter;
    * order: cookies, storage and requests of each page sorted; a finding's pages sorted after its
      first page in crawl order (the scanner lists them in the order concurrent visits finished).
    """
    real_start = _epoch(report["started_at"]) if report.get("started_at") else _epoch(STARTED_AT)
    start = _epoch(STARTED_AT)
    report["started_at"] = STARTED_AT
    report["duration_s"] = DURATION_S
    report["finished_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start + DURATION_S))
    tool = report.setdefault("tool", {})
    tool["chromium"], tool["rules_version"] = CHROMIUM, RULES_VERSION
    report["command"] = list(COMMAND)

    prefixes = [str(REPO) + "/"] + [p.rstrip("/") + "/" for p in scratch]
    volatile = re.compile(r"([?&;](?:%s)=)~[0-9a-f]{8}\b" % "|".join(map(re.escape, VOLATILE_PARAMS)))
    port = re.compile(r"\b127\.0\.0\.1:\d+\b")

    def text(value: str) -> str:
        for prefix in prefixes:
            value = value.replace(prefix, "")
        value = port.sub(f"127.0.0.1:{PORT}", value)
        return volatile.sub(lambda m: m.group(1) + "~" + _token("query", m.group(1)[1:-1], size=8), value)

    def walk(node):
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return text(node) if isinstance(node, str) else node

    report.update(walk(report))

    def value_token(kind: str, item: dict, *identity: object) -> None:
        if item.get("value_sha256") is not None:
            item["value_sha256"] = _token(kind, *identity)

    def cookie_key(c: dict) -> tuple:
        return (c.get("name", ""), c.get("domain", ""), c.get("path") or "", not c.get("stored"), c.get("set_by") or "",
                c.get("setter_url") or "", bool(c.get("carried_over")))

    for state in report.get("states") or []:
        for page in state.get("pages") or []:
            page["cookies"].sort(key=cookie_key)
            page["storage"].sort(key=lambda s: (s.get("kind", ""), s.get("origin", ""), s.get("key", ""),
                                                s.get("frame_url") or "", s.get("setter_url") or ""))
            page["requests"].sort(key=lambda r: (r.get("url", ""), r.get("method") or "", r.get("resource_type") or "",
                                                 r.get("frame_url") or "", r.get("initiator_url") or "",
                                                 str(r.get("status")), r.get("error") or ""))
            for c in page["cookies"]:
                lifetime = c.get("lifetime_s") if c.get("lifetime_s") is not None else c.get("requested_lifetime_s")
                if c.get("expires") is not None:
                    c["expires"] = start + lifetime if lifetime is not None else start + round(
                        (c["expires"] - real_start) / 3600) * 3600
                value_token("cookie", c, c.get("name"), c.get("domain"), c.get("path"))
            for s in page["storage"]:
                value_token("storage", s, s.get("kind"), s.get("origin"), s.get("key"))
            for r in page["requests"]:
                if "time_ms" in r:
                    r["time_ms"] = 0
    longest: dict[tuple, int] = {}
    volatile_items = [(kind, item) for state in report.get("states") or [] for page in state.get("pages") or []
                      for kind, items in (("cookie", page["cookies"]), ("storage", page["storage"]))
                      for item in items if (kind, item.get("name", item.get("key"))) in VOLATILE_LENGTHS
                      and isinstance(item.get("value_len"), int)]
    for kind, item in volatile_items:
        key = (kind, item.get("name", item.get("key")), item.get("domain", item.get("origin")))
        longest[key] = max(longest.get(key, 0), item["value_len"])
    for kind, item in volatile_items:
        new = longest[(kind, item.get("name", item.get("key")), item.get("domain", item.get("origin")))]
        if isinstance(item.get("size"), int):
            item["size"] += new - item["value_len"]
        item["value_len"] = new
    crawl_order = {url: i for i, url in enumerate((report.get("crawl") or {}).get("pages") or [])}
    for finding in report.get("findings") or []:
        first, pages = finding.get("page"), finding.get("pages") or []
        finding["pages"] = sorted(pages, key=lambda url: (url != first, crawl_order.get(url, len(crawl_order)), url))
    return report


def check(report: dict) -> list[str]:
    """Why the report cannot be a fixture: schema problems, findings of unregistered rules."""
    from scanner.audits import AUDITS
    from scanner.policy import POLICY_RULES
    from scanner.report.schema import validate_report

    problems = validate_report(report)
    known = {a.id for a in AUDITS} | {r["id"] for r in POLICY_RULES}
    problems += [f"findings: rule {rule!r} is not registered" for rule in
                 sorted({f["rule"] for f in report.get("findings") or []} - known)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="source", type=Path, help="normalise this report.json instead of scanning")
    parser.add_argument("--out", type=Path, default=FIXTURE,
                        help=f"where to write (default: {FIXTURE.relative_to(REPO)})")
    args = parser.parse_args(argv)

    from scanner.report import load_report, write_json

    with tempfile.TemporaryDirectory(prefix="regen-report-") as tmp:
        if args.source:
            report = load_report(args.source)
            scratch = (str(args.source.resolve().parent),)
        else:
            report = scan_demo(Path(tmp))
            scratch = (tmp,)
        normalise(report, scratch=scratch)
    problems = check(report)
    if problems:
        print(f"{args.out}: not written, the report is not a valid fixture:", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    write_json(report, args.out)
    counts = {sev: sum(f["severity"] == sev for f in report["findings"]) for sev in ("violation", "warning", "info")}
    states = ", ".join(f"{s['state']}{'' if s['reached'] else ' (not reached)'}" for s in report["states"])
    print(f"wrote {args.out}: verdict {report.get('verdict')}; states {states}; "
          f"{counts['violation']} violations, {counts['warning']} warnings, {counts['info']} info")
    return 0


if __name__ == "__main__":
    sys.exit(main())
