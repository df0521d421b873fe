"""What a curator typed into the case form that could not be saved yet.

Autosave (and Save) write every valid field and row of the case form; the
text of the fields and rows still in error is kept here, as posted, so that
the case page shows it again with its messages after a reload or a browser
crash. A fully valid save deletes it.
"""

from __future__ import annotations

from django.db import models
from django.http import QueryDict


class CaseDraftInput(models.Model):
    case = models.OneToOneField(
        "curation.Case", on_delete=models.CASCADE, related_name="draft_input"
    )
    # The case version the posted text was saved against: a later version saved
    # elsewhere makes the next save a conflict (shown side by side), not an overwrite.
    version = models.PositiveIntegerField()
    data = models.JSONField(help_text="The form as posted: {name: [values]}.")
    saved_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "unsaved case-form input"

    def __str__(self) -> str:
        return f"Unsaved input of case {self.case_id} (version {self.version})"

    def as_query_dict(self) -> QueryDict:
        out = QueryDict(mutable=True)
        for name, values in self.data.items():
            out.setlist(name, [str(v) for v in values])
        return out
