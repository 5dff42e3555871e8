# Annotation pages are added here.

urlpatterns: list = []
