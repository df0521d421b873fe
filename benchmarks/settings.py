"""Settings of the web server under benchmark: production settings plus one URL.

gunicorn runs with DJANGO_SETTINGS_MODULE=benchmarks.settings, so the
baseline view exists only in benchmark runs; config.urls, which production
serves, has no such URL.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.urls"

# `?nocache` makes search, statistics and gene pages recompute their counts:
# the benchmark's cold figures (curation/search/cache.py). Not in production.
SEARCH_CACHE_BYPASS_PARAM = "nocache"
