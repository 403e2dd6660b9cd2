"""Account endpoints of the API (`/api/v1/auth/`): register, token, rotate, revoke, me."""

from __future__ import annotations

from django.contrib.auth import authenticate, get_user_model, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services, throttle
from accounts.clients import client_of
from accounts.models import AuthEvent

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


class LoginThrottled(Throttled):
    """A refused token request: our message, and Retry-After added by TokenView (the API's
    error handler would put its generic text in place of a message given with `wait`)."""

    def __init__(self, wait: int):
        super().__init__(detail=throttle.throttled_message(wait))
        self.retry_after = wait


# Answers that carry a token must stay out of every cache (browser, proxy).
no_store = method_decorator(never_cache, name="dispatch")


@extend_schema(tags=["auth"])
@no_store
class RegisterView(APIView):
    """Create an account; the answer carries its API token."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [throttle.ClientRateThrottle]
    throttle_scope = "register"

    def throttled(self, request, wait):
        services.auth_refusal_record(kind=AuthEvent.Kind.REGISTER_THROTTLED,
                                     client=client_of(request))
        super().throttled(request, wait)

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
@no_store
class TokenView(APIView):
    """Exchange a user name and password for the account's API token (made if missing).

    Failed attempts are counted per (user name, address) and per address, as for the log-in
    page: past the limit, 429 with a Retry-After that doubles with each further failure.
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
        username, client = body.validated_data["username"], client_of(request)
        wait = services.login_attempt_start(client=client, username=username)
        if wait:
            raise LoginThrottled(wait)
        user = authenticate(request, username=username, password=body.validated_data["password"])
        services.login_attempt_end(client=client, username=username, succeeded=user is not None)
        if user is None:
            raise serializers.ValidationError({"non_field": [ERROR_CREDENTIALS]},
                                              code="invalid_credentials")
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, LoginThrottled):
            response["Retry-After"] = str(exc.retry_after)
        return response


@extend_schema(tags=["auth"])
@no_store
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
