"""Report renderers: everything here reads ONLY a report.json dict.

A stored report.json can be re-rendered at any time, to the same bytes:

    report = load_report("reports/www.micropep.com-20261126T140000Z/report.json")
    render_all(report, out_dir, ("html", "csv"))

Public API:
    FORMATS, DEFAULT_FORMATS, FILENAMES
    render_all(report, out_dir, formats, *, csv_sep=",", lang="en") -> list[Path]
    write_json(report, path) -> Path
    load_report(path) -> dict                       raises ReportError
    write_manifest(out_dir, report, *, command, declaration_sha256) -> Path
    verify_manifest(out_dir) -> list[str]
    verdict(report) -> "pass" | "violations" | "warnings" | "incomplete"
    exit_code(report, fail_on) -> 0 | 1 | 3
    render_markdown(report, *, lang="en") -> str
    apply_baseline(report, baseline_report, *, path=None) -> dict   (marks report in place)
    diff_reports(old, new) -> dict, format_diff(diff, fmt="text") -> str

See docs/report-format.md for the report.json contract and every output file.

Every entry point that writes (write_json, render_all, render_markdown, write_manifest) first redacts
the report in place with scanner.redact.redact_report: credentials, fragments and (unless the scan ran
with --keep-query) query values never reach a file, also for a report.json written by an older version.
"""
from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterable

Report = dict[str, Any]

from .. import SCHEMA_VERSION

SCHEMA_MAJOR = SCHEMA_VERSION.split(".")[0]
FORMATS = ("json", "html", "csv", "md", "junit", "sarif", "xlsx", "html-email")
DEFAULT_FORMATS = ("json", "html", "csv", "md")
FILENAMES: dict[str, tuple[str, ...]] = {
    "json": ("report.json",),
    "html": ("report.html",),
    "csv": ("cookies.csv", "storage.csv", "requests.csv", "findings.csv"),
    "md": ("summary.md",),
    "junit": ("junit.xml",),
    "sarif": ("results.sarif",),
    "xlsx": ("report.xlsx",),
    "html-email": ("report-email.html",),
}
FAIL_ON = ("violation", "warning", "never", "new-violation")
VERDICTS = ("pass", "violations", "warnings", "incomplete")


class ReportError(ValueError):
    """The file is not a report this version can read (one-line message)."""


# --------------------------------------------------------------------------- files

def atomic_write(path: Path, data: bytes | str, *, encoding: str = "utf-8") -> Path:
    """Write to a temporary file in the same folder, then rename over `path`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode(encoding) if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return path


_TEMP_RE = re.compile(r"^\..+\.(\d+)\.[^.]+\.tmp$")   # .report.json.<pid>.<random>.tmp (atomic_write)


def remove_stale_temp_files(folder: Path) -> list[Path]:
    """Remove the temporary files of writers that were killed before their rename (kill -9 during
    the final write): atomic_write names its writer's pid, and a pid that is gone cannot finish."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_RE.match(entry.name)
        if not match or not entry.is_file(follow_symlinks=False):
            continue
        pid = int(match.group(1))
        try:
            os.kill(pid, 0)
            continue                      # its writer still runs
        except ProcessLookupError:
            pass
        except (PermissionError, OverflowError, ValueError):
            continue
        try:
            os.unlink(entry.path)
            removed.append(Path(entry.path))
        except OSError:
            pass
    return removed


def dumps_json(report: Report) -> str:
    return json.dumps(report, indent=1, ensure_ascii=False) + "\n"


def redact(report: Report) -> Report:
    """The report with every URL redacted (in place, idempotent; see scanner.redact)."""
    from ..redact import redact_report

    return redact_report(report)


def write_json(report: Report, path: Path | str) -> Path:
    """report.json: UTF-8, indent 1, non-ASCII kept as is, URLs redacted, written atomically."""
    return atomic_write(Path(path), dumps_json(redact(report)))


def load_report(path: Path | str) -> Report:
    """Read a report.json; ReportError unless it is a schema 1.x report.

    The message is one line and does not repeat the path (callers prefix it).
    """
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError("no such file") from None
    except IsADirectoryError:
        raise ReportError("is a folder, not a report.json") from None
    except OSError as exc:
        raise ReportError(f"cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"not a JSON report ({exc.__class__.__name__}: {exc})".splitlines()[0]) from None
    if not isinstance(data, dict) or "schema_version" not in data:
        raise ReportError("not a cookie-scanner report (no schema_version)")
    version = str(data["schema_version"])
    if version.split(".")[0] != SCHEMA_MAJOR:
        raise ReportError(f"report schema_version {version} is not supported (this version reads {SCHEMA_MAJOR}.x)")
    if _version_tuple(version) > _version_tuple(SCHEMA_VERSION):
        raise ReportError(f"report schema_version {version} was written by a newer cookie-scanner "
                          f"(this version reads up to {SCHEMA_VERSION})")
    from .schema import validate_report
    problems = validate_report(data)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ReportError(f"invalid report.json: {problems[0]}{more}")
    return data


def _version_tuple(version: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in version.split("."))
    except ValueError:
        return (10**9,)


# --------------------------------------------------------------------------- verdict

from ..audits.verdict import is_complete, verdict  # noqa: E402  (the audits conclude; renderers display)

def _findings(report: Report) -> list[dict]:
    return [f for f in report.get("findings") or [] if isinstance(f, dict)]


def _is_new(finding: dict, report: Report) -> bool:
    # Without a baseline every finding is new (nothing to compare with).
    return report.get("baseline") is None or finding.get("baseline", "new") == "new"


def exit_code(report: Report, fail_on: str) -> int:
    """3 incomplete; 1 a finding at/above `fail_on`; else 0. ValueError on an unknown fail_on."""
    if fail_on not in FAIL_ON:
        raise ValueError(f"unknown fail-on value {fail_on!r}; choose one of {', '.join(FAIL_ON)}")
    if not is_complete(report):
        return 3
    found = _findings(report)
    if fail_on == "never":
        failing: list[dict] = []
    elif fail_on == "violation":
        failing = [f for f in found if f.get("severity") == "violation"]
    elif fail_on == "warning":
        failing = [f for f in found if f.get("severity") in ("violation", "warning")]
    else:  # new-violation
        failing = [f for f in found if f.get("severity") == "violation" and _is_new(f, report)]
    return 1 if failing else 0


# --------------------------------------------------------------------------- rendering

def _renderers(out: Path, lang: str = "en") -> dict[str, Callable[[Report, str], dict[str, str | bytes]]]:
    from . import csv as csv_, html, junit, markdown, sarif, xlsx

    # The human-facing files are in `lang`; csv, junit, sarif and json are machine-readable: English.
    return {
        "json": lambda r, sep: {"report.json": dumps_json(r)},
        "html": lambda r, sep: {"report.html": html.render_html(r, lang=lang)},
        "csv": lambda r, sep: csv_.render_csv(r, sep=sep),
        "md": lambda r, sep: {"summary.md": markdown.render_markdown(r, lang=lang)},
        "junit": lambda r, sep: {"junit.xml": junit.render_junit(r)},
        "sarif": lambda r, sep: {"results.sarif": sarif.render_sarif_json(r)},
        "xlsx": lambda r, sep: {"report.xlsx": xlsx.render_xlsx(r, lang=lang)},
        # report.html with the screenshots of `out` embedded: one file to send by e-mail
        "html-email": lambda r, sep: {"report-email.html": html.render_html(r, embed_from=out, lang=lang)},
    }


def render_all(report: Report, out_dir: Path | str, formats: Iterable[str] = DEFAULT_FORMATS,
               *, csv_sep: str = ",", lang: str = "en") -> list[Path]:
    """Render every requested format into out_dir (each file atomically); return the paths written.
    `lang` ("en" | "fr", see scanner.report.i18n.choose_lang): the language of report.html, summary.md
    and report.xlsx."""
    from .i18n import translator
    translator(lang)   # ValueError for a language there is no translation of, before anything is written
    wanted = list(dict.fromkeys(formats))
    unknown = [f for f in wanted if f not in FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}; choose from {', '.join(FORMATS)}")
    if len(csv_sep) != 1 or csv_sep in "\"\r\n":
        raise ValueError(f"CSV separator must be one character other than a quote or newline, not {csv_sep!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    redact(report)
    renderers = _renderers(out, lang)
    written: list[Path] = []
    for fmt in (f for f in FORMATS if f in wanted):
        for name, text in renderers[fmt](report, csv_sep).items():
            encoding = "utf-8-sig" if name.endswith(".csv") else "utf-8"
            written.append(atomic_write(out / name, text, encoding=encoding))
    return written


def render_markdown(report: Report, *, lang: str = "en") -> str:
    from .markdown import render_markdown as _render

    return _render(redact(report), lang=lang)


def write_manifest(out_dir: Path | str, report: Report, *, command: Any = None,
                   declaration_sha256: str | None = None) -> Path:
    from .manifest import write_manifest as _write

    return _write(Path(out_dir), report, command=command, declaration_sha256=declaration_sha256)


def verify_manifest(out_dir: Path | str) -> list[str]:
    from .manifest import verify_manifest as _verify

    return _verify(Path(out_dir))


def apply_baseline(report: Report, baseline_report: Report, *, path: str | None = None) -> Report:
    from .baseline import apply_baseline as _apply

    return _apply(report, baseline_report, path=path)


def diff_reports(old: Report, new: Report) -> dict[str, Any]:
    from .baseline import diff_reports as _diff

    return _diff(old, new)


def format_diff(diff: dict[str, Any], fmt: str = "text") -> str:
    from .baseline import format_diff as _format

    return _format(diff, fmt)


__all__ = [
    "DEFAULT_FORMATS", "FAIL_ON", "FILENAMES", "FORMATS", "ReportError", "VERDICTS", "apply_baseline",
    "atomic_write", "diff_reports", "exit_code", "format_diff", "is_complete", "load_report", "render_all",
    "redact", "render_markdown", "verdict", "verify_manifest", "write_json", "write_manifest",
]
