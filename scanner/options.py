"""ScanOptions: everything a scan needs, validated once, passed explicitly."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .errors import UsageError

BLOCKED_SCHEMES_HINT = "only http:// and https:// URLs can be scanned"


def validate_url(url: str) -> str:
    """Return the URL if it is a scannable absolute http(s) URL, else raise UsageError."""
    text = (url or "").strip()
    try:
        parts = urlsplit(text)
    except ValueError as exc:
        raise UsageError(f"malformed URL {text!r}: {exc}") from None
    if parts.scheme.lower() not in ("http", "https"):
        if parts.scheme:
            raise UsageError(f"unsupported URL scheme {parts.scheme!r} in {text!r}: {BLOCKED_SCHEMES_HINT}")
        raise UsageError(f"malformed URL {text!r}: expected an absolute URL such as https://www.example.com/")
    try:
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError as exc:
        raise UsageError(f"malformed URL {text!r}: {exc}") from None
    if not host or " " in text or ".." in host or host.startswith("-"):
        raise UsageError(f"malformed URL {text!r}: no valid host name")
    return text


LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".home.arpa", ".lan")


def refuse_private_target(url: str, resolve: tuple[str, ...] | list[str] = ()) -> None:
    """A CI job fed an attacker's URL must not be pointed at the runner's own network: refuse a
    start URL on a private, loopback, link-local (cloud metadata), reserved... address, early and
    with a friendly message. The same classification (scanner/egress.py) guards every later
    request at connection time. A start host that `resolve` maps is the user's explicit choice."""
    from .egress import Mappings, parse_address, refusal_reason, system_resolve

    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if Mappings(resolve).lookup(host) is not None:
        return
    hint = "pass --allow-private to scan it anyway, or --resolve to map a public name explicitly"
    if host == "localhost" or host.endswith(LOCAL_NAMES):
        raise UsageError(f"refusing to scan {host!r}: a local host name; {hint}")
    literal = parse_address(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            addresses = system_resolve(host, 443)
        except (OSError, UnicodeError, ValueError):
            return  # unresolvable: the scan reports the DNS failure itself
    for address in addresses:
        reason = refusal_reason(address)
        if reason:
            raise UsageError(f"refusing to scan {host!r} ({address}): a {reason}; {hint}")


def default_concurrency() -> int:
    """Four page visits per core (at least 2, at most 16), fewer when memory is short (~300 MB
    a context, counted twice over). A visit spends most of its time waiting (network, the quiet
    window, the consent manager): on 2 cores the benchmark keeps both busy with 8 at once
    (bench/README.md)."""
    import os
    cores = os.cpu_count() or 2
    try:
        with open("/proc/meminfo") as handle:
            avail_kb = next(int(line.split()[1]) for line in handle if line.startswith("MemAvailable"))
        by_memory = max(1, avail_kb // (300 * 1024 * 2))
    except (OSError, StopIteration, ValueError):
        by_memory = 8
    return max(1, min(16, max(2, 4 * cores), by_memory))


def validate_state(state: str) -> str:
    from .consent_states import is_valid
    if is_valid(state):
        return state
    raise UsageError(f"unknown state {state!r}: use none, reject, accept, only:<category> or withdraw")


def check_only_categories(states, declaration=None) -> None:
    """Every `only:<category>` names a category the scan can switch on alone: one of the
    declaration's optional categories, or without a declaration a category the vocabulary knows
    (rules/categories.yaml: analytics, marketing, "statistics", "video"...). Refused before the scan,
    not reported hours later as a state not reached."""
    from .consent_states import only_category
    from .vocabulary import OPTIONAL_PURPOSES, purposes_for_label

    for state in states:
        category = only_category(state)
        if category is None:
            continue
        if declaration is not None:
            optional = [c for c, entry in declaration.categories.items() if not entry.get("essential")]
            if category in optional:
                continue
            if category in declaration.categories:
                raise UsageError(f"--states {state}: {category!r} is strictly necessary in {declaration.path} "
                                 f"(always on); choose one of {', '.join(optional) or 'no optional category'}")
            raise UsageError(f"--states {state}: unknown category {category!r}; {declaration.path} declares "
                             f"{', '.join(optional) or 'no optional category'}")
        purposes = purposes_for_label(category.replace("-", " ").replace("_", " "))
        if not set(purposes) & set(OPTIONAL_PURPOSES):
            raise UsageError(f"--states {state}: unknown category {category!r}; without --declaration use "
                             f"{', '.join(OPTIONAL_PURPOSES)} (or a label rules/categories.yaml knows)")


CSV_SEP_NAMES = {"tab": "\t", "\\t": "\t", "comma": ",", "semicolon": ";", "pipe": "|"}


def parse_csv_sep(text: str | None, lang: str = "en") -> str:
    """--csv-sep: one character (`tab` or a typed `\\t` for a tab), never a quote or a newline. Not
    given: `;` for a French report (French spreadsheets split on it; `,` is their decimal mark),
    else `,`."""
    if text is None:
        return ";" if lang == "fr" else ","
    sep = CSV_SEP_NAMES.get(text.lower(), text) if len(text) > 1 else text
    if len(sep) != 1 or sep in "\"\r\n":
        raise UsageError(f"--csv-sep must be one character such as ',', ';', '|' or 'tab', not {text!r}")
    return sep


def parse_lang(option: str | None, stored: str | None = None, environ=None) -> str:
    """--lang: the language of report.html, summary.md and report.xlsx. The option ("en", "fr",
    "fr-FR"), else `stored` (the language a stored report was written in), else the locale of
    LC_ALL / LC_MESSAGES / LANG ("fr_FR.UTF-8" is French), else English."""
    from .report.i18n import SUPPORTED, choose_lang, env_locale

    if option is None and stored in SUPPORTED:
        return stored
    try:
        return choose_lang(option, env_locale(environ))
    except ValueError:
        raise UsageError(f"--lang must be one of {', '.join(SUPPORTED)}, not {option!r}") from None


def check_fail_on(fail_on: str, baseline_path) -> None:
    if fail_on == "new-violation" and baseline_path is None:
        raise UsageError("--fail-on new-violation needs --baseline OLD/report.json (a file that does not "
                         "exist yet is fine: the first run has nothing new)")


def _site_domains(report: dict) -> list[str]:
    from .domains import host_of, registrable_domain

    site = report.get("site") or {}
    hosts = [host_of(str(site.get(key) or "")) for key in ("url", "final_url")]
    return list(dict.fromkeys(registrable_domain(h) for h in hosts if h))


def check_baseline_site(baseline: dict | None, path, url: str) -> None:
    """A baseline is an earlier scan of the same site (registrable domain: www.example.com and
    shop.example.com are one site), else every finding would count as new or gone."""
    if baseline is None:
        return
    from .domains import host_of, registrable_domain

    domains = _site_domains(baseline)
    wanted = registrable_domain(host_of(url))
    if domains and wanted not in domains:
        site = (baseline.get("site") or {}).get("url")
        raise UsageError(f"--baseline {path}: a report of another site ({site}, {domains[0]}), "
                         f"not of {wanted}: compare scans of the same site")


def repository_root(start: Path | None = None) -> Path:
    """The repository the command runs in (the folder holding .git, found upward from the working
    folder), else the working folder: where GitHub code scanning resolves SARIF paths."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def sarif_location(path, fallback=None, *, required: bool = False) -> str | None:
    """The repository file SARIF results point at, as a relative URI path (`rules/sites/x.yaml`):
    `path` (--sarif-file) must exist inside the repository; else `fallback` (the declaration, the
    report) when it lies inside; else None."""
    from urllib.parse import quote

    for candidate, must in ((path, required), (fallback, False)):
        if candidate is None:
            continue
        file = Path(candidate)
        root = repository_root()
        if must and not file.is_file():
            raise UsageError(f"--sarif-file {candidate}: no such file (SARIF results point at a file of the repository)")
        try:
            relative = file.resolve().relative_to(root)
        except ValueError:
            if must:
                raise UsageError(f"--sarif-file {candidate}: outside the repository {root} "
                                 "(GitHub code scanning needs a path inside it)") from None
            continue
        return quote(relative.as_posix(), safe="/-._~!$&'()*+,;=:@")
    return None


@dataclass
class ScanOptions:
    url: str
    out_dir: Path | None = None
    states: tuple[str, ...] = ()            # empty: every state the site supports
    resolve: tuple[str, ...] = ()          # HOST=IP[:PORT] entries
    ignore_https_errors: bool = False
    locale: str = "en-US"
    timeout_s: float = 30.0                # per navigation
    quiet_ms: int = 500                    # network quiet window (no new request) after load
    settle_cap_s: float = 10.0             # longest settle per page
    keep_values: bool = False
    keep_query: bool = False
    chromium_path: str | None = None
    declaration_path: Path | None = None
    gvl_path: Path | None = None            # an IAB Global Vendor List (JSON) for the TCF audits
    command: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)
    # crawl
    max_pages: int = 50
    max_depth: int = 5
    scope: str = "domain"                  # domain | host
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_pattern_cap: int = 10
    extra_urls: tuple[str, ...] = ()
    concurrency: int | None = None         # None: chosen from cores and memory
    fast_forward_s: float = 10.0           # run page timers forward this far (Playwright clock)
    deadline_s: float | None = None        # whole-scan time bound
    allow_private: bool = False            # allow private/loopback/link-local targets

    def __post_init__(self) -> None:
        self.url = validate_url(self.url)
        if not self.allow_private:
            refuse_private_target(self.url, self.resolve)
        self.states = tuple(self.states)
        for state in self.states:
            validate_state(state)
        if self.timeout_s <= 0:
            raise UsageError("--timeout must be positive")
        if self.deadline_s is not None and self.deadline_s <= 0:
            raise UsageError("--deadline must be positive")
        if self.max_pages < 1:
            raise UsageError("--max-pages must be at least 1")
        if self.scope not in ("domain", "host"):
            raise UsageError("--scope must be domain or host")
        self.extra_urls = tuple(validate_url(u) for u in self.extra_urls)
        self.concurrency = self.concurrency or default_concurrency()
        if self.concurrency < 1:
            raise UsageError("--concurrency must be at least 1")
