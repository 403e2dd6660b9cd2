from django.urls import include, path

from recognition import editing, live, views
from recognition.exports import views as exchange
from recognition.library import views as library
from recognition.personal import views as personal
from recognition.search import views as search_views

app_name = "recognition"

urlpatterns = [
    path("", views.home, name="home"),
    path("notes/upload/", views.note_upload, name="upload"),
    path("notes/import/", exchange.note_import, name="note-import"),
    path("notes/<int:pk>/", views.note_detail, name="note"),
    path("notes/<int:pk>/status/", views.note_status, name="note-status"),
    path("notes/<int:pk>/edit/", views.note_edit, name="note-edit"),
    path("notes/<int:pk>/delete/", views.note_delete, name="note-delete"),
    path("notes/<int:pk>/recognize/", views.note_recognize, name="note-recognize"),
    path("notes/<int:pk>/thumbnail/", views.note_thumbnail, name="note-thumbnail"),
    path("notes/<int:pk>/original/", views.note_original, name="note-original"),
    path("notes/<int:pk>/pages/<int:number>/image/", views.page_image, name="page-image"),
    path("notes/<int:pk>/lines/<int:line_id>/crop/", search_views.line_crop,
         name="line-crop"),
    path("search/", search_views.search, name="search"),
    path("notes/<int:pk>/export/<slug:format>/", exchange.note_export,
         name="note-export"),
    path("notes/<int:pk>/text/", editing.note_text, name="note-text"),
    path("notes/<int:pk>/lines/<int:line_id>/", editing.line_update, name="line-update"),
    path("notes/<int:pk>/lines/<int:line_id>/delete/", editing.line_delete,
         name="line-delete"),
    path("notes/<int:pk>/lines/<int:line_id>/split/", editing.line_split, name="line-split"),
    path("notes/<int:pk>/lines/<int:line_id>/merge/", editing.line_merge, name="line-merge"),
    path("notes/<int:pk>/lines/<int:line_id>/move/", editing.line_move, name="line-move"),
    path("notes/<int:pk>/lines/<int:line_id>/region/", editing.line_region,
         name="line-region"),
    path("notes/<int:pk>/pages/<int:number>/lines/", editing.line_insert, name="line-insert"),
    path("notes/<int:pk>/history/", editing.note_history, name="note-history"),
    path("notes/<int:pk>/history/<int:number>/", editing.revision_detail, name="revision"),
    path("notes/<int:pk>/history/<int:number>/revert/", editing.revision_revert,
         name="revision-revert"),
    path("handwriting/", personal.personal_model_page, name="personal-model"),
    path("handwriting/train/", personal.personal_model_train, name="personal-model-train"),
    path("handwriting/reread/", personal.personal_model_reread, name="personal-model-reread"),
    path("handwriting/<int:pk>/use/", personal.personal_model_use, name="personal-model-use"),
    path("handwriting/standard/use/", personal.personal_model_use,
         name="personal-model-standard"),
    # Library: bulk actions and saved searches (issue 14)
    path("library/bulk/", library.library_bulk, name="library-bulk"),
    path("library/searches/", library.saved_search_save, name="saved-search-save"),
    path("library/searches/delete/", library.saved_search_delete, name="saved-search-delete"),
    # Live status of many notes at once (issue 14)
    path("notes/status/", live.notes_status, name="notes-status"),
    # Phone capture (issue 14)
    path("capture/", include("recognition.capture_views")),
    path("collections/", views.collection_list, name="collections"),
    path("collections/<int:pk>/", views.collection_detail, name="collection"),
    path("collections/<int:pk>/rename/", views.collection_rename, name="collection-rename"),
    path("collections/<int:pk>/delete/", views.collection_delete, name="collection-delete"),
    path("collections/<int:pk>/export/<slug:format>/", exchange.collection_export,
         name="collection-export"),
]
