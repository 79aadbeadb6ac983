"""The columns of a term's spreadsheet: the same for the template, the import and the export."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Column:
    name: str
    help: str
    example: str = ""
    required: bool = False


# In the order of the template and the export; an import may have them in any order, and leave out all but
# the required ones.
COLUMNS = [
    Column("date", _("The day, as 2027-01-19 (the room's calendar)."), "2027-01-19", required=True),
    Column("start", _("The start on the room's clock, as 11:00 or 11:00 AM."), "11:00", required=True),
    Column("end", _("The end, as 12:00. Empty: the series' usual length."), "12:00"),
    Column("title", _("The talk's title."), "Generating a Video: Reflecting on a Two-Year Odyssey", required=True),
    Column("speakers", _("Names of the speakers, separated by semicolons."), "Atlas Wang"),
    Column(
        "affiliations",
        _("Their affiliations, in the same order, separated by semicolons (tells apart two people of one name)."),
        "The University of Texas at Austin",
    ),
    Column(
        "room", _("The room, as named on its venue (e.g. GDC 6.302). Empty: the series' default room."), "GDC 6.302"
    ),
    Column("building", _("The building, when two venues share a room name, or for a new room."), "Gates Dell Complex"),
    Column("capacity", _("Seats in the room. Empty: the series' or the room's."), "40"),
    Column("attendance", _("in_person, online or hybrid. Empty: in_person."), "in_person"),
    Column(
        "registration_opens",
        _("When registration opens, as 2027-01-12 09:00. Empty: the series' rule, or as soon as published."),
        "",
    ),
    Column("status", _("draft or published. Empty: draft."), "draft"),
    Column("slug", _("The talk's address (exported talks have one): a row with a known slug changes that talk."), ""),
    Column(
        "abstract",
        _("The abstract."),
        "In this talk, I will recount the developmental trajectory of video generation models.",
    ),
]
NAMES = [column.name for column in COLUMNS]
REQUIRED = [column.name for column in COLUMNS if column.required]
# A list cell (speakers, affiliations) separates its items with this.
SEPARATOR = ";"
