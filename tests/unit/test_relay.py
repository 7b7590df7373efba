"""The relay's batching: whole outbox rows per task, so a task's acknowledgement covers its rows."""

from catalog.relay import batches
from vocab.topics import Topic


def test_rows_of_one_topic_share_a_task_and_repeated_keys_are_sent_once():
    rows = [(1, "stock", ["A", "B"]), (2, "stock", ["B", "C"]), (3, "price", ["A"])]
    assert batches(rows) == [(Topic.STOCK, ["A", "B", "C"], [1, 2]), (Topic.PRICE, ["A"], [3])]


def test_a_row_is_never_split_over_two_tasks():
    rows = [(1, "product", ["A", "B", "C"]), (2, "product", ["D", "E"]), (3, "product", ["F"])]
    assert batches(rows, size=4) == [(Topic.PRODUCT, ["A", "B", "C"], [1]), (Topic.PRODUCT, ["D", "E", "F"], [2, 3])]


def test_a_row_bigger_than_a_batch_makes_a_task_of_its_own():
    big = [f"S{i}" for i in range(7)]
    rows = [(1, "product", ["A"]), (2, "product", big), (3, "product", ["B"])]
    assert batches(rows, size=4) == [
        (Topic.PRODUCT, ["A"], [1]),
        (Topic.PRODUCT, big, [2]),
        (Topic.PRODUCT, ["B"], [3]),
    ]
