"""The search page and the line images it shows."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from recognition.search.crops import line_crop as crop_line
from recognition.search.forms import SearchForm
from recognition.search.query import SearchResults

HITS_PER_PAGE = 20


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    form = SearchForm(request.GET, user=request.user)
    page = None
    if form.is_valid() and form.cleaned_data["q"].strip():
        results = SearchResults(request.user, form.cleaned_data["q"], **form.search_filters())
        page = Paginator(results, HITS_PER_PAGE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "recognition/search.html",
                  {"form": form, "page": page, "query_string": query.urlencode()},
                  status=400 if form.errors else 200)


@login_required
@require_GET
def line_crop(request: HttpRequest, pk: int, line_id: int) -> HttpResponse:
    jpeg = crop_line(user=request.user, note_pk=pk, line_id=line_id)
    return HttpResponse(jpeg, content_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=3600"})
