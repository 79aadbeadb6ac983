"""The organizers' home read with an HTML parser: each panel's talk table, row by row."""

from html.parser import HTMLParser


class _Tables(HTMLParser):
    """Rows of one panel's talk tables: {talk title: {column heading: cell text}}, per series heading."""

    def __init__(self, panel: str):
        super().__init__(convert_charrefs=True)
        self.panel = panel
        self._in_h3, self._h3, self._panel = False, "", ""
        self.series = {}
        self._series = None
        self._in_h2 = False
        self._headings = []
        self._row = None
        self._cell = None
        self._in_title = False
        self._in_table = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "h2" and (attrs.get("id") or "").startswith("series-"):
            self._in_h2, self._series = True, ""
        elif tag == "h3":
            self._in_h3, self._h3 = True, ""
        elif tag == "table" and "dash-talks" in classes and self._panel == self.panel:
            self._in_table, self._headings = True, []
        elif self._in_table and tag == "tr":
            self._row = []
        elif self._in_table and tag in ("th", "td") and self._row is not None:
            self._cell = []
        elif tag == "span" and "dash-talk__title" in classes:
            self._in_title = True
            self._title = []

    def handle_data(self, data):
        if self._in_h3:
            self._h3 += data
        if self._in_h2:
            self._series += data
        if self._in_title:
            self._title.append(data)
        if self._cell is not None:
            self._cell.append(data)

    def handle_endtag(self, tag):
        if tag == "h3" and self._in_h3:
            self._in_h3, self._panel = False, self._h3.strip()
        elif tag == "h2" and self._in_h2:
            self._in_h2 = False
            self.series[self._series.strip()] = {}
        elif tag == "span" and self._in_title:
            self._in_title = False
            self._row_title = "".join(self._title).strip()
        elif tag in ("th", "td") and self._cell is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            if not self._headings:
                self._headings = self._row
            else:
                cells = dict(zip(self._headings[1:-1], self._row[1:-1], strict=True))
                self.series[self._series.strip()][self._row_title] = cells
            self._row = None
        elif tag == "table":
            self._in_table = False


def talk_tables(html: str, panel: str = "Coming talks") -> dict:
    parser = _Tables(panel)
    parser.feed(html)
    return parser.series
