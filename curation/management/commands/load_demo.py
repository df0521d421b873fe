from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Load the demo data (vocabularies and the founding CARS1::ALK case). Idempotent."

    def handle(self, *args, **options):
        self.stdout.write("Demo data: nothing to load yet.")
