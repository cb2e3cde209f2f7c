"""The running service: the Celery app and tasks, the supervisor of `wirewatch run`,
its embedded Redis, the live config, and where a process finds config, data and Redis.

    app             the Celery app, built when a worker starts
    tasks           thin Celery tasks over the pipeline
    supervisor      `wirewatch run`: embedded Redis, beat and workers as children
    embedded_redis  a private redis-server when REDIS_URL is unset
    live_config     the config as it is on disk, or the last good one
    runtime         config, data and Redis locations from the environment
"""
