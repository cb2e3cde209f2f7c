"""Metrics counted in Redis by any process, exposed in Prometheus' format."""

from __future__ import annotations

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from worker.cli import main
from worker.service.embedded_redis import EmbeddedRedis
from worker.store import Store


def test_counts_from_two_processes_add_up_and_are_exposed(own_redis: EmbeddedRedis) -> None:
    first, second = Store.from_url(own_redis.url), Store.from_url(own_redis.url)
    first.metrics.count("wirewatch_polls", result="ok")
    second.metrics.count("wirewatch_polls", result="ok")
    second.metrics.count("wirewatch_polls", result="timeout")
    first.metrics.count("wirewatch_matches", rule="s300-iran")
    first.metrics.observe_delay(42.0)
    second.metrics.observe_delay(4000.0)

    result = CliRunner().invoke(main, ["metrics"], env={"REDIS_URL": own_redis.url})
    assert result.exit_code == 0, result.output
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(result.output)
        for s in family.samples
    }
    assert samples[("wirewatch_polls_total", (("result", "ok"),))] == 2
    assert samples[("wirewatch_polls_total", (("result", "timeout"),))] == 1
    assert samples[("wirewatch_matches_total", (("rule", "s300-iran"),))] == 1
    assert samples[("wirewatch_articles_total", ())] == 0
    assert samples[("wirewatch_alert_delay_seconds_bucket", (("le", "60.0"),))] == 1
    assert samples[("wirewatch_alert_delay_seconds_bucket", (("le", "+Inf"),))] == 2
    assert samples[("wirewatch_alert_delay_seconds_count", ())] == 2
    assert samples[("wirewatch_queue_depth", ())] == 0
