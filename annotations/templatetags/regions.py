"""A region annotation shown as the part of its page it marks: the crop's address."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

register = template.Library()


@register.simple_tag
def region_crop_url(annotation, width: int = 480) -> str:
    """/texts/<id>/pages/<n>/crop.png?xywh=percent:x,y,w,h&width=… for a region annotation
    (its page's visibility is the text's: whoever sees the claim may see the crop)."""
    r = annotation.region
    xywh = "percent:" + ",".join(f"{r[key]:g}" for key in ("x", "y", "w", "h"))
    path = reverse("page-crop", args=[annotation.text_id, annotation.page])
    return f"{path}?{urlencode({'xywh': xywh, 'width': width})}"
