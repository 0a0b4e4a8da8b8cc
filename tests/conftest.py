from pathlib import Path

import pytest

SHARED_CURVES = Path(__file__).resolve().parents[2] / "shared" / "data" / "loss-curves" / "mpl-25m"


@pytest.fixture
def mpl25m():
    """The real 25M-model curves of Luo et al. (read from ../shared, never copied)."""
    if not (SHARED_CURVES / "cosine_24000.csv").exists():
        pytest.skip(f"real curves not found at {SHARED_CURVES} (../shared/data is absent)")
    return SHARED_CURVES
