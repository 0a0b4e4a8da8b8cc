"""cltk predict: a fitted law's predictions of untried schedules, ranked."""
