"""Consent-manager recipes: data in rules/cmp/<id>.yaml, read into plain objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ..errors import UsageError
from ..paths import rules_dir

STEP_KINDS = ("click", "js", "wait", "wait_hidden")
ACTIONS = ("accept_all", "reject_all", "open_settings", "save_settings", "reopen", "accept_all_js", "reject_all_js")


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
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if path.stem == "_generic":
            generic = data
            continue
        recipes.append(recipe_from_dict(data, path))
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
