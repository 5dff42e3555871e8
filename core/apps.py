"""The app configuration of core, and the base the other packages' apps share."""

from __future__ import annotations

from importlib import import_module

from django.apps import AppConfig
from django.utils.module_loading import module_has_submodule


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from core.sqlite import fold_case_in_every_script

        connection_created.connect(fold_case_in_every_script, dispatch_uid="sqlite-fold-case")


class PackageConfig(AppConfig):
    """An app whose concerns are subpackages of it (`sources.sharing`, `annotations.claims`).

    A subpackage is not an app of its own: its models belong to the app (same label, same
    tables, same migrations) and are found like the app's own, and its `admin` module is
    imported like the app's. So a concern can move into a folder of its own without a
    migration, and its models are still where a newcomer looks: `<subpackage>/models.py`.
    """

    default = False  # a base: each app's own subclass is the one Django picks (default = True)
    subpackages: tuple[str, ...] = ()

    def import_models(self) -> None:
        super().import_models()
        for name in self.subpackages:
            self._import_if_present(name, "models")

    def ready(self) -> None:
        for name in self.subpackages:
            self._import_if_present(name, "admin")

    def _import_if_present(self, subpackage: str, module: str) -> None:
        package = import_module(f"{self.name}.{subpackage}")
        if module_has_submodule(package, module):
            import_module(f"{package.__name__}.{module}")
