"""POST /api/v1/drafts/: a curator's script sends a case as JSON (issue 17).

The JSON is the case form, field for field: its keys are the names of the form's
fields (curation/forms, `CaseForms`) and of its row forms, in arrays (`ihc_results`,
`fusions`...). The request is turned into the form's own input and validated by
the form — there is no second copy of its rules, so the same bad input gets the
same message here as on the page — and written by the same actions (`start_case`,
`save_draft`, `submit_case`), so the case is a draft, or with `"submit": true` a
case waiting in the review queue; nothing publishes without review.

What only JSON can get wrong is checked first, from the same form fields: an
unknown key or a value of the wrong JSON type is a 400 naming it. All or nothing:
a request with any problem writes nothing, and the answer lists every problem.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import RequestDataTooBig, ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import transaction
from django.http import QueryDict
from drf_spectacular.plumbing import list_hash
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status, viewsets
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from accounts.roles import CURATOR, has_role
from accounts.tokens import TokenAuthentication, TokenThrottle
from citations.models import Citation
from curation.actions.cases import CaseActionError
from curation.actions.submission import Incomplete, save_draft, start_case, submit_case
from curation.forms import VOCABULARIES, CaseForm, CaseForms
from curation.forms.case import ROW_FORMSETS
from curation.forms.fields import VocabularyListField
from curation.forms.rows import MAX_ROWS
from curation.models import Case
from curation.search.contract import TOO_MANY

# The form's row kinds (curation.forms.case.ROW_FORMSETS) as JSON arrays.
ROW_KEYS = {
    "ihc": "ihc_results",
    "fusion": "fusions",
    "molecular": "molecular_findings",
    "treatment": "treatments",
    "event": "events",
}
MAX_ID = 2**31 - 1
# Keys of the request that are not form fields.
OWN_KEYS = ("pmid", "submit")


# -- the form's fields as JSON ---------------------------------------------------------


def _bound(field, validator_class, attr):
    value = getattr(field, attr, None)
    if value is None:
        for validator in field.validators:
            if isinstance(validator, validator_class):
                value = validator.limit_value
    return value


# The form's hidden fields have no label: what they mean.
HIDDEN = {
    "five_prime_choice": "Where the 5' symbol written is ambiguous: the RareDerm id of the "
    "gene meant (the 400 that asks for it lists the candidates).",
    "three_prime_choice": "Where the 3' symbol written is ambiguous: the RareDerm id of the "
    "gene meant.",
}


def _schema(name: str, field: forms.Field) -> tuple[dict, tuple]:
    """(JSON schema, accepted Python types) of one form field."""
    label = field.label or HIDDEN.get(name) or name.replace("_", " ").capitalize()
    description = " ".join(str(part) for part in (label, field.help_text or "") if part)
    if isinstance(field, forms.BooleanField):
        return {"type": "boolean", "description": description}, (bool,)
    if isinstance(field, forms.IntegerField | forms.DecimalField):
        integer = not isinstance(field, forms.DecimalField)
        schema = {"type": "integer" if integer else "number", "nullable": True}
        low = _bound(field, MinValueValidator, "min_value")
        high = _bound(field, MaxValueValidator, "max_value")
        schema["minimum"] = -MAX_ID if low is None else float(low)
        schema["maximum"] = MAX_ID if high is None else float(high)
        if integer:
            schema = {
                **schema,
                "minimum": int(schema["minimum"]),
                "maximum": int(schema["maximum"]),
            }
        return {**schema, "description": description}, (int,) if integer else (int, float)
    schema = {"type": "string", "nullable": True, "description": description}
    if isinstance(field, forms.ChoiceField):
        choices = [(value, label) for value, label in field.choices if value != ""]
        schema["enum"] = [str(value) for value, _label in choices]
        # The id drf-spectacular names a choice set by: the same set as the case's
        # columns gets the same name in the schema (LateralityEnum), not a second one.
        schema["x-spec-enum-id"] = list_hash([(str(v), str(label)) for v, label in choices])
        schema["description"] += ". One of: " + ", ".join(
            f"{value} ({label})" for value, label in field.choices if value != ""
        )
    else:
        limit = _bound(field, MaxLengthValidator, "max_length")
        if limit is not None:
            schema["maxLength"] = int(limit)
    if isinstance(field, VocabularyListField):
        schema["description"] += " Several names separated by “;”."
    return schema, (str,)


class FormValue(serializers.Field):
    """One form field's value as JSON: only its JSON type is checked here; its value is
    checked by the form. Becomes the text the form reads."""

    def __init__(self, name: str, form_field: forms.Field, **kwargs):
        self.json_schema, self.types = _schema(name, form_field)
        super().__init__(required=False, allow_null=True, **kwargs)
        self._spectacular_annotation = {"field": self.json_schema}

    def to_internal_value(self, value):
        if isinstance(value, bool) and bool not in self.types:
            self.fail_type()
        if not isinstance(value, self.types):
            self.fail_type()
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_ID:
            raise serializers.ValidationError("That number is too large.")
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def fail_type(self):
        kind = {"boolean": "true or false", "integer": "a whole number", "number": "a number"}
        wanted = kind.get(self.json_schema["type"], "a string")
        raise serializers.ValidationError(f"Expected {wanted} (or null).")

    def to_representation(self, value):
        return value


def _form_fields(form: forms.Form) -> dict[str, FormValue]:
    return {
        name: FormValue(name, field) for name, field in form.fields.items() if name != "DELETE"
    }


def _blank_forms() -> tuple[CaseForm, dict[str, forms.Form]]:
    """Unbound forms, for their fields (the vocabularies are not loaded)."""
    vocabularies = {name: cls() for name, cls in VOCABULARIES.items()}
    case_form = CaseForm(case=Case(), vocabularies=vocabularies)
    rows = {
        kind: row_form(markers=vocabularies["marker"]) if kind == "ihc" else row_form()
        for kind, _fs, row_form, _title, _related in ROW_FORMSETS
    }
    return case_form, rows


class StrictSerializer(serializers.Serializer):
    """Unknown keys are errors, not silently dropped."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError({"detail": ["Expected a JSON object."]})
        unknown = sorted(set(data) - set(self.fields))
        errors = {}
        try:
            value = super().to_internal_value(data)
        except serializers.ValidationError as exc:
            errors = dict(exc.detail)
            value = None
        for key in unknown:
            errors[key] = [f"Unknown field “{key[:60]}”: the case form has no such field."]
        if errors:
            raise serializers.ValidationError(errors)
        return value


def _row_serializer(kind: str, form: forms.Form):
    title = next(t for k, _fs, _f, t, _r in ROW_FORMSETS if k == kind)
    fields = _form_fields(form)
    cls = type(
        f"Draft{kind.title()}Row",
        (StrictSerializer,),
        {**fields, "__doc__": f"One {title} row of the case form."},
    )
    return cls


class StrictInteger(serializers.IntegerField):
    """A JSON integer: "123" or 12.0 is a wrong type, not an integer."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            raise serializers.ValidationError("Expected a whole number.")
        return super().to_internal_value(data)


class StrictBoolean(serializers.BooleanField):
    """A JSON boolean: "yes" or 1 is a wrong type."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            raise serializers.ValidationError("Expected true or false.")
        return data


class DraftSerializer(StrictSerializer):
    """A case as the case form takes it. Every key but `pmid` may be left out."""

    pmid = StrictInteger(
        min_value=1,
        max_value=MAX_ID,
        help_text="The PubMed id of the report; it must already be in RareDerm "
        "(added on the New report page).",
    )
    submit = StrictBoolean(
        required=False,
        default=False,
        help_text="true: submit the draft for review at once (it must then be complete: "
        "final diagnosis, site, a finding). false or left out: keep it a draft.",
    )

    def get_fields(self):
        fields = super().get_fields()
        case_form, rows = _blank_forms()
        fields.update(_form_fields(case_form))
        for kind, form in rows.items():
            title = next(t for k, _fs, _f, t, _r in ROW_FORMSETS if k == kind)
            fields[ROW_KEYS[kind]] = _row_serializer(kind, form)(
                many=True,
                required=False,
                max_length=MAX_ROWS,
                help_text=f"The case's {title} rows, as on the case form (at most {MAX_ROWS}).",
            )
        return fields


class DraftCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The case's number")
    status = serializers.ChoiceField(
        choices=["draft", "submitted"],
        help_text="draft, or submitted (waiting in the review queue)",
    )
    version = serializers.IntegerField(help_text="The record's version")
    url = serializers.URLField(help_text="The case's page (only its curator and reviewers see it)")


_ERRORS = {"type": "array", "items": {"type": "string"}}
DRAFT_BAD_REQUEST = OpenApiResponse(
    response={
        "type": "object",
        "description": "Each problem under the field it concerns: a case field, "
        "`ihc_results[0].result` for a row's, `detail` for the body as a whole.",
        "additionalProperties": _ERRORS,
    },
    description="The JSON could not be read, has unknown keys or wrong types, or the case "
    "form refuses a value; nothing was written.",
)
_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
UNAUTHORIZED = OpenApiResponse(
    response=_DETAIL, description="No API token, or one that is malformed, unknown or revoked."
)
FORBIDDEN = OpenApiResponse(response=_DETAIL, description="The token's user is not a curator.")
UNSUPPORTED = OpenApiResponse(response=_DETAIL, description="The body is not application/json.")

EXAMPLE = {
    "pmid": 35560368,
    "label": "Case 1",
    "age": 38,
    "age_unit": "years",
    "sex": "male",
    "topography": "C44.4",
    "final_diagnosis": "inflammatory myofibroblastic tumor",
    "ihc_results": [{"marker": "ALK", "result": "positive", "pattern": "cytoplasmic"}],
    "fusions": [{"written": "CARS-ALK", "method": "rna_seq"}],
    "submit": True,
}


class IsCurator(permissions.BasePermission):
    message = "Only curators submit case drafts (this token's user is not one)."

    def has_permission(self, request, view):
        return has_role(request.user, CURATOR)


class _Refused(Exception):
    def __init__(self, errors: dict):
        self.errors = errors


def _form_data(data: dict) -> QueryDict:
    """The validated JSON as the case form's POST: fields by name, rows as formsets."""
    posted = QueryDict(mutable=True)
    for name, value in data.items():
        if name not in OWN_KEYS and name not in ROW_KEYS.values():
            posted[name] = value if value is not None else ""
    for kind, key in ROW_KEYS.items():
        rows = data.get(key) or []
        posted[f"{kind}-TOTAL_FORMS"] = str(len(rows))
        posted[f"{kind}-INITIAL_FORMS"] = "0"
        posted[f"{kind}-MIN_NUM_FORMS"] = "0"
        posted[f"{kind}-MAX_NUM_FORMS"] = str(MAX_ROWS)
        for index, row in enumerate(rows):
            for name, value in row.items():
                posted[f"{kind}-{index}-{name}"] = value if value is not None else ""
    return posted


def _form_errors(bundle: CaseForms) -> dict[str, list[str]]:
    """The form's messages, under the JSON names of what they concern."""
    errors: dict[str, list[str]] = {}
    for name, messages in bundle.form.errors.items():
        key = "detail" if name == forms.forms.NON_FIELD_ERRORS else name
        errors.setdefault(key, []).extend(messages)
    for kind, formset in bundle.formsets.items():
        key = ROW_KEYS[kind]
        if formset.non_form_errors():
            errors.setdefault(key, []).extend(formset.non_form_errors())
        for index, form in enumerate(formset.forms):
            for name, messages in form.errors.items():
                where = f"{key}[{index}]" + (
                    "" if name == forms.forms.NON_FIELD_ERRORS else f".{name}"
                )
                errors.setdefault(where, []).extend(messages)
    return errors


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    """DRF's nested errors as {"ihc_results[0].percent_cells": ["…"]}."""
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            if isinstance(key, int) or str(key).isdigit():
                where = f"{prefix}[{key}]"
            elif key in ("non_field_errors", "detail") and prefix:
                where = prefix
            else:
                where = f"{prefix}.{key}" if prefix else str(key)
            for name, messages in _flatten(value, where).items():
                out.setdefault(name, []).extend(messages)
    elif isinstance(detail, list) and any(not isinstance(d, str) for d in detail):
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten(value, f"{prefix}[{index}]"))
    else:
        messages = detail if isinstance(detail, list) else [detail]
        out[prefix or "detail"] = [str(m) for m in messages]
    return out


class DraftViewSet(viewsets.ViewSet):
    """A curator's case draft, sent as JSON with a personal API token."""

    authentication_classes = [TokenAuthentication]
    permission_classes = [permissions.IsAuthenticated, IsCurator]
    parser_classes = [JSONParser]
    throttle_classes = [TokenThrottle]

    @extend_schema(
        request=DraftSerializer,
        responses={
            201: DraftCreatedSerializer,
            400: DRAFT_BAD_REQUEST,
            401: UNAUTHORIZED,
            403: FORBIDDEN,
            415: UNSUPPORTED,
            429: TOO_MANY,
        },
        examples=[OpenApiExample("A case submitted for review", value=EXAMPLE, request_only=True)],
    )
    def create(self, request):
        """Make a case draft from JSON (the case form's fields); `submit`: send it to review."""
        shape = DraftSerializer(data=request.data)
        if not shape.is_valid():
            return Response(_flatten(shape.errors), status=status.HTTP_400_BAD_REQUEST)
        data = shape.validated_data
        citation = Citation.objects.filter(pmid=data["pmid"]).first()
        if citation is None:
            return Response(
                {
                    "pmid": [
                        f"PMID {data['pmid']} is not in RareDerm: add the report first "
                        "(New report), then send its cases."
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        bundle = CaseForms(Case(citation=citation, created_by=request.user), _form_data(data))
        if not bundle.is_valid():
            return Response(_form_errors(bundle), status=status.HTTP_400_BAD_REQUEST)
        try:
            case = _write(citation, request.user, bundle, submit=data.get("submit", False))
        except _Refused as exc:
            return Response(exc.errors, status=status.HTTP_400_BAD_REQUEST)
        except (CaseActionError, ValidationError) as exc:  # a rule the form did not foresee
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            return Response({"detail": messages}, status=status.HTTP_400_BAD_REQUEST)
        return Response(
            {
                "id": case.pk,
                "status": case.status,
                "version": case.version,
                "url": request.build_absolute_uri(case.get_absolute_url()),
            },
            status=status.HTTP_201_CREATED,
        )

    def handle_exception(self, exc):
        if isinstance(exc, ParseError):  # the body is no JSON: the 400's list form
            return Response({"detail": [str(exc.detail)]}, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, RequestDataTooBig):  # else Django's HTML 400 page
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            return Response(
                {
                    "detail": [
                        f"The body is larger than {limit:,} bytes (DATA_UPLOAD_MAX_MEMORY_SIZE)."
                    ]
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        return super().handle_exception(exc)


@transaction.atomic
def _write(citation, user, bundle: CaseForms, *, submit: bool) -> Case:
    """The form's values written as the page writes them; all or nothing."""
    values = bundle.values()
    case = start_case(citation, by=user, label=values["fields"].get("label", ""))
    result = save_draft(case, by=user, expected_version=case.version, **values)
    case = result.case
    if submit:
        try:
            case = submit_case(case, by=user, expected_version=case.version)
        except Incomplete as exc:  # leaving the transaction by an exception undoes it all
            raise _Refused({name: [message] for name, message in exc.errors.items()}) from None
    return case
