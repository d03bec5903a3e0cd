"""gunicorn settings for JOF in production: ``gunicorn -c deploy/gunicorn.conf.py``.

Why these choices:

* **Behind a buffering proxy** (``deploy/nginx/jof.conf``). gunicorn's workers expect
  it: a client that sends its headers or body slowly holds whatever serves it. Measured
  on main: four connections trickling headers held all four *sync* workers for 35 s and
  nobody else was served. nginx reads the whole request (``proxy_request_buffering``)
  and the whole answer (``proxy_buffering``) before it involves gunicorn, so a slow
  client costs nginx a connection, not JOF a worker. gthread does **not** remove that
  need: it reads a request line and headers in a pool thread on a blocking socket, so
  12 connections stalled mid-request (2 workers × 2 threads) kept ``GET /login`` from
  answering at all (gunicorn 27; ``tests/core/test_deploy.py``). Never expose gunicorn
  to clients.
* **gthread workers** (processes with a few threads each): a request waiting on
  PostgreSQL or on WeasyPrint holds one thread, not a whole process, and a keep-alive
  connection from the proxy waits in the worker's poller instead of a thread. Threads
  share the process's SQLAlchemy pool; Flask-SQLAlchemy scopes sessions per thread.
* **timeout 60 s**: the longest legitimate request (a decision's PDF, an invoice batch
  in the web when REDIS_URL is unset) takes a few seconds; a worker silent for a minute
  is stuck and is restarted. ``graceful_timeout`` lets requests in flight finish on a
  reload or stop.
* **max_requests**: WeasyPrint and fontconfig caches grow a worker by tens of MB;
  recycling workers after ~1,000 requests (with jitter, so not all at once) bounds it.
* **No preload_app**: each worker opens its own database connections after the fork
  (a pool inherited across fork shares sockets between processes).
* Request line and header limits stay at gunicorn's safe defaults, stated here so that
  nobody raises them by accident; bodies are limited by nginx and by JOF itself (1 MB,
  5 MB for uploads).

Every value can be overridden by the environment of the unit (``JOF_BIND``,
``JOF_WORKERS``, ``JOF_THREADS``) or on the command line (``--bind``), which wins.
"""

import multiprocessing
import os

wsgi_app = "jof:create_app()"
bind = os.environ.get("JOF_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("JOF_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
threads = int(os.environ.get("JOF_THREADS", "4"))
timeout = 60
graceful_timeout = 30
#: The proxy keeps connections to gunicorn open (nginx ``keepalive``); a little longer
#: than nginx's own idle time so gunicorn is not the one to close first.
keepalive = 75
max_requests = 1000
max_requests_jitter = 100
preload_app = False
limit_request_line = 4094
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("JOF_LOG_LEVEL", "info")
proc_name = "jof"
