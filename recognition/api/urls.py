"""`/api/v1/`: the router's resources, the account endpoints and instant recognition."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from recognition.api import exchange, views
from recognition.api.capture import NoteCaptureApi
from recognition.personal import api as personal

app_name = "api"

class Router(DefaultRouter):
    include_format_suffixes = False  # one representation: JSON (no .json / .api URLs)


router = Router()
router.register("collections", views.CollectionViewSet, basename="collection")
router.register("tags", views.TagViewSet, basename="tag")
router.register("notes", views.NoteViewSet, basename="note")
router.register("lines", views.LineViewSet, basename="line")
router.register("jobs", views.JobViewSet, basename="job")
router.register("personal-models", personal.PersonalModelViewSet, basename="personal-model")

urlpatterns = [
    path("auth/", include("accounts.api_urls")),
    path("recognize/", views.RecognizeView.as_view(), name="recognize"),
    path("search/", exchange.SearchView.as_view(), name="search"),
    path("lines/<int:pk>/crop/", exchange.LineCropView.as_view(), name="line-crop"),
    path("notes/<int:pk>/export/", exchange.NoteExportView.as_view(), name="note-export"),
    path("notes/import/", exchange.NoteImportView.as_view(), name="note-import"),
    path("notes/capture/", NoteCaptureApi.as_view(), name="note-capture"),
    path("", include(router.urls)),
]
