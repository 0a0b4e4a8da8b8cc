"""README's fit-scaling example is what the command prints today (benchmarks/readme_figures.py)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_readme_fit_scaling_example_has_not_drifted(mpl25m):
    script = ROOT / "benchmarks" / "readme_figures.py"
    r = subprocess.run([sys.executable, str(script), "--check", "--data", str(mpl25m)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
