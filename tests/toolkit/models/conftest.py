"""Checks shared by the simulate-command tests of the models (nqm, river-valley, rehearsal)."""
import json

import pytest

GENERATOR = "<meta name='generator' content='cltk write_result'>"


def _bad_flag(r, needle):
    """Exit code 2 and one error line naming the problem: click's 'Error: ...' for a flag value, the
    CLI's 'error: ...' for bad input found below it."""
    assert r.exit_code == 2, r.output
    errors = [ln for ln in r.output.splitlines() if ln.lower().startswith("error:")]
    assert len(errors) == 1 and needle in errors[0] and "Traceback" not in r.output, r.output


def _written(out):
    """The folder was written by write_result (report.html carries its mark); returns metrics.json."""
    assert GENERATOR in (out / "report.html").read_text()
    return json.loads((out / "metrics.json").read_text())


@pytest.fixture
def bad_flag():
    """``bad_flag(result, needle)``: a CliRunner result exited 2 with one error line containing needle."""
    return _bad_flag


@pytest.fixture
def written():
    """``written(out_dir)`` -> metrics.json of a folder written by write_result."""
    return _written
