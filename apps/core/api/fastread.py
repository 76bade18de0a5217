"""Faster representation for serializers of long lists (orders with their lines).

DRF's Serializer.to_representation spends most of its time around the fields, not in them: a
generator of readable fields, `get_attribute` walking each source with its error handling, a
PKOnlyObject for every relation. For a page of 20 orders and 50 lines that is ~1,400 such calls.
FastReadMixin works out once per serializer class how each field's value is read (a model
attribute, a foreign key's id, or DRF's own get_attribute for anything else) and then only reads
and converts, with each field's own to_representation, so the output is exactly DRF's (tested).

The plan is made from a prototype of the class built without instance or context, and kept with
the class: building and deep-copying ~50 fields for every response cost more than serializing a
page of them. So a serializer using the mixin must have the same fields, converting the same way,
for every request (no fields chosen by the user, no links built from the request); the plain
model, relation-key and nested-list fields of orders and lines are such fields.

Decimals that already have the field's places (all the database returns) and aware datetimes skip
DRF's per-value work (a quantize context; a time zone lookup per field, here once per row) and get
its exact text; any other value goes through DRF (tested)."""
import datetime as dt
import threading
from decimal import Decimal
from operator import attrgetter

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from rest_framework import ISO_8601
from rest_framework.fields import DateTimeField, DecimalField
from rest_framework.relations import PrimaryKeyRelatedField
from rest_framework.settings import api_settings


_plans_lock = threading.Lock()


class FastReadMixin:
    def to_representation(self, instance):
        plan = type(self).__dict__.get("_read_plan")
        if plan is None:
            plan = self._class_read_plan()
        representation = {}
        zone = None
        for name, read, convert, zoned in plan:
            value = read(instance)
            if value is None:
                representation[name] = None
            elif zoned:
                if zone is None:  # the request's time zone, looked up once per row rather than per field
                    zone = timezone.get_current_timezone()
                representation[name] = convert(value, zone)
            else:
                representation[name] = convert(value)
        return representation

    @classmethod
    def _class_read_plan(cls) -> list[tuple]:
        with _plans_lock:
            plan = cls.__dict__.get("_read_plan")
            if plan is None:
                plan = cls()._make_read_plan()
                cls._read_plan = plan
        return plan

    def _make_read_plan(self) -> list[tuple]:
        model = self.Meta.model
        plan = []
        for field in self._readable_fields:
            read = field.get_attribute
            convert = field.to_representation
            model_field = _model_field(model, field.source)
            if isinstance(field, PrimaryKeyRelatedField) and model_field is not None and model_field.many_to_one \
                    and field.pk_field is None:
                # The stored key is the representation: no related object is loaded or built.
                read, convert = attrgetter(model_field.attname), _same
            elif model_field is not None and model_field.concrete and not model_field.is_relation:
                read = attrgetter(model_field.attname)
            zoned = False
            if isinstance(field, DecimalField):
                convert = _decimal_text(field)
            elif isinstance(field, DateTimeField) and _iso_in_current_zone(field):
                convert, zoned = _iso_datetime(field), True
            plan.append((field.field_name, read, convert, zoned))
        return plan


def _model_field(model, source: str):
    if "." in source or source == "*":
        return None
    try:
        return model._meta.get_field(source)
    except FieldDoesNotExist:
        return None


def _same(value):
    return value


def _decimal_text(field: DecimalField):
    """DRF's text of a Decimal that already has the field's places (what the database returns):
    the quantize DRF does is then the identity. Anything else goes through DRF."""
    slow = field.to_representation
    if not (getattr(field, "coerce_to_string", api_settings.COERCE_DECIMAL_TO_STRING) and field.decimal_places
            and field.max_digits and not field.localize and not field.normalize_output):
        return slow
    places, limit = field.decimal_places, field.max_digits

    def convert(value):
        if type(value) is Decimal:
            text = f"{value:f}"
            if places < len(text) <= limit and text[-places - 1] == ".":
                return text
        return slow(value)

    return convert


def _iso_in_current_zone(field: DateTimeField) -> bool:
    output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return settings.USE_TZ and isinstance(output, str) and output.lower() == ISO_8601 \
        and not hasattr(field, "timezone")


def _iso_datetime(field: DateTimeField):
    """DRF's ISO 8601 text of an aware datetime in the current time zone ("Z" for UTC)."""
    slow = field.to_representation

    def convert(value, zone):
        if type(value) is dt.datetime and value.utcoffset() is not None:
            try:
                text = value.astimezone(zone).isoformat()
            except OverflowError:
                return slow(value)
            return text[:-6] + "Z" if text.endswith("+00:00") else text
        return slow(value)

    return convert
