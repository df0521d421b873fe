import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()

# A serving process freezes its long-lived objects after its first request.
from config import gcfreeze  # noqa: E402

gcfreeze.connect()
