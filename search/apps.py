from django.apps import AppConfig


class SearchConfig(AppConfig):
    name = "search"
    verbose_name = "Search"

    def ready(self) -> None:
        from annotations import writes
        from search import index, jobs
        from search.writes import COMPANION

        # The index follows every write through the library's and the annotations' signals,
        # and joins the one-statement annotation create on PostgreSQL.
        index.connect()
        writes.register_companion(COMPANION)
        jobs.register()
