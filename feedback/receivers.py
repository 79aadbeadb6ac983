from django.dispatch import receiver

from registrations.signals import personal_data_erased

from .models import Feedback


@receiver(personal_data_erased, dispatch_uid="feedback-forget-comments")
def forget_comments(sender, registration_ids, **kwargs):
    # A comment may say who wrote it; the rating says nothing of anyone and keeps the figures true.
    Feedback.objects.filter(registration_id__in=registration_ids).exclude(comment="").update(comment="")
