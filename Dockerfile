# One image for the worker and beat services of docker-compose.yml.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WIREWATCH_CONFIG=/config \
    WIREWATCH_DATA=/data

# Celery warns against running as root, and a worker that parses strangers'
# HTML has no business being root.
RUN useradd --create-home --uid 10001 wirewatch \
    && mkdir -p /data && chown wirewatch /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY worker ./worker
RUN pip install .

USER wirewatch
CMD ["wirewatch", "run"]
