"""Static files as `collectstatic` gathers them: all of static/ but the vendored Hypothesis
client, which `annotations.hypothesis.views.client_file` serves itself (with the CORS header
another site's page needs, and without the source maps the manifest storage would look for)."""

from django.contrib.staticfiles import finders

NOT_COLLECTED = ["vendor/hypothesis", "vendor/hypothesis/*"]


class FileSystemFinder(finders.FileSystemFinder):
    """STATICFILES_DIRS' files, less NOT_COLLECTED when they are listed for collecting."""

    def list(self, ignore_patterns):
        return super().list([*(ignore_patterns or []), *NOT_COLLECTED])
