"""The rebuild pipeline's interpreter settings (thread switches, garbage collector) are put back as they were."""

import gc
import sys

import pytest

from projector.rebuild import GC_THRESHOLD, SWITCH_INTERVAL, _interpreter_for_pipeline


def test_the_collector_gets_its_threshold_back_and_unfreezes_what_it_froze():
    threshold, switch = gc.get_threshold(), sys.getswitchinterval()
    assert gc.get_freeze_count() == 0
    with _interpreter_for_pipeline():
        assert gc.get_threshold()[0] == GC_THRESHOLD
        assert gc.get_freeze_count() > 0
        assert sys.getswitchinterval() == pytest.approx(SWITCH_INTERVAL)  # kept in microseconds
    assert gc.get_threshold() == threshold
    assert sys.getswitchinterval() == switch
    assert gc.get_freeze_count() == 0


def test_objects_a_caller_froze_before_stay_frozen():
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with _interpreter_for_pipeline():
            pass
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()
