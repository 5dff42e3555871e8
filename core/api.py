"""API helpers every package's serializers and viewsets share: validation errors as 400s
naming the field, and numbers bounded to what a database column holds, so that a number
past 64 bits is a 400 on SQLite and PostgreSQL alike rather than an overflow in a driver."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpRequest
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request

from core.dates import Bounds, edtf_bounds

INT64_MAX = 2**63 - 1  # the largest id, count or offset a database column holds


@contextmanager
def django_errors_as_400() -> Iterator[None]:
    """Model validation (full_clean, EDTF parsing) answered as DRF 400s naming the field."""
    try:
        yield
    except DjangoValidationError as error:
        raise serializers.ValidationError(serializers.as_serializer_error(error)) from error


def edtf_bounds_or_400(value: str, field: str) -> Bounds | None:
    """The bounds of an EDTF string (None for an empty one); a 400 naming `field` otherwise."""
    if not value:
        return None
    with django_errors_as_400():
        return edtf_bounds(value, field=field)


def edtf_or_400(value: str, field: str) -> str:
    """`value` unchanged when it is EDTF (or empty); a 400 naming `field` otherwise."""
    edtf_bounds_or_400(value, field)
    return value


def validated_query(serializer_class: type[serializers.Serializer], request: Request) -> dict:
    """Query parameters checked by a serializer: a bad one is a 400 naming it."""
    query = serializer_class(data=request.query_params)
    query.is_valid(raise_exception=True)
    return query.validated_data


def numeric_id(value: str) -> int | None:
    """`value` as a row id when it is one: ASCII digits that fit a 64-bit key."""
    if value.isascii() and value.isdigit() and len(value) <= 18:
        return int(value)
    return None


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    """DRF's limit/offset pages with both numbers checked like every other integer
    parameter: not a whole number, below the minimum (limit 1, offset 0) or past 64 bits
    is a 400 naming it. A limit above `max_limit` is lowered to it, and an offset beyond
    `max_offset` to that: the slice's end must still fit the database's 64 bits."""

    max_limit = 1000
    max_offset = 2**62

    def get_limit(self, request: HttpRequest) -> int | None:
        value = request.query_params.get(self.limit_query_param)
        if not value:  # absent or empty, as for the filters
            return self.default_limit
        return min(checked_integer(self.limit_query_param, value, minimum=1), self.max_limit)

    def get_offset(self, request: HttpRequest) -> int:
        value = request.query_params.get(self.offset_query_param)
        if not value:
            return 0
        return min(checked_integer(self.offset_query_param, value, minimum=0), self.max_offset)

    def get_schema_operation_parameters(self, view) -> list[dict]:
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": INT64_MAX},
            self.offset_query_param: {"minimum": 0, "maximum": INT64_MAX},
        }
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters


class BoundedIntegerField(serializers.IntegerField):
    """An integer a database column can hold, checked before any query: a number past 64
    bits is a 400 naming the field on every database, rather than an overflow in SQLite's
    driver or a numeric comparison in PostgreSQL. Give `min_value` where a negative
    number means nothing (offsets, counts); `IdField` is the one for ids."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", -INT64_MAX - 1)
        kwargs.setdefault("max_value", INT64_MAX)
        super().__init__(**kwargs)


def checked_integer(name: str, value: str, *, minimum: int) -> int:
    """`value` as a whole number from `minimum` to 2**63 − 1, or a 400 naming `name`."""
    try:
        return BoundedIntegerField(min_value=minimum).run_validation(value)
    except serializers.ValidationError as error:
        raise serializers.ValidationError({name: error.detail}) from error


class IdField(BoundedIntegerField):
    """A row id in a filter or a body: 1 … 2**63 − 1."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        super().__init__(**kwargs)


def fits_a_key(value: Any) -> bool:
    """False for a number no 64-bit key can hold (other values are the lookup's to judge)."""
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return True
    return -INT64_MAX - 1 <= number <= INT64_MAX


class BoundedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related row by id, where an id past 64 bits is "not found" on every database."""

    def to_internal_value(self, data: Any) -> Any:
        if not fits_a_key(data):
            self.fail("does_not_exist", pk_value=str(data)[:30])
        return super().to_internal_value(data)


def request_user(serializer: serializers.Field | serializers.Serializer) -> Any:
    return serializer.context["request"].user
