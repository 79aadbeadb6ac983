import pytest

from feedback.models import answer_path

# The same talk and people as the materials tests: in the room, online, waiting, a no-show, cancelled.
from tests.materials.conftest import audience, past_event  # noqa: F401


@pytest.fixture
def answer_url():
    def url(registration, **params):
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return answer_path(registration) + (f"?{query}" if query else "")

    return url
