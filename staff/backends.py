from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


class StaffBackend(ModelBackend):
    """Django's username and password backend, reading each request's user with their session generation.

    staff.middleware compares that generation with the one the session was
    signed in under ("sign out everywhere"); joined here, it costs no query.
    """

    def get_user(self, user_id):
        User = get_user_model()
        try:
            user = User._default_manager.select_related("session_generation").get(pk=user_id)
        except User.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
