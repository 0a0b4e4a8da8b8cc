"""The one error type for bad user input (files, options, configs): the CLI prints its message on
one line and exits with code 2."""


class InputError(ValueError):
    """Bad input; the message names the file (and row or option) and what is wrong."""
