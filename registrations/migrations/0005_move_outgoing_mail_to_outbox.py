"""Mail delivery moved to the outbox app: copy the queue over, then drop the old table.

Organizers may see and re-send outgoing emails in their new home too.
"""

import datetime

from django.apps import apps as global_apps
from django.db import migrations

KINDS = {
    "confirmation",
    "waitlisted",
    "promoted",
    "cancellation",
    "event_changed",
    "event_cancelled",
    "reminder",
    "resend",
}


def copy_to_outbox(apps, schema_editor):
    db = schema_editor.connection.alias
    OldMail = apps.get_model("registrations", "OutgoingMail")
    NewMail = apps.get_model("outbox", "OutgoingMail")
    ContentType = apps.get_model("contenttypes", "ContentType")
    registration_type, _ = ContentType.objects.using(db).get_or_create(app_label="registrations", model="registration")
    rows = []
    for old in OldMail.objects.using(db).select_related("registration").order_by("pk").iterator():
        reminder_key = old.reminder_for.astimezone(datetime.UTC).isoformat() if old.reminder_for else ""
        rows.append(
            NewMail(
                kind=f"registrations.{old.kind}" if old.kind in KINDS else old.kind,
                recipient="" if old.registration.erased_at else old.registration.email,
                about_type=registration_type,
                about_id=old.registration_id,
                once_key=reminder_key if old.kind == "reminder" else "",
                status=old.status,
                attempts=old.attempts,
                last_error=old.last_error,
                provider_message_id=old.provider_message_id,
                next_attempt_at=old.next_attempt_at,
                sending_started_at=old.sending_started_at,
                sent_at=old.sent_at,
            )
        )
    created = NewMail.objects.using(db).bulk_create(rows, batch_size=500)
    # auto_now_add stamped them now; keep when they were really queued.
    for new, old in zip(created, OldMail.objects.using(db).order_by("pk").iterator()):
        NewMail.objects.using(db).filter(pk=new.pk).update(created_at=old.created_at)


def grant_outbox_to_organizers(apps, schema_editor):
    from django.contrib.auth.management import create_permissions

    db = schema_editor.connection.alias
    create_permissions(global_apps.get_app_config("outbox"), verbosity=0, using=db, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.using(db).get_or_create(name="Organizers")
    group.permissions.add(
        *Permission.objects.using(db).filter(
            content_type__app_label="outbox",
            content_type__model="outgoingmail",
            codename__in=["view_outgoingmail", "change_outgoingmail"],
        )
    )
    # The old model's permissions go with its content type.
    apps.get_model("contenttypes", "ContentType").objects.using(db).filter(
        app_label="registrations", model="outgoingmail"
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("outbox", "0001_initial"),
        ("registrations", "0004_organizers_question_permissions"),
    ]

    operations = [
        migrations.RunPython(copy_to_outbox, migrations.RunPython.noop),
        migrations.RunPython(grant_outbox_to_organizers, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="outgoingmail", name="registratio_status_d1e354_idx"),
        migrations.RemoveConstraint(model_name="outgoingmail", name="outgoingmail_one_reminder_per_start"),
        migrations.DeleteModel(name="OutgoingMail"),
    ]
