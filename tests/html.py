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
