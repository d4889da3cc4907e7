"""Command line: `cookie-scanner scan|demo ...`. Exit codes: see scanner.errors."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .errors import EXIT_INCOMPLETE, EXIT_OK, EXIT_USAGE, ScannerError, UsageError
from .options import ScanOptions, validate_state
from .result import default_out_dir, write_json_atomic



def _fail(message: str, code: int = EXIT_USAGE) -> None:
    click.echo(f"cookie-scanner: error: {message}", err=True)
    sys.exit(code)


def _parse_states(text: str | None) -> tuple[str, ...]:
    states = tuple(dict.fromkeys(s.strip() for s in (text or "").split(",") if s.strip()))
    for state in states:
        validate_state(state)
    return states


def run_scan(options: ScanOptions, out_dir: Path | None, declaration=None) -> int:
    """Scan, write report.json (even when incomplete), print where; return the exit code."""
    from .scan import scan  # imported late: keeps `--help` fast

    out = Path(out_dir) if out_dir else default_out_dir(options.url)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".write-test"
        probe.write_text("")
        probe.unlink()
    except OSError as exc:
        raise UsageError(f"cannot write to output folder {str(out)!r}: {exc.strerror or exc}") from None
    options.out_dir = out
    result = scan(options, declaration=declaration)
    report = write_json_atomic(result, out / "report.json")
    click.echo(f"report: {report}")
    if not result["complete"]:
        reason = result["incomplete_reasons"][0] if result["incomplete_reasons"] else "scan incomplete"
        click.echo(f"cookie-scanner: incomplete: {reason}", err=True)
        return EXIT_INCOMPLETE
    return EXIT_OK


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
        click.option("--timeout", "timeout_s", type=float, default=30.0, show_default=True,
                     help="Seconds allowed for each page to load."),
        click.option("--quiet-ms", type=int, default=1000, show_default=True,
                     help="Network-quiet window after load before a page counts as settled."),
        click.option("--keep-values", is_flag=True, help="Keep cookie and storage values in the report."),
        click.option("--keep-query/--hash-query", default=False, show_default=True,
                     help="Keep request query strings as they are (default: values hashed)."),
        click.option("--chromium", "chromium_path", envvar="CHROMIUM_PATH", help="Chromium binary to use."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


@cli.command()
@click.argument("url")
@_scan_options
@click.pass_context
def scan(ctx, url, out_dir, states, declaration_path, resolve, ignore_https_errors, locale, timeout_s, quiet_ms,
         keep_values, keep_query, chromium_path):
    """Scan URL and write report.json."""
    from .declaration import load_declaration

    declaration = load_declaration(declaration_path) if declaration_path else None
    options = ScanOptions(
        url=url, states=_parse_states(states), resolve=tuple(resolve), ignore_https_errors=ignore_https_errors,
        locale=locale, timeout_s=timeout_s, quiet_ms=quiet_ms, keep_values=keep_values, keep_query=keep_query,
        chromium_path=chromium_path, command=tuple(["cookie-scanner", *sys.argv[1:]]),
    )
    ctx.exit(run_scan(options, out_dir, declaration))


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Report folder (default: reports/www.micropep.com-<UTC timestamp>/).")
@click.option("--chromium", "chromium_path", envvar="CHROMIUM_PATH", help="Chromium binary to use.")
@click.pass_context
def demo(ctx, out_dir, chromium_path):
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
        click.echo(f"demo site: https://www.micropep.com/ served on 127.0.0.1:{server.port}")
        ctx.exit(run_scan(options, out_dir, declaration))


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
    sys.exit(code if isinstance(code, int) else EXIT_OK)


if __name__ == "__main__":
    main()
