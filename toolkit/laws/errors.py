"""The error of the laws' bad input (a subclass of :class:`cltk.errors.InputError`)."""
from cltk.errors import InputError


class LawError(InputError):
    """Invalid input to a law (curves, parameters, JSON): the message says what is wrong."""
