from django.urls import path

from accounts import api

urlpatterns = [
    path("register/", api.RegisterView.as_view(), name="auth-register"),
    path("token/", api.TokenView.as_view(), name="auth-token"),
    path("token/rotate/", api.TokenRotateView.as_view(), name="auth-token-rotate"),
    path("token/revoke/", api.TokenRevokeView.as_view(), name="auth-token-revoke"),
    path("me/", api.MeView.as_view(), name="auth-me"),
]
