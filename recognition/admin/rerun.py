"""Re-running recognition with a chosen model version: the action of the note and line queues.

An intermediate page, as the admin's own "delete selected" has: the first post (the action
bar) shows the notes and the versions that may read them; the second (with `apply`) queues
them through `review.notes_recognize`, which skips busy notes and writes the audit entry.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from recognition import review
from recognition.admin.base import view_name
from recognition.exceptions import PersonalModelError
from recognition.models import PersonalModel
from recognition.services import STANDARD_MODEL

TEMPLATE = "admin/recognition/rerun_with_model.html"
RERUN = "Recognition queued again for {count} note(s)."
BUSY = "Skipped, already being recognized: {titles}."
APPLY = "apply"  # the name of the intermediate page's submit button
STANDARD_LABEL = "The standard model (the site's, the same for everyone)"
HELP = ("The standard model can read any note. A personal model reads only its owner's notes, "
        "so its versions are offered only when all the selected notes have the same owner.")
HELP_MANY_OWNERS = "These notes belong to {count} users: only the standard model can read them all."
HELP_NO_VERSIONS = ("Their owner has no promoted personal model: only the standard one can read "
                    "them.")
READ_WITH = "They will be read with {model}; lines people corrected are kept."


def rerun_messages(model_admin: admin.ModelAdmin, request, result: review.Rerun) -> None:
    """What a re-run or retry tells the staff member: notes queued, notes skipped."""
    if result.queued:
        model_admin.message_user(request, RERUN.format(count=len(result.queued)))
    if result.busy:
        model_admin.message_user(request, BUSY.format(
            titles=", ".join(f"“{note.title}”" for note in result.busy)), messages.WARNING)


def version_label(model: PersonalModel) -> str:
    """How a personal version is offered: its name, how it measured, whether it is in use."""
    label = model.version
    if model.outcome:
        label += f"; held-out CER {model.outcome}"
    if model.active:
        label += " (what reads the owner's notes now)"
    return label


class ModelVersionForm(forms.Form):
    """The model that reads the selected notes again: the standard one or a personal version."""

    model = forms.ChoiceField(label="Read them with", widget=forms.RadioSelect)

    def __init__(self, *args, versions: list[PersonalModel], help_text: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.versions = {str(version.pk): version for version in versions}
        field = self.fields["model"]
        field.choices = [(STANDARD_MODEL, STANDARD_LABEL),
                         *((pk, version_label(version)) for pk, version in self.versions.items())]
        field.help_text = help_text

    def chosen(self) -> PersonalModel | str:
        """What `review.notes_recognize(model=…)` takes: STANDARD_MODEL or a PersonalModel."""
        value = self.cleaned_data["model"]
        return STANDARD_MODEL if value == STANDARD_MODEL else self.versions[value]


def choose_model_and_rerun(model_admin: admin.ModelAdmin, request, queryset, note_ids: set[int], *,
                           action: str):
    """The action `action` of `model_admin` in two steps: the choice page for these notes (the
    rows of `queryset`: notes, or lines of them), then the re-run once chosen."""
    staff = request.user
    versions = review.notes_model_choices(staff=staff, note_ids=note_ids)
    notes = list(review.note_queue(staff=staff).filter(pk__in=note_ids).order_by("pk"))
    form = ModelVersionForm(request.POST if APPLY in request.POST else None, versions=versions,
                            help_text=_help(notes, versions))
    if form.is_valid():
        chosen = form.chosen()
        try:
            result = review.notes_recognize(staff=staff, note_ids=note_ids,
                                            view=view_name(request), model=chosen)
        except PersonalModelError as err:  # the notes changed hands meanwhile, say
            model_admin.message_user(request, str(err), messages.ERROR)
            return None
        rerun_messages(model_admin, request, result)
        if result.queued:
            name = "the standard model" if chosen == STANDARD_MODEL else chosen.version
            model_admin.message_user(request, READ_WITH.format(model=name))
        return None  # back to the queue, as after any action
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "Re-run recognition with another model version",
        "opts": model_admin.opts,
        "form": form,
        "notes": notes,
        "selected": queryset.values_list("pk", flat=True),
        "action": action,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        "apply": APPLY,
    }
    return TemplateResponse(request, TEMPLATE, context)


def _help(notes, versions: list[PersonalModel]) -> str:
    owners = {note.owner_id for note in notes}
    if len(owners) > 1:
        return f"{HELP} {HELP_MANY_OWNERS.format(count=len(owners))}"
    if not versions:
        return f"{HELP} {HELP_NO_VERSIONS}"
    return HELP
