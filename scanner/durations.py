"""Free-text cookie lifetimes ("13 mois", "2 years", "Session") to seconds, and back.

Units are fixed so that results are reproducible and easy to audit:

    minute = 60 s, hour = 3600 s, day = 86 400 s, week = 7 days,
    month = 30 days, year = 365 days

so "13 months" is 390 days (33 696 000 s). Legal thresholds (e.g. the CNIL's
13 months / 395 days for consent and audience-measurement cookies) are applied
elsewhere, on these numbers.

`parse_duration` returns 0 for a session lifetime, None when the text gives no
usable bound ("persistent", "forever", "varies", "Unknown", a calendar date...).
"""
from __future__ import annotations

import re
import unicodedata

MINUTE = 60
HOUR = 60 * MINUTE
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY
YEAR = 365 * DAY

# Unit words (English, French, German, Spanish and Italian, singular and plural,
# matched after accents are removed: "días" -> "dias", "años" -> "anos") and short forms.
# "m" is minutes (as in "30m"); months need "mo" or a word.
_UNITS: dict[str, int] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds", "seconde", "secondes",
                     "sekunde", "sekunden", "segundo", "segundos", "secondo", "secondi"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes", "minuten", "minuto", "minutos", "minuti"), MINUTE),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours", "heure", "heures", "std", "stunde", "stunden",
                     "hora", "horas", "ora", "ore"), HOUR),
    **dict.fromkeys(("d", "j", "day", "days", "jour", "jours", "tag", "tage", "tagen",
                     "dia", "dias", "giorno", "giorni"), DAY),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks", "semaine", "semaines", "woche", "wochen",
                     "semana", "semanas", "settimana", "settimane"), WEEK),
    **dict.fromkeys(("mo", "mos", "month", "months", "mois", "monat", "monate", "monaten", "monats",
                     "mes", "meses", "mese", "mesi"), MONTH),
    **dict.fromkeys(("y", "yr", "yrs", "year", "years", "an", "ans", "annee", "annees",
                     "jahr", "jahre", "jahren", "jahres", "ano", "anos", "anno", "anni"), YEAR),
}
_UNIT_RE = "|".join(sorted(map(re.escape, _UNITS), key=len, reverse=True))
_AMOUNT = re.compile(rf"(\d+(?:[.,]\d+)?)\s*({_UNIT_RE})\b")

# A text naming no amount is a session lifetime when it says so ("Session",
# "End of session (browser)", "à la fin de la session", "Sitzungsende", "Ende der
# Browsersitzung", "sesión", "sessione").
_SESSION = re.compile(r"\bsession(?:s|e|i|ende)?\b|\bsesion(?:es)?\b|sitzung")
# Several amounts joined by one of these are alternatives or a range
# ("30 days till 1 year", "1 week to 1 year", "30 minutes, 3w or 1y", "1 Tag bis 2 Jahre",
# "1 día o 2 años", "da 1 giorno fino a 2 anni"):
# the longest one is kept, so a lifetime is never understated.
# Otherwise amounts add up ("1 year 1 month", "1 an et 6 mois").
_ALTERNATIVES = re.compile(r"\b(?:or|ou|to|till|until|jusqu|a|oder|bis|o|hasta|fino)\b|[-/–]")


def _normalise(text: str) -> str:
    # NFKD then drop combining marks: "année" -> "annee", "à" -> "a".
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return plain.lower().strip()


def parse_duration(text: str | None) -> int | None:
    """Seconds for a free-text duration; 0 = session; None = unknown or unbounded."""
    if text is None:
        return None
    norm = _normalise(str(text))
    if not norm:
        return None
    amounts = [(float(n.replace(",", ".")) * _UNITS[u]) for n, u in _AMOUNT.findall(norm)]
    if not amounts:
        return 0 if _SESSION.search(norm) else None
    if len(amounts) > 1 and _ALTERNATIVES.search(norm):
        return round(max(amounts))
    return round(sum(amounts))


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def format_duration(seconds: int | None) -> str:
    """Short human text: "session", "30 min", "24 h", "90 days", "13 months", "2 years".

    Years and (from 12 months up) months are used when the value is within 0.2 %
    of a whole number of them, so a cookie observed a little after it was set
    still reads "2 years"; otherwise days, hours, minutes or seconds.
    """
    if seconds is None:
        return "unknown"
    if seconds < 0:
        return "expired"
    if seconds == 0:
        return "session"
    for unit, word, minimum in ((YEAR, "year", YEAR), (MONTH, "month", 12 * MONTH)):
        n = round(seconds / unit)
        if seconds >= minimum * 0.998 and abs(seconds - n * unit) <= 0.002 * seconds:
            return _plural(n, word)
    if seconds >= 2 * DAY:
        return _plural(round(seconds / DAY), "day")
    if seconds >= 2 * HOUR or seconds % HOUR == 0:
        return f"{round(seconds / HOUR)} h"
    if seconds >= 2 * MINUTE or seconds % MINUTE == 0:
        return f"{round(seconds / MINUTE)} min"
    return f"{seconds} s"
