"""Progress display: a rich progress bar on a terminal, plain log lines otherwise.

URLs and error texts come from the site: each is redacted (scanner.redact: no credentials, query
values hashed unless --keep-query) and its control characters escaped before it is printed, so a
page can neither leak a secret into a CI log nor drive the terminal (retitle it, move the cursor)."""
from __future__ import annotations

import sys

from .redact import terminal_line


class NullProgress:
    def set_states(self, states): pass
    def start_state(self, state): pass
    def set_total(self, pages): pass
    def page_done(self, state, url, error): pass
    def state_done(self, record): pass
    def close(self): pass


class LineProgress(NullProgress):
    """One line per state, and one per failed page: readable in CI logs."""

    def __init__(self, stream=None, *, keep_query: bool = False):
        self.stream = stream or sys.stderr
        self.pages = 0
        self.keep_query = keep_query

    def _safe(self, text) -> str:
        return terminal_line("" if text is None else text, self.keep_query)

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def page_done(self, state, url, error):
        if error:
            self._print(f"  [{self._safe(state)}] page failed: {self._safe(url)}: {self._safe(error)}")

    def state_done(self, record):
        mark = "reached" if record["reached"] else f"NOT reached: {self._safe(record['error'])}"
        self._print(f"state {self._safe(record['state'])}: {mark}; {len(record['pages'])} pages")


class RichProgress(NullProgress):
    def __init__(self, *, keep_query: bool = False):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TextColumn("{task.fields[url]}", style="dim"),
                                  transient=False, redirect_stdout=False)
        self._progress.start()
        self._task = self._progress.add_task("scanning", total=None, url="")
        self._states = 1
        self._pages = 1
        self._done = 0
        self.keep_query = keep_query

    def _safe(self, text, tail: int | None = None) -> str:
        """Redacted, control characters escaped, then (cut to its last `tail` characters and)
        markup-escaped: "[/]" or "[link=...]" in a URL is text, not rich markup."""
        text = terminal_line("" if text is None else text, self.keep_query)
        return escape_brackets(text[-tail:] if tail else text)

    def _update(self, url: str = "") -> None:
        self._progress.update(self._task, total=self._states * self._pages, completed=self._done, url=url)

    def set_states(self, states):
        self._states = max(1, len(states))
        self._update()

    def set_total(self, pages):
        self._pages = max(1, pages)
        self._update()

    def page_done(self, state, url, error):
        self._done += 1
        self._progress.update(self._task, description=self._safe(f"[{state}]"))
        self._update(self._safe(url, tail=60))

    def state_done(self, record):
        error = self._safe(record["error"])
        mark = "[green]reached[/green]" if record["reached"] else f"[red]NOT reached[/red]: {error}"
        self._progress.console.print(f"state {self._safe(record['state'])}: {mark}; {len(record['pages'])} pages",
                                     markup=True, highlight=False)

    def close(self):
        self._progress.stop()


def escape_brackets(text: str) -> str:
    from rich.markup import escape
    return escape(text)


def make_progress(enabled: bool = True, *, keep_query: bool = False):
    if not enabled:
        return NullProgress()
    return RichProgress(keep_query=keep_query) if sys.stderr.isatty() else LineProgress(keep_query=keep_query)
