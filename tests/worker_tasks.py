"""Tasks that exist only for the infrastructure tests; loaded by test workers (--include)."""

from celery import shared_task


@shared_task(name="tests.create_group")
def create_group(name: str) -> None:
    from django.contrib.auth.models import Group

    Group.objects.get_or_create(name=name)
