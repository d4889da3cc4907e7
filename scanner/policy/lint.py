"""Lint a privacy or cookie policy against GDPR art. 13 and the CNIL's cookie guidance.

Every check is a small function over the policy text. What it looks for is
data: each rule's metadata and the language-independent patterns live in
rules/policy-lint/common.yaml, the keyword/regex families of each language in
rules/policy-lint/<language>.yaml (en.yaml, fr.yaml), merged, checked and compiled
once by `tables()`, so a compliance officer reviews one language as a YAML diff
and each finding can be explained by pointing at a pattern and a quote. This
module keeps the logic: sentences,
sections, which pattern must appear near which, and the finding messages. The
checks are heuristics: they read words, not intent. A finding quotes the words
it is about (or says what is missing) and gives the 1-based line.

`lint_policy(text, source=...)` returns findings shaped like the scanner's:
    {rule, severity, state: None, page, pages, subject: {kind: "policy", name},
     message, evidence: {quote, line}}
`POLICY_RULES` lists each rule's metadata (id, severity, title, description,
legal_source, remediation). Severity in the metadata is the highest a rule
emits; a finding may be lower (e.g. info when a check can only point at a link).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Iterable, Iterator, NamedTuple, NoReturn

import yaml

from ..errors import UsageError
from ..paths import rules_dir
from ..vocabulary import purposes_for_label as _vocabulary_purposes

Finding = dict[str, Any]

DIR_NAME = "policy-lint"     # rules/policy-lint/: common.yaml, then one file per language
COMMON_FILE = "common.yaml"
SEVERITIES = ("violation", "warning", "info")
META_KEYS = ("severity", "title", "description", "legal_source", "remediation")

_I = re.IGNORECASE | re.MULTILINE
_FLAGS = {"IGNORECASE": re.IGNORECASE, "MULTILINE": re.MULTILINE}


def _family(*patterns: str, flags: int = _I) -> re.Pattern[str]:
    """One regex out of alternatives (kept as a list so each is readable)."""
    return re.compile("|".join(f"(?:{p})" for p in patterns), flags)


def _inline(pattern: re.Pattern[str], flags: int) -> str:
    """`pattern` as an alternative of a family compiled with `flags`, keeping its own case sensitivity."""
    if bool(pattern.flags & re.IGNORECASE) == bool(flags & re.IGNORECASE):
        return pattern.pattern
    return f"(?i:{pattern.pattern})" if pattern.flags & re.IGNORECASE else f"(?-i:{pattern.pattern})"


# --- rule ids, and the tables of rules/policy-lint/ each one owns --------------------------

EMPTY_CONTACT = "policy-empty-contact"
NO_CONTACT_CHANNEL = "policy-no-contact-channel"
CONTROLLER_IDENTITY = "policy-controller-identity"
NO_DPO_CONTACT = "policy-no-dpo-contact"
VAGUE_PURPOSES = "policy-vague-purpose"
NO_LEGAL_BASIS = "policy-no-legal-basis"
LEGITIMATE_INTEREST = "policy-legitimate-interest-unnamed"
RECIPIENTS_UNNAMED = "policy-recipients-unnamed"
UNDISCLOSED_TRANSFER = "policy-undisclosed-transfer"
NO_RETENTION = "policy-no-retention"
RIGHTS_INCOMPLETE = "policy-rights-incomplete"
NO_WITHDRAWAL = "policy-no-withdrawal"
NO_COMPLAINT_RIGHT = "policy-no-complaint-right"
NO_COOKIE_LIST = "policy-no-cookie-list"
NO_COOKIE_REFUSAL = "policy-no-cookie-refusal"
NO_PREFERENCES_LINK = "policy-no-preferences-link"
CATEGORY_MISMATCH = "policy-category-mismatch"
DRAFTING = "policy-drafting"

# Kinds of table: a family of regex alternatives (a list, or {flags, patterns}); a mapping
# of names to families; a mapping of names to one case-insensitive regex; word -> word.
FAMILY, FAMILIES, NAMED_REGEXES, WORDS = "family", "families", "named regexes", "words"
_CHANNELS = {"email": FAMILY, "url": FAMILY, "web_form": FAMILY, "postal": FAMILY}
_RULE_TABLES: dict[str, dict[str, str]] = {
    EMPTY_CONTACT: {"contact_leadins": FAMILY, "email_leadin": FAMILY, "either_or": FAMILY},
    NO_CONTACT_CHANNEL: {},
    CONTROLLER_IDENTITY: {"legal_form": FAMILY, "legal_form_words": FAMILY, "registered": FAMILY,
                          "group_vagueness": FAMILY},
    NO_DPO_CONTACT: {"dpo": FAMILY},
    VAGUE_PURPOSES: {"vague_purpose": FAMILY},
    NO_LEGAL_BASIS: {"legal_basis_term": FAMILY, "legal_basis_name": FAMILY},
    LEGITIMATE_INTEREST: {"li_named": FAMILY, "li_trigger": FAMILY, "objection_context": FAMILY},
    RECIPIENTS_UNNAMED: {"recipient_context": FAMILY, "named_organisations": FAMILY,
                         "generic_recipients": FAMILY},
    UNDISCLOSED_TRANSFER: {"transfer_wording": FAMILY, "safeguards": FAMILY,
                           "non_eea_vendors": NAMED_REGEXES},
    NO_RETENTION: {"retention_context": FAMILY, "retention_heading": FAMILY, "duration": FAMILY,
                   "retention_criteria": FAMILY, "as_long_as_necessary": FAMILY},
    RIGHTS_INCOMPLETE: {"rights": FAMILIES},
    NO_WITHDRAWAL: {"withdrawal": FAMILY, "withdraw_hint": FAMILY},
    NO_COMPLAINT_RIGHT: {"complaint": FAMILY, "authority": FAMILY},
    NO_COOKIE_LIST: {"cookies": FAMILY, "known_cookie_names": FAMILY, "cookie_list_pointer": FAMILY,
                     "cookie_category_hint": FAMILY},
    NO_COOKIE_REFUSAL: {"refusal": FAMILY, "consent_context": FAMILY},
    NO_PREFERENCES_LINK: {"preferences_mention": FAMILY, "link_or_instruction": FAMILY},
    CATEGORY_MISMATCH: {"analytics_words": FAMILY, "marketing_words": FAMILY},
    DRAFTING: {"misspellings": WORDS},
}

# Structural patterns: the shape of text, not vocabulary a reviewer would change.
# A link whose target vanished, leaving an opening bracket: "Contact – X ( or".
DANGLING_BRACKET = re.compile(r"[^\s(]\s\((?:\s+(?=(?:or|ou)\b)|[ \t]*$)", re.I | re.M)
# Anything shaped like a cookie name: "_abc", "__abc", "abc_def" (policy-no-cookie-list).
GENERIC_COOKIE_NAME = re.compile(r"(?<![\w@./-])_{1,2}[A-Za-z][\w-]{1,40}\b|\b[a-z]+(?:_[a-z0-9]+){1,4}\b")
# The GDPR's number inverted ("Regulation (EU) 679/2016"); the message of check_drafting names the right one.
WRONG_GDPR_NUMBER = re.compile(r"(?:\b(?:EC|EU|CE|UE) {1,3})?(?:\b(?:Regulation|[Rr]èglement) {0,3})?"
                               r"(?:\((?:EU|EC|UE|CE)\) {0,3})?(?:No\.? {0,3}|n° {0,3})?\b679 {0,3}/ {0,3}2016\b")


# --- loading rules/policy-lint/ -------------------------------------------------------------

class PolicyTables(SimpleNamespace):
    """rules/policy-lint/, merged, checked and compiled.

    `rules` maps each rule id to its metadata (id, severity, title, description, legal_source,
    remediation); every table is an attribute named as in the files: `email`, `contact_leadins`
    (compiled families), `rights` (name -> compiled family), `non_eea_vendors` (name -> compiled
    regex), `misspellings` (wrong -> right). Two families are completed here:
    `link_or_instruction` also matches any `url`, and `named_organisations` also matches every
    `non_eea_vendors` pattern and any `legal_form`.
    """


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):
    """A safe loader (libyaml's when present) that refuses a key given twice; PyYAML's keeps the last."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} given twice", key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


@lru_cache(maxsize=1)
def tables() -> PolicyTables:
    """The linter's tables, from the rules/ folder (read once)."""
    return load_tables(rules_dir() / DIR_NAME)


def table_files(folder: str | Path) -> list[Path]:
    """The files of a tables folder in merge order: common.yaml, then the language files by name."""
    folder = Path(folder)
    return [folder / COMMON_FILE] + sorted(p for p in folder.glob("*.yaml") if p.name != COMMON_FILE)


def load_tables(path: str | Path) -> PolicyTables:
    """Read, check, merge and compile the linter's tables; a UsageError names the file and the key.

    `path` is a folder (rules/policy-lint/): common.yaml holds every rule's metadata and the
    patterns no language owns, and each other *.yaml file (en.yaml, fr.yaml...) adds its patterns
    to the tables it names. Or `path` is one file holding everything, shaped as common.yaml.
    Every table must end up with patterns from some file.
    """
    path = Path(path)
    files = table_files(path) if path.is_dir() else [path]
    merged = _Merged()
    for i, file in enumerate(files):
        _TableReader(file, common=i == 0).read(_read_yaml(file), merged)
    return merged.compile(path)


def _read_yaml(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        raise UsageError(f"{path}{where}: invalid YAML: {getattr(exc, 'problem', None) or exc}") from None


class _Alternatives(NamedTuple):
    """A family as written: its alternatives and flags, compiled by `_family` once merged."""
    patterns: list[str]
    flags: int


class _Merged:
    """The tables as the files give them, merged in file order; `origin` says which file gave what."""

    def __init__(self) -> None:
        self.rules: dict[str, dict[str, str]] = {}
        self.raw: dict[str, Any] = {}
        self.origin: dict[tuple[str, ...], Path] = {}   # (table,) or (table, name) -> the file that gave it

    def add(self, reader: _TableReader, where: str, key: str, kind: str, value: Any) -> None:
        if kind in (NAMED_REGEXES, WORDS):
            for name in value:
                if (key, name) in self.origin:
                    reader.fail(f"{where}.{name}", f"already given by {self.origin[(key, name)]}")
                self.origin[(key, name)] = reader.path
        if key not in self.raw:
            self.raw[key], self.origin[(key,)] = value, reader.path
        elif kind == FAMILY:
            self.raw[key] = self._join(reader, where, key, self.raw[key], value)
        elif kind == FAMILIES:
            for name, family in value.items():
                known = self.raw[key].get(name)
                self.raw[key][name] = family if known is None else self._join(
                    reader, f"{where}.{name}", key, known, family)
        else:  # NAMED_REGEXES, WORDS: each entry from one file (checked above)
            self.raw[key].update(value)

    def _join(self, reader: _TableReader, where: str, key: str, known: _Alternatives,
              more: _Alternatives) -> _Alternatives:
        if known.flags != more.flags:
            reader.fail(where, f"flags {_flag_names(more.flags)} differ from {_flag_names(known.flags)} "
                               f"given with the table in {self.origin[(key,)]}: write the same flags in every file")
        return _Alternatives(known.patterns + more.patterns, known.flags)

    def compile(self, path: Path) -> PolicyTables:
        for where, tables_ in [("channels", _CHANNELS)] + [
                (f"rules.{rule_id}.patterns", schema) for rule_id, schema in _RULE_TABLES.items()]:
            for key in tables_:
                if key not in self.raw:
                    elsewhere = " (no file of the folder gives it)" if path.is_dir() else ""
                    raise UsageError(f"{path}: {where}: missing key {key!r}{elsewhere}")
        problems = []
        for key, value in self.raw.items():
            families = value.items() if isinstance(value, dict) else [(None, value)]
            for name, family in families:
                if isinstance(family, _Alternatives):
                    try:
                        _family(*family.patterns, flags=family.flags)
                    except re.error as exc:
                        problems.append(f"{key}{'.' + name if name else ''}: the alternatives of the files "
                                        f"do not compile together: {exc}")
        if problems:
            raise UsageError(f"{path}: {problems[0]}")
        return _compile(self.rules, self.raw)


def _flag_names(flags: int) -> str:
    return "[" + ", ".join(name for name, flag in _FLAGS.items() if flags & flag) + "]"


class _TableReader:
    """Checks one parsed file against _CHANNELS and _RULE_TABLES; `fail` names the file and the key.

    The common file (or a whole-tables file) gives every rule's metadata; a language file only
    `channels` and rules' `patterns`, each table optional.
    """

    def __init__(self, path: Path, *, common: bool = True) -> None:
        self.path = path
        self.common = common

    def fail(self, where: str, problem: str) -> NoReturn:
        raise UsageError(f"{self.path}: {where}: {problem}" if where else f"{self.path}: {problem}")

    def mapping(self, where: str, node: Any, keys: Iterable[str], optional: Iterable[str] = ()) -> dict[str, Any]:
        """`node`, a mapping with exactly `keys`, and maybe some of `optional` (an empty entry has none)."""
        keys, optional = list(keys), list(optional)
        node = {} if node is None else node
        if not isinstance(node, dict):
            self.fail(where, f"expected a mapping with keys {', '.join(keys + optional) or '(none)'}")
        for key in keys:
            if key not in node:
                self.fail(where, f"missing key {key!r}")
        for key in node:
            if key not in keys and key not in optional:
                self.fail(where, f"unknown key {key!r} (expected: {', '.join(keys + optional) or 'none'})")
        return node

    def regex(self, where: str, node: Any, flags: int) -> re.Pattern[str]:
        if not isinstance(node, str) or not node:
            self.fail(where, "expected a regular expression (a quoted string)")
        try:
            pattern = re.compile(node, flags)
        except re.error as exc:
            self.fail(where, f"bad regular expression '{node}': {exc}")
        if pattern.match(""):
            self.fail(where, f"regular expression '{node}' matches empty text, so it matches everywhere")
        return pattern

    def family(self, where: str, node: Any) -> _Alternatives:
        """The alternatives of a family and its flags (by default case-insensitive, multi-line)."""
        flags = _I
        if isinstance(node, dict):
            self.mapping(where, node, ("flags", "patterns"))
            names = node["flags"]
            if not isinstance(names, list) or not all(isinstance(n, str) and n in _FLAGS for n in names):
                self.fail(f"{where}.flags", f"expected a list of flags among {', '.join(_FLAGS)}")
            flags = 0
            for name in names:
                flags |= _FLAGS[name]
            where, node = f"{where}.patterns", node["patterns"]
        if not isinstance(node, list) or not node:
            self.fail(where, "expected a non-empty list of regular expressions")
        problem = ""
        try:
            if _family(*map(str, node), flags=flags).match(""):
                problem = "matches empty text, so it matches everywhere"
        except re.error as exc:
            problem = f"the alternatives do not compile together: {exc}"
        if problem or not all(isinstance(p, str) and p for p in node):
            for i, alternative in enumerate(node):  # name the alternative at fault
                self.regex(f"{where}[{i}]", alternative, flags)
            self.fail(where, problem)
        return _Alternatives(list(node), flags)

    def named(self, where: str, node: Any) -> dict[str, Any]:
        if not isinstance(node, dict) or not node:
            self.fail(where, "expected a non-empty mapping")
        for name in node:
            if not isinstance(name, str) or not name.strip():
                self.fail(where, f"expected names as keys, got {name!r}")
        return node

    def table(self, where: str, kind: str, node: Any) -> Any:
        if kind == FAMILY:
            return self.family(where, node)
        if kind == FAMILIES:
            return {name: self.family(f"{where}.{name}", value) for name, value in self.named(where, node).items()}
        if kind == NAMED_REGEXES:
            return {name: self.regex(f"{where}.{name}", value, re.IGNORECASE)
                    for name, value in self.named(where, node).items()}
        words = self.named(where, node)
        for wrong, right in words.items():
            if not isinstance(right, str) or not right:
                self.fail(f"{where}.{wrong}", "expected the right spelling (a string)")
        return dict(words)

    def read(self, data: Any, merged: _Merged) -> None:
        """Check this file and add what it gives to `merged`."""
        if self.common:
            doc = self.mapping("", data, ("channels", "rules"))
        else:
            doc = self.mapping("", data, (), ("channels", "rules"))
        channels = self.mapping("channels", doc.get("channels"), (), _CHANNELS)
        for key, value in channels.items():
            where = f"channels.{key}"
            merged.add(self, where, key, _CHANNELS[key], self.table(where, _CHANNELS[key], value))
        if self.common:
            rules = self.mapping("rules", doc["rules"], _RULE_TABLES)
        else:
            rules = self.mapping("rules", doc.get("rules"), (), _RULE_TABLES)
        for rule_id, rule in rules.items():
            where, schema = f"rules.{rule_id}", _RULE_TABLES[rule_id]
            optional = ("patterns",) if schema else ()
            if self.common:
                rule = self.mapping(where, rule, META_KEYS, optional)
                self._metadata(where, rule_id, rule, merged)
            else:
                for key in META_KEYS:
                    if isinstance(rule, dict) and key in rule:
                        self.fail(f"{where}.{key}", f"rule metadata belongs in {COMMON_FILE}; "
                                                    "a language file only adds patterns")
                rule = self.mapping(where, rule, (), optional)
            if "patterns" in rule:
                patterns = self.mapping(f"{where}.patterns", rule["patterns"], (), schema)
                for key, value in patterns.items():
                    at = f"{where}.patterns.{key}"
                    merged.add(self, at, key, schema[key], self.table(at, schema[key], value))

    def _metadata(self, where: str, rule_id: str, rule: dict[str, Any], merged: _Merged) -> None:
        for key in META_KEYS:
            if not isinstance(rule[key], str) or not rule[key].strip():
                self.fail(f"{where}.{key}", "expected text")
        if rule["severity"] not in SEVERITIES:
            self.fail(f"{where}.severity", f"expected one of {', '.join(SEVERITIES)}, got {rule['severity']!r}")
        merged.rules[rule_id] = {"id": rule_id, **{key: rule[key] for key in META_KEYS}}


def _compile(rules: dict[str, dict[str, str]], raw: dict[str, Any]) -> PolicyTables:
    def compiled_family(value: Any) -> Any:
        if isinstance(value, _Alternatives):
            return _family(*value.patterns, flags=value.flags)
        if isinstance(value, dict) and value and all(isinstance(v, _Alternatives) for v in value.values()):
            return {name: _family(*v.patterns, flags=v.flags) for name, v in value.items()}
        return value

    compiled = {key: compiled_family(value) for key, value in raw.items()}
    words, flags = raw["link_or_instruction"]
    compiled["link_or_instruction"] = _family(_inline(compiled["url"], flags), *words, flags=flags)
    names, flags = raw["named_organisations"]
    compiled["named_organisations"] = _family(*(_inline(p, flags) for p in raw["non_eea_vendors"].values()),
                                              *names, _inline(compiled["legal_form"], flags), flags=flags)
    return PolicyTables(rules={rule_id: rules[rule_id] for rule_id in _RULE_TABLES}, **compiled)


# --- the document ----------------------------------------------------------------

SENTENCE_MAX = 1500  # a "sentence" never reaches further than this from its match
MAX_MATCHES = 200    # occurrences examined (and reported) per pattern and rule

@dataclass(frozen=True)
class _Doc:
    text: str
    source: str

    def line(self, pos: int) -> int:
        return self.text.count("\n", 0, max(0, pos)) + 1

    def sentence(self, pos: int, end: int | None = None) -> tuple[int, int]:
        """Bounds of the sentence (or line) around text[pos:end]."""
        end = pos if end is None else end
        lo, hi = max(0, pos - SENTENCE_MAX), min(len(self.text), end + SENTENCE_MAX)
        starts = [self.text.rfind(c, lo, pos) for c in (". ", "! ", "? ", "\n", "; ")]
        start = max(starts)
        start = lo if start < 0 else start + (1 if self.text[start] == "\n" else 2)
        stops = [i for i in (self.text.find(c, end, hi) for c in (". ", ".\n", "\n", "; ")) if i >= 0]
        stop = min(stops) + 1 if stops else hi
        return start, stop

    def quote(self, start: int, end: int, limit: int = 200) -> str:
        """The words of text[start:end], never starting or ending mid-word."""
        if 0 < start < end and not self.text[start - 1].isspace():  # cut inside a word
            space = self.text.find(" ", start, end)
            start = space + 1 if space >= 0 else start
        if start < end < len(self.text) and not self.text[end].isspace():
            space = self.text.rfind(" ", start, end)
            end = space if space > start else end
        words = " ".join(self.text[start:end].split())
        return words if len(words) <= limit else words[: limit - 1].rstrip() + "…"

    def sentence_quote(self, start: int, end: int, limit: int = 200) -> str:
        s, e = self.sentence(start, end)
        if e - s > limit:  # centre the quote on the match
            s = max(s, start - (limit - (end - start)) // 2)
            e = min(e, s + limit)
        return self.quote(s, e, limit).rstrip(" ;")

    def paragraph_after(self, pos: int, limit: int = 400) -> str:
        stop = self.text.find("\n\n", pos)
        stop = len(self.text) if stop < 0 else stop
        return self.text[pos:min(stop, pos + limit)]

    def finding(self, rule: str, name: str, message: str, quote: str = "",
                line: int | None = None, severity: str | None = None) -> Finding:
        return {"rule": rule, "severity": severity or tables().rules[rule]["severity"], "state": None,
                "page": self.source, "pages": [self.source],
                "subject": {"kind": "policy", "name": name}, "message": message,
                "evidence": {"quote": quote, "line": line}}

    def finding_at(self, rule: str, name: str, message: str, match: re.Match[str] | None,
                   severity: str | None = None) -> Finding:
        if match is None:
            return self.finding(rule, name, message, severity=severity)
        return self.finding(rule, name, message, self.sentence_quote(match.start(), match.end()),
                            self.line(match.start()), severity)


def _matches(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """At most MAX_MATCHES matches: a real policy has far fewer; a hostile page stays fast."""
    return islice(pattern.finditer(text), MAX_MATCHES)


def _has_channel(snippet: str) -> bool:
    t = tables()
    return bool(t.email.search(snippet) or t.url.search(snippet) or t.web_form.search(snippet))


# --- checks -------------------------------------------------------------------

def _contact_subject(context: str) -> str:
    t = tables()
    low = context.lower()
    if t.dpo.search(context):
        return "DPO contact"
    if "complaint" in low or "réclamation" in low or "compromised" in low:
        return "complaints contact e-mail"
    if "cookie" in low:
        return "cookie management contact"
    if "right" in low or "droit" in low:
        return "rights contact e-mail"
    return "contact address"


def check_empty_contact(doc: _Doc) -> list[Finding]:
    t = tables()
    out: list[Finding] = []
    for m in _matches(t.contact_leadins, doc.text):
        after = doc.text[m.end():m.end() + 300]
        if t.email_leadin.search(m.group(0)):
            if _has_channel(after.lstrip()[:80]):
                continue
        elif t.postal.search(after[:250]) or _has_channel(after[:250]):
            continue
        s, _ = doc.sentence(m.start(), m.end())
        tail = " ".join(after.split("\n", 1)[0].split()[:2])  # what actually follows, if anything
        quote = doc.quote(max(s, m.start() - 120), m.end()) + (f" {tail}" if tail else "")
        follows = f'is followed by "{tail}…"' if tail else "is followed by nothing"
        out.append(doc.finding(EMPTY_CONTACT, _contact_subject(doc.text[s:m.end()]),
                               f'"{" ".join(m.group(0).split())}" {follows}: the address is missing.',
                               quote, doc.line(m.start())))
    for m in _matches(t.either_or, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        out.append(doc.finding(EMPTY_CONTACT, _contact_subject(doc.text[s:e]),
                               f'"{m.group(0)}" has nothing between its alternatives: the contact details were left out.',
                               doc.sentence_quote(m.start(), m.end()), doc.line(m.start())))
    for m in _matches(DANGLING_BRACKET, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        out.append(doc.finding(EMPTY_CONTACT, _contact_subject(doc.text[s:e]),
                               "An opening bracket is followed by nothing: a link or address was lost here.",
                               doc.quote(max(s, m.start() - 60), min(e, m.end() + 25)), doc.line(m.start())))
    return sorted(out, key=lambda f: f["evidence"]["line"] or 0)


def check_contact_channel(doc: _Doc) -> list[Finding]:
    t = tables()
    if t.email.search(doc.text) or t.web_form.search(doc.text):
        return []
    return [doc.finding(NO_CONTACT_CHANNEL, "privacy contact",
                        "No e-mail address or web form appears anywhere in the policy.")]


def check_controller_identity(doc: _Doc) -> list[Finding]:
    t = tables()
    has_form = bool(t.legal_form.search(doc.text) or t.legal_form_words.search(doc.text))
    has_seat = bool(t.registered.search(doc.text))
    if has_form and has_seat:
        return []
    missing = [w for w, ok in (("legal form", has_form), ("registered address", has_seat)) if not ok]
    return [doc.finding_at(CONTROLLER_IDENTITY, "controller identity",
                           f"The policy does not give the controller's {' or '.join(missing)}.",
                           t.group_vagueness.search(doc.text))]


def check_dpo_contact(doc: _Doc) -> list[Finding]:
    t = tables()
    mentions = list(_matches(t.dpo, doc.text))
    if not mentions:
        return [doc.finding(NO_DPO_CONTACT, "DPO contact",
                            "No data protection officer is mentioned; fine if none is designated, otherwise "
                            "give their contact details.", severity="info")]
    postal_only: re.Match[str] | None = None
    for m in mentions:
        window = doc.text[max(0, m.start() - 150):m.end() + 400]
        if _has_channel(window):
            return []
        s, e = doc.sentence(m.start(), m.end())
        if postal_only is None and e - s >= 30 and t.postal.search(doc.text[m.end():m.end() + 250]):
            postal_only = m  # quote a sentence, not the "Contact DPO" heading
    if postal_only is not None:
        return [doc.finding_at(NO_DPO_CONTACT, "DPO contact e-mail",
                               "The data protection officer can only be reached by post: no e-mail address or "
                               "web form is given.", postal_only)]
    return [doc.finding_at(NO_DPO_CONTACT, "DPO contact e-mail",
                           "The data protection officer is mentioned but no way to contact them is given.",
                           mentions[0])]


def check_vague_purposes(doc: _Doc) -> list[Finding]:
    t = tables()
    return [doc.finding(VAGUE_PURPOSES, "purposes",
                        f'"{" ".join(m.group(0).split())}" is an open-ended purpose or data category.',
                        doc.sentence_quote(m.start(), m.end()), doc.line(m.start()))
            for m in _matches(t.vague_purpose, doc.text)]


def check_legal_basis(doc: _Doc) -> list[Finding]:
    t = tables()
    if t.legal_basis_term.search(doc.text):
        return []
    passing = t.legal_basis_name.search(doc.text)
    if passing:
        return [doc.finding_at(NO_LEGAL_BASIS, "legal basis per purpose",
                               "Legal bases are only mentioned in passing and never linked to the purposes "
                               "they cover.", passing)]
    return [doc.finding(NO_LEGAL_BASIS, "legal basis per purpose",
                        "The policy never states the legal basis of any processing.")]


def check_legitimate_interest(doc: _Doc) -> list[Finding]:
    t = tables()
    if t.li_named.search(doc.text):
        return []
    for m in _matches(t.li_trigger, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if t.objection_context.search(doc.text[s:e]):
            continue  # describing the right to object, not relying on the basis
        return [doc.finding_at(LEGITIMATE_INTEREST, "legitimate interests",
                               f'"{m.group(0)}" suggests processing on legitimate interests, but no interest '
                               "is named.", m)]
    return []


def check_recipients(doc: _Doc) -> list[Finding]:
    t = tables()
    first: re.Match[str] | None = None     # any recipient statement
    generic: re.Match[str] | None = None   # "third party service providers", "prestataires"...
    for m in _matches(t.recipient_context, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if t.named_organisations.search(doc.text[s:e + 300]):
            return []
        first = first or m
        generic = generic or t.generic_recipients.search(doc.text, s, e)
    if first is None:
        return [doc.finding(RECIPIENTS_UNNAMED, "recipients",
                            "The policy does not say who receives the data.", severity="info")]
    return [doc.finding_at(RECIPIENTS_UNNAMED, "recipients",
                           "Recipients are described only generically; no company is named.", generic or first)]


def check_transfers(doc: _Doc) -> list[Finding]:
    t = tables()
    transfer = t.transfer_wording.search(doc.text)
    safeguard = t.safeguards.search(doc.text)
    if transfer and safeguard:
        return []
    if transfer:
        return [doc.finding_at(UNDISCLOSED_TRANSFER, "third-country transfer safeguards",
                               "Transfers outside the EEA are mentioned without saying which safeguard covers them.",
                               transfer)]
    if safeguard:
        return []
    for name, pattern in t.non_eea_vendors.items():
        m = pattern.search(doc.text)
        if m:
            return [doc.finding_at(UNDISCLOSED_TRANSFER, f"transfer to {name}",
                                   f"{name} (established outside the EEA) is named, but the policy never "
                                   "mentions transfers outside the EU/EEA or their safeguards.", m)]
    return []


def check_retention(doc: _Doc) -> list[Finding]:
    t = tables()
    for m in _matches(t.retention_context, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if t.duration.search(doc.text[s:e + 200]) or t.retention_criteria.search(doc.text[s:e + 200]):
            return []
    for m in _matches(t.retention_heading, doc.text):
        if t.duration.search(doc.text[m.end():m.end() + 1500]):
            return []
    hint = t.as_long_as_necessary.search(doc.text) or t.retention_context.search(doc.text)
    return [doc.finding_at(NO_RETENTION, "retention periods",
                           "No retention period or criterion is given; the policy only says data is kept as long "
                           "as necessary." if hint and t.as_long_as_necessary.search(doc.text) else
                           "No retention period or criterion is given.", hint)]


def check_rights(doc: _Doc) -> list[Finding]:
    t = tables()
    missing = [name for name, pattern in t.rights.items() if not pattern.search(doc.text)]
    if not missing:
        return []
    return [doc.finding(RIGHTS_INCOMPLETE, "data-subject rights",
                        f"The policy does not mention the right(s) of {', '.join(missing)}.")]


def check_withdrawal(doc: _Doc) -> list[Finding]:
    t = tables()
    if t.withdrawal.search(doc.text):
        return []
    hint = t.withdraw_hint.search(doc.text)
    return [doc.finding_at(NO_WITHDRAWAL, "withdrawal of consent",
                           "The policy never says that consent can be withdrawn at any time, or how.", hint)]


def check_complaint(doc: _Doc) -> list[Finding]:
    t = tables()
    if t.complaint.search(doc.text) and t.authority.search(doc.text):
        return []
    return [doc.finding(NO_COMPLAINT_RIGHT, "right to lodge a complaint",
                        "The policy does not mention the right to lodge a complaint with the CNIL or another "
                        "supervisory authority.")]


def _cookie_names(text: str) -> list[str]:
    t = tables()
    prose = t.url.sub(" ", t.email.sub(" ", text))
    found = [m.group(0) for m in _matches(t.known_cookie_names, prose)]
    found += [m.group(0) for m in _matches(GENERIC_COOKIE_NAME, prose)]
    return found


def check_cookie_list(doc: _Doc) -> list[Finding]:
    t = tables()
    if not t.cookies.search(doc.text):
        return []
    names, durations = _cookie_names(doc.text), t.duration.search(doc.text)
    if names and durations:
        return []
    missing = " and ".join(w for w, ok in (("names", names), ("durations", durations)) if not ok)
    for m in _matches(t.cookie_list_pointer, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if t.url.search(doc.text[s:e + 120]):
            return [doc.finding_at(NO_COOKIE_LIST, "cookie list",
                                   f"No cookie {missing} are listed here; check the linked cookie page.", m,
                                   severity="info")]
    hint = t.cookie_list_pointer.search(doc.text) or t.cookie_category_hint.search(doc.text)
    return [doc.finding_at(NO_COOKIE_LIST, "cookie list",
                           f"The policy describes cookies but lists no cookie {missing}.", hint)]


def check_cookie_refusal(doc: _Doc) -> list[Finding]:
    t = tables()
    if not t.cookies.search(doc.text):
        return []
    for m in _matches(t.refusal, doc.text):
        s, e = doc.sentence(m.start(), m.end())
        if t.cookies.search(doc.text[s:e]) or t.consent_context.search(doc.text[s:e]):
            return []
    return [doc.finding_at(NO_COOKIE_REFUSAL, "refusing cookies",
                           "The policy never says that cookies can be refused or what refusing changes.",
                           t.preferences_mention.search(doc.text) or t.cookies.search(doc.text))]


def check_preferences_link(doc: _Doc) -> list[Finding]:
    t = tables()
    mentions = list(_matches(t.preferences_mention, doc.text))
    if not mentions:
        return []
    for m in mentions:
        s, _ = doc.sentence(m.start(), m.end())
        if t.link_or_instruction.search(doc.text[s:m.start()] + doc.paragraph_after(m.start())):
            return []
    return [doc.finding_at(NO_PREFERENCES_LINK, "cookie preferences link",
                           f'"{mentions[0].group(0)}" is mentioned but no link or instruction says how to open it.',
                           mentions[0])]


def purposes_for_label(label: str) -> list[str]:
    """Standard purposes (necessary|preferences|analytics|marketing|media) a category label names.

    Delegates to the shared vocabulary (rules/categories.yaml, five languages), so the linter,
    the importer and the consent engine read labels the same way.
    """
    return _vocabulary_purposes(label)


_LABEL_LINE = re.compile(r"^(?:[•*\-–]\s*|\d+(?:\.\d+)*\.?\s+)?(?P<label>[^\n:–—.]{2,70}?)\s*(?:[:–—]\s+(?P<body>.+))?$")


@dataclass(frozen=True)
class _Section:
    label: str
    purposes: tuple[str, ...]
    start: int  # offset of the body
    body: str


def _category_sections(doc: _Doc) -> list[_Section]:
    """Cookie-category headings ("Marketing Cookies", "• Cookies de mesure d'audience : …") and their text."""
    t = tables()
    sections: list[_Section] = []
    offset = 0
    lines = doc.text.split("\n")
    for i, line in enumerate(lines):
        here, offset = offset, offset + len(line) + 1
        if len(line) > 400 or "|" in line:  # "|" = a table row, not a heading
            continue
        m = _LABEL_LINE.match(line.strip())
        if not m:
            continue
        label = m.group("label").strip()
        purposes = purposes_for_label(label)
        standalone = m.group("body") is None
        cookieish = t.cookies.search(label) or (standalone and len(label.split()) <= 3)
        if not purposes or not cookieish or (standalone and line.rstrip().endswith((".", ",", ";"))):
            continue
        if m.group("body"):
            body, start = m.group("body"), here + line.index(m.group("body"))
        else:
            body, start = _body_after(lines, i + 1), offset
        sections.append(_Section(label, tuple(purposes), start, body))
    return sections


def _body_after(lines: list[str], j: int, max_paragraphs: int = 2, max_chars: int = 1500) -> str:
    """Paragraphs after a heading, up to the next heading-like short line."""
    out: list[str] = []
    paragraphs = size = 0
    for k in range(j, len(lines)):
        line = lines[k]
        stripped = line.strip()
        if not stripped:
            if out and out[-1]:
                paragraphs += 1
                if paragraphs >= max_paragraphs:
                    break
            out.append("")
            continue
        if len(stripped) <= 70 and not stripped.endswith((".", ",", ";", ":")) and size:
            break  # next heading
        out.append(line)
        size += len(line)
        if size > max_chars:
            break
    return "\n".join(out).rstrip("\n")  # leading blank lines kept: offsets stay exact


def check_category_mismatch(doc: _Doc) -> list[Finding]:
    t = tables()
    out: list[Finding] = []
    for sec in _category_sections(doc)[:MAX_MATCHES]:
        analytics = [m for m in _matches(t.analytics_words, sec.body)]
        marketing = [m for m in _matches(t.marketing_words, sec.body)]
        offending: list[re.Match[str]] = []
        what, severity = "", "violation"
        if "necessary" in sec.purposes and (analytics or marketing):
            offending, what = analytics + marketing, "measurement or advertising, which needs consent"
        elif "marketing" in sec.purposes and "analytics" not in sec.purposes and analytics and not marketing:
            offending, what = analytics, "audience statistics, not advertising"
        elif "preferences" in sec.purposes and "analytics" not in sec.purposes and analytics:
            offending, what = analytics, "audience measurement, not functionality"
        elif sec.purposes == ("analytics",) and marketing:
            offending, what, severity = marketing, "advertising as well as measurement", "warning"
        if not offending:
            continue
        first = min(offending, key=lambda m: m.start())
        pos = sec.start + first.start()
        words = list(dict.fromkeys(" ".join(m.group(0).split()) for m in sorted(offending, key=lambda m: m.start())))
        out.append(doc.finding(
            CATEGORY_MISMATCH, f"{sec.label} category",
            f'The "{sec.label}" category describes {what} ({", ".join(repr(w) for w in words[:4])}).',
            doc.sentence_quote(pos, pos + len(first.group(0))), doc.line(pos), severity))
    return out


def check_drafting(doc: _Doc) -> list[Finding]:
    t = tables()
    out: list[Finding] = []
    for m in _matches(WRONG_GDPR_NUMBER, doc.text):
        cited = " ".join(m.group(0).split())
        out.append(doc.finding(DRAFTING, "GDPR citation",
                               f'"{cited}" inverts the GDPR\'s number: it is Regulation (EU) 2016/679.',
                               doc.sentence_quote(m.start(), m.end()), doc.line(m.start())))
    for wrong, right in t.misspellings.items():
        hits = list(re.finditer(rf"\b{re.escape(wrong)}\b", doc.text, re.I))
        if hits:
            times = f" ({len(hits)} times)" if len(hits) > 1 else ""
            out.append(doc.finding(DRAFTING, "spelling", f'"{hits[0].group(0)}" should be "{right}"{times}.',
                                   doc.sentence_quote(hits[0].start(), hits[0].end()), doc.line(hits[0].start())))
    return out


# --- registry --------------------------------------------------------------------

Check = Callable[[_Doc], list[Finding]]
_CHECKS: tuple[tuple[str, Check], ...] = (  # the order findings come in
    (EMPTY_CONTACT, check_empty_contact),
    (NO_CONTACT_CHANNEL, check_contact_channel),
    (CONTROLLER_IDENTITY, check_controller_identity),
    (NO_DPO_CONTACT, check_dpo_contact),
    (VAGUE_PURPOSES, check_vague_purposes),
    (NO_LEGAL_BASIS, check_legal_basis),
    (LEGITIMATE_INTEREST, check_legitimate_interest),
    (RECIPIENTS_UNNAMED, check_recipients),
    (UNDISCLOSED_TRANSFER, check_transfers),
    (NO_RETENTION, check_retention),
    (RIGHTS_INCOMPLETE, check_rights),
    (NO_WITHDRAWAL, check_withdrawal),
    (NO_COMPLAINT_RIGHT, check_complaint),
    (NO_COOKIE_LIST, check_cookie_list),
    (NO_COOKIE_REFUSAL, check_cookie_refusal),
    (NO_PREFERENCES_LINK, check_preferences_link),
    (CATEGORY_MISMATCH, check_category_mismatch),
    (DRAFTING, check_drafting),
)
POLICY_RULES: list[dict[str, str]] = [dict(tables().rules[rule_id]) for rule_id, _ in _CHECKS]


def lint_policy(text: str, *, source: str = "", rules: Iterable[str] | None = None) -> list[Finding]:
    """Findings for a policy text; `rules` restricts the run to some rule ids."""
    wanted = set(rules) if rules is not None else None
    doc = _Doc(text.replace("\r\n", "\n").replace("\r", "\n"), source)
    findings: list[Finding] = []
    for rule_id, check in _CHECKS:
        if wanted is None or rule_id in wanted:
            findings.extend(check(doc))
    return findings
