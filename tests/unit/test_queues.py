"""Queues per topic (docs/queues.md): the names, the routing of every task, a worker's choice."""

from __future__ import annotations

import sys
import types

import pytest
from click.testing import CliRunner

from entrypoints import snipshop_cli
from projector import celery_app
from snipshop.config import Settings, load
from vocab.topics import QUEUES, Queue, Topic, parse_queues


def test_queue_lists_parse_by_name_and_all_means_every_queue():
    assert parse_queues("all") == parse_queues("") == parse_queues(" , ") == QUEUES
    assert parse_queues("stock") == (Queue.STOCK,)
    assert parse_queues(" Prices ,catalog,prices") == (Queue.PRICES, Queue.CATALOG)
    with pytest.raises(ValueError, match="unknown queue projection; the queues are stock, prices"):
        parse_queues("stock,projection")


def test_every_task_is_routed_and_each_topic_to_a_queue_of_its_own_kind():
    app = celery_app.make_celery(Settings())
    names = [
        v for k, v in vars(celery_app).items() if k.isupper() and isinstance(v, str) and v.startswith("projector.")
    ]
    assert sorted(names) == sorted(celery_app.ROUTES)
    route = {name: app.amqp.router.route({}, name)["queue"].name for name in names}
    assert route == {name: queue.value for name, queue in celery_app.ROUTES.items()}
    by_topic = {topic: route[task] for topic, task in celery_app.TASK_BY_TOPIC.items()}
    assert by_topic == {
        Topic.STOCK: "stock",
        Topic.PRICE: "prices",
        Topic.PRODUCT: "catalog",
        Topic.CATEGORY: "catalog",
        Topic.ATTRIBUTE: "catalog",
    }
    assert route[celery_app.FIRE_TIMERS] == "prices"  # offers start and end: price changes
    assert route[celery_app.RELAY_SWEEP] == "control" and route[celery_app.REFRESH] == "rebuild"
    refresh_batch = app.amqp.router.route({"queue": celery_app.REFRESH_BATCH_QUEUE.value}, celery_app.PROJECT_PRODUCTS)
    assert refresh_batch["queue"].name == "rebuild"
    assert {q.name for q in app.conf.task_queues} == {q.value for q in Queue}


def test_the_small_machine_groups_serve_every_queue_once():
    served = [q for queues in celery_app.SMALL_MACHINE_WORKERS.values() for q in queues]
    assert sorted(served) == sorted(Queue) and Queue.STOCK in celery_app.SMALL_MACHINE_WORKERS["stock"]
    assert Queue.PRICES not in celery_app.SMALL_MACHINE_WORKERS["stock"]


def test_worker_queues_come_from_the_environment_and_the_command_line(monkeypatch):
    assert load({}).worker_queues == tuple(q.value for q in Queue)
    assert load({"WORKER_QUEUES": "stock,control"}).worker_queues == ("stock", "control")
    with pytest.raises(ValueError, match="unknown queue"):
        load({"WORKER_QUEUES": "stok"})
    started: list[list[str]] = []

    class App:
        def worker_main(self, argv: list[str]) -> None:
            started.append(argv)

    fake = types.ModuleType("entrypoints.worker")  # the real module builds the worker app on import
    fake.app = App()  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "entrypoints.worker", fake)
    runner = CliRunner()
    assert runner.invoke(snipshop_cli.main, ["worker", "-c", "1"], env={"WORKER_QUEUES": "prices"}).exit_code == 0
    assert runner.invoke(snipshop_cli.main, ["worker", "--queues", "stock"], env={"WORKER_QUEUES": ""}).exit_code == 0
    refused = runner.invoke(snipshop_cli.main, ["worker", "--queues", "nope"])
    assert refused.exit_code == 2 and "unknown queue nope" in refused.output
    assert started == [
        ["worker", "--loglevel=INFO", "--queues=prices", "-c", "1"],
        ["worker", "--loglevel=INFO", "--queues=stock"],
    ]
