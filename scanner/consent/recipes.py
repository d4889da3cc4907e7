"""Consent-manager recipes: data in rules/cmp/<id>.yaml, read into plain objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import UsageError
from ..paths import rules_dir
from ..yaml_lines import LineLoader, strip_lines

STEP_KINDS = ("click", "js", "wait", "wait_hidden")
ACTIONS = ("accept_all", "reject_all", "open_settings", "save_settings", "reopen", "withdraw",
           "accept_all_js", "reject_all_js")

# ---- schema ---------------------------------------------------------------------------
# Every key a recipe (rules/cmp/<id>.yaml) or the generic vocabulary (_generic.yaml) may hold, and
# what its value is. A key not listed here is a mistake (a misspelt or misplaced key would be
# silently ignored otherwise): loading fails with the file and the line.
#   str / "str?" (string or null) / [str] (list of strings) / list (list of anything) /
#   "steps" (list of one-key steps, see STEP_KINDS) / {key: schema} (mapping with exactly these keys)
OPT_STR = "str?"
RECIPE_SCHEMA: dict = {
    "id": str,
    "name": str,
    "sources": [str],
    "tested_against": OPT_STR,
    "detect": {"globals": [str], "selectors": [str], "scripts": [str]},
    "first_layer": OPT_STR,
    "settings_layer": OPT_STR,
    "actions": {action: "steps" for action in ACTIONS},
    "toggle": {"selector": str, "click": OPT_STR, "click_off": OPT_STR},
    "purposes": {"preferences": OPT_STR, "analytics": OPT_STR, "marketing": OPT_STR, "media": OPT_STR},
    "necessary_purpose": OPT_STR,
    "categories": OPT_STR,
    "record": {"cookies": list, "storage": list},
    "readback": OPT_STR,
}
GENERIC_ACTIONS = ("accept_all", "reject_all", "open_settings", "save_settings", "reopen", "policy_link", "close")
GENERIC_SCHEMA: dict = {
    "id": str,
    "name": str,
    "sources": [str],
    "tested_against": OPT_STR,
    "actions": {action: [str] for action in GENERIC_ACTIONS},
    "exclude_if_contains": {action: [str] for action in GENERIC_ACTIONS},
    "close_means_reject": [str],
    "banner_selectors": [str],
    "banner_keywords": [str],
    "settings_link": {"words": [str], "sentence": [str]},
}
REQUIRED = ("id",)


_Loader = LineLoader
_strip = strip_lines


def _kind(schema) -> str:
    if isinstance(schema, dict):
        return "a mapping or null"
    if isinstance(schema, list):
        return "a list of strings"
    return {str: "a string", OPT_STR: "a string or null", list: "a list", "steps": "a list of steps"}[schema]


def check_schema(where: str, data, schema, path: str = "", line: int = 1) -> None:
    """Raise UsageError("<file>:<line>: ...") for the first key or value `schema` does not allow."""
    if isinstance(schema, dict):
        if data is None and path:  # an absent section written as `key: null`
            return
        if not isinstance(data, dict):
            raise UsageError(f"{where}:{line}: {path or 'the file'} must be a mapping")
        lines = data.get("__lines__") or {}
        for key, value in data.items():
            if key in ("__lines__", "__line__"):
                continue
            at = lines.get(key, data.get("__line__", line))
            name = f"{path}.{key}" if path else str(key)
            if key not in schema:
                allowed = ", ".join(schema)
                raise UsageError(f"{where}:{at}: unknown key {name!r} (allowed{' in ' + path if path else ''}: {allowed})")
            check_schema(where, value, schema[key], name, at)
        return
    ok = {str: isinstance(data, str), OPT_STR: data is None or isinstance(data, str),
          list: isinstance(data, list), "steps": isinstance(data, list)}.get(schema) if not isinstance(schema, list) \
        else isinstance(data, list) and all(isinstance(v, (str, int, float)) for v in data)
    if not ok:
        raise UsageError(f"{where}:{line}: {path} must be {_kind(schema)}, got {type(data).__name__}")
    if schema == "steps":
        for step in data:
            if not isinstance(step, dict) or len(_strip(step)) != 1 or next(iter(_strip(step))) not in STEP_KINDS:
                at = step.get("__line__", line) if isinstance(step, dict) else line
                raise UsageError(f"{where}:{at}: {path}: each step is one of "
                                 f"{{{', '.join(STEP_KINDS)}: ...}}, got {_strip(step)!r}")


def read_rules_file(path: Path, schema: dict) -> dict:
    """A recipe or the generic vocabulary, read and checked against its schema."""
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise UsageError(f"{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None
    check_schema(str(path), data, schema)
    for key in REQUIRED:
        if not data.get(key):
            raise UsageError(f"{path}:1: a recipe needs an `{key}`")
    return _strip(data)


@dataclass(frozen=True)
class Recipe:
    id: str
    name: str
    detect: dict = field(default_factory=dict)
    first_layer: str | None = None
    settings_layer: str | None = None
    actions: dict = field(default_factory=dict)
    toggle: dict = field(default_factory=dict)
    purposes: dict = field(default_factory=dict)       # standard purpose -> CMP purpose id
    record: dict = field(default_factory=dict)
    readback: str | None = None
    tested_against: str | None = None
    categories: str | None = None        # JS: the categories the banner offers, [{id, label, required}]
    necessary_purpose: str | None = None  # the CMP's id for its always-on category

    def steps(self, action: str) -> list[dict]:
        return list(self.actions.get(action) or [])

    def has(self, action: str) -> bool:
        return bool(self.actions.get(action))

    @property
    def record_cookies(self) -> list:
        return list(self.record.get("cookies") or [])

    @property
    def record_storage(self) -> list:
        return list(self.record.get("storage") or [])


def _validate_steps(path: Path, action: str, steps) -> None:
    if not isinstance(steps, list):
        raise UsageError(f"{path}: actions.{action} must be a list of steps")
    for step in steps:
        if not isinstance(step, dict) or len(step) != 1 or next(iter(step)) not in STEP_KINDS:
            raise UsageError(f"{path}: actions.{action}: each step is one of {{{', '.join(STEP_KINDS)}: ...}}, got {step!r}")


def recipe_from_dict(data: dict, source: Path | str = "<recipe>") -> Recipe:
    path = Path(str(source))
    if not isinstance(data, dict) or not data.get("id"):
        raise UsageError(f"{path}: a recipe needs an `id`")
    actions = data.get("actions") or {}
    for action, steps in actions.items():
        _validate_steps(path, action, steps)
    return Recipe(
        id=str(data["id"]), name=str(data.get("name") or data["id"]),
        detect=data.get("detect") or {}, first_layer=data.get("first_layer"),
        settings_layer=data.get("settings_layer"), actions=actions, toggle=data.get("toggle") or {},
        purposes={k: v for k, v in (data.get("purposes") or {}).items() if v},
        record=data.get("record") or {}, readback=data.get("readback"),
        tested_against=data.get("tested_against"), categories=data.get("categories"),
        necessary_purpose=data.get("necessary_purpose"),
    )


@lru_cache(maxsize=4)
def _load(directory: str) -> tuple[tuple[Recipe, ...], dict]:
    recipes, generic = [], {}
    for path in sorted(Path(directory).glob("*.yaml")):
        if path.stem == "_generic":
            generic = read_rules_file(path, GENERIC_SCHEMA)
            continue
        recipes.append(recipe_from_dict(read_rules_file(path, RECIPE_SCHEMA), path))
    # A generic IAB TCF recipe matches any CMP exposing __tcfapi: try it after the specific ones.
    recipes.sort(key=lambda r: r.id == "tcf-v2")
    return tuple(recipes), generic


def load_recipes(directory: Path | None = None) -> tuple[tuple[Recipe, ...], dict]:
    """All recipes and the generic fallback's vocabulary."""
    return _load(str(directory or rules_dir() / "cmp"))


def custom_recipe(selectors: dict) -> Recipe:
    """A recipe from a site declaration's `consent.selectors` (home-made banners)."""
    def steps(key):
        value = selectors.get(key)
        return [{"click": value}] if isinstance(value, str) else value
    actions = {k: steps(k) for k in ("accept_all", "reject_all", "open_settings", "save_settings", "reopen")
               if selectors.get(k)}
    toggle = {"selector": selectors["toggle"]} if selectors.get("toggle") else {}
    return recipe_from_dict({
        "id": "custom", "name": "site-specific selectors", "first_layer": selectors.get("first_layer"),
        "settings_layer": selectors.get("settings_layer"), "actions": actions, "toggle": toggle,
        "readback": selectors.get("readback"), "record": selectors.get("record") or {},
        "detect": {"selectors": [selectors["first_layer"]] if selectors.get("first_layer") else []},
    }, "declaration consent.selectors")
