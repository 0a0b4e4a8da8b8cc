"""The ``cltk demo`` section of the deep linear networks: the section itself is
:func:`cltk.analytics.simulate.dln.experiments.demo_section`; this module adds its one-line verdict
and names its main figure for the demo's index."""
from __future__ import annotations

from cltk.analytics.simulate.dln.experiments import demo_section

__all__ = ["demo_figure", "demo_section", "demo_verdict"]


def demo_verdict(figures: dict) -> str:
    """The section in one sentence: how closely the simulated mode strengths follow the closed form
    of Saxe et al. 2014 (the sigmoidal solution), and SGD the two-pathway ODE of Kleinman et al. 2024."""
    return (f"Simulated networks follow the closed-form mode dynamics of Saxe et al. within "
            f"{figures['modes_max_rel_err']:.2%} (converged at t = {figures['sim_time_to_converge_D2']:.3g}, "
            f"closed form {figures['closed_form_time_to_converge']:.3g}); in the critical-period model SGD ends "
            f"within {figures['sgd_ode_max_abs_diff']:.3g} of the ODE's pathway strengths.")


def demo_figure(figures: dict) -> str:
    """The mode-dynamics report: its first figure is simulation against theory."""
    return "modes/report.html"
