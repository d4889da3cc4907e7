"""rules/policy-lint/: the policy linter's tables, one file per language (scanner.policy.lint).

common.yaml holds every rule's metadata and the patterns of no particular language; en.yaml,
fr.yaml add their words to the tables they name. The loader merges them and names the file
and the key of anything wrong.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from scanner.errors import UsageError
from scanner.paths import rules_dir
from scanner.policy import POLICY_RULES
from scanner.policy.lint import _CHANNELS, _RULE_TABLES, COMMON_FILE, META_KEYS, load_tables, table_files

FOLDER = rules_dir() / "policy-lint"
LANGUAGE_FILES = [p for p in table_files(FOLDER) if p.name != COMMON_FILE]


def _read(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    """A copy of rules/policy-lint/ to break."""
    return Path(shutil.copytree(FOLDER, tmp_path / "policy-lint"))


def _edit(folder: Path, name: str, old: str, new: str) -> Path:
    path = folder / name
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (name, old)
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def _load_error(folder: Path) -> str:
    with pytest.raises(UsageError) as err:
        load_tables(folder)
    return str(err.value)


# --- the files as written ---------------------------------------------------------------

def test_one_file_per_language_after_common():
    assert [p.name for p in table_files(FOLDER)] == ["common.yaml", "en.yaml", "fr.yaml"]
    assert not (rules_dir() / "policy-lint.yaml").exists()   # the tables are not written twice


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=lambda p: p.name)
def test_language_file_uses_only_table_names_the_linter_knows(path: Path):
    """A language file adds patterns to known tables, each under the rule that owns it, and nothing else."""
    assert re.fullmatch(r"[a-z]{2}\.yaml", path.name)   # named by its ISO 639-1 code
    doc = _read(path)
    assert set(doc) <= {"channels", "rules"}, set(doc)
    assert set(doc.get("channels") or {}) <= set(_CHANNELS)
    assert set(doc.get("rules") or {}) <= set(_RULE_TABLES), set(doc.get("rules") or {}) - set(_RULE_TABLES)
    for rule_id, rule in (doc.get("rules") or {}).items():
        assert set(rule) == {"patterns"}, (rule_id, set(rule))   # metadata only in common.yaml
        unknown = set(rule["patterns"]) - set(_RULE_TABLES[rule_id])
        assert not unknown, f"{path.name}: rules.{rule_id}.patterns: unknown tables {sorted(unknown)}"
    tables = sum(len(r["patterns"]) for r in (doc.get("rules") or {}).values()) + len(doc.get("channels") or {})
    assert tables > 30   # the language's words, not a stub


def test_common_file_has_every_rule_and_its_metadata():
    doc = _read(FOLDER / COMMON_FILE)
    assert list(doc["rules"]) == [r["id"] for r in POLICY_RULES]
    for rule in POLICY_RULES:
        written = doc["rules"][rule["id"]]
        assert {k: written[k] for k in META_KEYS} == {k: v for k, v in rule.items() if k != "id"}


def test_tables_merge_every_language():
    tables = load_tables(FOLDER)
    assert tables.dpo.search("Contact our Délégué à la protection des données")
    assert tables.dpo.search("Contact our data protection officer")
    assert tables.legal_form.search("Example SAS") and not tables.legal_form.search("sas")  # case-sensitive
    assert tables.link_or_instruction.search("https://example.org/cookies")      # url added by the loader
    assert tables.named_organisations.search("HubSpot") and tables.named_organisations.search("Exemple SA")
    assert set(tables.rights) == {"access", "rectification", "erasure", "restriction", "portability", "objection"}
    for right in ("right of access", "droit d'accès", "right to object", "droit d'opposition"):
        assert any(family.search(right) for family in tables.rights.values()), right
    assert tables.misspellings["wesite"] == "website" and tables.misspellings["fonctionnalitées"] == "fonctionnalités"
    assert tables.duration.search("13 months") and tables.duration.search("treize mois")


def _combined(folder: Path) -> dict:
    """The folder as one document, merged as the loader documents it (lists appended in file order)."""
    doc = _read(folder / COMMON_FILE)
    for path in table_files(folder)[1:]:
        lang = _read(path)
        places = [(doc.setdefault("channels", {}), lang.get("channels") or {})]
        places += [(doc["rules"][rule_id].setdefault("patterns", {}), rule.get("patterns") or {})
                   for rule_id, rule in (lang.get("rules") or {}).items()]
        for into, tables in places:
            for key, value in tables.items():
                if key not in into:
                    into[key] = value
                elif isinstance(value, list):
                    into[key] = into[key] + value
                elif "patterns" in value:
                    into[key]["patterns"] = into[key]["patterns"] + value["patterns"]
                else:
                    for name, entry in value.items():
                        into[key][name] = into[key].get(name, []) + entry if isinstance(entry, list) else entry
    return doc


def test_a_single_file_holding_everything_loads_the_same_tables(tmp_path: Path):
    single = tmp_path / "all.yaml"
    single.write_text(yaml.safe_dump(_combined(FOLDER), allow_unicode=True, sort_keys=False), encoding="utf-8")
    merged, whole = vars(load_tables(FOLDER)), vars(load_tables(single))
    assert merged.keys() == whole.keys()
    for key, value in merged.items():
        other = whole[key]
        if isinstance(value, re.Pattern):
            assert (value.pattern, value.flags) == (other.pattern, other.flags), key
        elif isinstance(value, dict) and key != "rules":
            assert list(value) == list(other), key
            for name, entry in value.items():
                assert (entry.pattern if isinstance(entry, re.Pattern) else entry) == (
                    other[name].pattern if isinstance(other[name], re.Pattern) else other[name]), (key, name)
        else:
            assert value == other, key


# --- what the loader refuses, naming the file and the key ---------------------------------

@pytest.mark.parametrize("name, old, new, expected", [
    pytest.param("fr.yaml", "      either_or:\n", "      either_nor:\n        - '\\bni\\b'\n      either_or:\n",
                 "rules.policy-empty-contact.patterns: unknown key 'either_nor'", id="unknown-table"),
    pytest.param("en.yaml", "      dpo:\n", "      dpo_office:\n        - '\\bDPO office\\b'\n      dpo:\n",
                 "rules.policy-no-dpo-contact.patterns: unknown key 'dpo_office'", id="unknown-table-en"),
    pytest.param("fr.yaml", "  web_form:\n", "  fax:\n    - '\\bfax\\b'\n  web_form:\n",
                 "channels: unknown key 'fax'", id="unknown-channel"),
    pytest.param("fr.yaml", "  policy-empty-contact:\n    patterns:\n",
                 "  policy-empty-contact:\n    patterns:\n      dpo:\n        - '\\bDPD\\b'\n",
                 "rules.policy-empty-contact.patterns: unknown key 'dpo'", id="table-under-the-wrong-rule"),
    pytest.param("en.yaml", "rules:\n", "rules:\n  policy-no-cookie-banner:\n    patterns: {}\n",
                 "rules: unknown key 'policy-no-cookie-banner'", id="unknown-rule"),
])
def test_unknown_table_name_is_a_load_error_naming_the_file(folder, name, old, new, expected):
    path = _edit(folder, name, old, new)
    message = _load_error(folder)
    assert message.startswith(f"{path}:"), message
    assert expected in message, message


@pytest.mark.parametrize("name, old, new, expected", [
    pytest.param("common.yaml", "    legal_source: GDPR art. 12(1) (concise, intelligible, clear and plain language)\n",
                 "", "rules.policy-drafting: missing key 'legal_source'", id="missing-metadata"),
    pytest.param("common.yaml", "  policy-drafting:\n", "  policy-drafting-old:\n",
                 "rules: missing key 'policy-drafting'", id="missing-rule"),
    pytest.param("common.yaml", "    severity: info\n", "    severity: info\n    owner: legal\n",
                 "rules.policy-drafting: unknown key 'owner'", id="unknown-metadata"),
    pytest.param("common.yaml", "    severity: info\n", "    severity: minor\n",
                 "rules.policy-drafting.severity: expected one of", id="bad-severity"),
    pytest.param("fr.yaml", "  policy-drafting:\n    patterns:\n",
                 "  policy-drafting:\n    title: Erreur de rédaction\n    patterns:\n",
                 "rules.policy-drafting.title: rule metadata belongs in common.yaml", id="metadata-in-a-language-file"),
    pytest.param("en.yaml", "        - '\\bDPO\\b'\n", "        - '\\bDPO(\\b'\n",
                 "rules.policy-no-dpo-contact.patterns.dpo[0]: bad regular expression", id="bad-regex"),
    pytest.param("common.yaml", "        Stripe: '\\bstripe\\b'\n", "        Stripe: '\\bstripe[\\b'\n",
                 "rules.policy-undisclosed-transfer.patterns.non_eea_vendors.Stripe: bad regular expression",
                 id="bad-vendor-regex"),
    # a pattern that matches empty text would let a rule pass on any policy
    pytest.param("fr.yaml", "        - '\\bDPD\\b'\n", "        - '(?:\\bDPD\\b)?'\n",
                 "rules.policy-no-dpo-contact.patterns.dpo[1]: regular expression", id="regex-matches-empty"),
    pytest.param("common.yaml", "    flags: [IGNORECASE]\n    patterns:\n      - '\\b\\d{5}\\b'",
                 "    flags: [IGNORECASE, VERBOSE]\n    patterns:\n      - '\\b\\d{5}\\b'", "channels.postal.flags",
                 id="unknown-flag"),
    pytest.param("fr.yaml", "  postal:\n    flags: [IGNORECASE]\n", "  postal:\n    flags: [IGNORECASE, MULTILINE]\n",
                 "channels.postal: flags [IGNORECASE, MULTILINE] differ from [IGNORECASE]", id="flags-differ"),
    pytest.param("en.yaml", "        wesite: website\n", "        wesite: website\n        wesite: web site\n",
                 "key 'wesite' given twice", id="duplicate-key"),
    pytest.param("fr.yaml", "        fonctionnalitées: fonctionnalités\n",
                 "        fonctionnalitées: fonctionnalités\n        wesite: site web\n",
                 "rules.policy-drafting.patterns.misspellings.wesite: already given by", id="word-in-two-files"),
])
def test_tables_folder_is_checked_when_loaded(folder, name, old, new, expected):
    path = _edit(folder, name, old, new)
    message = _load_error(folder)
    assert message.startswith(f"{path}:") and expected in message, message
    if "already given by" in expected:
        assert message.endswith(str(folder / "en.yaml")), message


def test_a_table_no_file_gives_is_a_load_error(folder):
    _edit(folder, "en.yaml", "      withdraw_hint:\n        - '\\bwithdraw\\w*\\b'\n", "")
    _edit(folder, "fr.yaml", "      withdraw_hint:\n        - '\\bretir\\w*\\b'\n", "")
    message = _load_error(folder)
    assert message.startswith(f"{folder}:")
    assert ("rules.policy-no-withdrawal.patterns: missing key 'withdraw_hint' (no file of the folder gives it)"
            in message)


def test_a_table_one_language_lacks_still_loads(folder):
    """A language may leave a table out: the others give it patterns."""
    _edit(folder, "fr.yaml", "      withdraw_hint:\n        - '\\bretir\\w*\\b'\n", "")
    tables = load_tables(folder)
    assert tables.withdraw_hint.search("withdraw") and not tables.withdraw_hint.search("retirer")


def test_common_file_is_required(folder):
    (folder / COMMON_FILE).unlink()
    message = _load_error(folder)
    assert message.startswith(f"cannot read {folder / COMMON_FILE}")
