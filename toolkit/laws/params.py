"""A law's constructor parameters, the scikit-learn way (mixed into :class:`cltk.laws.base.LossLaw`):
``get_params`` / ``set_params`` over the constructor arguments, a ``repr`` of the non-default ones,
and ``type(law)(**law.get_params())`` (or ``sklearn.base.clone(law)``) for an unfitted copy.

The keyword arguments ``**fixed`` of a law (a nonlinear parameter held at a value, e.g.
``MomentumLaw(lam=0.999)``) are parameters too: ``get_params`` lists the fixed ones under their
names, ``set_params(lam=0.99)`` fixes one and ``set_params(lam=None)`` frees it again.
"""
from __future__ import annotations

import functools
import inspect

from cltk.laws.errors import LawError


@functools.cache
def constructor_defaults(cls) -> dict[str, object]:
    """The named constructor arguments of ``cls`` and of its bases, with their defaults (a
    subclass's own first, then its bases' in order; ``**kw`` catch-alls left out)."""
    out: dict[str, object] = {}
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None or klass is object:
            continue
        for p in inspect.signature(init).parameters.values():
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name != "self":
                out.setdefault(p.name, p.default)
    return out


class LawParams:
    """Parameter methods of a law; they rely on ``name``, ``nl_names`` and ``fixed`` of ``LossLaw``
    and on every constructor argument being kept under its own name (as scikit-learn asks)."""

    def get_params(self, deep: bool = True) -> dict:
        """The constructor arguments as a dict, fixed nonlinear parameters included: ``type(law)(**
        law.get_params())`` is an unfitted law of the same configuration. ``deep`` is accepted for
        scikit-learn compatibility (a law holds no nested estimators)."""
        params = {k: getattr(self, k) for k in constructor_defaults(type(self))}
        params.update(self.fixed)
        return params

    def set_params(self, **params):
        """Change constructor arguments; returns self. Unknown names are a LawError naming them; a
        nonlinear parameter's name fixes it (None frees it). The new configuration is checked by
        the constructor first, so a refused value leaves the law unchanged. As in scikit-learn, a
        fitted law keeps its fitted parameters until the next ``fit()``."""
        known = constructor_defaults(type(self))
        unknown = [k for k in params if k not in known and k not in self.nl_names]
        if unknown:
            raise LawError(f"{self.name}: set_params: unknown parameter(s) {', '.join(map(repr, unknown))} "
                           f"(parameters: {', '.join(list(known) + list(self.nl_names))})")
        merged = {k: v for k, v in {**self.get_params(), **params}.items()
                  if not (k in self.nl_names and v is None)}
        try:
            checked = type(self)(**merged)
        except LawError:
            raise
        except (TypeError, ValueError) as e:  # a conversion the constructor does (int(), float()) refused the value
            raise LawError(f"{self.name}: set_params: {' '.join(str(e).split())}") from None
        for k in known:
            setattr(self, k, getattr(checked, k))
        self.fixed = checked.fixed
        return self

    def __repr__(self) -> str:
        defaults = constructor_defaults(type(self))
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items()
                         if k not in defaults or not _same(v, defaults[k]))
        text = f"{type(self).__name__}({args})"
        if not hasattr(self, "params_"):
            return text
        curves = getattr(self, "fit_info_", {}).get("curves")
        fitted = f"fitted on {len(curves)} curve{'s' * (len(curves) != 1)}" if isinstance(curves, list) else "fitted"
        boot = len(getattr(self, "boot_params_", []) or [])
        return f"{text} [{fitted}" + (f", {boot} bootstrap replicates]" if boot else "]")


def _same(value, default) -> bool:
    """Whether a parameter's value is its default (for ``repr``; 1/32 and 0.03125 are the same)."""
    try:
        return value is default or (type(value) is type(default) and bool(value == default))
    except (TypeError, ValueError):
        return False
