"""A concern in a subpackage keeps its models in the app (core.apps.PackageConfig): same
label, same tables, same migrations, found without the app's models module importing it."""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin

from annotations.claims.models import Claim, Event
from sources.reuse.models import ReuseFingerprint
from sources.sharing.models import ApiToken, Invitation


def test_subpackage_models_belong_to_their_app_and_keep_their_tables():
    for model, label, table in [
        (Invitation, "sources", "sources_invitation"),
        (ApiToken, "sources", "sources_apitoken"),
        (ReuseFingerprint, "sources", "sources_reusefingerprint"),
        (Claim, "annotations", "annotations_claim"),
        (Event, "annotations", "annotations_event"),
    ]:
        assert model._meta.app_label == label
        assert model._meta.db_table == table
        assert apps.get_model(label, model.__name__) is model


def test_history_of_a_subpackage_model_stays_in_the_app():
    assert Claim.history.model._meta.app_label == "annotations"
    assert Claim.history.model._meta.db_table == "annotations_historicalclaim"


def test_subpackage_admins_are_registered():
    for model in (Invitation, ApiToken, Claim, Event):
        assert admin.site.is_registered(model)


def test_moved_models_keep_their_tables_in_their_new_apps():
    assert apps.get_model("jobs", "Job")._meta.db_table == "sources_job"
    assert apps.get_model("search", "SearchEntry")._meta.db_table == "annotations_searchentry"
    assert apps.get_model("search", "SearchWord")._meta.db_table == "annotations_searchword"
