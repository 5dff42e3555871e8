"""Static files as `collectstatic` gathers them: all of static/ but the vendored Hypothesis
client, which `annotations.hypothesis.views.client_file` serves itself (with the CORS header
another site's page needs, and without the source maps the manifest storage would look for)."""

from django.contrib.staticfiles import finders
from whitenoise.storage import CompressedManifestStaticFilesStorage

NOT_COLLECTED = ["vendor/hypothesis", "vendor/hypothesis/*"]


class FileSystemFinder(finders.FileSystemFinder):
    """STATICFILES_DIRS' files, less NOT_COLLECTED when they are listed for collecting."""

    def list(self, ignore_patterns):
        return super().list([*(ignore_patterns or []), *NOT_COLLECTED])


class ManifestStorage(CompressedManifestStaticFilesStorage):
    """WhiteNoise's compressed, hashed files, with the reading view's ES modules importing
    each other by their hashed names: otherwise annotate.<hash>.js imports
    ./annotate-api.js, which the browser fetches a second time beside the
    annotate-api.<hash>.js the page preloaded (`<link rel=modulepreload>`)."""

    support_js_module_import_aggregation = True
