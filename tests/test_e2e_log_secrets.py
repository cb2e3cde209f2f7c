"""Secrets never reach a worker's log: a real `wirewatch run` delivering to a
webhook whose URL holds a `${NAME}` secret in its path and in a header, and
whose server keeps failing. The log (every line the worker and Apprise wrote,
at debug level), `status` and `alerts` are searched for the secret and its encodings.

Real Redis, a loopback news site and a real HTTP receiver answering 500.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from urllib.parse import quote, unquote

import pytest

from tests.newsroom import S300, Newsroom, write_site_config
from tests.receivers import WebhookReceiver
from tests.waiting import wait_until
from tests.wirewatch_process import Wirewatch, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

SECRET = "hunter2-Zq9/x y"  # a slash and a space: encoded forms differ


class VerboseWirewatch(Wirewatch):
    """`wirewatch run -v --loglevel DEBUG`: Celery's and Apprise's own lines too."""

    def run_args(self) -> list[str]:
        return ["-v", "--loglevel", "DEBUG", "--concurrency", "2"]

    def env(self) -> dict[str, str]:
        return {**super().env(), "HOOK_SECRET": SECRET}


def test_a_failing_webhook_never_shows_its_secret_in_the_log(
    tmp_path: Path, newsroom: Newsroom, redis_server_url: str
) -> None:
    newsroom.publish(S300)
    hook = WebhookReceiver(status=500)
    with hook:
        apprise = textwrap.dedent(
            f"""\
            urls:
              - "json://127.0.0.1:{hook.port}/hooks/${{HOOK_SECRET}}?+X-Token=${{HOOK_SECRET}}"
            """
        )
        rules = "rules:\n  - id: s300-iran\n    query: '\"S-300\" AND Iran'\n"
        config = tmp_path / "config"
        write_site_config(config, newsroom.site, rules=rules, apprise=apprise)
        wirewatch = VerboseWirewatch(config, tmp_path / "data", redis_server_url)
        wirewatch.start()
        try:
            wait_until(lambda: len(hook.requests) >= 1, 120, "a failed delivery attempt")
            _, path, headers = hook.requests[0]
            assert SECRET in unquote(path) and headers.get("X-Token") == SECRET
            wait_until(lambda: "attempt 1 failed" in wirewatch.log(), 60, "the failure logged")
            env = {**wirewatch.env(), "HOOK_SECRET": SECRET}
            outputs = [
                wirewatch.log(),
                *(
                    run.stdout + run.stderr
                    for args in (("status",), ("status", "--json"), ("alerts",))
                    for run in [run_cli(*args, env=env, timeout=60)]
                ),
            ]
        finally:
            if wirewatch.alive():
                assert wirewatch.stop() == 0, wirewatch.log()
        outputs.append(wirewatch.log())
    forms = {SECRET, quote(SECRET, safe=""), quote(SECRET), SECRET.replace(" ", "+")}
    for output in outputs:
        for form in forms:
            assert form not in output, f"{form!r} shown:\n{output}"
    assert "****" in outputs[0]
