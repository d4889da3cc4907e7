"""Consent engine: put a page in a consent state through its consent manager, and prove it.

Recipes (rules/cmp/*.yaml) say how each consent manager is driven; a generic fallback finds
buttons by their text in five languages; a site declaration may override selectors.
"""
from .recipes import Recipe, load_recipes, custom_recipe
from .engine import ConsentEngine, Outcome, expected_choice, optional_categories

__all__ = ["Recipe", "load_recipes", "custom_recipe", "ConsentEngine", "Outcome",
           "expected_choice", "optional_categories"]
