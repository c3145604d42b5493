from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data():
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real public test files not found at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def gse1992():
    """The real SurvSet cohort gse1992 (Hu et al. 2006): RFS in months and Agilent log ratios."""
    from SurvSet.data import SurvLoader

    return SurvLoader().load_dataset(ds_name="gse1992")["df"]
