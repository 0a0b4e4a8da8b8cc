"""Analytic models of training dynamics, one module or folder each: the noisy quadratic model
(``nqm``, Zhang et al. 2019), the river valley (``river_valley``, Wen et al. 2024), power-law
rehearsal environments (``rehearsal``, Anderson & Schooler 1991) and deep linear networks (``dln``,
Saxe et al. 2014). Import the one you need: ``from cltk.models import nqm``."""
