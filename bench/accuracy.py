"""Accuracy benchmark (`make accuracy`): scan every fixture site whose expected findings are written
down in full (tests/fixtures/expected/*.yaml) and print, per site and overall, the expected findings
found, those missed, and the unexpected ones, by severity.

    python bench/accuracy.py [--write]      # --write: rewrite each expected file from this run
                                            #          (review the diff before committing it!)

An expected file:
    url: https://www.gartenbau-muster.de/
    server: tests/sites | demo           # which local server serves it (127.0.0.1 only)
    declaration: tests/fixtures/declarations/gartenbau.yaml
    policy: scanner/demo/site/www.micropep.com/privacy-policy.html   # optional: policy lint joins
    gvl: tests/sites/www.tcf-banner.test/tcf/vendor-list.json         # optional: --gvl
    scan_states: [none]                  # optional: --states (default: every state the site supports)
    states: [none, reject, ...]          # the states the scan must visit, all reached
    findings:                            # every finding: [rule, severity, state or "-", subject]
      - [pre-consent-cookie, violation, none, _ga]
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
EXPECTED = ROOT / "tests" / "fixtures" / "expected"
SEVERITIES = ("violation", "warning", "info")


def finding_key(f: dict) -> tuple[str, str, str, str]:
    return (f["rule"], f["severity"], f.get("state") or "-", str(f["subject"].get("name")))


def finding_keys(f: dict) -> list[tuple[str, str, str, str]]:
    """One key per state a finding occurs in (report.json 1.3 has one finding per problem, with
    its `occurrences`), so the expected files stay one line per rule, state and item."""
    occurrences = [o for o in f.get("occurrences") or [] if o.get("state")]
    if not occurrences:
        return [finding_key(f)]
    name = str(f["subject"].get("name"))
    return [(f["rule"], o.get("severity") or f["severity"], o["state"], name) for o in occurrences]


def load_expected(path: Path) -> dict:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    spec["path"] = path
    spec["expected"] = Counter(tuple(str(x) for x in f) for f in spec.get("findings") or [])
    return spec


def scan_fixture(spec: dict) -> dict:
    """Scan one fixture site with a local server, as a user would with --resolve."""
    from scanner import ScanOptions, scan
    from scanner.declaration import load_declaration
    from scanner.demo import SiteServer
    from scanner.paths import demo_site_dir

    if spec.get("server") == "demo":
        server = SiteServer(demo_site_dir())
    else:
        sites = ROOT / "tests" / "sites"
        server = SiteServer(sites, mounts={"/_npm/": ROOT / "tests" / "node_modules", "/cmp/": sites / "cmp"})
    policy_findings = None
    if spec.get("policy"):
        from scanner.policy import lint_policy, load_policy_text
        text, origin = load_policy_text(str(ROOT / spec["policy"]))
        policy_findings = lint_policy(text, source=origin)
    declaration = load_declaration(ROOT / spec["declaration"]) if spec.get("declaration") else None
    with server:
        options = ScanOptions(url=spec["url"], resolve=(server.resolve_rule(),), ignore_https_errors=True,
                              states=tuple(str(s) for s in spec.get("scan_states") or ()),
                              gvl_path=ROOT / spec["gvl"] if spec.get("gvl") else None)
        return scan(options, declaration=declaration, policy_findings=policy_findings)


def compare(spec: dict, result: dict) -> dict:
    got = Counter(key for f in result["findings"] for key in finding_keys(f))
    expected = spec["expected"]
    found, missed, unexpected = expected & got, expected - got, got - expected
    states = [s["state"] for s in result["states"]]
    problems = []
    if states != list(spec.get("states") or states):
        problems.append(f"states {states} instead of {spec['states']}")
    problems += [f"state {s['state']} not reached: {s.get('error')}" for s in result["states"] if not s.get("reached")]
    return {"site": spec["url"], "found": found, "missed": missed, "unexpected": unexpected,
            "problems": problems, "result": result}


def _by_severity(counter: Counter) -> dict[str, int]:
    out = dict.fromkeys(SEVERITIES, 0)
    for key, n in counter.items():
        out[key[1]] = out.get(key[1], 0) + n
    return out


def table(rows: list[dict]) -> str:
    head = ("| site | expected | found | missed (V/W/I) | unexpected (V/W/I) | states |\n"
            "|---|---|---|---|---|---|")
    lines = [head]
    total = {"expected": 0, "found": 0, "missed": Counter(), "unexpected": Counter()}
    for row in rows:
        expected = sum((row["found"] + row["missed"]).values())
        found = sum(row["found"].values())
        missed, unexpected = _by_severity(row["missed"]), _by_severity(row["unexpected"])
        total["expected"] += expected
        total["found"] += found
        total["missed"].update(missed)
        total["unexpected"].update(unexpected)
        lines.append(f"| {row['site']} | {expected} | {found} | {_vwi(missed)} | {_vwi(unexpected)} | "
                     f"{'; '.join(row['problems']) or 'all reached'} |")
    lines.append(f"| **all** | {total['expected']} | {total['found']} | {_vwi(total['missed'])} | "
                 f"{_vwi(total['unexpected'])} | |")
    return "\n".join(lines)


def _vwi(counts) -> str:
    return "/".join(str(counts.get(s, 0)) for s in SEVERITIES)


def write_expected(spec: dict, result: dict) -> None:
    keys = sorted((k for f in result["findings"] for k in finding_keys(f)), key=lambda k: (SEVERITIES.index(k[1]), k))
    head = spec["path"].read_text(encoding="utf-8").split("\nfindings:")[0]
    body = "\n".join(f"  - [{', '.join(_yaml_scalar(x) for x in key)}]" for key in keys)
    spec["path"].write_text(f"{head}\nfindings:\n{body}\n", encoding="utf-8")


def _yaml_scalar(value: str) -> str:
    return yaml.safe_dump(value, default_style=None, width=1000).strip().removesuffix("\n...").strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="rewrite the expected files from this run")
    parser.add_argument("names", nargs="*", help="expected files to run (default: all)")
    args = parser.parse_args(argv)
    paths = sorted(EXPECTED.glob("*.yaml"))
    if args.names:
        paths = [p for p in paths if p.stem in args.names]
    rows = []
    for path in paths:
        spec = load_expected(path)
        row = compare(spec, scan_fixture(spec))
        rows.append(row)
        if args.write:
            write_expected(spec, row["result"])
        for kind in ("missed", "unexpected"):
            for key, n in sorted(row[kind].items()):
                print(f"{path.stem}: {kind}: {list(key)}{f' x{n}' if n > 1 else ''}", file=sys.stderr)
    print(table(rows))
    bad = any(r["missed"] or r["unexpected"] or r["problems"] for r in rows)
    return 1 if bad and not args.write else 0


if __name__ == "__main__":
    sys.exit(main())
