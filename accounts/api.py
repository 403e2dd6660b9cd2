"""Account endpoints of the API (`/api/v1/auth/`): register, token, rotate, revoke, me."""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts import services, throttle

User = get_user_model()
ERROR_CREDENTIALS = "Unable to log in with this user name and password."


class RegisterSerializer(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]+\Z", max_length=150, help_text=(
        "Letters, digits and @/./+/-/_ only."))
    email = serializers.EmailField()
    password = serializers.CharField(write_only=True, style={"input_type": "password"})

    def validate_username(self, value: str) -> str:
        if User.objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError("A user with that user name already exists.")
        return value

    def validate_password(self, value: str) -> str:
        # Checked with the other fields' raw values, so every problem is reported at once.
        candidate = User(username=str(self.initial_data.get("username", "")),
                         email=str(self.initial_data.get("email", "")))
        try:
            password_validation.validate_password(value, candidate)
        except DjangoValidationError as err:
            raise serializers.ValidationError(err.messages) from err
        return value


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField(style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text="Send as `Authorization: Token <token>`.")


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "username", "email", "date_joined"]


class RegisteredSerializer(UserSerializer):
    token = serializers.CharField()

    class Meta(UserSerializer.Meta):
        fields = [*UserSerializer.Meta.fields, "token"]


@extend_schema(tags=["auth"])
class RegisterView(APIView):
    """Create an account; the answer carries its API token."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "register"

    @extend_schema(request=RegisterSerializer, responses={201: RegisteredSerializer})
    def post(self, request):
        body = RegisterSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        with transaction.atomic():
            user = User.objects.create_user(**body.validated_data)
            token = Token.objects.create(user=user)
        return Response({**UserSerializer(user).data, "token": token.key},
                        status=status.HTTP_201_CREATED)


@extend_schema(tags=["auth"])
class TokenView(APIView):
    """Exchange a user name and password for the account's API token (made if missing).

    Failed attempts are counted per user name and per address, as for the log-in page: past
    the limit, 429 until the window has passed.
    """

    permission_classes = [AllowAny]
    authentication_classes = []
    error_responses = {"post": [429]}

    def get_throttles(self):
        return []  # counted below, on failures only, shared with the log-in page

    @extend_schema(request=CredentialsSerializer, responses={200: TokenSerializer})
    def post(self, request):
        body = CredentialsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        username, address = body.validated_data["username"], request.META.get("REMOTE_ADDR", "")
        if throttle.login_blocked(username, address):
            raise Throttled(detail=throttle.throttled_message())
        user = authenticate(request, username=username, password=body.validated_data["password"])
        if user is None:
            throttle.login_failed(username, address)
            raise serializers.ValidationError({"non_field": [ERROR_CREDENTIALS]},
                                              code="invalid_credentials")
        throttle.login_succeeded(username, address)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


@extend_schema(tags=["auth"])
class TokenRotateView(APIView):
    """Replace the API token: the old one stops working at once."""

    @extend_schema(request=None, responses={200: TokenSerializer})
    def post(self, request):
        return Response({"token": services.token_rotate(user=request.user).key})


@extend_schema(tags=["auth"])
class TokenRevokeView(APIView):
    """Delete the API token (log out every client that uses it)."""

    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        services.token_revoke(user=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(tags=["auth"])
class MeView(APIView):
    @extend_schema(responses=UserSerializer)
    def get(self, request):
        return Response(UserSerializer(request.user).data)
