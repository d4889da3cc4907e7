"""The languages of the human-facing reports (report.html, summary.md, report.xlsx): English and French.

English is the source: it is written in the code and the templates, as message ids
(`_("What to fix first")`), and a report in English is exactly what those say. French lives in
one reviewable data file, rules/i18n/fr.yaml:

    ui        English message id -> French (labels, headings, sentences; `{name}` placeholders)
    months    the 12 month abbreviations of a date
    states    consent state name (`only:` for every only:<category>) -> label, hint, when
    codes     the contract's codes shown to a reader (category, party, kind...) -> French
    rules     audit id -> title, description, remediation (report.json `audits[]` texts)
    legal     connecting words and glosses of a legal source -> French (the citations stay)

    _ = translator("fr")
    _("What to fix first")                          # "À corriger en priorité"
    _("Cookie compliance: {site}", site=host)       # the site's text goes in as a value
    _.n("{n} page", "{n} pages", 3)                 # French: 0 and 1 are singular
    _.code("category", "analytics")                 # "mesure d'audience"; unknown codes as they are
    _.rule(audit, "title")                          # by audit id, English from report.json if missing
    choose_lang(option, locale)                     # "--lang" wins, else a locale "fr…", else English

A message missing from fr.yaml falls back to English and is remembered in `missing`
(tests/test_report_i18n.py fails on it, and on a message id used in the code or the templates
that fr.yaml lacks). A translation is plain text, never markup: every renderer escapes it as it
escapes the site's strings (Jinja autoescape, md_escape), and values are inserted with
str.format into the translated text, never parsed as a template.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from .. import consent_states
from ..paths import rules_dir

SUPPORTED = ("en", "fr")
DEFAULT = "en"
ENGLISH_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
RULE_FIELDS = ("title", "description", "remediation")


def N_(msgid: str) -> str:
    """Marks an English message id translated later (`_(VERDICTS[v])`), so the key test finds it."""
    return msgid


# The codes of the contract a reader sees, by what they name: shown as they are in English,
# translated by fr.yaml `codes`. Codes outside these lists (a future vendor type) stay as they are.
CODES: dict[str, tuple[str, ...]] = {
    # consent categories, then the vendor types of rules/vendors.json a request may carry
    "category": ("necessary", "preferences", "analytics", "marketing", "media", "unknown",
                 "ad", "cdn", "consent-provider", "content", "customer-success", "hosting", "other", "social",
                 "tag-manager", "utility", "video"),
    "category_source": ("declared", "declared-vendor", "known", "vendor", "cmp-record", "unknown"),
    "party": ("first", "third"),
    "set_by": ("header", "script", "unknown"),
    "storage_kind": ("local", "session", "indexeddb"),
    "subject_kind": ("cookie", "storage", "request", "script", "banner", "policy", "category"),
    "embed": ("video", "map", "social", "audio", "font", "captcha"),   # rules/embeds.yaml kinds
    "severity": ("violation", "warning", "info"),
    "baseline": ("new", "unchanged", "gone"),
    "inventory": ("cookies", "storage", "vendors"),
    "verdict": ("pass", "violations", "warnings", "incomplete"),
}

# How a state was proved (report.json states[].proof.by), as consent_states.PROOF_KINDS says it.
PROOF_WORDS = {
    "nothing-clicked": N_("nothing clicked"),
    "cmp-record": N_("the consent manager's record"),
    "tc-string": N_("the IAB TC string"),
    "stored-choice": N_("the choice the click stored"),
    "toggles-readback": N_("read-back of the toggles"),
}

# scanner/audits/causes.py: what a cause's label says, and when its findings happen.
_CAUSE_NOUNS = {
    "video embed": N_("{name} video embed"), "map embed": N_("{name} map embed"),
    "social widget": N_("{name} social widget"), "audio player": N_("{name} audio player"),
    "web fonts": N_("{name} web fonts"), "CAPTCHA": N_("{name} CAPTCHA"),
    "embed": N_("{name} embed"), "tag": N_("{name} tag"),
}
_CAUSE_FIXED = {
    "an unknown source": N_("an unknown source"),
    "the privacy and cookie policy text": N_("the privacy and cookie policy text"),
}
_SITE_SCRIPT = re.compile(r"the site's script (?P<path>.*)", re.S)
_SITE_SERVER = re.compile(r"the site's pages and server \((?P<host>.*)\)", re.S)
_REFUSED_CATEGORY = N_("in a category the visitor refused")
_ITEM_WORDS = (("cookie", N_("{n} cookie"), N_("{n} cookies")),
               ("storage", N_("{n} storage entry"), N_("{n} storage entries")),
               ("request", N_("{n} third-party request"), N_("{n} third-party requests")))
_SEVERITY_COUNTS = {"violation": (N_("{n} violation"), N_("{n} violations")),
                    "warning": (N_("{n} warning"), N_("{n} warnings")),
                    "info": (N_("{n} info"), N_("{n} infos"))}
# matrix.human_duration / scanner.durations.format_duration
_DURATION = re.compile(r"(\d+) (year|month|day)s?")
_DURATION_UNITS = {"year": (N_("{n} year"), N_("{n} years")), "month": (N_("{n} month"), N_("{n} months")),
                   "day": (N_("{n} day"), N_("{n} days"))}
_DURATION_WORDS = {"session": N_("session"), "expired": N_("expired"), "unknown": N_("unknown"),
                   "persistent (until cleared)": N_("persistent (until cleared)")}


def i18n_file(lang: str) -> Path:
    return rules_dir() / "i18n" / f"{lang}.yaml"


@lru_cache(maxsize=None)
def load_messages(lang: str) -> dict[str, Any]:
    """fr.yaml as read (every section present, possibly empty); {} sections for English."""
    if lang == DEFAULT:
        data: dict[str, Any] = {}
    else:
        data = yaml.safe_load(i18n_file(lang).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{i18n_file(lang)}: expected a mapping")
    return {section: data.get(section) or ({} if section != "months" else []) for section in
            ("ui", "months", "states", "codes", "rules", "legal")}


# --------------------------------------------------------------------------- choosing

def _short(text: str) -> str | None:
    m = re.fullmatch(r"([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)?(?:\.[\w-]+)?(?:@\w+)?", text.strip())
    return m.group(1).lower() if m else None


def choose_lang(option: str | None, locale: str | None) -> str:
    """The report language: the option when given ("en", "fr", also "fr-FR"; ValueError for another
    language), else French when the locale starts with "fr" ("fr_FR.UTF-8"), else English."""
    if option is not None and str(option).strip():
        lang = _short(str(option))
        if lang not in SUPPORTED:
            raise ValueError(f"unknown report language {option!r}; choose one of {', '.join(SUPPORTED)}")
        return lang
    if locale and str(locale).strip().lower().startswith("fr"):
        return "fr"
    return DEFAULT


def env_locale(environ: Mapping[str, str] | None = None) -> str | None:
    """The user's locale for messages, as POSIX reads it: LC_ALL, else LC_MESSAGES, else LANG."""
    environ = os.environ if environ is None else environ
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        if environ.get(name):
            return environ[name]
    return None


# --------------------------------------------------------------------------- translating

class Translator:
    """`_(msgid, **values)` and the lookups of one language; English returns the source as it is."""

    def __init__(self, lang: str) -> None:
        if lang not in SUPPORTED:
            raise ValueError(f"unknown report language {lang!r}; choose one of {', '.join(SUPPORTED)}")
        self.lang = lang
        data = load_messages(lang)
        self._ui: dict[str, str] = data["ui"]
        self._months: list[str] = list(data["months"])
        self._states: dict[str, dict] = data["states"]
        self._codes: dict[str, dict] = data["codes"]
        self._rules: dict[str, dict] = data["rules"]
        legal = sorted(data["legal"].items(), key=lambda kv: -len(kv[0]))
        self._legal = dict(legal)
        self._legal_re = re.compile("|".join(re.escape(k) for k, _ in legal)) if legal else None
        self._when = {}
        for state in consent_states.STATES:
            french = (self._states.get(state.name) or {}).get("when")
            if french and "{category}" not in state.when:
                self._when[state.when] = french
        self.missing: set[str] = set()

    @property
    def english(self) -> bool:
        return self.lang == DEFAULT

    def _text(self, msgid: str) -> str:
        if self.english:
            return msgid
        found = self._ui.get(msgid)
        if not isinstance(found, str):
            self.missing.add(f"ui: {msgid}")
            return msgid
        return found

    def __call__(self, msgid: str, /, **values: Any) -> str:
        """The translation of `msgid`, with `{name}` filled from `values` (inserted as they are)."""
        text = self._text(msgid)
        return text.format(**values) if values else text

    def n(self, singular: str, plural: str, count: int, /, **values: Any) -> str:
        """Singular or plural by `count` (English: 1 is singular; French: 0 and 1), `{n}` = count
        (`n=` in `values` shows it another way, e.g. with thousands separators)."""
        one = count == 1 if self.english else abs(count) < 2
        return self(singular if one else plural, **{"n": count, **values})

    def number(self, count: int) -> str:
        """An integer with the language's thousands separator: 40,000 / 40 000 (narrow no-break space)."""
        return f"{count:,}" if self.english else f"{count:,}".replace(",", "\u202f")

    def code(self, domain: str, value: Any) -> str:
        """A code of the contract as a reader reads it ("analytics" -> "mesure d'audience")."""
        text = "" if value is None else str(value)
        if self.english:
            return text
        found = (self._codes.get(domain) or {}).get(text)
        if found is None and text in CODES.get(domain, ()):
            self.missing.add(f"codes.{domain}: {text}")
        return found if isinstance(found, str) else text

    def month(self, number: int) -> str:
        if self.english or len(self._months) != 12:
            if not self.english:
                self.missing.add("months")
            return ENGLISH_MONTHS[number - 1]
        return str(self._months[number - 1])

    # ---------------------------------------------------------------- rules

    def rule(self, audit: Mapping[str, Any], field: str) -> str:
        """An audit's title, description or remediation (report.json `audits[]`) by its id."""
        english = "" if audit.get(field) is None else str(audit.get(field))
        if self.english:
            return english
        if field == "legal_source":
            return self.legal(english)
        found = (self._rules.get(str(audit.get("id"))) or {}).get(field)
        # a rule this version does not know (a report from another version): its English, as recorded
        return found if isinstance(found, str) else english

    def rule_by_text(self, audits: Mapping[str, Mapping], rule_ids, field: str, english: Any) -> str:
        """The translation of `english`, the `field` of one of `rule_ids`' audits (a cause's remediation)."""
        text = "" if english is None else str(english)
        if self.english:
            return text
        for rid in rule_ids or ():
            audit = audits.get(rid)
            if audit is not None and str(audit.get(field) or "") == text:
                return self.rule(audit, field)
        return text

    def legal(self, text: Any) -> str:
        """A legal source with its connecting words and glosses translated; the citations stay."""
        text = "" if text is None else str(text)
        if self.english or self._legal_re is None:
            return text
        return self._legal_re.sub(lambda m: str(self._legal[m.group(0)]), text)

    # ---------------------------------------------------------------- consent states

    def state_label(self, state: str, category_label: str | None = None) -> str:
        if self.english:
            return consent_states.label(state, category_label)
        category = consent_states.only_category(state)
        known = state in {s.name for s in consent_states.STATES} and state != consent_states.ONLY_PREFIX
        if not known and category is None:
            return state
        key = consent_states.ONLY_PREFIX if category is not None else state
        found = (self._states.get(key) or {}).get("label")
        if not isinstance(found, str):
            self.missing.add(f"states.{key}.label")
            return consent_states.label(state, category_label)
        return found.format(category=category_label or category or "")

    def state_hint(self, state: str) -> str:
        english = consent_states.hint(state)
        if self.english or not english:
            return english
        key = consent_states.ONLY_PREFIX if consent_states.only_category(state) is not None else state
        found = (self._states.get(key) or {}).get("hint")
        if not isinstance(found, str):
            self.missing.add(f"states.{key}.hint")
            return english
        return found

    def when(self, english: Any) -> str:
        """A cause's `when` ('before any consent'...) in this language; unknown phrases as they are."""
        text = "" if english is None else str(english)
        if self.english:
            return text
        if text == _REFUSED_CATEGORY:
            return self(_REFUSED_CATEGORY)
        return self._when.get(text, text)

    def proof_text(self, proof: Mapping | None) -> str:
        """consent_states.proof_text in this language."""
        if self.english:
            return consent_states.proof_text(proof)  # type: ignore[arg-type]
        if not proof:
            return ""
        parts = [self(PROOF_WORDS[str(k)]) if str(k) in PROOF_WORDS else str(k) for k in proof.get("by") or []]
        if proof.get("persistent") is True:
            parts.append(self("a persistent choice (no banner on a new visit)"))
        elif proof.get("persistent") is False:
            parts.append(self("NOT persistent (the banner came back on a new visit)"))
        if not parts:
            return ""
        return parts[0] if len(parts) == 1 else self("{first} and {last}", first=", ".join(parts[:-1]), last=parts[-1])

    def proof_details(self, proof: Mapping | None) -> list[str]:
        """consent_states.proof_details in this language (the TC string's summary stays as recorded)."""
        if self.english:
            return consent_states.proof_details(proof)  # type: ignore[arg-type]
        out = []
        record = (proof or {}).get("record")
        if isinstance(record, dict):
            values = {"type": record.get("type"), "name": repr(str(record.get("name"))), "where": record.get("where")}
            out.append(self("record of the choice: {type} {name} on {where} (written by the click)", **values)
                       if record.get("change") == "added" else
                       self("record of the choice: {type} {name} on {where} (changed by the click)", **values))
        tc = (proof or {}).get("tc_string")
        if isinstance(tc, dict) and tc.get("summary"):
            out.append(str(tc["summary"]))
        return out

    # ---------------------------------------------------------------- causes

    def cause_label(self, cause: Mapping[str, Any], audits: Mapping[str, Mapping] | None = None) -> str:
        """A cause's label (scanner/audits/causes.py) in this language; the vendor, path or host kept."""
        label = "" if cause.get("label") is None else str(cause.get("label"))
        if self.english:
            return label
        kind = cause.get("kind")
        if kind in ("embed", "tag"):
            for noun, msgid in _CAUSE_NOUNS.items():
                if label.endswith(" " + noun):
                    return self(msgid, name=label[:-len(noun) - 1])
        if label in _CAUSE_FIXED:
            return self(_CAUSE_FIXED[label])
        if kind == "site-script" and (m := _SITE_SCRIPT.fullmatch(label)):
            return self("the site's script {path}", path=m.group("path"))
        if kind == "site-server" and (m := _SITE_SERVER.fullmatch(label)):
            return self("the site's pages and server ({host})", host=m.group("host"))
        if kind == "site":
            return self.rule_by_text(audits or {}, cause.get("rules") or (), "title", label)
        return label

    def cause_summary(self, cause: Mapping[str, Any], *, label: bool = True,
                      audits: Mapping[str, Mapping] | None = None) -> str:
        """scanner.audits.causes.summary in this language: 'On 8 pages, before any consent…'."""
        parts = []
        items = cause.get("items") or {}
        for kind, one, many in _ITEM_WORDS:
            n = int(items.get(kind) or 0)
            if n:
                parts.append(self.n(one, many, n))
        counts = cause.get("counts") or {}
        problems = ", ".join(self.n(*_SEVERITY_COUNTS[sev], n) if sev in _SEVERITY_COUNTS
                             else f"{n} {sev}{'' if n == 1 else 's'}" for sev, n in counts.items() if n)
        pages = cause.get("pages")
        where = " " + self.n("on {n} page", "on {n} pages", pages) if pages else ""
        when = [self.when(w) for w in cause.get("when") or []]
        when_text = (", " + self("{first} and {last}", first=", ".join(when[:-1]), last=when[-1]) if len(when) > 1
                     else (f", {when[0]}" if when else ""))
        what = self(": {items}", items=", ".join(parts)) if parts else ""
        text = f"{where}{when_text}{what} {self('({problems})', problems=problems)}".lstrip(", ")
        if label:
            return f"{self.cause_label(cause, audits)} {text}"
        return text[:1].upper() + text[1:]

    # ---------------------------------------------------------------- durations

    def duration(self, english: str) -> str:
        """A duration as matrix.human_duration writes it ("2 years", "session", "30 min")."""
        if self.english:
            return english
        m = _DURATION.fullmatch(english)
        if m:
            return self.n(*_DURATION_UNITS[m.group(2)], int(m.group(1)))
        if english in _DURATION_WORDS:
            return self(_DURATION_WORDS[english])
        return english   # "30 min", "24 h", "5 s", "—": the same in French


@lru_cache(maxsize=None)
def translator(lang: str = DEFAULT) -> Translator:
    """The translator of `lang` ("en" | "fr"); ValueError for another language."""
    return Translator(lang)


__all__ = ["CODES", "DEFAULT", "N_", "SUPPORTED", "Translator", "choose_lang", "env_locale", "translator"]
