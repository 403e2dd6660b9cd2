"""The search form: shape checks of the query string and the filters."""

from __future__ import annotations

from django import forms

from recognition.models import Collection, Tag

ERROR_DATES = "The start date is after the end date."


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(required=False, label=label,
                           widget=forms.DateInput(attrs={"type": "date"}))


class SearchForm(forms.Form):
    """?q=&collection=&tag=&from=&to= (the dates: when the note was written, else uploaded)."""

    q = forms.CharField(max_length=200, required=False, label="Search",
                        widget=forms.TextInput(attrs={"type": "search"}))
    collection = forms.ModelChoiceField(queryset=Collection.objects.none(), required=False,
                                        empty_label="All collections")
    tag = forms.ModelChoiceField(queryset=Tag.objects.none(), required=False,
                                 empty_label="Any tag", to_field_name="name")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.filter(owner=user)
        self.fields["tag"].queryset = Tag.objects.filter(owner=user)
        # The parameter names are Python keywords: fields added by name, not declared.
        self.fields["from"] = _date_field("From")
        self.fields["to"] = _date_field("To")

    def clean(self):
        data = super().clean()
        if data.get("from") and data.get("to") and data["from"] > data["to"]:
            raise forms.ValidationError(ERROR_DATES)
        return data

    def search_filters(self) -> dict:
        """The filters as `query.search` takes them."""
        data = self.cleaned_data
        return {"collection": data["collection"],
                "tag": data["tag"].name if data["tag"] else None,
                "date_from": data["from"], "date_to": data["to"]}
