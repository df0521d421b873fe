"""The baseline of the stack: the cheapest page Django can serve from the database."""

from django.http import Http404, HttpResponse

from curation.models import Case


def bench_baseline(request, pk: int):
    """One primary-key query through the full middleware stack, a few bytes out.

    Every page's latency is reported as a multiple of this one's, measured in
    the same run: gunicorn, the middleware, the database round trip and the
    load generator are all in it, so the ratio is what the page itself costs.
    """
    status = Case.objects.filter(pk=pk).values_list("status", flat=True).first()
    if status is None:
        raise Http404("No such case.")
    return HttpResponse(f"case {pk}: {status}\n", content_type="text/plain")
