"""wirewatch: a self-hosted news-monitoring worker (Celery + Redis + Apprise)."""

__all__ = ["__version__"]

__version__ = "0.1.0"
