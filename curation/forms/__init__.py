"""The curator's forms: the case form and its inline rows (IHC results, fusions).

fields.py: vocabulary lookups (diagnosis, site, marker) and field helpers;
rows.py: the IHC and fusion rows; case.py: the case form and `CaseForms`.
"""

from curation.forms.case import MAX_AGE, CaseForm, CaseForms
from curation.forms.fields import TEXT_LIMIT, VOCABULARIES, Vocabulary, VocabularyField
from curation.forms.rows import MAX_ROWS, FusionRowForm, IHCRowForm

__all__ = [
    "MAX_AGE",
    "MAX_ROWS",
    "TEXT_LIMIT",
    "VOCABULARIES",
    "CaseForm",
    "CaseForms",
    "FusionRowForm",
    "IHCRowForm",
    "Vocabulary",
    "VocabularyField",
]
