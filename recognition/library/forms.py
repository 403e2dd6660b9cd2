"""Forms of the library: its filters (a GET form), saved searches and bulk actions."""

from __future__ import annotations

from django import forms

from recognition.exports.registry import FORMATS
from recognition.models import Collection, Note, Tag

SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "title": "Title A–Z",
    "date": "Note date",
    "updated": "Recently updated",
}
DEFAULT_SORT = "newest"
# Parameters of the library's query string that are not filters: kept out of saved searches.
NOT_FILTERS = ("page", "csrfmiddlewaretoken")

ERROR_NO_TAG = "There is no tag “%(value)s”."
ERROR_NO_COLLECTION = "That collection does not exist (it may have been deleted)."
ERROR_STATUS = "Unknown status “%(value)s”: choose queued, processing, done or failed."
ERROR_SORT = "Unknown sort order “%(value)s”: choose newest, oldest, title, date or updated."
ERROR_DATES = "The start date is after the end date."
ERROR_DATE = "Enter a date as YYYY-MM-DD."
ERROR_NOTHING_SELECTED = "Select at least one note first."
ERROR_TOO_MANY = "Select at most {limit} notes at a time."
ERROR_BAD_IDS = "The selection is not valid: note ids are whole numbers."
ERROR_NEEDS_COLLECTION = "Choose the collection to move the notes to."
ERROR_NEEDS_TAG = "Name the tag."
BULK_LIMIT = 500
DEFAULT_EXPORT_FORMAT = "txt"


class LibraryFilterForm(forms.Form):
    """The library's filters and sort order, from the query string; all optional."""

    collection = forms.ModelChoiceField(
        queryset=Collection.objects.none(), required=False, empty_label="All collections",
        error_messages={"invalid_choice": ERROR_NO_COLLECTION})
    tag = forms.ModelChoiceField(
        queryset=Tag.objects.none(), required=False, to_field_name="name",
        empty_label="Any tag", error_messages={"invalid_choice": ERROR_NO_TAG})
    status = forms.ChoiceField(
        choices=[("", "Any status"), *Note.Status.choices], required=False,
        error_messages={"invalid_choice": ERROR_STATUS})
    date_from = forms.DateField(required=False, label="From",
                                widget=forms.DateInput(attrs={"type": "date"}),
                                error_messages={"invalid": ERROR_DATE})
    date_to = forms.DateField(required=False, label="To",
                              widget=forms.DateInput(attrs={"type": "date"}),
                              error_messages={"invalid": ERROR_DATE})
    unsure = forms.BooleanField(required=False, label="Has unsure lines")
    sort = forms.ChoiceField(choices=list(SORTS.items()), required=False, label="Sort",
                             error_messages={"invalid_choice": ERROR_SORT})

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.filter(owner=user)
        self.fields["tag"].queryset = Tag.objects.filter(owner=user)

    def clean_sort(self) -> str:
        return self.cleaned_data["sort"] or DEFAULT_SORT

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", ERROR_DATES)
        return data

    def filters(self) -> dict:
        """The valid filters (an invalid one is left out, and reported by the form)."""
        data = getattr(self, "cleaned_data", {})
        return {"collection": data.get("collection"), "tag": data.get("tag"),
                "status": data.get("status") or "", "date_from": data.get("date_from"),
                "date_to": data.get("date_to"), "unsure": bool(data.get("unsure")),
                "sort": data.get("sort") or DEFAULT_SORT}

    @property
    def active(self) -> bool:
        """Whether any filter narrows the list (the sort order does not)."""
        filters = self.filters()
        return any(value for key, value in filters.items() if key != "sort")


def library_query(params) -> str:
    """The query string of the filters in `params` (a QueryDict): no page, no empty values."""
    kept = params.copy()
    for key in list(kept):
        if key in NOT_FILTERS or not any(kept.getlist(key)):
            del kept[key]
    return kept.urlencode()


class SavedSearchForm(forms.Form):
    name = forms.CharField(max_length=100, label="Name this search")
    query = forms.CharField(max_length=1000, required=False, widget=forms.HiddenInput)


class NoteIdsField(forms.Field):
    """Selected notes' ids (checkboxes named `notes`): a list of ints."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> list[int]:
        values = value if isinstance(value, list | tuple) else ([value] if value else [])
        try:
            ids = sorted({int(v) for v in values})
        except (TypeError, ValueError):
            raise forms.ValidationError(ERROR_BAD_IDS) from None
        if not ids:
            raise forms.ValidationError(ERROR_NOTHING_SELECTED)
        if len(ids) > BULK_LIMIT:
            raise forms.ValidationError(ERROR_TOO_MANY.format(limit=BULK_LIMIT))
        return ids


class BulkActionForm(forms.Form):
    """One action on the selected notes; `collection` and `tag` as the action needs."""

    ACTIONS = {
        "move": "Move to collection",
        "tag_add": "Add tag",
        "tag_remove": "Remove tag",
        "recognize": "Recognize again",
        "export": "Export as zip",
        "delete": "Delete",
    }

    action = forms.ChoiceField(choices=list(ACTIONS.items()))
    notes = NoteIdsField()
    collection = forms.ModelChoiceField(queryset=Collection.objects.none(), required=False,
                                        empty_label="Choose a collection",
                                        error_messages={"invalid_choice": ERROR_NO_COLLECTION})
    tag = forms.CharField(max_length=60, required=False)
    format = forms.ChoiceField(choices=(), required=False)
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.filter(owner=user)
        self.fields["format"].choices = [(f.name, f.label) for f in FORMATS.values()]

    def clean(self):
        data = super().clean()
        action = data.get("action")
        if action == "move" and not data.get("collection"):
            self.add_error("collection", ERROR_NEEDS_COLLECTION)
        if action in ("tag_add", "tag_remove") and not (data.get("tag") or "").strip():
            self.add_error("tag", ERROR_NEEDS_TAG)
        if action == "export" and not data.get("format"):
            data["format"] = DEFAULT_EXPORT_FORMAT
        return data
