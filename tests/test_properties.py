"""Property-based tests (hypothesis) of the table readers and the endpoint coding.

Reordering rows and columns, whitespace around cells, quoting, tab or comma, gzip and missing values
never change the numbers read or the codes given; arbitrary bytes never crash a reader with anything
but a project error (SelfseedError).
"""

import gzip
import string

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from selfseed.endpoints import UNLISTED_CODE_ROWS, code_endpoint
from selfseed.errors import SelfseedError
from selfseed.sources.table import NA_TEXTS, read_clinical, read_expression

FAST = settings(
    max_examples=50,
    database=None,  # no .hypothesis folder in the work tree
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
GENES = ["IL6", "CXCL8", "MMP1", "FSCN1", "CXCL1", "TP53", "ESR1", "ERBB2", "GAPDH", "ACTB"]
ID_ALPHABET = string.ascii_letters + string.digits + "-_.\u00e9"
ENDPOINT = {
    "name": "LR",
    "label": "local recurrence",
    "time_column": "time",
    "time_unit": "days",
    "event_column": "status",
    "event_values": ["local", 1],
    "competing_values": ["distant"],
    "censored_values": ["none", 0],
}
NA_LIKE = {text.lower() for text in NA_TEXTS}

ids = st.text(ID_ALPHABET, min_size=1, max_size=8).filter(lambda s: s.lower() not in NA_LIKE)
numbers = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


@st.composite
def matrices(draw):
    """A genes x samples matrix of finite numbers, some cells missing."""
    genes = draw(st.lists(st.sampled_from(GENES), min_size=1, max_size=6, unique=True))
    samples = draw(st.lists(ids, min_size=1, max_size=6, unique=True))
    values = draw(
        st.lists(
            st.lists(st.one_of(numbers, st.none()), min_size=len(samples), max_size=len(samples)),
            min_size=len(genes),
            max_size=len(genes),
        )
    )
    return pd.DataFrame(values, index=genes, columns=samples, dtype=float)


@st.composite
def layouts(draw):
    """How a table is written: delimiter, gzip, padding, quoting, missing-value text, order."""
    return {
        "sep": draw(st.sampled_from(["\t", ","])),
        "gzip": draw(st.booleans()),
        "pad": draw(st.sampled_from(["", " ", "  "])),
        "quote": draw(st.booleans()),
        "missing": draw(st.sampled_from(["", "NA", "NaN", "null", "nan", "N/A"])),
        "seed": draw(st.integers(0, 2**32 - 1)),
        "crlf": draw(st.booleans()),
    }


def render(frame, layout, *, index_name="id"):
    """Text of a table with its rows and columns shuffled, written the layout's way."""
    rng = np.random.default_rng(layout["seed"])
    frame = frame.iloc[rng.permutation(frame.shape[0]), rng.permutation(frame.shape[1])]

    def cell(value):
        if value is None or (isinstance(value, float) and np.isnan(value)):
            text = layout["missing"]
        else:
            text = repr(float(value)) if isinstance(value, float) else str(value)
        text = f'"{text}"' if layout["quote"] else text
        return f"{layout['pad']}{text}{layout['pad']}"

    rows = [[index_name, *frame.columns]] + [
        [name, *row] for name, row in zip(frame.index, frame.to_numpy(dtype=object), strict=True)
    ]
    end = "\r\n" if layout["crlf"] else "\n"
    return end.join(layout["sep"].join(cell(v) for v in row) for row in rows) + end


def write(tmp_path, text, layout, stem):
    name = stem + (".csv" if layout["sep"] == "," else ".tsv") + (".gz" if layout["gzip"] else "")
    path = tmp_path / name
    data = text.encode()
    path.write_bytes(gzip.compress(data) if layout["gzip"] else data)
    return path


@FAST
@given(matrix=matrices(), layout=layouts(), transpose=st.booleans())
def test_expression_numbers_survive_any_layout(tmp_path, matrix, layout, transpose):
    written = matrix.T if transpose else matrix
    path = write(tmp_path, render(written, layout), layout, "expr")
    read = read_expression(path, cohort="c", key="cohorts.c.expression")
    read = read.T if transpose else read
    assert read.dtypes.eq(np.float64).all()
    read = read.loc[matrix.index, matrix.columns]
    np.testing.assert_array_equal(read.isna().to_numpy(), matrix.isna().to_numpy())
    # pandas' fast float parser may differ from Python's float() in the last bit: allow a few ulps
    np.testing.assert_allclose(read.to_numpy(), matrix.to_numpy(), rtol=1e-14, equal_nan=True)


@FAST
@given(matrix=matrices(), layout=layouts(), junk=st.text(string.printable, max_size=6))
def test_a_text_cell_is_read_as_a_number_a_gap_or_a_project_error(tmp_path, matrix, layout, junk):
    junk = junk.replace(layout["sep"], "").replace('"', "").replace("\r", "").replace("\n", "")
    frame = matrix.astype(object)
    frame.iloc[0, 0] = junk
    path = write(tmp_path, render(frame, {**layout, "quote": False}), layout, "expr")
    try:
        read = read_expression(path, cohort="c", key="k")
    except SelfseedError as error:
        # an error is one of the allowed outcomes, so not pytest.raises
        assert "non-numeric expression values" in str(error)  # noqa: PT017
        assert "cohort 'c'" in str(error)  # noqa: PT017
        return
    value = read.loc[matrix.index[0], matrix.columns[0]]
    expected = pd.to_numeric(pd.Series([junk.strip()]), errors="coerce")[0]
    assert (np.isnan(value) and np.isnan(expected)) or value == expected


@FAST
@given(content=st.binary(max_size=300), sep=st.sampled_from([".tsv", ".csv"]))
def test_arbitrary_bytes_give_a_table_or_a_project_error(tmp_path, content, sep):
    path = tmp_path / f"table{sep}"
    path.write_bytes(content)
    for reader in (read_expression, read_clinical):
        try:
            reader(path, cohort="c", key="k")
        except SelfseedError as error:  # allowed (a table is too), so not pytest.raises
            assert "cohort 'c'" in str(error)  # noqa: PT017
            assert path.name in str(error)  # noqa: PT017


codes = st.sampled_from(["local", "distant", "none", "1", "0", "1.0", 1, 0, 1.0, "unknown", None])
times = st.one_of(st.floats(-10, 5000, allow_nan=False), st.none(), st.just("soon"))


@st.composite
def clinical_tables(draw):
    n = draw(st.integers(1, 12))
    samples = draw(st.lists(ids, min_size=n, max_size=n, unique=True))
    return pd.DataFrame(
        {
            "sample": samples,
            "time": draw(st.lists(times, min_size=n, max_size=n)),
            "status": draw(st.lists(codes, min_size=n, max_size=n)),
            "age": draw(st.lists(st.one_of(numbers, st.none()), min_size=n, max_size=n)),
        }
    )


def unlisted_rows(clinical):
    """Rows with the one code of `codes` in none of ENDPOINT's lists."""
    return int((clinical["status"] == "unknown").sum())


def coded(clinical):
    table = clinical.set_index("sample")
    result, dropped = code_endpoint(table, ENDPOINT, cohort="c", file="clinical.tsv")
    return result.sort_index(), dropped.set_index("sample_id")["reason"].sort_index()


@FAST
@given(clinical=clinical_tables(), layout=layouts())
def test_endpoint_coding_survives_any_layout(tmp_path, clinical, layout):
    """The codes and times given to each sample do not depend on how the table is written."""
    assume({"local", "1", 1, "1.0"} & set(clinical["status"]))  # an event code occurs
    assume({"none", "0", 0} & set(clinical["status"]))  # and a censoring code
    assume(unlisted_rows(clinical) < UNLISTED_CODE_ROWS)  # more stop the run (tested elsewhere)
    expected, expected_dropped = coded(clinical.astype(object))
    text = render(clinical.set_index("sample"), layout, index_name="sample")
    path = write(tmp_path, text, layout, "clinical")
    read = read_clinical(path, cohort="c", key="k")
    got, got_dropped = coded(read)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    pd.testing.assert_series_equal(got_dropped, expected_dropped)


@FAST
@given(clinical=clinical_tables(), seed=st.integers(0, 2**32 - 1))
def test_endpoint_coding_is_per_sample(clinical, seed):
    """Reordering the rows, padding the codes or writing 1 as '1.0' changes nothing."""
    assume({"local", "1", 1, "1.0"} & set(clinical["status"]))
    assume({"none", "0", 0} & set(clinical["status"]))
    assume(unlisted_rows(clinical) < UNLISTED_CODE_ROWS)
    expected, expected_dropped = coded(clinical)
    rng = np.random.default_rng(seed)
    shuffled = clinical.iloc[rng.permutation(len(clinical))].copy()
    shuffled["status"] = [
        f" {float(c)} " if isinstance(c, int) else (f"  {c}\t" if isinstance(c, str) else c)
        for c in shuffled["status"]
    ]
    shuffled["time"] = [f" {t!r} " if isinstance(t, float) else t for t in shuffled["time"]]
    got, got_dropped = coded(shuffled)
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    pd.testing.assert_series_equal(got_dropped, expected_dropped)
    assert set(got["event"]) <= {0, 1, 2}
    assert (got["time_months"] > 0).all()
    assert len(got) + len(got_dropped) == len(clinical)


def test_endpoint_reasons_are_the_documented_ones():
    clinical = pd.DataFrame(
        {"time": [10, None, 0, "inf", 5, 7], "status": ["local", 1, 0, "none", None, "gone"]},
        index=list("abcdef"),
    )
    result, dropped = code_endpoint(clinical, ENDPOINT, cohort="c", file="f")
    assert result.to_dict("index") == {
        "a": {"time_months": pytest.approx(10 * 12 / 365.25), "event": 1}
    }
    assert dict(zip(dropped["sample_id"], dropped["reason"], strict=True)) == {
        "b": "missing or non-numeric follow-up time",
        "c": "follow-up time <= 0",
        "d": "follow-up time is infinite",
        "e": "missing event code",
        "f": "event code gone is not a configured value",
    }


def test_layout_renderer_really_varies_the_text():
    """The layouts above do reach the readers: padding, quotes and CRLF are in the text."""
    frame = pd.DataFrame({"s1": [1.5, None]}, index=["IL6", "TP53"])
    layout = {
        "sep": ",",
        "gzip": False,
        "pad": " ",
        "quote": True,
        "missing": "NA",
        "seed": 0,
        "crlf": True,
    }
    text = render(frame, layout)
    assert '"NA"' in text
    assert "\r\n" in text
    assert ' "1.5" ' in text
