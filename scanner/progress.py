"""Progress display: a rich progress bar on a terminal, plain log lines otherwise."""
from __future__ import annotations

import sys


class NullProgress:
    def set_states(self, states): pass
    def start_state(self, state): pass
    def set_total(self, pages): pass
    def page_done(self, state, url, error): pass
    def state_done(self, record): pass
    def close(self): pass


class LineProgress(NullProgress):
    """One line per state, and one per failed page: readable in CI logs."""

    def __init__(self, stream=None):
        self.stream = stream or sys.stderr
        self.pages = 0

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def page_done(self, state, url, error):
        if error:
            self._print(f"  [{state}] page failed: {url}: {error}")

    def state_done(self, record):
        mark = "reached" if record["reached"] else f"NOT reached: {record['error']}"
        self._print(f"state {record['state']}: {mark}; {len(record['pages'])} pages")


class RichProgress(NullProgress):
    def __init__(self):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TextColumn("{task.fields[url]}", style="dim"),
                                  transient=False, redirect_stdout=False)
        self._progress.start()
        self._task = self._progress.add_task("scanning", total=None, url="")
        self._states = 1
        self._pages = 1
        self._done = 0

    def _update(self, url: str = "") -> None:
        self._progress.update(self._task, total=self._states * self._pages, completed=self._done, url=url[-60:])

    def set_states(self, states):
        self._states = max(1, len(states))
        self._update()

    def set_total(self, pages):
        self._pages = max(1, pages)
        self._update()

    def page_done(self, state, url, error):
        self._done += 1
        self._progress.update(self._task, description=f"[{state}]")
        self._update(url)

    def state_done(self, record):
        mark = "[green]reached[/green]" if record["reached"] else f"[red]NOT reached[/red]: {record['error']}"
        self._progress.console.print(f"state {record['state']}: {mark}; {len(record['pages'])} pages",
                                     markup=True, highlight=False)

    def close(self):
        self._progress.stop()


def make_progress(enabled: bool = True):
    if not enabled:
        return NullProgress()
    return RichProgress() if sys.stderr.isatty() else LineProgress()
