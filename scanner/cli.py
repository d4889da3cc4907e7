"""Command line: `cookie-scanner scan|demo ...`. Exit codes: see scanner.errors."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urljoin

import click

from . import __version__
from .errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, ScannerError, UsageError
from .options import ScanOptions, validate_state, validate_url
from .redact import escape_controls, escape_json_text, redact_text, terminal_line
from .result import default_out_dir


def _argv_keep_query(argv: list[str] | None = None) -> bool:
    """Whether the command line asked for --keep-query (the last of --keep-query/--hash-query wins):
    how a message printed before (or without) the scan options redacts query values."""
    flags = [a for a in (sys.argv[1:] if argv is None else argv) if a in ("--keep-query", "--hash-query")]
    return bool(flags) and flags[-1] == "--keep-query"


def _say(text, *, err: bool = False, keep_query: bool | None = None) -> None:
    """Print one line that may carry a site's or a user's text: URLs redacted (no credentials; query
    values hashed unless --keep-query), control characters and bidi overrides escaped."""
    click.echo(terminal_line(text, _argv_keep_query() if keep_query is None else keep_query), err=err)


def _fail(message: str, code: int = EXIT_USAGE) -> None:
    _say(f"cookie-scanner: error: {message}", err=True)
    sys.exit(code)


def _parse_states(text: str | None) -> tuple[str, ...]:
    states = tuple(dict.fromkeys(s.strip() for s in (text or "").split(",") if s.strip()))
    for state in states:
        validate_state(state)
    return states


def _read_urls_file(path: Path | None) -> tuple[str, ...]:
    if path is None:
        return ()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UsageError(f"cannot read --urls-file {str(path)!r}: {exc.strerror or exc}") from None
    urls = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        if line and not line.startswith("#"):
            try:
                urls.append(validate_url(line))
            except UsageError as exc:
                raise UsageError(f"{path}:{number}: {exc}") from None
    return tuple(urls)


def _check_out_dir(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from None


def _parse_formats(text: str) -> tuple[str, ...]:
    from .report import FORMATS

    formats = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    for fmt in formats:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
    return formats or ("json",)


def _load_baseline(path: Path | None):
    if path is None:
        return None
    from .redact import redact_report
    from .report import ReportError, load_report

    try:
        return redact_report(load_report(path))  # an older report.json may still carry secrets in URLs
    except ReportError as exc:
        raise UsageError(f"--baseline {path}: {exc}") from None


def publish(result: dict, out: Path, *, formats, csv_sep: str, fail_on: str, baseline=None,
            baseline_path: Path | None = None, declaration=None) -> int:
    """Write every requested format, the manifest and the CI summary; return the exit code."""
    from .report import apply_baseline, exit_code, render_all, render_markdown, write_json, write_manifest

    if baseline is not None:
        apply_baseline(result, baseline, path=str(baseline_path))
    write_json(result, out / "report.json")  # always: every other format is rendered from it
    render_all(result, out, [f for f in formats if f != "json"], csv_sep=csv_sep)
    write_manifest(out, result, command=result.get("command"),
                   declaration_sha256=(declaration.sha256 if declaration else None))
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(render_markdown(result) + "\n")
        except OSError as exc:
            _say(f"cookie-scanner: warning: cannot write $GITHUB_STEP_SUMMARY: {exc}", err=True)
    _say(f"report: {out / 'report.json'}")
    if "html" in formats:
        _say(f"html:   {out / 'report.html'}")
    counts = {sev: sum(1 for f in result["findings"] if f["severity"] == sev) for sev in ("violation", "warning", "info")}
    click.echo(f"verdict: {result.get('verdict')} ({counts['violation']} violations, {counts['warning']} warnings, "
               f"{counts['info']} info)")
    code = exit_code(result, fail_on)
    if not result["complete"]:
        reason = result["incomplete_reasons"][0] if result["incomplete_reasons"] else "scan incomplete"
        _say(f"cookie-scanner: incomplete: {reason}", err=True,
             keep_query=bool((result.get("options") or {}).get("keep_query")))
    return code


def run_scan(options: ScanOptions, out_dir: Path | None, declaration=None, *, formats=("json", "html", "csv", "md"),
             csv_sep: str = ",", fail_on: str = "violation", baseline_path: Path | None = None,
             policy: str | None = None) -> int:
    """Scan, write the reports (even when incomplete), print where; return the exit code."""
    from .scan import scan  # imported late: keeps `--help` fast

    out = Path(out_dir) if out_dir else default_out_dir(options.url)
    baseline = _load_baseline(baseline_path)   # bad input: exit 2 before any folder is created
    _check_out_dir(out)
    policy_findings = _lint_policy_source(policy, options) if policy else None
    options.out_dir = out
    from .progress import make_progress
    from .report import write_json

    progress = make_progress(options.extra.get("progress", True), keep_query=options.keep_query)
    try:
        # report.json is rewritten after every consent state: a killed scan leaves a valid one
        result = scan(options, declaration=declaration, policy_findings=policy_findings, progress=progress,
                      checkpoint=lambda partial: write_json(partial, out / "report.json"), handle_signals=True)
    finally:
        progress.close()
    return publish(result, out, formats=formats, csv_sep=csv_sep, fail_on=fail_on, baseline=baseline,
                   baseline_path=baseline_path, declaration=declaration)


def _lint_policy_source(source: str, options: ScanOptions | None = None) -> list[dict]:
    from .policy import PolicyError, lint_policy, load_policy_text

    try:
        text, origin = load_policy_text(source, fetch=lambda url: fetch_html(url, options))
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    # the origin is each finding's `page`: a policy URL's credentials (and query values) stay out
    return lint_policy(text, source=redact_text(origin, bool(options and options.keep_query)))


def fetch_html(url: str, options: ScanOptions | None = None) -> str:
    """The rendered HTML of a page, through the scanner's Chromium."""
    import asyncio

    from playwright.async_api import async_playwright

    from .browser import Browser, ContextSettings, find_chromium

    validate_url(url)

    async def run() -> str:
        async with async_playwright() as pw:
            settings = ContextSettings(ignore_https_errors=bool(options and options.ignore_https_errors))
            async with Browser(pw, executable=find_chromium(options.chromium_path if options else None),
                               resolve=options.resolve if options else (),
                               allow_private=bool(options and options.allow_private),
                               settings=settings) as browser:
                context = await browser.new_context()
                page = await context.new_page()
                await page.goto(url, wait_until="load", timeout=30000)
                return await page.content()
    try:
        return asyncio.run(run())
    except ScannerError:
        raise
    except Exception as exc:
        raise UsageError(f"could not fetch {url}: {str(exc).splitlines()[0][:200]}") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="cookie-scanner")
@click.option("--debug", is_flag=True, help="Show Python tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Scan a website for cookies, storage and trackers under each consent state."""
    ctx.obj = {"debug": debug}


def _scan_options(f):
    options = [
        click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Report folder (default: reports/<host>-<UTC timestamp>/)."),
        click.option("--states", default=None,
                     help="Comma-separated consent states: none, reject, accept, only:<category>, withdraw "
                          "(default: every state the site supports)."),
        click.option("--declaration", "declaration_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="The site's declaration (YAML, see rules/sites/)."),
        click.option("--resolve", multiple=True, metavar="HOST=IP[:PORT]",
                     help="Resolve HOST (wildcards allowed: *.example.com, *) to IP inside Chromium."),
        click.option("--ignore-https-errors", is_flag=True, help="Accept self-signed or invalid TLS certificates."),
        click.option("--locale", default="en-US", show_default=True, help="Browser locale, e.g. fr-FR."),
        click.option("--page-timeout", "--timeout", "timeout_s", type=float, default=30.0, show_default=True,
                     help="Seconds allowed for each page to load."),
        click.option("--deadline", "deadline_s", type=float, default=None,
                     help="Seconds for the whole scan; when reached, what was done is reported, marked incomplete."),
        click.option("--allow-private", is_flag=True,
                     help="Allow scanning private, loopback and link-local addresses (refused by default)."),
        click.option("--quiet-ms", type=int, default=500, show_default=True,
                     help="Network-quiet window after load before a page counts as settled."),
        click.option("--keep-values", is_flag=True, help="Keep cookie and storage values in the report."),
        click.option("--keep-query/--hash-query", default=False, show_default=True,
                     help="Keep request query strings as they are (default: values hashed)."),
        click.option("--chromium", "chromium_path", envvar="CHROMIUM_PATH", help="Chromium binary to use."),
        click.option("--format", "formats", default="json,html,csv,md", show_default=True,
                     help="Report formats: json,html,csv,md,junit,sarif."),
        click.option("--csv-sep", default=",", show_default=True, help="CSV separator (';' for French spreadsheets)."),
        click.option("--fail-on", type=click.Choice(["violation", "warning", "never", "new-violation"]),
                     default="violation", show_default=True, help="Exit 1 when a finding at or above this exists."),
        click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="An earlier report.json: mark findings new/unchanged/gone."),
        click.option("--policy", help="Privacy/cookie policy (file or URL) to lint with the scan."),
        click.option("--max-pages", type=int, default=None,
                     help="Pages in the crawl (same set in every state)  [default: the declaration's crawl.max_pages, else 50]"),
        click.option("--max-depth", type=int, default=5, show_default=True, help="Link depth from the start page."),
        click.option("--include", multiple=True, metavar="GLOB", help="Only crawl paths/URLs matching a glob (repeatable)."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Never crawl paths/URLs matching a glob (repeatable)."),
        click.option("--url", "extra_urls", multiple=True, metavar="URL", help="An extra page to visit (repeatable)."),
        click.option("--urls-file", type=click.Path(dir_okay=False, path_type=Path), help="A file of extra page URLs, one per line."),
        click.option("--per-pattern-cap", type=int, default=10, show_default=True,
                     help="At most this many pages of one URL shape (e.g. /calendar/#/#): stops crawler traps."),
        click.option("--scope", type=click.Choice(["domain", "host"]), default="domain", show_default=True,
                     help="Follow links within the registrable domain or the exact host."),
        click.option("--concurrency", type=int, default=None, help="Pages visited at once (default: from cores and memory)."),
        click.option("--fast-forward", "fast_forward_s", type=float, default=10.0, show_default=True,
                     help="Run each page's timers this many seconds forward, so delayed tags fire (0: off)."),
        click.option("--no-progress", is_flag=True, help="No progress display."),
        click.option("--cookie-policy", "cookie_policy",
                     help="Cookie-policy page (URL or file) whose cookie tables become the declaration."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@cli.command()
@click.argument("url")
@_scan_options
@click.pass_context
def scan(ctx, url, out_dir, states, declaration_path, resolve, ignore_https_errors, locale, timeout_s, quiet_ms,
         keep_values, keep_query, chromium_path, formats, csv_sep, fail_on, baseline_path, policy, cookie_policy,
         max_pages, max_depth, include, exclude, extra_urls, urls_file, per_pattern_cap, scope, concurrency,
         fast_forward_s, no_progress, deadline_s, allow_private):
    """Scan URL and write report.json."""
    from .declaration import load_declaration

    declaration = load_declaration(declaration_path) if declaration_path else None
    if declaration is not None:  # what the declaration says of the crawl and the policy, unless the options say it
        max_pages = max_pages or declaration.crawl.get("max_pages")
        extra_urls = tuple(extra_urls) + tuple(urljoin(url, u) for u in declaration.crawl.get("urls") or [])
        policy = policy or declaration.policy_source()
    options = ScanOptions(
        url=url, states=_parse_states(states), resolve=tuple(resolve), ignore_https_errors=ignore_https_errors,
        locale=locale, timeout_s=timeout_s, quiet_ms=quiet_ms, keep_values=keep_values, keep_query=keep_query,
        chromium_path=chromium_path, command=tuple(["cookie-scanner", *sys.argv[1:]]),
        max_pages=max_pages or 50, max_depth=max_depth, include=tuple(include), exclude=tuple(exclude),
        extra_urls=tuple(extra_urls) + _read_urls_file(urls_file), per_pattern_cap=per_pattern_cap, scope=scope,
        concurrency=concurrency, fast_forward_s=fast_forward_s, deadline_s=deadline_s, allow_private=allow_private,
    )
    options.extra["progress"] = not no_progress
    if cookie_policy:
        if declaration is not None:
            raise UsageError("use either --declaration or --cookie-policy, not both")
        declaration = _declaration_from_cookie_policy(cookie_policy, options, out_dir or default_out_dir(url))
        out_dir = out_dir or Path(declaration.path).parent
    ctx.exit(run_scan(options, out_dir, declaration, formats=_parse_formats(formats), csv_sep=csv_sep,
                      fail_on=fail_on, baseline_path=baseline_path, policy=policy))


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Report folder (default: reports/www.micropep.com-<UTC timestamp>/).")
@click.option("--chromium", "chromium_path", envvar="CHROMIUM_PATH", help="Chromium binary to use.")
@click.option("--no-progress", is_flag=True, help="No progress display.")
@click.pass_context
def demo(ctx, out_dir, chromium_path, no_progress):
    """Serve the embedded Micropep-like demo site locally and scan it."""
    from .declaration import load_declaration
    from .demo import SiteServer
    from .paths import demo_site_dir, rules_dir

    declaration = load_declaration(rules_dir() / "sites" / "micropep.yaml")
    with SiteServer(demo_site_dir()) as server:
        options = ScanOptions(
            url="https://www.micropep.com/", resolve=(server.resolve_rule(),),
            ignore_https_errors=True, chromium_path=chromium_path,
            command=tuple(["cookie-scanner", *sys.argv[1:]]),
        )
        options.extra["progress"] = not no_progress
        click.echo(f"demo site: https://www.micropep.com/ served on 127.0.0.1:{server.port}")
        policy = str(demo_site_dir() / "www.micropep.com" / "privacy-policy.html")
        # The demo site is meant to have findings: succeed unless the scan itself is incomplete.
        from .report import FORMATS
        ctx.exit(run_scan(options, out_dir, declaration, policy=policy, fail_on="never", formats=FORMATS))


@cli.command("report")
@click.argument("report_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "formats", default="html,csv,md", show_default=True, help="Formats to render.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write to (default: the report's folder).")
@click.option("--csv-sep", default=",", show_default=True)
@click.option("--fail-on", type=click.Choice(["violation", "warning", "never", "new-violation"]), default="never",
              show_default=True)
@click.pass_context
def report_cmd(ctx, report_path, formats, out_dir, csv_sep, fail_on):
    """Re-render a stored report.json into other formats."""
    from .report import exit_code, render_all, ReportError, load_report

    try:
        report = load_report(report_path)
    except ReportError as exc:
        raise UsageError(f"{report_path}: {exc}") from None
    out = Path(out_dir) if out_dir else Path(report_path).parent
    _check_out_dir(out)
    for path in render_all(report, out, _parse_formats(formats), csv_sep=csv_sep):
        _say(str(path))
    ctx.exit(exit_code(report, fail_on))


@cli.command("diff")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "md"]), default="text", show_default=True)
def diff_cmd(old, new, fmt):
    """Compare two reports: findings, cookies and vendors new, unchanged or gone."""
    from .report import diff_reports, format_diff

    text = format_diff(diff_reports(_load_baseline(old), _load_baseline(new)), fmt)
    click.echo(escape_controls(text, keep="\n"))  # cookie names and hosts come from sites


@cli.group("rules")
def rules_group():
    """The audits this scanner runs."""


@rules_group.command("list")
def rules_list():
    """Print every audit with its severity and legal source."""
    from .audits import AUDITS
    from .policy import POLICY_RULES

    for meta in [a.meta() for a in AUDITS] + list(POLICY_RULES):
        click.echo(f"{meta['id']:<28} {meta['severity']:<9} {meta['title']}")
        click.echo(f"{'':<38}{meta['legal_source']}")


@cli.group("policy")
def policy_group():
    """Check a privacy/cookie policy text, or draft a declaration from a cookie-policy page."""


@policy_group.command("lint")
@click.argument("source")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.pass_context
def policy_lint(ctx, source, fmt):
    """Lint FILE|URL against GDPR art. 13 and the CNIL's requirements. Exit 1 on violations."""
    import json as _json

    findings = _lint_policy_source(source)
    if fmt == "json":  # json escapes C0 controls; DEL, C1 and bidi overrides as \uXXXX too
        click.echo(escape_json_text(_json.dumps(findings, ensure_ascii=False, indent=1)))
    else:  # the page's text is quoted: its escape sequences are shown, never played to the terminal
        for f in findings:
            quote = (f.get("evidence") or {}).get("quote")
            line = (f.get("evidence") or {}).get("line")
            _say(f"{f['severity']:<9} {f['rule']:<30} {f['message']}", keep_query=False)
            if quote:
                _say(f"{'':<10}line {line}: \"{quote}\"", keep_query=False)
        click.echo(f"{len(findings)} findings")
    ctx.exit(1 if any(f["severity"] == "violation" for f in findings) else 0)


def _declaration_from_cookie_policy(source: str, options: ScanOptions, out: Path):
    """Import the published cookie tables, keep the draft beside the report, validate it."""
    import yaml

    from .declaration import load_declaration

    _check_out_dir(Path(out))
    path = Path(out) / "declaration-imported.yaml"
    draft = _import_cookie_policy(source, options)
    path.write_text(yaml.safe_dump(draft, sort_keys=False, allow_unicode=True), encoding="utf-8")
    _say(f"declaration imported from {source}: {path}", keep_query=options.keep_query)
    return load_declaration(path)


def _import_cookie_policy(source: str, options: ScanOptions | None = None) -> dict:
    from .policy import import_declaration

    if source.startswith(("http://", "https://")):
        html = fetch_html(source, options)
    else:
        try:
            html = Path(source).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read {source!r}: {exc.strerror or exc}") from None
    # the draft keeps its source as site.url: without credentials (nor query values unless --keep-query)
    return import_declaration(html, source=redact_text(source, bool(options and options.keep_query)))


@policy_group.command("import")
@click.argument("source")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the YAML here.")
def policy_import(source, out_file):
    """Draft a site declaration (YAML) from a published cookie-policy page."""
    import yaml

    draft = _import_cookie_policy(source)
    text = yaml.safe_dump(draft, sort_keys=False, allow_unicode=True)
    if out_file:
        out_file.write_text(text, encoding="utf-8")
        _say(f"declaration: {out_file}")
    else:
        if escape_controls(text, keep="\n") != text:  # a site's control/bidi characters: YAML escapes
            text = yaml.safe_dump(draft, sort_keys=False, allow_unicode=False)
        click.echo(text)


def main() -> None:
    debug = "--debug" in sys.argv[1:]
    try:
        code = cli.main(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        _fail("aborted", EXIT_INCOMPLETE)
    except click.ClickException as exc:
        _fail(exc.format_message(), EXIT_USAGE)
    except ScannerError as exc:
        if debug:
            raise
        _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", EXIT_INCOMPLETE)
    except Exception as exc:  # a bug: one line, the traceback only with --debug
        if debug:
            raise
        _fail(f"internal error: {type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''} "
              "(run again with --debug for the traceback)", EXIT_INCOMPLETE)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
