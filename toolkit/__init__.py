"""cltk toolkit: schedules, loss-curve laws, curves and analytic models (what users import)."""
__version__ = "0.1.0"
