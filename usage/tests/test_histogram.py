import pytest

from usage.histogram import BUCKETS, EDGES, add, bucket_of, percentile


@pytest.mark.parametrize(("latency", "index"), [
    (0, 0), (4, 0), (5, 1), (9, 1), (10, 2), (49, 3), (50, 4), (999, 7), (1000, 8),
    (9999, 10), (10000, 11), (3_600_000, 11),
])
def test_a_latency_falls_in_one_bucket(latency, index):
    assert bucket_of(latency) == index


def test_buckets_read_as_ranges():
    assert [b.label.replace("\u2013", "-") for b in BUCKETS] == [
        "< 5 ms", "5-10 ms", "10-25 ms", "25-50 ms", "50-100 ms", "100-250 ms", "250-500 ms",
        "500 ms-1 s", "1-2.5 s", "2.5-5 s", "5-10 s", "≥ 10 s"]
    assert len(BUCKETS) == len(EDGES) == 12


@pytest.mark.parametrize(("histogram", "q", "expected"), [
    ([0] * 12, 0.5, None),
    ([100] + [0] * 11, 0.5, 2.5),
    ([50, 0, 0, 45, 0, 0, 0, 5, 0, 0, 0, 0], 0.50, 5.0),
    ([50, 0, 0, 45, 0, 0, 0, 5, 0, 0, 0, 0], 0.95, 50.0),
    ([50, 0, 0, 45, 0, 0, 0, 5, 0, 0, 0, 0], 0.99, 900.0),
    ([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3], 0.5, 10000.0),
])
def test_percentiles_interpolate_inside_the_bucket_holding_the_rank(histogram, q, expected):
    assert percentile(histogram, q) == expected


def test_histograms_add_up_bucket_by_bucket():
    assert add([1] * 12, [0, 2] + [0] * 10) == [1, 3] + [1] * 10
