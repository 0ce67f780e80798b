"""simulate(): reproducibility whatever the chunking, stable streams, Dataset schema."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim.config import apply_overrides
from tests.conftest import spec_from_dict


def test_identical_for_chunk_sizes_1000_and_1e6(ref10_spec):
    a = sustainsim.simulate(ref10_spec, draws=5_000, seed=9, chunk_size=1_000)
    b = sustainsim.simulate(ref10_spec, draws=5_000, seed=9, chunk_size=1_000_000)
    c = sustainsim.simulate(ref10_spec, draws=5_000, seed=9, chunk_size=777)
    xr.testing.assert_identical(a, b)
    xr.testing.assert_identical(a, c)
    d = sustainsim.simulate(ref10_spec, draws=5_000, seed=10)
    assert not np.array_equal(a.fund_balance.values, d.fund_balance.values)
    assert d.attrs["seed"] == 10 and a.attrs["seed"] == 9


def test_more_draws_keep_the_first(small_spec):
    a = sustainsim.simulate(small_spec, draws=300)
    b = sustainsim.simulate(small_spec, draws=1000)
    xr.testing.assert_identical(a.drop_attrs(), b.isel(draw=slice(0, 300)).drop_attrs())


def test_adding_a_school_or_line_leaves_other_draws_alone(small_data):
    base = sustainsim.simulate(spec_from_dict(small_data), draws=500)
    other = dict(small_data["schools"][0], name="b")
    two = spec_from_dict({**small_data, "schools": [small_data["schools"][0], other]})
    ds2 = sustainsim.simulate(two, draws=500)
    for v in ("enrollment", "revenue", "cost", "fund_balance"):
        np.testing.assert_array_equal(base[v].sel(school="a"), ds2[v].sel(school="a"))
    # the second school's enrollment has its own stream
    assert not np.array_equal(ds2.enrollment.sel(school="a"), ds2.enrollment.sel(school="b"))
    # a new random cost line does not change the grant or enrollment draws
    extra = apply_overrides(small_data, {})
    extra["schools"][0]["cost"].append(
        {"name": "aides", "kind": "fixed", "amount": {"dist": "uniform", "low": 1, "high": 2}}
    )
    ds3 = sustainsim.simulate(spec_from_dict(extra), draws=500)
    np.testing.assert_array_equal(base.enrollment, ds3.enrollment)
    np.testing.assert_array_equal(
        base["schools.a.revenue.grant.end"], ds3["schools.a.revenue.grant.end"]
    )
    np.testing.assert_array_equal(base.revenue, ds3.revenue)


def test_dataset_schema_and_provenance(ref10_spec):
    ds = sustainsim.simulate(ref10_spec, draws=100, seed=3)
    for v in ("enrollment", "revenue", "cost", "surplus", "fund_balance"):
        assert ds[v].dims == ("draw", "year", "school")
        assert ds[v].dtype == np.float64
        assert ds[v].attrs["units"] in ("USD", "students")
        assert ds[v].attrs["long_name"]
    assert ds["year"].values.tolist() == list(range(2027, 2037))
    assert ds["school"].values.tolist() == ["ref"]
    assert ds.attrs["config_text"] == ref10_spec.text
    assert ds.attrs["config_sha256"] == ref10_spec.sha256
    assert ds.attrs["sustainsim_version"] == sustainsim.__version__
    assert ds.attrs["draws"] == 100 and ds.attrs["sampler"] == "monte_carlo"
    names = sustainsim.results.input_names(ds)
    assert {
        "schools.ref.revenue.grant.last_year",
        "district.cuts.event.count",
        "district.cuts.cumulative",
        "schools.ref.revenue.grant.end",
    } <= set(names)
    assert all(ds[n].dims == ("draw",) for n in names)
    frame = sustainsim.results.inputs_frame(ds)
    assert len(frame) == 100 and "schools.ref.revenue.grant.last_year" in frame


def test_netcdf_roundtrip_is_identical(ref10_spec, tmp_path):
    ds = sustainsim.simulate(ref10_spec, draws=200, lines=True)
    path = sustainsim.write_netcdf(ds, tmp_path / "r.nc")
    back = sustainsim.open_results(path)
    xr.testing.assert_identical(ds, back)
    assert [p.name for p in tmp_path.iterdir()] == ["r.nc"]


def test_bad_arguments(ref10_spec):
    with pytest.raises(ValueError, match="draws must be >= 1"):
        sustainsim.simulate(ref10_spec, draws=0)
    with pytest.raises(TypeError, match="seed must be an integer"):
        sustainsim.simulate(ref10_spec, draws=10, seed=1.5)
    with pytest.raises(ValueError, match="chunk_size must be >= 1"):
        sustainsim.simulate(ref10_spec, draws=10, chunk_size=-3)


def test_common_random_numbers_make_what_ifs_monotone(ref10_spec):
    """More likely cuts on the same draws can only lower every draw's balance."""
    a = sustainsim.simulate(ref10_spec, draws=3000, seed=1)
    b = sustainsim.simulate(
        ref10_spec.with_overrides({"district.cuts.probability": 0.3}), draws=3000, seed=1
    )
    assert np.all(b.fund_balance.values <= a.fund_balance.values + 1e-6)
    pa, pb = (sustainsim.p_solvent(x).probability for x in (a, b))
    assert np.all(pb.values <= pa.values)
