from django.apps import AppConfig


class AnnotationsConfig(AppConfig):
    name = "annotations"
    verbose_name = "Annotations"

    def ready(self) -> None:
        from annotations import search_index, signals

        signals.connect()
        # After re-anchoring's receivers, so that carried-over annotations are indexed
        # where they landed.
        search_index.connect()
