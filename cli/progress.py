"""Progress of a running job on stderr, from the one progress contract of the layers below: a job
calls ``progress(message)``; a message that ends in ``k/n`` ("bootstrap refit 3/32") advances a bar
labelled by the text before it, any other message is a stage ("Monte Carlo SGD: 10000 seeds") and
prints as a line. Stdout stays for results (and ``--json``)."""
from __future__ import annotations

import re
import time

#: "LABEL k/n" at the end of a message: a step of a counted loop
_COUNTED = re.compile(r"^(?P<label>.*?)\s*(?P<k>\d+)\s*/\s*(?P<n>\d+)\s*$")


class JobProgress:
    """A callable progress reporter: bars for counted loops, lines for stages, each stage line with
    the seconds since the previous one. Use as a context manager; ``quiet`` shows nothing."""

    def __init__(self, quiet: bool = False, console=None):
        from rich.console import Console

        self.quiet = quiet
        self.console = console or Console(stderr=True, highlight=False)
        self._progress = None
        self._tasks: dict[str, int] = {}
        self._t0 = time.perf_counter()

    def __enter__(self) -> JobProgress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __call__(self, message: str) -> None:
        if self.quiet:
            return
        m = _COUNTED.match(message)
        if m and int(m["n"]) > 0:
            self._advance(m["label"].rstrip(" :") or "progress", int(m["k"]), int(m["n"]))
        else:
            from rich.text import Text

            # a message is plain text: "[" in a curve name is not rich markup
            self.console.print(Text.assemble((f"{time.perf_counter() - self._t0:6.1f} s  ", "dim"), message))

    def _advance(self, label: str, k: int, n: int) -> None:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        if self._progress is None:
            self._progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn(), console=self.console, transient=True)
            self._progress.start()
        if label not in self._tasks:
            self._tasks[label] = self._progress.add_task(label, total=n)
        self._progress.update(self._tasks[label], completed=min(k, n), total=n)

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._tasks.clear()
