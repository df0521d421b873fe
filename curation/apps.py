from django.apps import AppConfig


class CurationConfig(AppConfig):
    name = "curation"
    verbose_name = "Curation"

    def ready(self):
        # Cached search counts and statistics follow every change to the registry.
        from curation.search import cache

        cache.connect()
