"""The canary comparison's verdict (projector/compare.py) and the counts it reads (vocab/canary_stats.py)."""

from projector.compare import Thresholds, verdict
from vocab.canary_stats import GenerationStats, bucket_quantile, latency_field

LIMITS = Thresholds(min_requests=100, max_error_increase=0.01, max_degraded_increase=0.01)


def stats(requests=1000, errors=0, degraded=0, misses=0, latency=None) -> GenerationStats:
    s = GenerationStats()
    fields = {"requests": requests, "status:200": requests - errors, "degraded": degraded, "misses": misses}
    if errors:
        fields["status:503"] = errors
    fields.update(latency or {"latency:10": requests})
    s.add({k.encode(): str(v).encode() for k, v in fields.items()})
    return s


def test_counts_are_read_as_the_edge_writes_them():
    s = stats(requests=200, errors=4, degraded=10, misses=30)
    assert (s.requests, s.errors, s.degraded, s.misses) == (200, 4, 10, 30)
    assert s.statuses == {200: 196, 503: 4}
    assert (s.error_rate, s.degraded_rate, s.misses_per_request) == (0.02, 0.05, 0.15)
    s.add({b"requests": b"100", b"status:200": b"100"})  # a second minute adds up
    assert s.requests == 300 and s.statuses[200] == 296


def test_latency_buckets_and_quantiles():
    assert [latency_field(ms) for ms in (0.3, 1, 1.01, 4999, 5000, 5001)] == [
        "latency:1",
        "latency:1",
        "latency:2",
        "latency:5000",
        "latency:5000",
        "latency:inf",
    ]
    assert bucket_quantile([(10.0, 50), (100.0, 49), (float("inf"), 1)], 0.5) == 10.0
    assert bucket_quantile([(10.0, 50), (100.0, 49), (float("inf"), 1)], 0.99) == 100.0
    assert bucket_quantile([(10.0, 50), (100.0, 49), (float("inf"), 1)], 1.0) == float("inf")
    assert bucket_quantile([], 0.5) is None


def test_no_verdict_before_each_side_has_enough_requests():
    assert verdict(stats(requests=1000), stats(requests=99, errors=99), LIMITS).word == "too few requests"
    assert verdict(stats(requests=99), stats(requests=100), LIMITS).word == "too few requests"


def test_the_same_numbers_are_ok():
    assert verdict(stats(errors=5, degraded=5), stats(errors=5, degraded=5), LIMITS).word == "ok"


def test_errors_or_degraded_pages_past_the_threshold_abort():
    live = stats(requests=1000, errors=10, degraded=10)  # 1 %
    assert verdict(live, stats(requests=1000, errors=20), LIMITS).word == "ok"  # +1 point: at the line
    assert verdict(live, stats(requests=1000, errors=21), LIMITS).word == "abort"
    assert verdict(live, stats(requests=1000, degraded=20), LIMITS).word == "ok"
    judged = verdict(live, stats(requests=1000, degraded=21), LIMITS)
    assert judged.word == "abort" and "degraded pages 2.1% against 1.0%" in str(judged)


def test_slower_or_missing_more_only_warns():
    live = stats(latency={"latency:10": 1000})
    slow = stats(latency={"latency:10": 900, "latency:250": 100})
    assert verdict(live, slow, LIMITS).word == "warn"
    assert verdict(live, stats(latency={"latency:25": 1000}), LIMITS).word == "ok"  # 15 ms more: within the margin
    assert verdict(stats(misses=0), stats(misses=600), LIMITS).word == "warn"
    assert verdict(stats(misses=0), stats(misses=400), LIMITS).word == "ok"
