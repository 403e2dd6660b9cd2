"""The import form: shape checks only; `recognition.imports` checks what the files mean."""

from __future__ import annotations

from django import forms

from recognition.imports import ERROR_NO_XML
from recognition.models import Collection

ERROR_NO_IMAGE = "Choose the page image that the XML file describes."


class ImportForm(forms.Form):
    xml = forms.FileField(
        label="ALTO or PAGE XML", error_messages={"required": ERROR_NO_XML},
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}))
    image = forms.FileField(
        label="Page image", error_messages={"required": ERROR_NO_IMAGE},
        widget=forms.ClearableFileInput(attrs={
            "accept": "image/jpeg,image/png,image/webp,image/tiff,image/bmp,image/heic,"
                      "image/heif,.heic,.heif"}))
    collection = forms.ModelChoiceField(queryset=Collection.objects.none(), required=False,
                                        empty_label="Inbox")
    title = forms.CharField(max_length=200, required=False,
                            help_text="Default: the XML file's name.")

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["collection"].queryset = Collection.objects.filter(owner=user)
