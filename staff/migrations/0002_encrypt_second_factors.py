"""TOTP secrets and recovery seeds stored before they were encrypted (staff/mfa_secrets.py) are encrypted now."""

from django.db import migrations

from staff import mfa_secrets


def encrypt(apps, schema_editor):
    mfa_secrets.reencrypt_all(apps.get_model("mfa", "Authenticator"), using=schema_editor.connection.alias)


def decrypt(apps, schema_editor):
    # For a release before this one, which reads them in clear text only.
    mfa_secrets.decrypt_all(apps.get_model("mfa", "Authenticator"), using=schema_editor.connection.alias)


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0001_initial"),
        ("mfa", "0003_authenticator_type_uniq"),
    ]

    operations = [migrations.RunPython(encrypt, decrypt)]
