from core.apps import PackageConfig


class AnnotationsConfig(PackageConfig):
    default = True
    name = "annotations"
    verbose_name = "Annotations"
    subpackages = ("claims", "hypothesis")

    def ready(self) -> None:
        super().ready()
        from annotations import history, jobs, moves, signals
        from annotations.claims import history as claim_history
        from annotations.claims import jobs as claim_jobs
        from annotations.zotero import jobs as zotero_jobs

        signals.connect()
        moves.connect()  # annotations follow their sources to another library
        history.register()
        claim_history.register()
        jobs.register()
        claim_jobs.register()
        zotero_jobs.register()
