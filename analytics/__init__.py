"""cltk analytics: readers (files -> Curve), metrics, experiments and reports (consumes curves)."""
