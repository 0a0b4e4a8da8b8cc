"""The cases issue 12 lists, one test each: hostile logs read correctly or refused in one line,
output folders replaced as one set and never over an input."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from cltk.analytics.curve_files import MAX_STEPS, read_curve
from cltk.analytics.output_folder import MANIFEST, check_out_dir, commit
from cltk.analytics.result import Result, write_result
from cltk.errors import InputError

HEAD = "step,lr,loss\n"
ROWS = "".join(f"{s},{1e-3},{3 + 1 / s}\n" for s in range(100, 1100, 100))


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    return p


@pytest.mark.parametrize("tail", ["1100,3e-", "1100", "1100,3e-4,2.9e", "1100,3e-4,-"])
def test_a_log_still_being_written_drops_its_last_row_with_a_warning(tmp_path, tail):
    c = read_curve(_write(tmp_path, "run.csv", HEAD + ROWS + tail))
    assert c.steps[-1] == 1000 and len(c.steps) == 10
    assert "line 12" in c.meta["warnings"][0] and "dropped" in c.meta["warnings"][0]


def test_comment_and_blank_lines_are_skipped_and_rows_keep_their_line_numbers(tmp_path):
    text = "# logger v1\n" + HEAD + "\n , , \n# resumed\n" + ROWS + "1100,0.001,abc\n1200,0.001,2.0\n"
    with pytest.raises(InputError, match=r"line 16: column 'loss' holds 'abc'"):
        read_curve(_write(tmp_path, "run.csv", text))
    c = read_curve(_write(tmp_path, "ok.csv", text.replace("abc", "2.5")))
    assert len(c.steps) == 12


@pytest.mark.parametrize("name,text,msg", [
    ("bad.jsonl", b'{"step": 1, "lr": 0.1, "loss": 3}\n{"step": 2, "lr": 0.1, "loss": \xff}\n',
     r"line 2: byte 0xff is not UTF-8"),
    ("deep.jsonl", '{"step": 1, "lr": 0.1, "loss": ' + "[" * 100000 + "]" * 100000 + "}\n", "nested deeper than 64"),
    ("big.jsonl", '{"step": 1, "lr": 0.1, "loss": ' + "9" * 400 + "}\n", "400-digit integer"),
    ("huge.csv", HEAD + f"{2**63},0.1,3.0\n", "beyond the 1e\\+07 optimizer steps"),
    ("tokens.csv", HEAD + "100,0.1,3.0\n1000000000000,0.1,2.0\n", "token or sample count"),
    ("wide.csv", HEAD + "100,0.1,3.0,7\n200,0.1,2.9\n", "line 2: more fields than the header"),
    ("dup.csv", "step,lr,loss,lr\n1,0.1,3,0.1\n", "column 'lr' appears twice"),
])
def test_hostile_files_are_one_line_errors(tmp_path, name, text, msg):
    with pytest.raises(InputError, match=msg) as e:
        read_curve(_write(tmp_path, name, text))
    assert "\n" not in str(e.value)


def test_a_folder_without_event_files_is_not_read_as_tensorboard(tmp_path):
    _write(tmp_path, "a.csv", HEAD + ROWS)
    with pytest.raises(InputError, match="without TensorBoard event files"):
        read_curve(tmp_path)


def test_steps_far_apart_allocate_no_more_than_the_limit(tmp_path):
    c = read_curve(_write(tmp_path, "run.csv", HEAD + f"100,0.1,3.0\n{MAX_STEPS},0.01,2.0\n"))
    assert len(c.lrs) == MAX_STEPS + 1


def test_a_million_row_csv_reads_exactly(tmp_path):
    n = 10**6
    s = np.arange(1, n + 1)
    lr, loss = 1e-3 * (1 + np.cos(np.pi * s / n)) / 2 + 1e-5, 3 + 1 / np.sqrt(s)
    p = tmp_path / "long.csv"
    with open(p, "w") as f:
        f.write(HEAD)
        np.savetxt(f, np.c_[s, lr, loss], fmt=["%d", "%.17g", "%.17g"], delimiter=",")
    c = read_curve(p)
    np.testing.assert_array_equal(c.steps, s)
    np.testing.assert_array_equal(c.loss, loss)


# --- output folders ----------------------------------------------------------------------------

def _result(n_png: int) -> Result:
    import matplotlib.pyplot as plt

    r = Result("t", {"x": 1.0})
    for i in range(n_png):
        fig, ax = plt.subplots()
        ax.plot([0, 1])
        r.report.figure(fig, f"plot{i}")
    return r


def test_a_rerun_replaces_the_whole_set_and_stale_plots_go(tmp_path):
    out = tmp_path / "out"
    write_result(_result(3), out)
    assert (out / "plot2.png").exists()
    write_result(_result(1), out)
    assert sorted(p.name for p in out.iterdir()) == sorted([MANIFEST, "metrics.json", "plot0.png", "report.html"])
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]  # no staging left over


def test_a_folder_with_other_files_is_updated_in_place_and_theirs_kept(tmp_path):
    out = tmp_path / "out"
    (out / "ckpt").mkdir(parents=True)
    (out / "ckpt" / "state.pt").write_bytes(b"1")
    write_result(_result(2), out)
    write_result(_result(1), out)
    assert (out / "ckpt" / "state.pt").read_bytes() == b"1"
    assert not (out / "plot1.png").exists() and (out / "plot0.png").exists()


def test_a_killed_write_leaves_the_previous_outputs_whole(tmp_path):
    out = tmp_path / "out"
    write_result(_result(1), out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def dies(stage):
        (stage / "metrics.json").write_text("{}")
        raise KeyboardInterrupt  # killed half way through writing the new set

    with pytest.raises(KeyboardInterrupt):
        commit(out, dies)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.")]


def test_an_input_inside_the_output_folder_is_refused_and_kept(tmp_path):
    out = tmp_path / "out"
    write_result(_result(0), out)
    pred = out / "predictions.csv"
    pred.write_text("x")
    with pytest.raises(InputError, match="is an input of this run and lies inside its output folder"):
        write_result(_result(0), out, inputs=[pred])
    assert pred.read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes anywhere")
def test_an_unwritable_output_folder_is_refused_before_work(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(InputError, match="cannot write here"):
        check_out_dir(ro / "out")


def test_outputs_follow_the_umask(tmp_path):
    old = os.umask(0o022)
    try:
        write_result(_result(0), tmp_path / "out")
    finally:
        os.umask(old)
    assert (tmp_path / "out").stat().st_mode & 0o777 == 0o755
    assert json.loads((tmp_path / "out" / MANIFEST).read_text())["files"]


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")
def test_a_folder_where_nothing_can_be_created_is_refused_even_for_root():
    """os.access answers yes to root on /proc; the check creates (and removes) a probe instead."""
    with pytest.raises(InputError, match="cannot write here"):
        check_out_dir(Path("/proc/cltk-probe/out"))
