"""The "Your handwriting" page: how well the recognizer reads this user, its versions, and the
buttons to train it now, use an earlier version, or go back to the site's model."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from recognition.exceptions import PersonalModelError
from recognition.models import PersonalModel
from recognition.personal import services

SHOWN = 50  # versions listed: a user trains at most a few a day


@login_required
@require_GET
def personal_model_page(request: HttpRequest) -> HttpResponse:
    summary = services.personal_model_summary(user=request.user)
    outdated = (services.outdated_notes(user=request.user, version=summary.active.version)
                .count() if summary.active else 0)
    return render(request, "recognition/personal_model.html", {
        "summary": summary,
        "outdated": outdated,
        "versions": services.personal_model_list(user=request.user)[:SHOWN],
        "every": settings.NOTES_PERSONAL_MODEL_EVERY,
        "minutes": settings.NOTES_PERSONAL_MODEL_MINUTES,
    })


@login_required
@require_POST
def personal_model_train(request: HttpRequest) -> HttpResponse:
    try:
        services.personal_model_train(user=request.user)
    except PersonalModelError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, "Training started; this page shows the outcome when it is "
                                  "done.")
    return redirect("recognition:personal-model")


@login_required
@require_POST
def personal_model_reread(request: HttpRequest) -> HttpResponse:
    try:
        queued = services.personal_model_reread(user=request.user)
    except PersonalModelError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, f"{queued} note(s) queued to be read with your model; the "
                                  "lines you corrected keep your text.")
    return redirect("recognition:personal-model")


@login_required
@require_POST
def personal_model_use(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    model = None
    if pk is not None:
        try:
            model = services.personal_model_list(user=request.user).get(pk=pk)
        except PersonalModel.DoesNotExist:
            raise Http404 from None
    try:
        services.personal_model_use(user=request.user, model=model)
    except PersonalModelError as err:
        messages.error(request, str(err))
    else:
        messages.success(request, "Your next notes are read with "
                         + (f"version {model.pk}." if model else "the standard model."))
    return redirect("recognition:personal-model")
