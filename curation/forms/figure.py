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
    caption = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)
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


__all__ = ["Figure", "FigureForm"]
