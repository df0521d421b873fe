"""gunicorn's settings: `gunicorn config.wsgi --config config/gunicorn.py --bind ADDRESS`.

gunicorn's sync workers read each request from the socket themselves: a
client that sends slowly (or not at all) holds a worker for as long as it
likes, and four such clients froze a three-worker site. So gunicorn is never
exposed: the buffering proxy (deploy/nginx.conf.template) reads whole
requests before it passes them on and takes whole answers at once, so a
worker is busy only while Django works. The timeouts below match the
proxy's, and a test keeps them in step (tests/config/test_deploy_config.py).
"""

from config.env import env_int

wsgi_app = "config.wsgi:application"
worker_class = "sync"
# Worker processes of this gunicorn; more web processes (or machines) behind
# the proxy add more.
workers = env_int("WEB_CONCURRENCY", 3, minimum=1)

# A worker silent this long is killed and replaced (and its request answered
# 502 by the proxy, which waits 5 s longer: proxy_read_timeout 65s).
timeout = 60
# On a restart or a stop, requests under way get this long to finish
# (compose gives the container stop_grace_period: 35s).
graceful_timeout = 30
# The proxy opens a connection per request; an idle one is closed at once.
keepalive = 2

# Several gunicorn processes on one machine may share a port; the kernel
# spreads the connections between them (the production check runs two).
reuse_port = True

# The scheme comes from Django's SECURE_PROXY_SSL_HEADER, one rule for every
# process; gunicorn's own X-Forwarded-Proto handling (trusting 127.0.0.1
# only) would make a local proxy and a proxy in another container differ.
secure_scheme_headers: dict[str, str] = {}

accesslog = "-"
errorlog = "-"
