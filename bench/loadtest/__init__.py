"""``make loadtest``: JOF under gunicorn × 4 on a throw-away PostgreSQL database, driven by locust."""
