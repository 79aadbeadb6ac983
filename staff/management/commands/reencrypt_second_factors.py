from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError

from staff.mfa_secrets import SecretUnreadable, reencrypt_all


class Command(BaseCommand):
    help = (
        "Write every TOTP secret and recovery seed encrypted under the current SECRET_KEY. Run it after "
        "rotating SECRET_KEY, before the previous key leaves SECRET_KEY_FALLBACKS."
    )

    def handle(self, *args, **options):
        try:
            changed = reencrypt_all(Authenticator)
        except SecretUnreadable as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{changed} second factors written under the current key.")
