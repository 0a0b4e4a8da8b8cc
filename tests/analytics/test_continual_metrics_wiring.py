"""The standard continual-learning metrics as the DLN sequential-task job reports them."""

import numpy as np

from cltk.analytics.simulate.dln.continual import run_sequential


def test_dln_sequential_standard_metrics():
    r = run_sequential(similarities=(0.0, 1.0), depths=(1,), seeds=2, steps=200, lr=0.1, device="cpu")
    t = r.tables["results"]  # the first table (per member) is written as results.csv
    # two tasks: Chaudhry forgetting of A is minus BWT, both in units of A's initial loss
    np.testing.assert_allclose(t.cl_forgetting, -t.cl_bwt, atol=1e-12)
    assert (np.sign(t.cl_bwt) == -np.sign(t.forgetting_A.round(12))).all()
    # FWT: B's score after training A only has the sign of the transfer (fall of B's loss)
    assert (np.sign(t.cl_fwt) == np.sign(t.transfer_to_B.round(12))).all()
    # same teacher (c = 1): nothing to forget, min-ACC equals the final score on A
    same = t[t.similarity == 1.0]
    np.testing.assert_allclose(same.cl_bwt, 0.0, atol=1e-6)
    m = r.metrics
    assert "can be negative" in m["cl_score"] and "cl_wc_acc_D1_c0" in m and "cl_min_acc_D1_c1" in m
