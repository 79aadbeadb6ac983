"""Form fields more than one app asks for."""

from django import forms
from django.core.validators import URLValidator


class WebAddressField(forms.URLField):
    """A link people open in a browser: http or https only (no javascript:, data: or ftp:), refused with one message.

    Django's URLField checks its own wider list of schemes; a second validator beside it would say
    "Enter a valid URL." twice.
    """

    default_validators = [URLValidator(schemes=["http", "https"])]
