"""The benchmark harness in its tiny mode against the test cluster: it runs and reports (no timing asserted)."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.__main__ import SUITES, run_all
from bench.env import Sizes


def test_bench_harness_runs_and_reports(cluster, tmp_path):
    # In a thread of its own: the benchmark's clients call asyncio.run(), which refuses to
    # run where an event loop is running, and after a browser test Playwright's sync API
    # leaves one running in this thread (the session's browser).
    with ThreadPoolExecutor(1) as pool:
        r = pool.submit(run_all, cluster, Sizes.tiny(), tmp_path, ["eventlet"], set(SUITES)).result()

    assert json.loads((tmp_path / "report.json").read_text()) == json.loads(json.dumps(r))
    assert (tmp_path / "summary.md").read_text().startswith("# kube-webshell benchmark")
    assert {p.name for p in tmp_path.glob("*.png")} >= {"throughput.png", "latency.png", "capacity.png"}

    for row in r["throughput"]["eventlet"]:
        for who in ("console", "raw_exec", "kubectl"):
            assert row[who]["bytes"] > 0 and row[who]["mb_per_s"] > 0
        assert row["ratio_console_raw"] > 0
    lat = r["latency"]["eventlet"]
    assert [lv["sessions"] for lv in lat["levels"]] == [n for n, _, _ in Sizes.tiny().latency_levels]
    for lv in lat["levels"] + lat["stress"]:
        assert lv["console"]["n"] == lv["sessions"] * lv["keys_per_session"] and lv["console"]["p50"] > 0
        assert lv["raw_exec"]["p99"] > 0
        assert lv["console_token"]["n"] == lv["console"]["n"] and lv["console_token"]["server_cpu_ms_per_key"] > 0
        assert lv["kubectl"]["n"] == lv["console"]["n"] and lv["kubectl"]["p50"] > 0   # kubectl exec -it, pty
        assert "over_kubectl_p99_ms" in lv["console"] and "over_kubectl_p50_ms" in lv["console_token"]
    assert lat["flood"]["console_flood"]["p99"] > 0 and lat["flood"]["ratio_p99_flood_idle"] > 0
    for beside in ("console_beside_raw_flood", "console_beside_other_console_flood"):
        assert lat["flood"][beside]["p99"] > 0

    rows = r["replicas"]["rows"]
    n = Sizes.tiny().latency_stress[0][0]
    assert [(x["replicas"], x["sessions"]) for x in rows] == [(1, max(1, n // 2)), (1, n), (2, n), (3, n)]
    assert all(x["n"] == x["sessions"] * x["keys_per_session"] and x["p99"] > 0 for x in rows)
    assert r["replicas"]["p99_2_replicas_over_1_at_half"] > 0

    cap = r["capacity"]
    assert cap["opened"] == cap["target"] == Sizes.tiny().capacity_sessions
    assert cap["refused_codes"] == ["limit"] and cap["rss_full_mb"] > 0 and cap["open_ms"]["p50"] > 0

    tr = r["transfer"]
    assert {(x["direction"], x["mb"]) for x in tr["rows"]} == {("upload", 1), ("download", 1)}
    assert all(x["console"]["mb_per_s"] > 0 for x in tr["rows"])
    cells = r["interrupt"]["cells"]
    assert {(c["flood"], c["client"], c["sessions"]) for c in cells} == {
        (f, c, n) for f in ("yes", "cat") for c in ("asyncio", "ack-50ms-late", "chromium") for n in (1, 2)}
    for c in cells:
        assert c["trials"] >= 1 and c["n"] + c["failed"] == c["trials"] and c["bytes_after_max"] > 0
    assert "## Ctrl-C to prompt" in (tmp_path / "summary.md").read_text()
    if cluster._state().get("real_node"):   # the real node: kubectl cp is the upload baseline there
        real = r["transfer_real"]
        assert real["node"] == "real" and real["kubectl_cp_upload_finishes"] is True
        assert real["upload_baseline"] == "kubectl cp" and all(x["ratio"] > 0 for x in real["rows"])
        assert "## File transfer (real node)" in (tmp_path / "summary.md").read_text()
        # Throughput and echo on the real node: console, raw exec (a real pty) and kubectl, same pod.
        for row in r["throughput_real"]["eventlet"]:
            assert row["node"] == "real" and row["ratio_console_raw"] > 0
            assert all(row[who]["bytes"] > 0 for who in ("console", "raw_exec", "kubectl"))
        levels = r["latency_real"]["eventlet"]["levels"]
        assert [lv["sessions"] for lv in levels] == [n for n, _, _ in Sizes.tiny().latency_levels if n <= 50]
        for lv in levels:
            assert lv["console"]["n"] == lv["console_token"]["n"] == lv["sessions"] * lv["keys_per_session"]
            assert lv["raw_exec"]["p50"] > 0 and lv["kubectl"]["p50"] > 0 and "overhead_p50_ms" in lv
        summary = (tmp_path / "summary.md").read_text()
        assert "## Throughput [eventlet, real node]" in summary
        assert "## Keystroke echo latency [eventlet, real node]" in summary
    assert {t["name"] for t in r["targets"]} and all(isinstance(t["ok"], bool) for t in r["targets"])
    assert any(t['name'].endswith("<= raw exec's") for t in r['targets'])   # issue 11's neighbour target


def test_echo_trace_splits_every_echo_into_its_steps(cluster, tmp_path):
    """bench/echotrace.py: the traced console serves, both sides stamp every step, the steps
    add up to the echo (no timing asserted)."""
    from bench import echotrace
    with ThreadPoolExecutor(1) as pool:
        r = pool.submit(echotrace.measure, cluster.admin_kubeconfig, tmp_path, 8, 50.0, True).result()
    assert r["complete"] >= 4, r          # an Engine.IO ping between two marks may spoil one
    steps = {(s["from"], s["to"]): s for s in r["steps"]}
    assert list(steps) == [(a, b) for a, b, _ in echotrace.STEPS]
    assert steps[("S2", "S3")]["p50"] > 0 and steps[("E2", "S1")]["p50"] > 0
    assert sum(s["mean"] for s in steps.values()) == pytest.approx(r["console_total"]["mean"], rel=0.01)
    assert r["kubectl_total"]["p50"] > 0
