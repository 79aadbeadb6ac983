"""Which app sends which kind of message, and how.

The outbox knows no domain app. Each app registers its message kinds in its
AppConfig.ready():

    registry.register_kind(
        "registrations.confirmation",
        label=_("Registration confirmed"),
        build=build_registration_message,      # (mail) -> EmailMessage
        still_wanted=registration_still_wanted,  # (mail) -> "" or why not
    )

`build` runs when the message is sent, inside the transaction that claims it
(so it may lock and update the app's own rows, e.g. an invite's SEQUENCE, and
its changes roll back with the claim if it raises). `still_wanted` runs just
before, in the same transaction: a non-empty answer marks the message skipped
with that reason.

Staff see only the mail of what they manage: each app registers a function
`scope(user, roles) -> Q` (a condition on OutgoingMail, e.g. its kinds about
the registrations of the user's series); OutgoingMail.objects.managed_by(user)
ORs them together. Mail of an app that registers no scope is for superusers.

The outbox's pages name what each message is about (`str(mail.about)`); an
app whose objects read related rows for it (a registration names its talk)
registers how to load them many at once, so a page of messages costs the
same queries whatever its length:

    registry.register_about(Registration.objects.select_related("event"))

Apps whose mail comes due by time (reminders, digests) register a function
that queues it; `manage.py send_queued_mail` runs each one before every sweep:

    registry.register_due_mail(queue_due_reminders, label=_("reminders"))
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.mail import EmailMessage
from django.db.models import QuerySet


@dataclass(frozen=True)
class MailKind:
    name: str
    label: str
    build: Callable[..., EmailMessage]
    still_wanted: Callable[..., str] | None = None


@dataclass(frozen=True)
class DueMail:
    queue: Callable[..., int]
    label: str
    done: str = "queued"


_kinds: dict[str, MailKind] = {}
_due: dict[str, DueMail] = {}
_scopes: dict[str, Callable] = {}
_about: dict[type, QuerySet] = {}


class UnknownKind(LookupError):
    pass


def register_kind(name: str, *, label, build, still_wanted=None) -> MailKind:
    """Register (or replace) how messages of kind `name` are built and when they are still wanted."""
    kind = MailKind(name=name, label=label, build=build, still_wanted=still_wanted)
    _kinds[name] = kind
    return kind


def unregister_kind(name: str) -> None:
    _kinds.pop(name, None)


def get_kind(name: str) -> MailKind:
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownKind(f"No app registered the mail kind {name!r}.") from None


def label(name: str) -> str:
    kind = _kinds.get(name)
    return str(kind.label) if kind else name


def kind_choices() -> list[tuple[str, str]]:
    return sorted(((kind.name, str(kind.label)) for kind in _kinds.values()), key=lambda choice: choice[1])


def register_due_mail(queue: Callable[..., int], *, label, done: str = "queued") -> None:
    """`queue(now=...)` queues whatever mail has come due and returns how many it queued.

    Work that comes due by time and queues mail as it goes (releasing held
    seats promotes the next person), or queues none (erasing the photos
    nobody saved), registers the same way, with `done` saying what the count
    is of ("released", "erased").
    """
    _due[f"{queue.__module__}.{queue.__qualname__}"] = DueMail(queue=queue, label=label, done=done)


def due_mail() -> list[DueMail]:
    return list(_due.values())


def register_scope(scope: Callable) -> None:
    """`scope(user, roles)` returns a Q on OutgoingMail: the app's messages `user` may see."""
    _scopes[f"{scope.__module__}.{scope.__qualname__}"] = scope


def scopes() -> list[Callable]:
    return list(_scopes.values())


def register_about(queryset: QuerySet) -> None:
    """Load the objects of `queryset`'s model that messages are about with `queryset` (or replace how).

    Registered by the app that owns the model, whichever apps send mail about
    its objects. A lazy QuerySet: nothing is read when it is registered.
    """
    _about[queryset.model] = queryset


def about_querysets() -> list[QuerySet]:
    """One fresh QuerySet per registered model, for GenericPrefetch("about", ...)."""
    return [queryset.all() for queryset in _about.values()]
