"""Command line: `cookie-scanner scan|demo ...`. Exit codes: see scanner.errors."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import urljoin

import click

from . import __version__
from .errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, ScannerError, UsageError
from .options import (ScanOptions, check_baseline_site, check_fail_on, check_only_categories, parse_csv_sep,
                      parse_lang, sarif_location, validate_state, validate_url)
from .redact import escape_controls, escape_json_text, redact_text, terminal_line
from .result import default_out_dir

MAX_GATE_LINES = 15   # a failing gate lists at most this many findings: one screen


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


def _parse_states(text: str | None, declaration=None) -> tuple[str, ...]:
    """The --states list, each name checked, and each `only:<category>` checked against the
    declaration's categories (or, without one, the category vocabulary): before the scan starts."""
    states = tuple(dict.fromkeys(s.strip() for s in (text or "").split(",") if s.strip()))
    for state in states:
        validate_state(state)
    check_only_categories(states, declaration)
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


def _check_out_dir(out: Path) -> list[Path]:
    """Create `out` (and its missing parents) and check it can be written; return the folders that
    did not exist before, deepest first."""
    created, folder = [], Path(out)
    while not folder.exists() and folder != folder.parent:
        created.append(folder)
        folder = folder.parent
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        _remove_empty(created)
        raise UsageError(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from None
    from .report import remove_stale_temp_files
    remove_stale_temp_files(out)     # a killed run's half-written file, never renamed
    return created


def _remove_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first; a folder that is not empty stays
        try:
            folder.rmdir()
        except OSError:
            return


class ReportFolder:
    """The report folder of one run: created when first needed; when the run stops before the scan
    wrote report.json (a usage error, a policy that cannot be fetched, Ctrl-C), what this run put
    there is removed again, so no empty report folder is left behind."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.created: list[Path] | None = None
        self.files: list[Path] = []      # written before the scan (the imported declaration)

    def make(self) -> Path:
        if self.created is None:
            self.created = _check_out_dir(self.path)
        return self.path

    def undo(self) -> None:
        if self.created is None or (self.path / "report.json").exists():
            return  # nothing made here, or the scan started: whatever was collected stays
        for file in self.files:
            try:
                file.unlink()
            except OSError:
                pass
        _remove_empty(self.created)


def _parse_formats(text: str) -> tuple[str, ...]:
    from .report import FORMATS

    formats = tuple(dict.fromkeys(f.strip() for f in text.split(",") if f.strip()))
    for fmt in formats:
        if fmt not in FORMATS:
            raise UsageError(f"unknown format {fmt!r}: choose from {', '.join(FORMATS)}")
    return formats or ("json",)


def _load_baseline(path: Path | None, *, missing_ok: bool = False, what: str = "--baseline"):
    """The baseline report; None without a path, or (missing_ok) when the file does not exist yet:
    the first run of a CI gate, which has nothing to compare with."""
    if path is None:
        return None
    if missing_ok and not os.path.lexists(path):
        return None
    from .redact import redact_report
    from .report import ReportError, load_report

    try:
        return redact_report(load_report(path))  # an older report.json may still carry secrets in URLs
    except ReportError as exc:
        raise UsageError(f"{what} {path}: {exc}") from None


def _render(report: dict, out: Path, formats, *, csv_sep: str, fail_on: str | None,
            with_json: bool = False, lang: str = "en") -> list[Path]:
    """Every requested format (json only `with_json`: a scan writes report.json itself); junit.xml
    follows --fail-on (scanner.report.junit); report.html, summary.md and report.xlsx are in `lang`."""
    from .report import atomic_write, render_all
    from .report.junit import render_junit

    skip = ("junit",) if with_json else ("json", "junit")
    written = render_all(report, out, [f for f in formats if f not in skip], csv_sep=csv_sep, lang=lang)
    if "junit" in formats:
        written.append(atomic_write(out / "junit.xml", render_junit(report, fail_on=fail_on)))
    return written


def _first_run(report: dict) -> bool:
    """The scan was given a --baseline file that did not exist yet."""
    given = (report.get("options") or {}).get("baseline")
    return report.get("baseline") is None and isinstance(given, dict) and given.get("found") is False


def gate_code(report: dict, fail_on: str) -> int:
    """The exit code of --fail-on. On the first run of a `new-violation` gate (no baseline yet),
    nothing is new: 0, or 3 when the scan is incomplete."""
    from .report import exit_code

    return exit_code(report, "never" if fail_on == "new-violation" and _first_run(report) else fail_on)


def _first_run_notice(report: dict, out: Path, fail_on: str) -> str:
    path = (report.get("options") or {}).get("baseline", {}).get("path")
    gate = (" so no finding counts as new and --fail-on new-violation passes;" if fail_on == "new-violation"
            else " so findings are not compared;")
    if path == LAST_SCAN:
        return f"no baseline yet: the history database has no earlier scan of this site,{gate} this scan is now recorded"
    return (f"no baseline yet: {path} does not exist,{gate} this run's {out / 'report.json'} can become "
            "the baseline (copy it there once the scan is complete)")


def _finding_lines(findings: list[dict]) -> list[str]:
    """One line per finding (rule, state(s), item, page), as `cookie-scanner diff` prints them."""
    from .report.baseline import finding_line

    return [finding_line(f) for f in findings]


def _say_failing(report: dict, fail_on: str) -> None:
    """A failing gate says why, in one screen: the findings that fail it (new ones first)."""
    from .report.junit import gate_failures

    failing = gate_failures(report, fail_on)
    if not failing:
        return
    what = {"new-violation": "new violation(s) since the baseline", "violation": "violation(s)",
            "warning": "violation(s) and warning(s)"}.get(fail_on, "finding(s)")
    keep_query = bool((report.get("options") or {}).get("keep_query"))
    _say(f"gate failed (--fail-on {fail_on}): {len(failing)} {what}:", keep_query=keep_query)
    for line in _finding_lines(failing[:MAX_GATE_LINES]):
        _say(f"  {line}", keep_query=keep_query)
    if len(failing) > MAX_GATE_LINES:
        _say(f"  ... and {len(failing) - MAX_GATE_LINES} more (summary.md, report.html)", keep_query=keep_query)


def publish(result: dict, out: Path, *, formats, csv_sep: str, fail_on: str, baseline=None,
            baseline_path: Path | None = None, declaration=None, sarif_file: str | None = None,
            lang: str = "en") -> int:
    """Write every requested format, the manifest and the CI summary; return the exit code."""
    from .report import apply_baseline, render_markdown, write_json, write_manifest

    options = result.setdefault("options", {})
    options["fail_on"] = fail_on        # junit.xml re-rendered later fails what this gate failed
    options["lang"] = lang              # `report` re-renders in the same language and separator
    options["csv_sep"] = csv_sep
    if baseline_path is not None:
        options["baseline"] = {"path": str(baseline_path), "found": baseline is not None}
    # results.sarif points at a file of the repository (GitHub code scanning refuses page URLs)
    options["sarif_file"] = sarif_file or sarif_location(None, out / "report.json") or "report.json"
    if baseline is not None:
        apply_baseline(result, baseline, path=str(baseline_path))
    write_json(result, out / "report.json")  # always: every other format is rendered from it
    _render(result, out, formats, csv_sep=csv_sep, fail_on=fail_on, lang=lang)
    write_manifest(out, result, command=result.get("command"),
                   declaration_sha256=(declaration.sha256 if declaration else None))
    notice = _first_run_notice(result, out, fail_on) if _first_run(result) else None
    summary_file = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary_file:
        try:
            with open(summary_file, "a", encoding="utf-8") as handle:
                handle.write(render_markdown(result, lang=lang) + "\n")
                if notice:
                    handle.write(f"> **Note:** {escape_controls(notice)}\n\n")
        except OSError as exc:
            _say(f"cookie-scanner: warning: cannot write $GITHUB_STEP_SUMMARY: {exc}", err=True)
    _say(f"report: {out / 'report.json'}")
    if "html" in formats:
        _say(f"html:   {out / 'report.html'}")
    counts = {sev: sum(1 for f in result["findings"] if f["severity"] == sev) for sev in ("violation", "warning", "info")}
    click.echo(f"verdict: {result.get('verdict')} ({counts['violation']} violations, {counts['warning']} warnings, "
               f"{counts['info']} info)")
    if notice:
        if os.environ.get("GITHUB_ACTIONS") == "true":
            _say(f"::notice title=cookie-scanner: no baseline yet::{notice}")
        else:
            _say(f"notice: {notice}")
    code = gate_code(result, fail_on)
    if code == 1:
        _say_failing(result, fail_on)
    if not result["complete"]:
        reason = result["incomplete_reasons"][0] if result["incomplete_reasons"] else "scan incomplete"
        _say(f"cookie-scanner: incomplete: {reason}", err=True,
             keep_query=bool((result.get("options") or {}).get("keep_query")))
    return code


_UNSET = object()


def run_scan(options: ScanOptions, out_dir: Path | None, declaration=None, *, formats=("json", "html", "csv", "md"),
             csv_sep: str = ",", fail_on: str = "violation", baseline_path: Path | None = None,
             policy: str | None = None, baseline=_UNSET, sarif_file: str | None = None,
             folder: ReportFolder | None = None, lang: str = "en", history=None, deploy: str | None = None) -> int:
    """Scan, write the reports (even when incomplete), print where; return the exit code.
    Bad input (baseline, policy) is refused before the report folder is created. With `history`
    (a HistoryStore), findings are marked new or since when, and the scan is recorded."""
    from .scan import scan  # imported late: keeps `--help` fast

    out = Path(out_dir) if out_dir else default_out_dir(options.url)
    folder = folder if folder is not None and folder.path == out else ReportFolder(out)
    if baseline is _UNSET:
        baseline = _load_baseline(baseline_path, missing_ok=True)
        check_baseline_site(baseline, baseline_path, options.url)
    policy_findings = _lint_policy_source(policy, options) if policy else None
    try:
        folder.make()
    except BaseException:
        folder.undo()
        raise
    options.out_dir = out
    from .progress import make_progress
    from .report import write_json

    progress = make_progress(options.extra.get("progress", True), keep_query=options.keep_query)
    try:
        # report.json is rewritten after every consent state: a killed scan leaves a valid one
        result = scan(options, declaration=declaration, policy_findings=policy_findings, progress=progress,
                      checkpoint=lambda partial: write_json(partial, out / "report.json"), handle_signals=True)
    except BaseException:
        folder.undo()   # the scan did not even start (no report.json): no empty folder stays
        raise
    finally:
        progress.close()
    if history is not None:
        _with_history(result, history)
    code = publish(result, out, formats=formats, csv_sep=csv_sep, fail_on=fail_on, baseline=baseline,
                   baseline_path=baseline_path, declaration=declaration, sarif_file=sarif_file, lang=lang)
    if history is not None:
        _record(result, history, out / "report.json", deploy)
    return code


LAST_SCAN = "db:last"   # --baseline db:last: the site's last scan in the history database


def _open_history(db_url: str | None, wanted: bool, out: Path):
    """The history store, opened (and migrated) before the scan: a database that cannot be used is
    exit 2 with one line, before anything is scanned. None when history is not asked for."""
    if not (db_url or wanted):
        return None
    from .history import HistoryStore, default_db_url
    return HistoryStore.open(db_url or default_db_url(out))


def _with_history(result: dict, store) -> None:
    from .history import HistoryError, add_history
    try:
        add_history(result, store)
    except Exception as exc:  # noqa: BLE001 - the reports are still written, without history
        _say(f"cookie-scanner: warning: history not read: {HistoryError(exc)}"[:400], err=True)


def _record(result: dict, store, report_path: Path, deploy: str | None) -> None:
    from .history import display_url
    try:
        store.record(result, report_path=str(report_path), deploy=deploy)
        _say(f"history: recorded in {display_url(store.url)}")
    except Exception as exc:  # noqa: BLE001 - never a silent loss: said on stderr, the reports are written
        _say(f"cookie-scanner: warning: scan not recorded in the history: {type(exc).__name__}: "
             f"{str(exc).splitlines()[0][:200] if str(exc) else ''}", err=True)


def _lint_policy_source(source: str, options: ScanOptions | None = None) -> list[dict]:
    from .policy import PolicyError, lint_policy, load_policy_text

    try:
        text, origin = load_policy_text(source, fetch=lambda url: fetch_html(url, options, prefix=False))
    except PolicyError as exc:
        raise UsageError(str(exc)) from None
    # the origin is each finding's `page`: a policy URL's credentials (and query values) stay out
    return lint_policy(text, source=redact_text(origin, bool(options and options.keep_query)))


def fetch_html(url: str, options: ScanOptions | None = None, *, prefix: bool = True) -> str:
    """The rendered HTML of a page, through the scanner's Chromium. An error says "could not fetch
    URL: why" (only "why" with prefix=False, for a caller that says the rest)."""
    import asyncio

    from playwright.async_api import async_playwright

    from .browser import Browser, ContextSettings, find_chromium
    from .gather.visit import navigate

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
                # navigate() says why as the scan does: the egress guard's refusal, not the proxy's error
                status, error, _target = await navigate(page, url, timeout_s=30)
                if error is not None:
                    raise _FetchError(error.removesuffix(f" at {url}"))
                if status is not None and status >= 400:
                    raise _FetchError(f"the page answered HTTP {status}")
                return await page.content()
    try:
        return asyncio.run(run())
    except ScannerError:
        raise
    except Exception as exc:
        why = str(exc).splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise UsageError(f"could not fetch {url}: {why}" if prefix else why) from None


class _FetchError(Exception):
    """fetch_html: why a page could not be fetched, one line."""


FAIL_ON_CHOICES = ["violation", "warning", "never", "new-violation"]


def _debug_option(f):
    """--debug on every command too (`scan URL --debug`), not only before it; main() reads it."""
    return click.option("--debug", is_flag=True, expose_value=False, is_eager=True,
                        help="Show Python tracebacks on errors.")(f)


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
                     help="Report formats: json,html,csv,md,junit,sarif,xlsx,html-email."),
        click.option("--csv-sep", default=None,
                     help="CSV separator, one character ('tab' for a tab)  [default: ';' when the report "
                          "is in French, else ',']"),
        click.option("--lang", default=None, metavar="en|fr",
                     help="Language of report.html, summary.md and report.xlsx  [default: French when "
                          "LC_ALL, LC_MESSAGES or LANG starts with fr, else en]"),
        click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES), default="violation", show_default=True,
                     help="Exit 1 when a finding at or above this exists (new-violation: needs --baseline)."),
        click.option("--baseline", "baseline_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="An earlier report.json of the same site: mark findings new/unchanged/gone. "
                          "A file that does not exist yet is the first run: nothing is new."),
        click.option("--sarif-file", "sarif_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="Repository file the SARIF results point at (default: the --declaration file)."),
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
        click.option("--history", is_flag=True,
                     help="Record the scan in the history database and mark each finding new or since when "
                          "(default database: history.sqlite in the reports folder, the parent of --out)."),
        click.option("--db", "db_url", envvar="COOKIE_SCANNER_DB", metavar="URL|FILE",
                     help="History database: a SQLite file or an SQLAlchemy URL (postgresql://...); implies --history."),
        click.option("--deploy", envvar="COOKIE_SCANNER_DEPLOY", metavar="ID",
                     help="Deploy id or commit recorded with the scan in the history (default: $GITHUB_SHA)."),
        click.option("--gvl", "gvl_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="An IAB Global Vendor List (vendor-list.json, v2 or v3): TCF vendors' declared purposes "
                          "for the TCF audits."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@cli.command(short_help="Scan URL and write report.json.")
@click.argument("url")
@_scan_options
@_debug_option
@click.pass_context
def scan(ctx, url, out_dir, states, declaration_path, resolve, ignore_https_errors, locale, timeout_s, quiet_ms,
         keep_values, keep_query, chromium_path, formats, csv_sep, lang, fail_on, baseline_path, sarif_file, policy,
         cookie_policy, max_pages, max_depth, include, exclude, extra_urls, urls_file, per_pattern_cap, scope,
         concurrency, fast_forward_s, no_progress, deadline_s, allow_private, gvl_path, history, db_url, deploy):
    """Scan URL and write report.json (and the other formats asked for).

    Every option is checked before the scan starts: bad input exits 2 with one line on stderr and
    creates no report folder."""
    from .declaration import load_declaration

    declaration = load_declaration(declaration_path) if declaration_path else None
    if declaration is not None:  # what the declaration says of the crawl and the policy, unless the options say it
        max_pages = max_pages or declaration.crawl.get("max_pages")
        extra_urls = tuple(extra_urls) + tuple(urljoin(url, u) for u in declaration.crawl.get("urls") or [])
        policy = policy or declaration.policy_source()
    if cookie_policy and declaration is not None:
        raise UsageError("use either --declaration or --cookie-policy, not both")
    lang = parse_lang(lang)
    csv_sep = parse_csv_sep(csv_sep, lang)
    formats = _parse_formats(formats)
    check_fail_on(fail_on, baseline_path)
    options = ScanOptions(
        url=url, states=_parse_states(states, declaration), resolve=tuple(resolve),
        ignore_https_errors=ignore_https_errors,
        locale=locale, timeout_s=timeout_s, quiet_ms=quiet_ms, keep_values=keep_values, keep_query=keep_query,
        chromium_path=chromium_path, command=tuple(["cookie-scanner", *sys.argv[1:]]),
        max_pages=max_pages or 50, max_depth=max_depth, include=tuple(include), exclude=tuple(exclude),
        extra_urls=tuple(extra_urls) + _read_urls_file(urls_file), per_pattern_cap=per_pattern_cap, scope=scope,
        concurrency=concurrency, fast_forward_s=fast_forward_s, deadline_s=deadline_s, allow_private=allow_private,
    )
    options.extra["progress"] = not no_progress
    if gvl_path is not None:   # a bad vendor list: exit 2 now, not after the scan
        from .classify.tcf_vendors import load_gvl
        load_gvl(gvl_path)
        options.gvl_path = gvl_path
    if chromium_path or os.environ.get("CHROMIUM_PATH"):  # a Chromium named explicitly must exist
        from .browser import find_chromium
        find_chromium(chromium_path)
    out = Path(out_dir) if out_dir else None
    store = _open_history(db_url, history or str(baseline_path) == LAST_SCAN, out or default_out_dir(url))
    if str(baseline_path) == LAST_SCAN:   # the site's last scan in the history database
        from .history.store import site_of
        from .result import new_result
        baseline = store.last_report(site_of(new_result(options)))
    else:
        baseline = _load_baseline(baseline_path, missing_ok=True)
    check_baseline_site(baseline, baseline_path, options.url)   # another site's report: exit 2 now
    sarif_uri = sarif_location(sarif_file, declaration_path, required=sarif_file is not None)
    folder = None
    try:
        if cookie_policy:
            out = out or default_out_dir(url)
            folder = ReportFolder(out)
            declaration = _declaration_from_cookie_policy(cookie_policy, options, folder)
            check_only_categories(options.states, declaration)
        code = run_scan(options, out, declaration, formats=formats, csv_sep=csv_sep, fail_on=fail_on,
                        baseline_path=baseline_path, baseline=baseline, policy=policy, sarif_file=sarif_uri,
                        folder=folder, lang=lang, history=store,
                        deploy=deploy or os.environ.get("GITHUB_SHA") or os.environ.get("CI_COMMIT_SHA"))
    except BaseException:
        if folder is not None:
            folder.undo()
        raise
    ctx.exit(code)


@cli.command(short_help="Scan the embedded demo site, served locally.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Report folder (default: reports/www.micropep.com-<UTC timestamp>/).")
@click.option("--chromium", "chromium_path", envvar="CHROMIUM_PATH", help="Chromium binary to use.")
@click.option("--no-progress", is_flag=True, help="No progress display.")
@click.option("--lang", default=None, metavar="en|fr",
              help="Language of report.html, summary.md and report.xlsx  [default: French when "
                   "LC_ALL, LC_MESSAGES or LANG starts with fr, else en]")
@_debug_option
@click.pass_context
def demo(ctx, out_dir, chromium_path, no_progress, lang):
    """Serve the embedded Micropep-like demo site locally and scan it."""
    from .declaration import load_declaration
    from .demo import SiteServer
    from .paths import demo_site_dir, rules_dir

    lang = parse_lang(lang)
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
        ctx.exit(run_scan(options, out_dir, declaration, policy=policy, fail_on="never", formats=FORMATS,
                          sarif_file=sarif_location(None, declaration.path), lang=lang,
                          csv_sep=parse_csv_sep(None, lang)))


@cli.command("report", short_help="Re-render a stored report.json.")
@click.argument("report_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "formats", default="html,csv,md", show_default=True, help="Formats to render.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write to (default: the report's folder).")
@click.option("--csv-sep", default=None,
              help="CSV separator, one character ('tab' for a tab)  [default: the scan's, in the "
                   "scan's language; else ';' in French, ',' in English]")
@click.option("--lang", default=None, metavar="en|fr",
              help="Language of report.html, summary.md and report.xlsx  [default: the scan's; for a "
                   "report that does not say, French when LC_ALL, LC_MESSAGES or LANG starts with fr, else en]")
@click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES), default=None,
              help="Exit 1 when a finding at or above this exists; junit.xml fails the same findings "
                   "[default: never for the exit code; junit.xml: the scan's --fail-on]")
@click.option("--sarif-file", "sarif_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Repository file the SARIF results point at (default: the one of the scan).")
@_debug_option
@click.pass_context
def report_cmd(ctx, report_path, formats, out_dir, csv_sep, lang, fail_on, sarif_file):
    """Re-render a stored report.json into other formats (the same bytes as the scan wrote, in the
    scan's language and CSV separator unless --lang or --csv-sep say otherwise)."""
    from .report import ReportError, load_report

    if lang is not None:
        lang = parse_lang(lang)                    # bad options are refused before the report is read
    if csv_sep is not None:
        csv_sep = parse_csv_sep(csv_sep)
    formats = _parse_formats(formats)
    sarif_uri = sarif_location(sarif_file, None, required=True) if sarif_file is not None else None
    try:
        report = load_report(report_path)
    except ReportError as exc:
        raise UsageError(f"{report_path}: {exc}") from None
    stored = report.get("options") if isinstance(report.get("options"), dict) else {}
    lang = parse_lang(lang, stored.get("lang"))
    # the scan's separator goes with the scan's language; another language takes its own default
    if csv_sep is None and isinstance(stored.get("csv_sep"), str) and lang == stored.get("lang"):
        try:
            csv_sep = parse_csv_sep(stored["csv_sep"])
        except UsageError:
            csv_sep = None           # a hand-edited report: the language's separator instead
    csv_sep = parse_csv_sep(csv_sep, lang)
    if fail_on == "new-violation" and report.get("baseline") is None and not _first_run(report):
        raise UsageError(f"--fail-on new-violation needs a report compared with a baseline "
                         f"(scan --baseline): {report_path} was not")
    if sarif_uri:
        report.setdefault("options", {})["sarif_file"] = sarif_uri
    out = Path(out_dir) if out_dir else Path(report_path).parent
    _check_out_dir(out)
    junit_fail_on = fail_on or (report.get("options") or {}).get("fail_on")
    for path in _render(report, out, formats, csv_sep=csv_sep, fail_on=junit_fail_on, with_json=True, lang=lang):
        _say(str(path))
    code = gate_code(report, fail_on or "never")
    if code == 1:
        _say_failing(report, fail_on)
    ctx.exit(code)


@cli.command("fleet", short_help="Scan every site of FLEET.yaml; a fleet summary and a dashboard.")
@click.argument("fleet_file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Fleet folder: one report folder per site, fleet.json, fleet.csv, dashboard.html "
                   "(default: reports/fleet-<UTC timestamp>/).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Sites scanned at once on this machine (default: one per core, fewer when memory is short).")
@click.option("--history", is_flag=True,
              help="Record every scan in the history database (default: history.sqlite in the fleet folder); "
                   "the dashboard then shows each site's trend.")
@click.option("--db", "db_url", envvar="COOKIE_SCANNER_DB", metavar="URL|FILE",
              help="History database (SQLite file or SQLAlchemy URL); implies --history.")
@click.option("--deploy", envvar="COOKIE_SCANNER_DEPLOY", metavar="ID", help="Deploy id recorded with each scan.")
@click.option("--broker", envvar="COOKIE_SCANNER_BROKER", metavar="redis://HOST:PORT/N",
              help="Run the scans on Celery workers (`cookie-scanner worker --broker ...`) instead of this machine.")
@click.option("--visibility-timeout", type=click.FloatRange(10, None), default=None, hidden=True,
              help="Seconds before the broker hands an unacknowledged scan to another worker (default 3 h).")
@_debug_option
@click.pass_context
def fleet_cmd(ctx, fleet_file, out_dir, workers, history, db_url, deploy, broker, visibility_timeout):
    """Scan every site of FLEET.yaml (a `sites:` list, each with `url`, `tags` and any `scan` option
    by its long name with underscores; `defaults:` for all), in a bounded pool of local worker
    processes, or with --broker on Celery workers. Exit 0 when every site passes its gate, 1 when
    one fails it, 3 when one could not be scanned whole, 2 for a bad fleet file or database."""
    from datetime import datetime, timezone

    from .fleet import load_fleet, run_local, write_summary
    from .fleet.summary import fleet_exit_code

    fleet = load_fleet(fleet_file)
    out = Path(out_dir) if out_dir else Path("reports") / f"fleet-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}"
    store = _open_history(db_url, history, out / "sites")   # an unusable database: exit 2, nothing created
    _check_out_dir(out)
    deploy = deploy or os.environ.get("GITHUB_SHA")
    if broker:
        from .fleet.remote import run_remote
        results = run_remote(fleet, out, broker=broker, store=store, deploy=deploy,
                             visibility_timeout=visibility_timeout, say=lambda line: _say(line))
    else:
        results = run_local(fleet, out, workers=workers, db=store.url if store else None, deploy=deploy,
                            say=lambda line: _say(line))
    for path in write_summary(results, out, store=store):
        _say(f"{path.name + ':':<15} {path}")
    ctx.exit(fleet_exit_code(results))


@cli.command("worker", short_help="A Celery worker for fleet scans (fleet --broker).")
@click.option("--broker", envvar="COOKIE_SCANNER_BROKER", required=True, metavar="redis://HOST:PORT/N",
              help="The broker the fleet sends its scans to.")
@click.option("--concurrency", type=click.IntRange(1, 64), default=1, show_default=True,
              help="Scans at once in this worker (one Chromium each).")
@click.option("--visibility-timeout", type=click.FloatRange(10, None), default=None, hidden=True)
@_debug_option
def worker_cmd(broker, concurrency, visibility_timeout):
    """Take fleet scans from the broker and run them here, one `cookie-scanner scan` each; the
    report folders go back through the broker's result backend."""
    from .fleet.remote import start_worker
    start_worker(broker, concurrency=concurrency, visibility_timeout=visibility_timeout)


@cli.command("history", short_help="A site's recorded scans: verdicts and findings over time.")
@click.argument("site")
@click.option("--db", "db_url", envvar="COOKIE_SCANNER_DB", metavar="URL|FILE",
              help="History database (default: reports/history.sqlite).")
@click.option("--limit", type=click.IntRange(1, 1000), default=20, show_default=True, help="Scans shown, newest first.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_debug_option
def history_cmd(site, db_url, limit, fmt):
    """SITE (a domain or URL): its recorded scans, newest first, with the verdict, the findings by
    severity, the states not reached and how many findings were new or gone since the scan before."""
    import json as _json

    from .domains import host_of, registrable_domain
    from .history import HistoryStore

    db = db_url or str(Path("reports") / "history.sqlite")
    if "://" not in db and not Path(db).is_file():
        raise UsageError(f"no history database at {db} (scan with --history first, or give --db)")
    store = HistoryStore.open(db)
    name = registrable_domain(host_of(site) if "://" in site else site.strip().lower().rstrip("."))
    rows = store.trend(name, limit)
    if fmt == "json":
        click.echo(_json.dumps({"site": name, "scans": rows}, indent=2, ensure_ascii=False))
        return
    if not rows:
        known = ", ".join(store.sites()[:10]) or "none"
        raise UsageError(f"no recorded scan of {name} (sites recorded: {known})")
    click.echo(f"{name}: {len(rows)} scan(s), newest first")
    click.echo(f"{'started (UTC)':<21} {'verdict':<16} {'V':>4} {'W':>4} {'I':>4} {'new':>4} {'gone':>4}  deploy / states not reached")
    for row in rows:
        new = "-" if row["new"] is None else str(row["new"])
        gone = "-" if row["gone"] is None else str(row["gone"])
        extra = (row["deploy"] or "") + (f" not reached: {', '.join(row['states_missing'])}" if row["states_missing"] else "")
        click.echo(terminal_line(f"{row['started_at']:<21} {row['verdict']:<16} {row['violations']:>4} {row['warnings']:>4} "
                                 f"{row['infos']:>4} {new:>4} {gone:>4}  {extra}".rstrip()))


@cli.command("diff", short_help="Compare two reports: what is new or gone.")
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "md"]), default="text", show_default=True)
@_debug_option
def diff_cmd(old, new, fmt):
    """Compare two reports: findings, cookies and vendors new, unchanged or gone."""
    from .report import diff_reports, format_diff

    text = format_diff(diff_reports(_load_baseline(old, what="OLD"), _load_baseline(new, what="NEW")), fmt)
    click.echo(escape_controls(text, keep="\n"))  # cookie names and hosts come from sites


@cli.group("rules", short_help="The audits this scanner runs.")
def rules_group():
    """The audits this scanner runs."""


@rules_group.command("list", short_help="Print every audit and its legal source.")
@_debug_option
def rules_list():
    """Print every audit with its severity and legal source."""
    from .audits import AUDITS
    from .policy import POLICY_RULES

    for meta in [a.meta() for a in AUDITS] + list(POLICY_RULES):
        click.echo(f"{meta['id']:<28} {meta['severity']:<9} {meta['title']}")
        click.echo(f"{'':<38}{meta['legal_source']}")


@cli.group("policy", short_help="Lint a policy, or draft a declaration.")
def policy_group():
    """Check a privacy/cookie policy text, or draft a declaration from a cookie-policy page."""


@policy_group.command("lint", short_help="Lint a policy against GDPR and the CNIL.")
@click.argument("source")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@_debug_option
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


def _declaration_from_cookie_policy(source: str, options: ScanOptions, folder: ReportFolder):
    """Import the published cookie tables (fetched first: a page that cannot be read creates no
    folder), keep the draft beside the report, validate it."""
    import yaml

    from .declaration import load_declaration

    draft = _import_cookie_policy(source, options)
    path = folder.make() / "declaration-imported.yaml"
    folder.files.append(path)
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


@policy_group.command("import", short_help="Draft a declaration from a cookie policy.")
@click.argument("source")
@click.option("--out", "out_file", type=click.Path(dir_okay=False, path_type=Path), help="Write the YAML here.")
@_debug_option
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
    _stacks_on_sigusr1()
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


def _stacks_on_sigusr1() -> None:
    """`kill -USR1 <pid>` prints every thread's Python stack to stderr: where a scan that seems
    stuck is waiting (the scan goes on)."""
    import faulthandler
    import signal
    try:
        faulthandler.register(signal.SIGUSR1, all_threads=True, chain=False)
    except (AttributeError, ValueError, OSError):   # no SIGUSR1 (Windows) or stderr without a file
        pass


if __name__ == "__main__":
    main()
