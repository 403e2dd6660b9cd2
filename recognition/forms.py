"""Forms of the recognition pages: shape checks only; meaning is checked by the services."""

from __future__ import annotations

from django import forms

from recognition.models import Collection


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """A file field that accepts several files and returns a list."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={
            "accept": "image/jpeg,image/png,image/webp,image/tiff,image/bmp,image/heic,"
                      "image/heif,.heic,.heif,application/pdf"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


def _tag_names(raw: str) -> list[str]:
    return [name.strip() for name in raw.split(",") if name.strip()]


class _OwnedCollectionMixin:
    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.filter(owner=user)


class UploadForm(_OwnedCollectionMixin, forms.Form):
    files = MultipleFileField(label="Photos or PDFs")
    collection = forms.ModelChoiceField(queryset=Collection.objects.none(), required=False,
                                        empty_label="Inbox")
    title = forms.CharField(max_length=200, required=False,
                            help_text="Default: the file name. With several files, each "
                                      "note's title ends with its file's name.")
    tags = forms.CharField(max_length=500, required=False, help_text="Comma-separated.")
    note_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_tags(self) -> list[str]:
        return _tag_names(self.cleaned_data["tags"])


class NoteEditForm(_OwnedCollectionMixin, forms.Form):
    title = forms.CharField(max_length=200)
    collection = forms.ModelChoiceField(queryset=Collection.objects.none())
    tags = forms.CharField(max_length=500, required=False, help_text="Comma-separated.")
    note_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean_tags(self) -> list[str]:
        return _tag_names(self.cleaned_data["tags"])


class CollectionForm(forms.Form):
    name = forms.CharField(max_length=200)
