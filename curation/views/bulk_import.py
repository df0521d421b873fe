"""Bulk import: up to 1,000 PMIDs pasted or uploaded -> one fetch job -> cases to enter.

Every line is accounted for: an invalid one is reported by its line number
and nothing starts until the curator either corrects it or asks to import the
rest (the invalid entries then become failed items of the job, with the
reason, so they stay on the record).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from citations import actions as citation_actions
from citations.models import FetchJob
from citations.views import job_progress_context, render_job_progress
from curation.views.curate import curator_required
from curation.views.new_report import _fetch_job_for

MAX_PMIDS = 1_000
MAX_UPLOAD_BYTES = 1_000_000
ITEMS_SHOWN = MAX_PMIDS


@dataclass
class Entry:
    line: int
    text: str
    query: str = ""
    error: str = ""


@dataclass
class ParsedList:
    entries: list[Entry] = field(default_factory=list)  # valid, first occurrence
    invalid: list[Entry] = field(default_factory=list)
    repeats: list[Entry] = field(default_factory=list)  # asked again; fetched once
    header: str = ""  # a CSV header line that was skipped (line 1)

    @property
    def count(self) -> int:
        return len(self.entries) + len(self.invalid)


def parse_list(text: str, *, is_csv: bool = False) -> ParsedList:
    """PMIDs/DOIs, one or more a line (commas, semicolons, spaces, CSV cells)."""
    parsed = ParsedList()
    seen: dict[str, int] = {}
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if is_csv:
            cells = [cell.strip() for cell in next(csv.reader([line]), []) if cell.strip()]
            parse = citation_actions.parse_identifier
            if number == 1 and cells and all(parse(c).error for c in cells):
                parsed.header = line.strip()[:200]
                continue
        else:
            cells = citation_actions.split_identifiers(line)
        for cell in cells:
            found = citation_actions.parse_identifier(cell)
            entry = Entry(number, cell[:200], found.query, found.error)
            if found.error:
                parsed.invalid.append(entry)
            elif found.query in seen:
                parsed.repeats.append(entry)
            else:
                seen[found.query] = number
                parsed.entries.append(entry)
    return parsed


class BulkImportForm(forms.Form):
    pmids = forms.CharField(
        label="PMIDs or DOIs",
        required=False,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false"}),
        help_text="One a line (commas or spaces also separate them); at most 1,000.",
        max_length=200_000,
        error_messages={"max_length": "That is far more text than 1,000 PMIDs: split the list."},
    )
    file = forms.FileField(
        label="…or upload a .txt or .csv file",
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ".txt,.csv,text/plain,text/csv"}),
    )
    skip_invalid = forms.BooleanField(
        required=False, label="Import the valid ones; record the invalid lines as failed"
    )

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if not upload:
            return None
        name = upload.name.lower()
        if not name.endswith((".txt", ".csv")):
            raise forms.ValidationError("Upload a .txt or .csv file (one PMID a line).")
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                f"That file is {upload.size:,} bytes; a list of 1,000 PMIDs is far smaller "
                f"(at most {MAX_UPLOAD_BYTES:,})."
            )
        raw = upload.read()
        if b"\x00" in raw:
            raise forms.ValidationError("That file is not text: save it as .txt or .csv.")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("cp1252")
            except UnicodeDecodeError:
                raise forms.ValidationError(
                    "That file is not readable text (save it as UTF-8)."
                ) from None
        return (text, name.endswith(".csv"))

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        pasted, upload = data.get("pmids", "").strip(), data.get("file")
        if pasted and upload:
            raise forms.ValidationError("Paste a list or upload a file, not both.")
        if not pasted and not upload:
            raise forms.ValidationError("Paste PMIDs or upload a file.")
        text, is_csv = upload if upload else (pasted, False)
        parsed = parse_list(text, is_csv=is_csv)
        if parsed.count == 0:
            raise forms.ValidationError("No PMID or DOI found in what you gave.")
        if parsed.count > MAX_PMIDS:
            raise forms.ValidationError(
                f"That is {parsed.count:,} PMIDs/DOIs; at most {MAX_PMIDS:,} per import. "
                "Split the list: nothing was imported."
            )
        data["parsed"] = parsed
        return data


@curator_required
@require_http_methods(["GET", "POST"])
def bulk_import(request):
    form = BulkImportForm(request.POST or None, request.FILES or None)
    parsed = None
    if request.method == "POST" and form.is_valid():
        parsed = form.cleaned_data["parsed"]
        if not parsed.invalid or form.cleaned_data["skip_invalid"]:
            queries = [e.query for e in parsed.entries] + [e.text for e in parsed.invalid]
            job = citation_actions.request_fetch(queries, by=request.user, source="bulk import")
            if parsed.invalid:
                messages.warning(
                    request,
                    f"{len(parsed.invalid)} invalid line(s) recorded as failed: "
                    + "; ".join(f"line {e.line}: “{e.text}”" for e in parsed.invalid[:20]),
                )
            if parsed.repeats:
                messages.info(
                    request,
                    f"{len(parsed.repeats)} repeated PMID(s) asked once: "
                    + "; ".join(f"line {e.line}: {e.query}" for e in parsed.repeats[:20]),
                )
            return redirect("curation:bulk_job", pk=job.pk)
    return render(
        request,
        "curation/curate/bulk_import.html",
        {"form": form, "parsed": parsed, "max_pmids": MAX_PMIDS},
        status=422 if request.method == "POST" else 200,
    )


@curator_required
@require_GET
def bulk_job(request, pk: int):
    """A bulk import's progress: each PMID's outcome, "Add cases" beside each paper."""
    job = _fetch_job_for(request, pk)
    context = job_progress_context(
        request,
        job,
        items_shown=ITEMS_SHOWN,
        retry_url=reverse("curation:bulk_retry", args=[job.pk]),
    )
    return render_job_progress(
        request, context, "curation/curate/bulk_job.html", "curation/curate/_bulk_progress.html"
    )


@curator_required
@require_POST
def bulk_retry(request, pk: int):
    job = _fetch_job_for(request, pk)
    if job.state != FetchJob.State.DONE:
        messages.info(request, "This import is still running; retry its failures when it ends.")
    else:
        retried = citation_actions.retry_failed(job, by=request.user)
        if retried:
            messages.success(request, f"Trying {retried} failed PMID(s) again.")
        else:
            messages.info(request, "Nothing to retry: the failed lines are not PMIDs or DOIs.")
    return redirect("curation:bulk_job", pk=job.pk)
