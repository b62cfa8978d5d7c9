"""The multi-process fleet benchmark (issue 19) runs in quick mode and its figures are sane."""

from __future__ import annotations

import json
from pathlib import Path

from bench.__main__ import main


def test_workers_quick(tmp_path: Path) -> None:
    assert main(["workers", "--quick", "--results", str(tmp_path)]) == 0
    doc = json.loads((tmp_path / "workers.json").read_text())
    assert doc["name"] == "workers" and doc["quick"] is True and len(doc["rows"]) == 2
    data = doc["data"]
    one, two = data["runs"]
    assert (one["workers"], two["workers"]) == (1, 2)
    assert len(one["worker_cpu_pct"]) == 1 and len(two["worker_cpu_pct"]) == 2
    for r in data["runs"]:
        assert r["exit_code"] == 0  # SIGTERM: every worker stopped cleanly
        final = r["final"]
        assert final["kind"] == "final" and final["workers"] == r["workers"]
        assert final["registered"] == final["stations"] == r["n"]
        assert final["dead_workers"] == 0 and final["failed"] == 0
        assert r["boot_storm_s"] > 0 and r["summaries"] >= 1
        assert r["messages_per_second"] > 0  # heartbeats every second
        assert r["rtt_p99_ms_worst_interval"] is not None
        assert r["rtt_p99_ms_worst_interval"] >= r["rtt_p50_ms_median"] > 0
    # The CSMS process saw each station boot once per run.
    assert data["csms"]["counts"]["BootNotification"] == 2 * one["n"]
    assert data["frame_cost_us"] > 0 and data["collect_us_per_station"] > 0
