"""Read a page's head the way a link preview or a search engine does: with an HTML parser."""

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser


@dataclass
class Head:
    title: str = ""
    meta: dict[str, list[str]] = field(default_factory=dict)
    links: dict[str, list[str]] = field(default_factory=dict)
    # (type attribute, text) of every <script> in the document.
    scripts: list[tuple[str, str]] = field(default_factory=list)

    def one(self, key: str) -> str:
        values = self.meta.get(key, [])
        assert len(values) == 1, f"expected one <meta> {key!r}, found {values}"
        return values[0]

    def json_ld(self) -> list:
        """Every JSON-LD block, parsed; a block that is not valid JSON fails here."""
        return [json.loads(text) for kind, text in self.scripts if kind == "application/ld+json"]


class _Parser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.head = Head()
        self._in = None
        self._script_type = ""
        self._text = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "meta":
            key = attrs.get("property") or attrs.get("name")
            if key:
                self.head.meta.setdefault(key, []).append(attrs.get("content", ""))
        elif tag == "link":
            for rel in (attrs.get("rel") or "").split():
                self.head.links.setdefault(rel, []).append(attrs.get("href", ""))
        elif tag in ("title", "script"):
            self._in, self._text = tag, []
            self._script_type = attrs.get("type", "")

    def handle_data(self, data):
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag):
        if tag == self._in == "title":
            self.head.title = "".join(self._text).strip()
        elif tag == self._in == "script":
            self.head.scripts.append((self._script_type, "".join(self._text)))
        if tag == self._in:
            self._in = None


def parse_head(html: str) -> Head:
    parser = _Parser()
    parser.feed(html)
    parser.close()
    return parser.head


class _FormParser(HTMLParser):
    """The fields of one <form>, as a browser would submit it unchanged."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self._select = None  # (name, multiple, selected values, first option)
        self._option = None
        self._textarea = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.inside = attrs.get("id") == self.form_id
        if not self.inside or "disabled" in attrs:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                return
            if kind not in ("submit", "button", "image", "reset", "file"):
                self.fields.append((name, attrs.get("value", "on" if kind in ("checkbox", "radio") else "")))
        elif tag == "select" and name:
            self._select = (name, "multiple" in attrs, [], [])
        elif tag == "option" and self._select:
            self._option = attrs
            self._select[3].append(attrs.get("value"))
            if "selected" in attrs:
                self._select[2].append(attrs.get("value"))
        elif tag == "textarea" and name:
            self._textarea = (name, [])

    def handle_data(self, data):
        if self._textarea:
            self._textarea[1].append(data)

    def handle_endtag(self, tag):
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            name, multiple, selected, options = self._select
            if not selected and not multiple and options:
                selected = [options[0]]
            self.fields += [(name, value or "") for value in selected]
            self._select = None
        elif tag == "textarea" and self._textarea:
            name, text = self._textarea
            # A browser drops the one newline that follows <textarea>.
            self.fields.append((name, "".join(text).removeprefix("\n")))
            self._textarea = None


def form_fields(html: str, form_id: str) -> list[tuple[str, str]]:
    """What submitting the form with id `form_id` unchanged would post, as (name, value) pairs."""
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    return parser.fields


def page_text(response) -> str:
    """What a reader sees of a page: the text without tags, entities decoded, spaces collapsed."""
    import html as html_module
    import re

    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.DOTALL | re.IGNORECASE)
    return " ".join(html_module.unescape(re.sub(r"<[^>]+>", " ", body)).split())


@dataclass
class ChangeList:
    """An admin change list as a reader sees it: each column's sort link, and each row's cells by column."""

    sort_links: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        return [row[name] for row in self.rows]


class _ChangeListParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = ChangeList()
        self._in_table = False
        self._header = None  # the column whose <th> in the head is open
        self._in_label = False
        self._cell = None  # (column, text) of the open body cell
        self._row = None

    @staticmethod
    def _column(attrs, prefix):
        return next((c.removeprefix(prefix) for c in (attrs.get("class") or "").split() if c.startswith(prefix)), None)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and attrs.get("id") == "result_list":
            self._in_table = True
        if not self._in_table:
            return
        if tag == "th" and attrs.get("scope") == "col":
            self._header = self._column(attrs, "column-")
        elif tag == "div" and self._header and "text" in (attrs.get("class") or "").split():
            self._in_label = True
        elif tag == "a" and self._in_label:
            self.found.sort_links[self._header] = attrs.get("href", "")
        elif tag == "tr" and self._header is None:
            self._row = {}
        elif tag in ("td", "th") and self._row is not None:
            column = self._column(attrs, "field-")
            self._cell = (column, []) if column else None

    def handle_data(self, data):
        if self._cell:
            self._cell[1].append(data)

    def handle_endtag(self, tag):
        if not self._in_table:
            return
        if tag == "table":
            self._in_table = False
        elif tag == "div":
            self._in_label = False
        elif tag == "th" and self._header is not None:
            self._header = None
        elif tag in ("td", "th") and self._cell:
            self._row[self._cell[0]] = " ".join("".join(self._cell[1]).split())
            self._cell = None
        elif tag == "tr" and self._row:
            self.found.rows.append(self._row)
            self._row = None


def change_list(html: str) -> ChangeList:
    """The result table of an admin change list page."""
    parser = _ChangeListParser()
    parser.feed(html)
    parser.close()
    return parser.found


@dataclass
class AdminPage:
    """What frames an admin page: the classes on <body>, the breadcrumbs (text, link or None) and the submit buttons
    (label, classes)."""

    body_classes: set[str] = field(default_factory=set)
    breadcrumbs: list[tuple[str, str | None]] = field(default_factory=list)
    submit_buttons: list[tuple[str, set[str]]] = field(default_factory=list)


class _AdminPageParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = AdminPage()
        self._in_breadcrumbs = False
        self._crumb = None  # (text parts, link) of the open <li>

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = set((attrs.get("class") or "").split())
        if tag == "body":
            self.found.body_classes = classes
        elif tag == "ol" and "breadcrumbs" in classes:
            self._in_breadcrumbs = True
        elif tag == "li" and self._in_breadcrumbs:
            self._crumb = ([], None)
        elif tag == "a" and self._crumb is not None:
            self._crumb = (self._crumb[0], attrs.get("href"))
        elif tag == "input" and attrs.get("type") == "submit":
            self.found.submit_buttons.append((attrs.get("value", ""), classes))

    def handle_data(self, data):
        if self._crumb is not None:
            self._crumb[0].append(data)

    def handle_endtag(self, tag):
        if tag == "li" and self._crumb is not None:
            self.found.breadcrumbs.append((" ".join("".join(self._crumb[0]).split()), self._crumb[1]))
            self._crumb = None
        elif tag == "ol":
            self._in_breadcrumbs = False


def admin_page(html: str) -> AdminPage:
    parser = _AdminPageParser()
    parser.feed(html)
    parser.close()
    return parser.found


@dataclass
class InlineTable:
    """A tabular inline: its column headings and its rows' cells, by column name."""

    headings: dict[str, str] = field(default_factory=dict)
    rows: list[dict[str, str]] = field(default_factory=list)

    def column(self, name: str) -> list[str]:
        return [row[name] for row in self.rows]


@dataclass
class ChangeForm:
    """An admin change page as a reader sees it: its read-only fields, and its inline tables.

    `fields`: the text of each read-only field of the page, by its name (its
    CSS class field-<name>). `tables`: each tabular inline by its group id
    (e.g. "registrations-group").
    """

    fields: dict[str, str] = field(default_factory=dict)
    tables: dict[str, InlineTable] = field(default_factory=dict)


_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _ChangeFormParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found = ChangeForm()
        self._stack = []  # (tag, attrs) of the open elements
        self._text = None  # (where it goes, name, parts) of the open read-only value or cell

    def _open(self, *, prefix):
        for _tag, attrs in reversed(self._stack):
            for css in (attrs.get("class") or "").split():
                if css.startswith(prefix) and len(css) > len(prefix):
                    return css.removeprefix(prefix)
        return None

    def _group(self):
        return next(
            (attrs["id"] for _tag, attrs in reversed(self._stack) if (attrs.get("id") or "").endswith("-group")), None
        )

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag not in _VOID:
            self._stack.append((tag, attrs))
        classes = (attrs.get("class") or "").split()
        group = self._group()
        if group and tag == "th" and any(css.startswith("column-") for css in classes):
            table = self.found.tables.setdefault(group, InlineTable())
            self._text = (table.headings, self._open(prefix="column-"), [])
        elif group and tag == "tr" and "form-row" in classes and "empty-form" not in classes:
            self.found.tables.setdefault(group, InlineTable()).rows.append({})
        elif group and tag == "td" and self._open(prefix="field-"):
            self._text = (self.found.tables[group].rows[-1], self._open(prefix="field-"), [])
        elif not group and tag == "div" and "readonly" in classes:
            self._text = (self.found.fields, self._open(prefix="field-"), [])

    def handle_data(self, data):
        if self._text:
            self._text[2].append(data)

    def handle_endtag(self, tag):
        if not self._stack or tag in _VOID:
            return
        while self._stack:
            open_tag, _attrs = self._stack.pop()
            if open_tag == tag:
                break
        if self._text and tag in ("th", "td", "div"):
            where, name, parts = self._text
            where[name] = " ".join("".join(parts).split())
            self._text = None


def change_form(html: str) -> ChangeForm:
    """The read-only fields and inline tables of an admin change page."""
    parser = _ChangeFormParser()
    parser.feed(html)
    parser.close()
    return parser.found
