"""FLEET.yaml: the sites of a fleet and their scan options.

    defaults:                      # applied to every site (a site's own value wins)
      states: none,reject,accept
      max_pages: 20
      deadline: 600
    sites:
      - url: https://www.example.com/
        declaration: declarations/example.yaml     # relative to the fleet file's folder
        tags: {country: fr, owner: web}
      - url: https://www.example.de/
        resolve: ["www.example.de=10.0.0.5"]
        tags: {country: de}

Every key but `url` and `tags` is a `cookie-scanner scan` option by its long name with
underscores (`ignore_https_errors: true`, `max_pages: 20`); `out`, `no_progress`, `history`, `db`
and `deploy` are the fleet's own. Paths are relative to the fleet file.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..errors import UsageError
from ..yaml_lines import BoundedSafeLoader

MAX_FILE = 1024 * 1024
MAX_SITES = 10_000
RESERVED = {"out", "no_progress", "history", "db", "deploy"}
PATH_OPTIONS = {"declaration", "policy", "baseline", "urls_file", "gvl", "cookie_policy", "sarif_file"}


class FleetError(UsageError):
    """A fleet file that cannot be used (one line naming the file; exit 2)."""


@dataclass
class SiteJob:
    index: int
    url: str
    args: list[str]                 # `cookie-scanner scan` arguments after the URL (no --out)
    tags: dict[str, str] = field(default_factory=dict)
    deadline_s: float | None = None

    @property
    def slug(self) -> str:
        host = re.sub(r"[^A-Za-z0-9.-]", "_", self.url.split("://", 1)[-1].split("/", 1)[0])[:80] or "site"
        return f"{self.index:03d}-{host}"


@dataclass
class Fleet:
    path: Path
    sites: list[SiteJob]


def scan_options() -> dict[str, tuple[str, bool, bool]]:
    """key -> (option string, is a flag, takes several values), from the `scan` command itself."""
    import click

    from ..cli import scan as scan_command
    out = {}
    for param in scan_command.params:
        if not isinstance(param, click.Option):
            continue
        for opt in param.opts:
            if opt.startswith("--"):
                out[opt[2:].replace("-", "_")] = (opt, bool(param.is_flag), bool(param.multiple))
    return out


def load_fleet(path: str | Path) -> Fleet:
    file = Path(path)
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise FleetError(f"{file}: cannot read it ({exc.strerror or exc})") from None
    if len(raw) > MAX_FILE:
        raise FleetError(f"{file}: {len(raw)} bytes, more than {MAX_FILE}")
    try:
        data = yaml.load(raw.decode("utf-8"), Loader=BoundedSafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError, ValueError) as exc:
        raise FleetError(f"{file}: not valid YAML ({str(exc).splitlines()[0][:150]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("sites"), list) or not data["sites"]:
        raise FleetError(f"{file}: needs a `sites:` list with at least one site")
    if len(data["sites"]) > MAX_SITES:
        raise FleetError(f"{file}: {len(data['sites'])} sites, at most {MAX_SITES}")
    unknown_top = set(data) - {"sites", "defaults"}
    if unknown_top:
        raise FleetError(f"{file}: unknown key(s) {', '.join(sorted(map(str, unknown_top)))} (sites, defaults)")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, dict):
        raise FleetError(f"{file}: `defaults` must be a mapping of scan options")
    options = scan_options()
    sites = []
    for i, entry in enumerate(data["sites"], 1):
        where = f"{file}: site {i}"
        if not isinstance(entry, dict) or not isinstance(entry.get("url"), str) or not entry["url"].strip():
            raise FleetError(f"{where}: needs a `url`")
        tags = entry.get("tags") or {}
        if not isinstance(tags, dict):
            raise FleetError(f"{where}: `tags` must be a mapping (country: fr)")
        merged = {**defaults, **{k: v for k, v in entry.items() if k not in ("url", "tags")}}
        args: list[str] = []
        deadline = None
        for key, value in merged.items():
            key = str(key)
            if key in RESERVED:
                raise FleetError(f"{where}: `{key}` is set by the fleet, not per site")
            if key not in options:
                raise FleetError(f"{where}: unknown scan option `{key}` (the long names of `cookie-scanner scan`, "
                                 "with underscores)")
            opt, flag, multiple = options[key]
            if flag:
                if not isinstance(value, bool):
                    raise FleetError(f"{where}: `{key}` is true or false")
                if value:
                    args.append(opt)
                continue
            values = value if isinstance(value, list) else [value]
            if not multiple and isinstance(value, list):
                if key == "states":
                    values = [",".join(str(v) for v in value)]
                else:
                    raise FleetError(f"{where}: `{key}` takes one value")
            for item in values:
                if isinstance(item, (dict, list)) or item is None:
                    raise FleetError(f"{where}: `{key}` must be text or a number")
                text = str(item).lower() if isinstance(item, bool) else str(item)
                if key in PATH_OPTIONS and "://" not in text and not text.startswith("db:"):
                    text = str((file.parent / text).resolve())
                args += [opt, text]
            if key == "deadline":
                try:
                    deadline = float(values[0])
                except (TypeError, ValueError):
                    raise FleetError(f"{where}: `deadline` is a number of seconds") from None
        sites.append(SiteJob(i, entry["url"].strip(), args, {str(k): str(v) for k, v in tags.items()}, deadline))
    return Fleet(file, sites)
