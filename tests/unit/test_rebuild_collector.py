"""The rebuild pipeline's garbage-collector settings are put back as they were."""

import gc

from projector.rebuild import GC_THRESHOLD, _collector_set_aside


def test_the_collector_gets_its_threshold_back_and_unfreezes_what_it_froze():
    threshold = gc.get_threshold()
    assert gc.get_freeze_count() == 0
    with _collector_set_aside():
        assert gc.get_threshold()[0] == GC_THRESHOLD
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == threshold
    assert gc.get_freeze_count() == 0


def test_objects_a_caller_froze_before_stay_frozen():
    kept = [object() for _ in range(10)]  # noqa: F841 - alive while frozen
    gc.freeze()
    try:
        before = gc.get_freeze_count()
        with _collector_set_aside():
            pass
        assert gc.get_freeze_count() >= before
    finally:
        gc.unfreeze()
