"""Every Redis key wirewatch writes, defined once; all under `ww:`, so a shared Redis stays
readable. Each line names the class (in `worker.store`) that reads and writes the key.

    ww:source:{id}            hash   per-source HTTP state, health, parse problem, old  sources
    ww:claim:{id}             string time of the last poll claimed by a tick           sources
    ww:started                string when beat last started: every source is due then  sources
    ww:started-guard          string a second beat start within a minute changes nothing sources
    ww:heartbeat              string time of the last tick                             sources
    ww:lock:{name}            string short-lived mutual exclusion ("{owner}/{token}")  locks
    ww:alive:{owner}          string a worker or beat process that is running          owners
    ww:seen:{id}              zset   "g:<guid>" / "u:<url>" -> first seen               seen
    ww:entry:{article}        string JSON of a feed entry waiting to be processed      archive
    ww:article:{article}      string zlib JSON of the processed article (the archive)  archive
    ww:archive                zset   article id -> time archived                       archive
    ww:alert:{rule}:{article} hash   one alert (rule, article, spans, source, mode)    alerts
    ww:alerts                 zset   alert key -> time created                         alerts
    ww:rate:{rule}:{hour}     string instant alerts sent in that hour                  alerts
    ww:digest:{rule}          zset   alert keys waiting for the rule's next digest     digests
    ww:digest-sent:{rule}     string time of the digest window last sent               digests
    ww:delivery:{key}         hash   one (alert or digest, target) delivery and state  outbox
    ww:outbox                 zset   delivery key -> time of its next attempt          outbox
    ww:attempts:{key}         list   every delivery attempt, newest first              outbox
    ww:failed                 set    deliveries that finally failed                    outbox
    ww:host:{origin}          zset   politeness slots in use: token -> lease expiry    hosts
    ww:host-next:{origin}     string earliest start of the next request to the origin  hosts
    ww:robots:{origin}        string the origin's robots.txt, cached                   hosts
    ww:starts:{task}:{retry}  string how often a task message was started              guard
    ww:set-aside              hash   task id -> JSON of a task set aside               guard
    ww:dedup:v{n}:band:{bkt}  zset   article id -> time indexed (one LSH bucket)       dedup
    ww:dedup:v{n}:sig:{art}   string the article's MinHash signature (hex)             dedup
    ww:dedup:version          string the signature version the index holds             dedup
    ww:dedup:band:{bucket}    zset   (version 1, before versioned keys; re-indexed)   dedup
    ww:dedup:sig:{article}    string (version 1, before versioned keys; re-indexed)   dedup
    ww:dedup:of:{rule}:{art}  string the alert key an article was folded into          dedup
    ww:metrics                hash   every counter and the delay histogram             metrics
    ww:config:good            string JSON of the config files last loaded without error config

The broker's own keys (the `celery` queue and friends) belong to Celery.
"""

from __future__ import annotations

__all__ = [
    "ALERTS",
    "ALIVE_PREFIX",
    "ARCHIVE",
    "CONFIG_GOOD",
    "DEDUP_VERSION",
    "FAILED",
    "HEARTBEAT",
    "METRICS",
    "OUTBOX",
    "PREFIX",
    "SET_ASIDE",
    "STARTED",
    "STARTED_GUARD",
    "alert",
    "alive",
    "article",
    "attempts",
    "claim",
    "dedup_band",
    "dedup_folded",
    "dedup_legacy_patterns",
    "dedup_signature",
    "delivery",
    "digest",
    "digest_sent",
    "entry",
    "host",
    "host_next",
    "lock",
    "rate",
    "robots",
    "seen",
    "source",
    "starts",
]

PREFIX = "ww:"

STARTED = f"{PREFIX}started"
STARTED_GUARD = f"{PREFIX}started-guard"
HEARTBEAT = f"{PREFIX}heartbeat"
ARCHIVE = f"{PREFIX}archive"
ALERTS = f"{PREFIX}alerts"
OUTBOX = f"{PREFIX}outbox"
FAILED = f"{PREFIX}failed"
SET_ASIDE = f"{PREFIX}set-aside"
METRICS = f"{PREFIX}metrics"
CONFIG_GOOD = f"{PREFIX}config:good"
ALIVE_PREFIX = f"{PREFIX}alive:"
DEDUP_VERSION = f"{PREFIX}dedup:version"


def source(source_id: str) -> str:
    return f"{PREFIX}source:{source_id}"


def claim(source_id: str) -> str:
    return f"{PREFIX}claim:{source_id}"


def lock(name: str) -> str:
    return f"{PREFIX}lock:{name}"


def alive(owner: str) -> str:
    return f"{ALIVE_PREFIX}{owner}"


def seen(source_id: str) -> str:
    return f"{PREFIX}seen:{source_id}"


def entry(article_id: str) -> str:
    return f"{PREFIX}entry:{article_id}"


def article(article_id: str) -> str:
    return f"{PREFIX}article:{article_id}"


def alert(alert_key: str) -> str:
    return f"{PREFIX}alert:{alert_key}"


def rate(rule_id: str, hour: int) -> str:
    return f"{PREFIX}rate:{rule_id}:{hour}"


def digest(rule_id: str) -> str:
    return f"{PREFIX}digest:{rule_id}"


def digest_sent(rule_id: str) -> str:
    return f"{PREFIX}digest-sent:{rule_id}"


def delivery(key: str) -> str:
    return f"{PREFIX}delivery:{key}"


def attempts(key: str) -> str:
    return f"{PREFIX}attempts:{key}"


def host(origin: str) -> str:
    return f"{PREFIX}host:{origin}"


def host_next(origin: str) -> str:
    return f"{PREFIX}host-next:{origin}"


def robots(origin: str) -> str:
    return f"{PREFIX}robots:{origin}"


def starts(task_id: str, retries: int) -> str:
    return f"{PREFIX}starts:{task_id}:{retries}"


def _dedup(version: int) -> str:
    # Version 1 predates versioned keys; its keys are read once, to re-index them.
    return f"{PREFIX}dedup:" if version == 1 else f"{PREFIX}dedup:v{version}:"


def dedup_band(version: int, bucket: str) -> str:
    return f"{_dedup(version)}band:{bucket}"


def dedup_signature(version: int, article_id: str) -> str:
    return f"{_dedup(version)}sig:{article_id}"


def dedup_legacy_patterns() -> tuple[str, str]:
    """SCAN patterns of version 1's signature and band keys (no version's keys match them)."""
    return f"{PREFIX}dedup:sig:*", f"{PREFIX}dedup:band:*"


def dedup_folded(rule_id: str, article_id: str) -> str:
    return f"{PREFIX}dedup:of:{rule_id}:{article_id}"
