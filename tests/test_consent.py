"""Consent engine: every state reached and verified on real consent managers; never a silent pass."""
from __future__ import annotations

import dataclasses
import json

import pytest

from conftest import NODE_MODULES, run_cli, scan_site

CMP_SITES = {
    # fixture folder under tests/sites/cmp: (recipe id, optional categories)
    "klaro": ("klaro", ("analytics", "marketing")),
    "cookieconsent-v3": ("cookieconsent-v3", ("analytics", "marketing")),
    # the same manager keeping the choice in localStorage, not in a cookie: every page visit
    # must start with that storage restored, or the banner comes back
    "cookieconsent-v3-localstorage": ("cookieconsent-v3", ("analytics", "marketing")),
    "tarteaucitron": ("tarteaucitron", ("analytics", "marketing")),
    "osano-cookieconsent": ("osano-cookieconsent", ()),
}


def cookie_names(state: dict, page: int = 0) -> set[str]:
    return {c["name"] for c in state["pages"][page]["cookies"] if c.get("stored", True)}


def states_by_name(result: dict) -> dict[str, dict]:
    return {s["state"]: s for s in result["states"]}


@pytest.mark.parametrize("folder", sorted(CMP_SITES))
def test_every_state_reached_on_real_consent_manager(sites_server, folder, tmp_path):
    if not (NODE_MODULES / ".installed").exists() and not NODE_MODULES.exists():
        pytest.fail("npm fixtures missing: run `make test` (it installs tests/node_modules)")
    recipe, categories = CMP_SITES[folder]
    from scanner import ScanOptions, scan
    result = scan(ScanOptions(url=f"https://www.shop-example.com/cmp/{folder}/", out_dir=tmp_path,
                              resolve=(sites_server.resolve_rule(),), ignore_https_errors=True))
    states = states_by_name(result)
    expected = ["none", "reject", "accept"] + [f"only:{c}" for c in categories] + ["withdraw"]
    assert list(states) == expected
    for name, state in states.items():
        assert state["reached"], (name, state["error"], state["method"])
        assert state["cmp"] == recipe
        if name != "none":
            assert state["verified_by"].startswith(f"{recipe} readback"), state["verified_by"]
            assert state["verified_by"].endswith("banner stays away on a new visit"), state["verified_by"]
    assert result["complete"] is True
    assert not cookie_names(states["none"]) & {"_ga", "_fbp"}
    assert not cookie_names(states["reject"]) & {"_ga", "_fbp"}
    assert {"_ga", "_fbp"} <= cookie_names(states["accept"])
    if categories:
        assert "_ga" in cookie_names(states["only:analytics"]) and "_fbp" not in cookie_names(states["only:analytics"])
        assert "_fbp" in cookie_names(states["only:marketing"]) and "_ga" not in cookie_names(states["only:marketing"])
    if folder.endswith("-localstorage"):  # the choice travelled to every page visit in web storage only
        for name in ("reject", "accept", "withdraw"):
            for page in states[name]["pages"]:
                assert "cc_cookie" in {s["key"] for s in page["storage"] if s["kind"] == "local"}, (name, page["url"])
                assert "cc_cookie" not in cookie_names(states[name])
    # banner evidence: a screenshot of the first layer and of the page after each action
    shots = {s["path"] for st in result["states"] for s in st["screenshots"]}
    assert "screenshots/none-banner.png" in shots and "screenshots/reject-after.png" in shots
    assert (tmp_path / "screenshots" / "none-banner.png").stat().st_size > 1000
    # the consent record is strictly necessary, never flagged; these fixtures honour every choice
    assert not [f for f in result["findings"]
                if f["rule"].startswith(("post-reject", "pre-consent", "withdrawal-ignored", "category-leak"))]


def test_wrong_button_is_caught_by_verification(sites_server, monkeypatch):
    """A recipe whose 'reject' control really accepts: the readback must catch it."""
    import importlib
    scan_module = importlib.import_module("scanner.scan")
    from scanner.consent import load_recipes
    recipes, generic = load_recipes()
    broken = tuple(dataclasses.replace(r, actions={**r.actions, "reject_all": r.actions["accept_all"]})
                   if r.id == "cookieconsent-v3" else r for r in recipes)
    monkeypatch.setattr(scan_module, "load_recipes", lambda: (broken, generic))
    result = scan_site(sites_server, "https://www.shop-example.com/cmp/cookieconsent-v3/", states=("reject",))
    reject = result["states"][0]
    assert reject["reached"] is False
    assert "verification failed" in reject["error"] and "analytics=true" in reject["error"]
    assert result["complete"] is False and result["verdict"] == "incomplete"


def test_reject_button_that_does_nothing_is_unreached_exit_3(sites_server, tmp_path):
    proc = run_cli("scan", "https://www.dead-reject.test/", "--states", "none,reject,accept", "--out", str(tmp_path),
                   "--resolve", sites_server.resolve_rule(), "--ignore-https-errors")
    assert proc.returncode == 3, proc.stderr
    assert "state reject not reached" in proc.stderr and "banner is still shown" in proc.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    states = states_by_name(report)
    assert states["reject"]["reached"] is False and states["accept"]["reached"] is True
    assert report["verdict"] == "incomplete"


def test_choice_lost_on_a_new_visit_is_not_a_reached_state(sites_server):
    """The banner goes away when clicked and stays away on a reload of the same tab
    (sessionStorage), but comes back in every new visit: the state is not reached."""
    result = scan_site(sites_server, "https://www.forgetful.test/", states=("none", "reject", "accept"), max_pages=2)
    states = states_by_name(result)
    assert states["none"]["reached"]
    for name in ("reject", "accept"):
        assert states[name]["reached"] is False
        assert "re-appears on a new visit" in states[name]["error"]
        assert states[name]["pages"] == []
    assert result["verdict"] == "incomplete"


def test_french_only_banner_through_generic_fallback(sites_server):
    result = scan_site(sites_server, "https://www.banque-fr.test/", states=("none", "reject", "accept"), locale="fr-FR")
    states = states_by_name(result)
    assert states["reject"]["reached"] and states["accept"]["reached"]
    assert states["reject"]["cmp"] == "generic"
    assert any("Continuer sans accepter" in m for m in states["reject"]["method"])
    assert "_ga" not in cookie_names(states["reject"]) and "choix" in cookie_names(states["reject"])
    assert "_ga" in cookie_names(states["accept"])


def test_banner_inside_an_iframe(sites_server):
    result = scan_site(sites_server, "https://www.iframe-banner.test/", states=("none", "reject", "accept"))
    states = states_by_name(result)
    assert states["none"]["banner"]["shown"] is True
    assert states["reject"]["reached"] and states["accept"]["reached"]
    assert "_fbp" in cookie_names(states["accept"]) and "_fbp" not in cookie_names(states["reject"])


def test_banner_in_open_shadow_root(sites_server):
    result = scan_site(sites_server, "https://www.shadow-banner.test/", states=("none", "reject", "accept"), locale="de-DE")
    states = states_by_name(result)
    assert states["reject"]["reached"] and states["accept"]["reached"]
    assert "_ga" in cookie_names(states["accept"]) and "_ga" not in cookie_names(states["reject"])


def test_site_without_banner(sites_server):
    result = scan_site(sites_server, "https://www.no-banner.test/", states=("none", "reject", "accept"))
    states = states_by_name(result)
    assert states["none"]["reached"] and states["none"]["banner"]["shown"] is False
    for name in ("reject", "accept"):
        assert states[name]["reached"] is False and "no consent banner" in states[name]["error"]
    assert result["verdict"] == "incomplete"
    rules = {f["rule"] for f in result["findings"]}
    assert {"banner-missing", "pre-consent-cookie"} <= rules


def test_none_state_scrolls_and_opens_a_second_page(sites_server):
    result = scan_site(sites_server, "https://www.no-banner.test/", states=("none",))
    pages = result["states"][0]["pages"]
    assert [p["url"] for p in pages] == ["https://www.no-banner.test/", "https://www.no-banner.test/page2.html"]
    assert all(p["status"] == 200 for p in pages)


def test_recipes_are_checked_against_their_schema(tmp_path):
    """A misspelt or misplaced key in rules/cmp/*.yaml is an error naming the file and the line."""
    import shutil

    from scanner.consent import load_recipes
    from scanner.errors import UsageError
    from scanner.paths import rules_dir

    recipes, generic = load_recipes()  # the shipped recipes pass
    assert recipes and "banner_selectors" in generic and "purpose_keywords" not in generic
    shutil.copy(rules_dir() / "cmp" / "_generic.yaml", tmp_path / "_generic.yaml")
    text = (rules_dir() / "cmp" / "klaro.yaml").read_text(encoding="utf-8")
    line = text.splitlines().index("actions:") + 1
    bad = text.replace("actions:\n", "withdraw: [{click: '#x'}]\nactions:\n", 1)
    (tmp_path / "klaro.yaml").write_text(bad, encoding="utf-8")
    with pytest.raises(UsageError) as err:
        load_recipes(tmp_path)
    assert f"klaro.yaml:{line}: unknown key 'withdraw'" in str(err.value)

    nested = tmp_path / "nested"
    nested.mkdir()
    shutil.copy(rules_dir() / "cmp" / "_generic.yaml", nested / "_generic.yaml")
    (nested / "klaro.yaml").write_text(text.replace("  reject_all:", "  rejectall:", 1), encoding="utf-8")
    with pytest.raises(UsageError, match=r"klaro\.yaml:\d+: unknown key 'actions\.rejectall'"):
        load_recipes(nested)

    generic_bad = tmp_path / "generic"
    generic_bad.mkdir()
    g = (rules_dir() / "cmp" / "_generic.yaml").read_text(encoding="utf-8")
    (generic_bad / "_generic.yaml").write_text(g + "\npurpose_keywords: {analytics: [stats]}\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"_generic\.yaml:\d+: unknown key 'purpose_keywords'"):
        load_recipes(generic_bad)


def test_every_key_of_the_generic_recipe_is_read_by_the_engine():
    """A key _generic.yaml may hold but the engine never reads would be a silent no-op: every
    schema key and every action is named where the engine reads it."""
    import inspect

    from scanner.consent import engine
    from scanner.consent.recipes import GENERIC_ACTIONS, GENERIC_SCHEMA

    source = inspect.getsource(engine)
    documentation = {"id", "name", "sources", "tested_against", "actions"}
    for key in set(GENERIC_SCHEMA) - documentation:
        assert f'"{key}"' in source, f"_generic.yaml key {key!r} is never read by the consent engine"
    for action in GENERIC_ACTIONS:
        assert f'"{action}"' in source, f"_generic.yaml action {action!r} is never used by the consent engine"


def test_tcf_consent_manager_with_the_recipes_on(sites_server):
    """The IAB TCF recipe reads the choice back but knows no settings layer and no way back: the
    scanner drives those as a person would, and each state is proved by the recipe's read-back, the
    decoded TC string and, for `only:`, the toggles read back before saving."""
    states_wanted = ("none", "reject", "accept", "only:analytics", "only:marketing", "withdraw")
    result = scan_site(sites_server, "https://www.tcf-banner.test/", states=states_wanted, max_pages=1)
    states = states_by_name(result)
    for name in states_wanted[1:]:
        state = states[name]
        assert state["reached"], (name, state["error"], state["method"])
        assert state["cmp"] == "tcf-v2"
        assert state["proof"]["by"][:2] == ["cmp-record", "tc-string"], (name, state["proof"])
        assert state["proof"]["persistent"] is True
    assert states["only:analytics"]["proof"]["tc_string"]["purpose_consents"] == [1, 7, 8, 9]
    assert "toggles-readback" in states["only:analytics"]["proof"]["by"]
    assert states["accept"]["proof"]["tc_string"]["vendor_consents"] == [8, 28, 52, 755, 793]
    assert states["reject"]["proof"]["tc_string"]["purpose_consents"] == []
    assert any(m.startswith("reopen: footer control 'Cookie settings'") for m in states["withdraw"]["method"])
    assert {"_ga", "_fbp"} & cookie_names(states["only:analytics"]) == {"_ga"}
