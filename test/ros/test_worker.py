"""LatestWorker: newest item wins, no backlog, errors do not stop it."""
import threading
import time

from depth_ros.ros.worker import LatestWorker


def _wait(predicate, timeout_s=5.0):
    deadline = time.monotonic() + timeout_s
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.005)
    return predicate()


def test_processes_only_the_newest_while_busy():
    release = threading.Event()
    seen = []

    def process(item):
        seen.append(item)
        if item == 0:
            release.wait(5)

    worker = LatestWorker(process, on_error=lambda exc: None)
    worker.start()
    worker.submit(0)
    assert _wait(lambda: seen == [0])
    dropped = [worker.submit(i) for i in range(1, 50)]
    assert worker.pending() == 1
    assert dropped == [False] + [True] * 48
    release.set()
    assert _wait(lambda: worker.processed == 2)
    worker.stop()
    assert seen == [0, 49] and worker.dropped == 48 and worker.submitted == 50


def test_error_is_reported_and_worker_continues():
    errors, seen = [], []

    def process(item):
        if item == 'bad':
            raise ValueError('boom')
        seen.append(item)

    worker = LatestWorker(process, on_error=errors.append)
    worker.start()
    worker.submit('bad')
    assert _wait(lambda: worker.processed == 1)
    worker.submit('good')
    assert _wait(lambda: seen == ['good'])
    worker.stop()
    assert [str(e) for e in errors] == ['boom']
    assert not worker.running


def test_stop_drops_waiting_item_and_restart_works():
    seen = []
    worker = LatestWorker(seen.append, on_error=lambda exc: None)
    worker.submit('before start')
    worker.stop()
    assert worker.pending() == 0
    worker.start()
    worker.submit('x')
    assert _wait(lambda: seen == ['x'])
    worker.stop()
