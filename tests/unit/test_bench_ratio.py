"""The benchmark's ratios when one side answered nothing in a round: reported, not a crash."""

from __future__ import annotations

import math
import statistics

from bench.http import Comparison, Sample, ratio, report


def sample(rps: float) -> Sample:
    return Sample(rps, 1.0, 2.0, 0, 0)


def test_a_round_without_answers_is_an_infinite_ratio_and_a_note(capsys):
    pairs = ((sample(80), sample(0)), (sample(90), sample(10)), (sample(85), sample(0)))
    assert [ratio(a, b) for a, b in pairs] == [math.inf, 9.0, math.inf]
    assert math.isnan(ratio(sample(0), sample(0)))
    c = Comparison(sample(85), sample(0), statistics.median(ratio(a, b) for a, b in pairs), pairs)
    report("category", "classical", c)
    out = capsys.readouterr().out
    assert "edge ÷ classical: inf  (rounds: inf, 9.00, inf)" in out
    assert "classical answered no request in 2 of 3 rounds" in out
