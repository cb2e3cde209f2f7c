"""Metrics counted in Redis by any process, exposed in Prometheus' format."""

from __future__ import annotations

from click.testing import CliRunner
from prometheus_client.parser import text_string_to_metric_families

from worker.cli import main
from worker.embedded_redis import EmbeddedRedis
from worker.metrics import count, observe_delay
from worker.store import Store


def test_counts_from_two_processes_add_up_and_are_exposed(own_redis: EmbeddedRedis) -> None:
    first, second = Store.from_url(own_redis.url), Store.from_url(own_redis.url)
    count(first, "wirewatch_polls", result="ok")
    count(second, "wirewatch_polls", result="ok")
    count(second, "wirewatch_polls", result="timeout")
    count(first, "wirewatch_matches", rule="s300-iran")
    observe_delay(first, 42.0)
    observe_delay(second, 4000.0)

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
