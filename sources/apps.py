from core.apps import PackageConfig


class SourcesConfig(PackageConfig):
    default = True
    name = "sources"
    verbose_name = "Sources"
    subpackages = ("sharing", "reuse", "pages")

    def ready(self) -> None:
        super().ready()
        from django.db.models.signals import post_save

        from sources import history, jobs
        from sources.models import SourceText
        from sources.pages import jobs as pages_jobs
        from sources.pages import store as pages_store
        from sources.reuse.detection import index_on_import
        from sources.sharing import jobs as sharing_jobs

        # Fingerprint each new text revision in the transaction that imports it, so the
        # text-reuse index never lags behind the texts (sources/reuse/detection.py).
        post_save.connect(index_on_import, sender=SourceText, dispatch_uid="reuse-index")
        history.register()
        jobs.register()
        sharing_jobs.register()
        pages_store.register()  # page images and OCR join the importer (sources/pages/)
        pages_jobs.register()
