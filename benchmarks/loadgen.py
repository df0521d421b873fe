"""A small closed-loop HTTP load generator, run as its own process.

    python -m benchmarks.loadgen < spec.json > result.json

The spec names a host, a port and pages (name, path). For each of `rounds`
rounds, each page in turn gets `requests` GET requests from `concurrency`
threads (or fewer, if `seconds` runs out first). Rounds interleave the pages,
so that a burst of load from elsewhere on the machine falls on all of them
rather than on one. Each latency runs from opening the connection to the last
byte of the body: what a browser on the same host would wait.

Django-free on purpose: it must not share a process, an interpreter lock or
an import cost with the server it measures.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import sys
import threading
import time


def fetch(host: str, port: int, path: str, timeout: float) -> tuple[int, int, float]:
    """(status, body bytes, seconds) of one GET on a fresh connection."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Accept": "text/html", "Connection": "close"})
        response = conn.getresponse()
        body = response.read()
        return response.status, len(body), time.perf_counter() - started
    finally:
        conn.close()


def burst(spec: dict, path, requests: int, seconds: float) -> dict:
    """`requests` GETs of one path from `concurrency` threads, within `seconds`.

    `path` may be a list: then each of its paths is asked once, in order.
    """
    lock = threading.Lock()
    paths = list(path) if isinstance(path, list) else None
    left = [len(paths) if paths else requests]
    deadline = time.perf_counter() + seconds
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    sizes: list[int] = []

    def work():
        while True:
            with lock:
                if left[0] <= 0 or time.perf_counter() > deadline:
                    return
                left[0] -= 1
                url = paths[len(paths) - 1 - left[0]] if paths else path
            try:
                status, size, elapsed = fetch(spec["host"], spec["port"], url, spec["timeout"])
            except OSError as exc:
                status, size, elapsed = f"{exc.__class__.__name__}", 0, None
            with lock:
                statuses[str(status)] = statuses.get(str(status), 0) + 1
                if status == 200 and elapsed is not None:
                    latencies.append(elapsed * 1000)
                    sizes.append(size)

    started = time.perf_counter()
    threads = [threading.Thread(target=work) for _ in range(spec["concurrency"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "latencies_ms": latencies,
        "statuses": statuses,
        "bytes": sizes,
        "elapsed": time.perf_counter() - started,
    }


def soak(spec: dict) -> dict:
    """`paths` asked in turn by `concurrency` threads for `seconds`: each request's
    wall-clock start (time.time(), to compare with an event in another process), its
    latency, status and path."""
    paths, seconds = spec["soak"]["paths"], spec["soak"]["seconds"]
    lock = threading.Lock()
    turn = [0]
    requests: list[tuple[float, float | None, str, str]] = []
    deadline = time.perf_counter() + seconds

    def work():
        while time.perf_counter() < deadline:
            with lock:
                path = paths[turn[0] % len(paths)]
                turn[0] += 1
            started = time.time()
            try:
                status, _, elapsed = fetch(spec["host"], spec["port"], path, spec["timeout"])
                row = (started, elapsed * 1000, str(status), path)
            except OSError as exc:
                row = (started, None, exc.__class__.__name__, path)
            with lock:
                requests.append(row)

    threads = [threading.Thread(target=work) for _ in range(spec["concurrency"])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {"requests": sorted(requests)}


def run(spec: dict) -> dict:
    if "soak" in spec:
        return soak(spec)
    results = {
        page["name"]: {"latencies_ms": [], "statuses": {}, "bytes": [], "elapsed": 0.0}
        for page in spec["pages"]
    }
    for page in spec["pages"]:  # warm-up: every worker has imported and cached what it needs
        for _ in range(spec.get("warmup", 0)):
            with contextlib.suppress(OSError):
                fetch(spec["host"], spec["port"], page["path"], spec["timeout"])
    # The cold set: distinct queries, each asked once (after the warm-up, so that
    # the workers' imports are not in it, and before the warm rounds).
    cold = spec.get("cold") or []
    results["cold"] = (
        burst(spec, cold, len(cold), float("inf"))
        if cold
        else {"latencies_ms": [], "statuses": {}, "bytes": [], "elapsed": 0.0}
    )
    for _ in range(spec["rounds"]):
        for page in spec["pages"]:
            got = burst(spec, page["path"], spec["requests"], spec["seconds"])
            total = results[page["name"]]
            total["latencies_ms"] += got["latencies_ms"]
            total["bytes"] += got["bytes"]
            total["elapsed"] += got["elapsed"]
            for status, count in got["statuses"].items():
                total["statuses"][status] = total["statuses"].get(status, 0) + count
    return results


def main() -> None:
    spec = json.load(sys.stdin)
    spec.setdefault("timeout", 30.0)
    json.dump(run(spec), sys.stdout)


if __name__ == "__main__":
    main()
