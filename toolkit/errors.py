"""The one error type for bad user input (files, options, configs, law files, schedule specs).

Every layer raises it or a subclass (``LawError``, ``ScheduleError``, ``ConfigError``, ``DataError``,
``SelectionError``); the command line catches it once, prints its message on one line and exits
with code 2. The message names the file (and row or key) and what is wrong, never a CLI flag
unless the CLI raised it."""


class InputError(ValueError):
    """Bad input; the message names the file (and row or key) and what is wrong."""
