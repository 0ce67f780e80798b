"""Parallel and distributed runs give exactly the serial results."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

import sustainsim
from sustainsim.run.accumulate import pilot_accumulator, reduce_block
from sustainsim.run.chunk import BLOCK_CHUNKS, chunk_blocks, chunk_bounds
from sustainsim.run.parallel import _POOLS, shutdown_pools, simulate_parallel
from sustainsim.run.plan import plan_run
from sustainsim.run.sketch import Histogram
from sustainsim.run.spans import _KEPT_BUFFERS, _pack, _unpack_into, plan_spans
from sustainsim.run.summary import simulate_summary

distributed = pytest.importorskip("distributed")

DRAWS, CHUNK, SEED = 24_000, 5_000, 13


@pytest.fixture(scope="module")
def spec(make_spec):
    # five years keep the 24,000-draw runs short; P(solvent) stays well inside (0.05, 0.95)
    return make_spec("two_schools", simulation__years=5)


@pytest.fixture(scope="module")
def serial(spec):
    return sustainsim.simulate(spec, draws=DRAWS, seed=SEED, chunk_size=CHUNK)


@pytest.fixture(scope="module")
def serial_summary(spec):
    return simulate_summary(spec, draws=DRAWS, seed=SEED, chunk_size=CHUNK, progress=False)


@pytest.fixture(scope="module")
def cluster():
    """One real two-process cluster shared by the tests of this module."""
    import dask
    from distributed import Client, LocalCluster

    from sustainsim.run.parallel import DASK_WORKER_CONFIG

    with (
        dask.config.set(DASK_WORKER_CONFIG),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as lc,
        Client(lc) as client,
    ):
        yield lc, client


def test_serial_runs_are_not_trivial(serial):
    p = sustainsim.p_solvent(serial)["probability"].isel(year=-1).values
    assert ((p > 0.05) & (p < 0.95)).all()
    assert "district_fund_balance" in serial


@pytest.fixture(scope="module", autouse=True)
def _shutdown_pools():
    yield
    shutdown_pools()


def test_local_schedulers_identical_to_serial(spec, serial):
    for scheduler in ("synchronous", "threads", "processes"):
        ds = simulate_parallel(
            spec,
            draws=DRAWS,
            seed=SEED,
            chunk_size=CHUNK,
            scheduler=scheduler,
            workers=2,
            progress=False,
        )
        xr.testing.assert_identical(ds, serial)
    pool = _POOLS[("processes", 2)]  # kept for the next call: start-up paid once
    simulate_parallel(spec, draws=100, scheduler="processes", workers=2, progress=False)
    assert _POOLS[("processes", 2)] is pool


def test_chunking_does_not_matter(spec, serial):
    ds = simulate_parallel(
        spec,
        draws=DRAWS,
        seed=SEED,
        chunk_size=3_333,
        scheduler="threads",
        workers=2,
        progress=False,
    )
    xr.testing.assert_equal(ds, serial)


def test_local_cluster_identical_to_serial(spec, serial, cluster):
    _, client = cluster
    ds = simulate_parallel(
        spec, draws=DRAWS, seed=SEED, chunk_size=CHUNK, scheduler=client, progress=False
    )
    xr.testing.assert_identical(ds, serial)
    np.testing.assert_array_equal(
        sustainsim.p_solvent(ds)["probability"].values,
        sustainsim.p_solvent(serial)["probability"].values,
    )


def test_summary_only_identical_to_serial_streaming(spec, serial, serial_summary, cluster):
    _, client = cluster
    for scheduler in (client, "processes"):
        s = simulate_parallel(
            spec,
            draws=DRAWS,
            seed=SEED,
            chunk_size=CHUNK,
            scheduler=scheduler,
            workers=2,
            mode="summary",
            progress=False,
        )
        xr.testing.assert_identical(s, serial_summary)
    full = sustainsim.p_solvent(serial)
    np.testing.assert_array_equal(s["probability"].values, full["probability"].values)
    # many more blocks (tasks) than tasks in flight: merged in draw order all the same
    small = simulate_summary(spec, draws=DRAWS, seed=SEED, chunk_size=400, progress=False)
    s = simulate_parallel(
        spec,
        draws=DRAWS,
        seed=SEED,
        chunk_size=400,
        scheduler=client,
        mode="summary",
        progress=False,
    )
    xr.testing.assert_identical(s, small)


def test_spans_cover_the_blocks_in_order():
    blocks = chunk_blocks(DRAWS, 400)  # 60 chunks in 8 blocks
    chunks = [c for b in blocks for c in b]
    for workers in (1, 2, 3, 64):
        spans = plan_spans(blocks, workers)
        assert [c for span in spans for c in span] == chunks  # each chunk once, in order
        sizes = [len(span) for span in spans]
        assert sizes == sorted(sizes, reverse=True)
        assert sizes[-1] == 1  # the tail: single chunks
        for span in spans:  # each piece names the block and the positions of its chunks
            named = [blocks[b][first + k] for b, first, count in span.pieces for k in range(count)]
            assert named == list(span)
            assert all(count > 0 for _, _, count in span.pieces)
    two = plan_spans(blocks, 2)
    assert len(two[0]) > BLOCK_CHUNKS  # the first spans are several blocks ...
    assert any(first > 0 for span in two for _, first, _ in span.pieces)  # ... some start mid-block


def test_histograms_travel_packed_exactly():
    h = Histogram(np.zeros(3), np.ones(3), 4)
    h.add(np.array([[0.5, 1.5, 9.0], [-1.0, 2.5, 2.5], [3.5, 3.5, 3.5]]))
    cases = ((200, np.uint8, np.int32), (70_000, np.uint32, np.int32), (2**40, np.int64, np.int64))
    for top, dtype, kept in cases:
        if top > np.iinfo(h.counts.dtype).max:  # as many values as an int32 cannot count
            h.counts = h.counts.astype(np.int64)
        h.counts[0, 2] = top
        packed = _pack(h)
        assert packed[0].dtype == dtype
        into = Histogram(np.zeros(3), np.ones(3), 4)
        _unpack_into(into, packed)
        _unpack_into(into, packed)
        np.testing.assert_array_equal(into.counts, 2 * h.counts)
        assert into.counts.dtype == kept  # int32 until the counts could pass its range
        np.testing.assert_array_equal(into.vmin, [0.5, -1.0, 3.5])
        np.testing.assert_array_equal(into.vmax, [9.0, 2.5, 3.5])


def test_block_structure_shows_in_the_moments(spec):
    """Folding the chunks in one run instead of block by block changes the moments' last
    bits: the identity tests see a regrouping of the blocks that changes the float sums."""
    plan = plan_run(spec, draws=DRAWS, seed=SEED, chunk_size=400, mode="summary")
    serial = simulate_summary(spec, draws=DRAWS, seed=SEED, chunk_size=400, progress=False)
    template = pilot_accumulator(spec, plan.source, DRAWS, plan.bins, plan.margin, 400)
    flat = reduce_block(spec, plan.source, chunk_bounds(DRAWS, 400), template)
    np.testing.assert_array_equal(flat.solvent, serial["solvent_count"].values)
    assert not np.array_equal(flat.mean["fund_balance"], serial["fund_balance_mean"].values)
    np.testing.assert_allclose(flat.mean["fund_balance"], serial["fund_balance_mean"].values)


def test_summary_tasks_split_blocks_identical(spec):
    """Spans of chunks that start and end mid-block reassemble into the serial blocks."""
    small = simulate_summary(spec, draws=DRAWS, seed=SEED, chunk_size=400, progress=False)
    for scheduler, workers in (("processes", 2), ("threads", 1), ("threads", 3)):
        s = simulate_parallel(
            spec,
            draws=DRAWS,
            seed=SEED,
            chunk_size=400,
            scheduler=scheduler,
            workers=workers,
            mode="summary",
            progress=False,
        )
        xr.testing.assert_identical(s, small)
        assert not _KEPT_BUFFERS  # the threads' chunk buffers are not kept past the run


def test_zarr_on_cluster_by_address(spec, serial, cluster, tmp_path):
    lc, _ = cluster
    path = tmp_path / "run.zarr"
    ds = simulate_parallel(
        spec,
        draws=DRAWS,
        seed=SEED,
        chunk_size=CHUNK,
        scheduler=lc.scheduler_address,
        zarr_path=path,
        progress=False,
    )
    assert ds["fund_balance"].chunks[0][0] == CHUNK  # lazy, chunked along draw
    xr.testing.assert_identical(ds.load(), serial)
    on_disk = xr.open_zarr(path, consolidated=False)
    assert on_disk["fund_balance"].encoding["chunks"][0] == CHUNK
    np.testing.assert_array_equal(on_disk["fund_balance"].values, serial["fund_balance"].values)


def test_zarr_with_lines_and_summary(spec, serial_summary, tmp_path):
    lines = sustainsim.simulate(spec, draws=6_000, seed=SEED, chunk_size=2_000, lines=True)
    z = simulate_parallel(
        spec,
        draws=6_000,
        seed=SEED,
        chunk_size=2_000,
        lines=True,
        scheduler="threads",
        workers=2,
        zarr_path=tmp_path / "l.zarr",
        progress=False,
    )
    xr.testing.assert_identical(z.load(), lines)
    s = simulate_parallel(
        spec,
        draws=DRAWS,
        seed=SEED,
        chunk_size=CHUNK,
        scheduler="threads",
        workers=2,
        mode="summary",
        zarr_path=tmp_path / "s.zarr",
        progress=False,
    )
    assert s.attrs.pop("zarr_path") == str(tmp_path / "s.zarr")
    xr.testing.assert_identical(s, serial_summary)
    per_draw = xr.open_zarr(tmp_path / "s.zarr", consolidated=False)
    assert per_draw.sizes["draw"] == DRAWS
    assert np.isfinite(per_draw["fund_balance"].values).all()


def test_bad_arguments(spec, tmp_path):
    with pytest.raises(ValueError, match="unknown scheduler"):
        simulate_parallel(spec, draws=10, scheduler="cluster")
    with pytest.raises(TypeError, match="scheduler"):
        simulate_parallel(spec, draws=10, scheduler=3)
    with pytest.raises(ValueError, match="mode=.summary."):
        simulate_parallel(spec, draws=10, mode="summary", lines=True)
    with pytest.raises(ValueError, match="workers"):
        simulate_parallel(spec, draws=10, scheduler="threads", workers=0)
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    (tmp_path / "folder" / "notes.txt").write_text("keep me")
    for target in ("file", "folder"):
        with pytest.raises(ValueError, match="refusing to overwrite"):
            simulate_parallel(spec, draws=10, scheduler="synchronous", zarr_path=tmp_path / target)
    assert (tmp_path / "folder" / "notes.txt").read_text() == "keep me"
    # a scheduler that fails mid-run leaves neither the store nor its partial folder
    with pytest.raises(ValueError, match="unknown scheduler"):
        simulate_parallel(spec, draws=10, scheduler="nope", zarr_path=tmp_path / "z.zarr")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file", "folder"]


def test_zarr_store_replaced_whole(spec, tmp_path):
    path = tmp_path / "run.zarr"
    first = simulate_parallel(
        spec,
        draws=3_000,
        seed=1,
        chunk_size=1_000,
        scheduler="synchronous",
        zarr_path=path,
        progress=False,
    )
    again = simulate_parallel(
        spec,
        draws=2_000,
        seed=2,
        chunk_size=1_000,
        scheduler="synchronous",
        zarr_path=path,
        progress=False,
    )
    assert first.sizes["draw"] == 3_000
    xr.testing.assert_identical(
        again.load(), sustainsim.simulate(spec, draws=2_000, seed=2, chunk_size=1_000)
    )
    assert [p.name for p in tmp_path.iterdir()] == ["run.zarr"]  # no partial folder left


@pytest.mark.parametrize("sampler", ["lhs", "sobol"])
def test_other_samplers_identical(spec, sampler, cluster):
    """The config's sampler travels to the workers: LHS and Sobol runs match serial."""
    try:
        sp = spec.with_overrides({"simulation.sampler": sampler})
    except sustainsim.ConfigError:
        pytest.skip("this config language has no [simulation] sampler")
    _, client = cluster
    full = sustainsim.simulate(sp, draws=4096, seed=SEED, chunk_size=1000)
    assert full.attrs["sampler"] == sampler
    ds = simulate_parallel(
        sp, draws=4096, seed=SEED, chunk_size=1000, scheduler=client, progress=False
    )
    xr.testing.assert_identical(ds, full)
    s = simulate_parallel(
        sp,
        draws=4096,
        seed=SEED,
        chunk_size=500,
        scheduler="threads",
        workers=2,
        mode="summary",
        progress=False,
    )
    xr.testing.assert_identical(
        s, simulate_summary(sp, draws=4096, seed=SEED, chunk_size=500, progress=False)
    )
    np.testing.assert_array_equal(
        s["probability"].values, sustainsim.p_solvent(full)["probability"].values
    )
