from django.shortcuts import render

from curation.models import Case


def registry_counts() -> dict[str, int]:
    """What the registry holds, for the home page. Two COUNT queries."""
    counts: dict[str, int] = {"cases": Case.objects.published().count()}
    try:
        from citations.models import Citation

        counts["citations"] = Citation.objects.count()
    except ImportError:
        pass
    return counts


def home(request):
    return render(request, "curation/home.html", {"counts": registry_counts()})
