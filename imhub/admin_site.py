"""The admin site, with an optional second factor for staff (django-otp, TOTP).

A staff user who has a confirmed TOTP device (enrolled in the admin: "TOTP devices", which shows the
QR code for an authenticator app) logs in with the password and the app's current code; the admin
serves such a user only in a session verified by that code. Staff without a device log in with the
password alone (the factor is optional). A wrong or missing code counts as a failed login for the
login throttling (accounts/throttle.py), like a wrong password. API tokens are separate credentials
and are not affected.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.http import HttpRequest
from django_otp import devices_for_user, user_has_device
from django_otp.forms import OTPAuthenticationFormMixin

from accounts.throttle import login_failed, request_address


class StaffLoginForm(AdminAuthenticationForm, OTPAuthenticationFormMixin):
    """The admin's login: password, then the TOTP code when the user has a device."""

    otp_device = forms.CharField(required=False, widget=forms.Select)
    otp_token = forms.CharField(
        required=False,
        label="Authentication code",
        help_text="The 6-digit code of your authenticator app, if two-factor login is set up for you.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    otp_challenge = forms.CharField(required=False)

    def _chosen_device(self, user: Any) -> Any:
        """The device the code is for: the one chosen in the form, else the user's only confirmed one
        (one step for the usual one-phone case; with several the form asks which after a try)."""
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True))
            if len(devices) == 1:
                device = type(devices[0]).objects.select_for_update().get(pk=devices[0].pk)
        return device

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        user = self.get_user()
        if user is not None and user_has_device(user):
            try:
                self.clean_otp(user)
            except forms.ValidationError:
                request = self.request
                address = request_address(request) if request is not None else ""
                login_failed(address=address, username=user.get_username(), via="admin-otp")
                raise
        return cleaned


class ImhubAdminSite(AdminSite):
    login_form = StaffLoginForm
    login_template = "otp/admin111/login.html"  # django-otp's admin login: adds the code field

    def has_permission(self, request: HttpRequest) -> bool:
        """Staff as usual; a user with a TOTP device only in a session verified by its code."""
        if not super().has_permission(request):
            return False
        user: Any = request.user
        return bool(user.is_verified()) or not user_has_device(user)
