"""The API's contract, one place for every endpoint: what the OpenAPI schema promises
is what comes back (issue 17; found by a schemathesis run against /api/cases/).

- A choice column left empty ("" in the database, STYLE.md rule 8) is `null` in
  JSON and documented as nullable, never an empty string outside its enum.
- Decimal columns (age, size, follow-up) are JSON numbers, as in the exports.
- `url` is absolute, so that a row copied out of a response still leads back.
- A filter value outside its choices is refused with 400, whether it is empty,
  in another case or one of several repeated values.
- Every error answer is listed in the schema with its body.
"""

from __future__ import annotations

import django_filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination


class BlankAsNullChoiceField(serializers.ChoiceField):
    """A choice column that may be empty: "" is reported as null."""

    def to_representation(self, value):
        if value in ("", None):
            return None
        return super().to_representation(value)


@extend_schema_field(OpenApiTypes.URI)
class AbsoluteURLField(serializers.Field):
    """The object's page as an absolute URL (of the request's host)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "get_absolute_url")
        kwargs["read_only"] = True
        super().__init__(**kwargs)

    def to_representation(self, value):
        request = self.context.get("request")
        return request.build_absolute_uri(value) if request is not None else value


class ContractModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose generated fields keep the contract above.

    Generic on purpose: every choice or decimal column a model gains later
    (new case fields) follows the same rule without a line here.
    """

    def build_standard_field(self, field_name, model_field):
        field_class, kwargs = super().build_standard_field(field_name, model_field)
        if "choices" in kwargs and model_field.blank:
            field_class = BlankAsNullChoiceField
            kwargs["allow_null"] = True
        if issubclass(field_class, serializers.DecimalField):
            kwargs["coerce_to_string"] = False
        return field_class, kwargs


@extend_schema_field({"type": "integer", "minimum": 1, "maximum": 2**31 - 1})
class IdFilter(django_filters.NumberFilter):
    """A record's number (documented as an integer, not any number)."""


@extend_schema_field({"type": "integer", "minimum": 1800, "maximum": 2200})
class YearFilter(django_filters.NumberFilter):
    """A publication year."""


# The patterns the search parameters are read with (curation/search/params.py).
SITE_PATTERN = r"^\s*[Cc][0-9]{2}(\.[0-9])?\s*$"


def _any_case(word: str) -> str:
    """A regular expression for a word in any letter case (JSON Schema has no flags)."""
    return "".join(f"[{c.upper()}{c}]" for c in word)


IHC_PATTERN = (
    r"^.*[A-Za-z0-9].*:\s*("
    + "|".join(_any_case(result) for result in ("positive", "negative", "equivocal"))
    + r")\s*$"
)


@extend_schema_field({"type": "string", "pattern": SITE_PATTERN})
class SiteFilter(django_filters.CharFilter):
    """An ICD-O-3 topography code or group: C44, C44.4."""


@extend_schema_field({"type": "string", "pattern": IHC_PATTERN})
class IHCFilter(django_filters.CharFilter):
    """marker:result."""


class StrictFilterSet(django_filters.FilterSet):
    """Every value given for a choice or number filter must be one it can use.

    django-filter reads only the last value of a repeated parameter and takes
    an empty one as "no filter"; the API refuses both rather than answer 200
    for something it did not do. (Free-text filters take any text, "" included.)
    """

    def _problem(self, filter_, raw: str) -> str | None:
        if isinstance(filter_, django_filters.ChoiceFilter):
            choices = filter_.extra.get("choices", ())
            allowed = [str(value) for value, _ in (choices() if callable(choices) else choices)]
            if raw not in allowed:
                return f"“{raw[:40]}” is not one of: {', '.join(allowed)}."
        elif (
            isinstance(filter_, django_filters.NumberFilter | SiteFilter | IHCFilter)
            and not raw.strip()
        ):
            return "Give a value, or leave the parameter out."
        return None

    def is_valid(self):
        valid = super().is_valid()
        data = self.data
        if not hasattr(data, "getlist"):
            return valid
        for name, filter_ in self.filters.items():
            for raw in data.getlist(name):
                message = self._problem(filter_, raw)
                if message:
                    if name in self.form.errors:
                        self.form.errors[name] = self.form.error_class([message])
                    else:
                        self.form.add_error(name, message)
                    break
        return valid and not self.form.errors


class StrictPageNumberPagination(PageNumberPagination):
    """DRF's page numbers, with `page=` (empty) a 404 like every other page that is not one."""

    def paginate_queryset(self, queryset, request, view=None):
        if request.query_params.get(self.page_query_param, None) == "":
            raise NotFound("Invalid page.")
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1}
        return parameters


_MESSAGES = {"type": "array", "items": {"type": "string"}}
BAD_REQUEST = OpenApiResponse(
    response={
        "type": "object",
        "description": "The parameter's name (or `detail`) and what is wrong with its value.",
        "additionalProperties": _MESSAGES,
    },
    description="A parameter could not be read; nothing was filtered.",
)
NOT_FOUND = OpenApiResponse(
    response={
        "type": "object",
        "properties": {"detail": {"type": "string"}},
        "required": ["detail"],
    },
    description="No such published record, or a page past the last one.",
)
_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
TOO_MANY = OpenApiResponse(
    response={"type": "object", "properties": {"detail": {"type": "string"}}},
    description="Too many requests (per client address without a login: API_ANON_RATE; "
    "per API token: API_TOKEN_RATE): try again after `Retry-After` seconds.",
)
BAD_KEY = OpenApiResponse(
    response=_DETAIL,
    description="The Authorization header names an API key that is malformed, unknown or "
    "revoked (accounts/tokens.py); without the header a read is answered as anonymous.",
)
