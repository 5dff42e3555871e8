from django.apps import AppConfig


class SourcesConfig(AppConfig):
    name = "sources"
    verbose_name = "Sources"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_save

        from sources.models import SourceText
        from sources.reuse import index_on_import
        from sources.sqlite import fold_case_in_every_script

        connection_created.connect(fold_case_in_every_script, dispatch_uid="sqlite-fold-case")

        # Fingerprint each new text revision in the transaction that imports it, so the
        # text-reuse index never lags behind the texts (sources/reuse.py).
        post_save.connect(index_on_import, sender=SourceText, dispatch_uid="reuse-index")
