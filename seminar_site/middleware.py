import re
import uuid

from .logs import request_id

# An id from the proxy in front (nginx's $request_id) is kept so both logs
# name the same request; anything else is replaced by a fresh one.
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._-]{8,64}")


class RequestIdMiddleware:
    """Give each request an id: in every log line it causes and in the X-Request-ID response header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request.id = incoming if _ACCEPTED_ID.fullmatch(incoming) else uuid.uuid4().hex
        # Not reset afterwards: Django logs an error response after the middleware has
        # returned; the next request on this thread starts from "-" (logs.forget_request_id).
        request_id.set(request.id)
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response
