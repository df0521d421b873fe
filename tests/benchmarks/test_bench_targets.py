"""The web bench's verdicts: warm pages against the warm targets, cold rows against the
cold ones (issue 19), so that `make bench` fails exactly when a target is missed."""

from benchmarks.web import BASELINE, COLD, figures


def _results(latencies: dict[str, list[float]]) -> tuple[list[dict], dict]:
    pages = [{"name": name, "path": "/"} for name in latencies]
    results = {
        name: {"latencies_ms": lat, "statuses": {"200": len(lat)}, "elapsed": 1.0, "bytes": [1]}
        for name, lat in latencies.items()
    }
    return pages, results


def _verdicts(latencies, cases: int = 100_000) -> dict[str, bool | None]:
    pages, results = _results(latencies)
    return {f.name: f.ok for f in figures(pages, results, [], cases=cases)}


def test_a_warm_page_must_be_within_four_baselines_and_a_cold_row_within_its_p95():
    verdicts = _verdicts(
        {
            BASELINE: [10.0] * 20,
            "gene page (ALK)": [45.0] * 20,  # 4.5x the baseline: warm target missed
            "gene page (ALK)" + COLD: [250.0] * 20,  # p95 250 ms: cold target met
            "full-text query" + COLD: [310.0] * 20,  # p95 310 ms: cold target missed
            "case list (search, no filter)" + COLD: [200.0] * 20,  # unfiltered: 150 ms
            "statistics page": [30.0] * 20,  # 3x: met
        }
    )
    assert verdicts == {
        BASELINE: None,
        "gene page (ALK)": False,
        "gene page (ALK)" + COLD: True,
        "full-text query" + COLD: False,
        "case list (search, no filter)" + COLD: False,
        "statistics page": True,
    }


def test_at_a_million_cases_a_cold_row_may_take_a_second():
    cold = {BASELINE: [10.0] * 20, "full-text query" + COLD: [900.0] * 20}
    assert _verdicts(cold, cases=1_000_000)["full-text query" + COLD] is True
    assert _verdicts(cold, cases=100_000)["full-text query" + COLD] is False
    slow = {BASELINE: [10.0] * 20, "full-text query" + COLD: [1100.0] * 20}
    assert _verdicts(slow, cases=1_000_000)["full-text query" + COLD] is False
