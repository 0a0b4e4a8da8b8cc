"""``cltk fit-cpt``: the continual-pre-training law (Wang et al. 2025) fitted on a user's own
two-phase logs (:mod:`.runs` places them in one step count, :mod:`.job` fits and predicts,
:mod:`.report` draws them)."""
