from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from sources.models import Library


def home(request: HttpRequest) -> HttpResponse:
    libraries = Library.objects.visible_to(request.user)
    return render(request, "sources/home.html", {"libraries": libraries})
