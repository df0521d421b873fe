"""The figure upload form: what the curator types; attach_figure checks and writes."""

from django import forms

from curation import licences
from curation.models import Figure, Marker


class FigureForm(forms.Form):
    file = forms.FileField(
        label="Image file",
        help_text="PNG, JPEG or TIFF, as the paper published it.",
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/tiff"}),
    )
    # Not required here: attach_figure / update_figure say what is missing, together
    # with every other problem of the figure.
    caption = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=5000, required=False
    )
    panel_label = forms.CharField(
        label="Panel label", required=False, max_length=20, help_text="As in the paper: 2B."
    )
    stain = forms.CharField(
        required=False,
        max_length=100,
        help_text="H&E, a marker (ALK, S100…) for immunohistochemistry, or “other”.",
        widget=forms.TextInput(attrs={"list": "stains", "autocomplete": "off"}),
    )
    magnification = forms.CharField(
        label="Original magnification", required=False, max_length=30, help_text="\u00d7200"
    )
    credit = forms.CharField(
        label="Credit line",
        required=False,
        max_length=500,
        help_text="As the licence asks: authors, journal, year.",
    )
    licence = forms.ChoiceField(
        required=False,
        choices=[("", "— choose —")]
        + [(key, f"{lic.short} ({key})") for key, lic in licences.licences().items()],
        help_text="Without a licence that allows it, only curators and reviewers see the figure.",
    )
    permission_reference = forms.CharField(
        label="Publisher's permission",
        required=False,
        max_length=300,
        help_text="With “With permission”: the letter or licence number.",
    )

    @staticmethod
    def stain_options() -> list[str]:
        """The <datalist> of the stain input."""
        return ["H&E", "other", *Marker.objects.order_by("name").values_list("name", flat=True)]


class FigureEditForm(FigureForm):
    """What a figure says (its file stays)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["file"]

    @staticmethod
    def initial_for(figure: Figure) -> dict:
        stain = {Figure.Stain.HE: "H&E", Figure.Stain.OTHER: "other"}.get(figure.stain, "")
        if figure.stain == Figure.Stain.IHC and figure.marker_id:
            stain = figure.marker.name
        return {
            "caption": figure.caption,
            "panel_label": figure.panel_label,
            "stain": stain,
            "magnification": figure.magnification or "",
            "credit": figure.credit,
            "licence": figure.licence,
            "permission_reference": figure.permission_reference,
        }


__all__ = ["Figure", "FigureEditForm", "FigureForm"]
