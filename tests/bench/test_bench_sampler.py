"""The benchmark's memory sampler gives each stage the peak of the samples taken while one of its
steps ran, and a step shorter than the sampling interval the samples either side of it."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from bench_pipeline import RssSampler  # noqa: E402

MB = 1_000_000


def test_every_stage_that_ran_has_a_peak_even_one_over_between_two_samples():
    sampler = RssSampler(interval=0.25)  # not started: the samples are the ones given here
    sampler.samples = [(t / 4, mb * MB) for t, mb in enumerate([100, 300, 250, 400, 120, 500, 90])]
    peaks = sampler.take_over(
        {
            "load crm": [(0.2, 0.6)],  # samples at 0.25 and 0.5 inside
            "load u8": [(0.8, 0.9)],  # over between the samples at 0.75 and 1.0
            "dbt": [(1.2, 1.3), (1.45, 1.55)],  # two steps, a sample in each
        }
    )
    # outside every step: 100 at 0.0, 400 at 0.75 and 120 at 1.0 (the two beside "load u8")
    assert peaks == {"load crm": 300, "load u8": 400, "dbt": 500, "other": 400}
    # taken: the next stages start afresh
    assert sampler.samples == [] and sampler.take_over({"dbt": [(0.0, 9.0)]}) == {}
