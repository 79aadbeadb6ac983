"""Charts as SVG, drawn on the server with matplotlib from a figures.Table.

Nothing runs in the browser and nothing comes from another host. Every SVG
starts with a <title> and a <desc> (the table's title and description) and is
labelled by them, so a screen reader says what the chart shows; the page puts
the same numbers in a table beside it.
"""

import io
import xml.etree.ElementTree as ET

SVG_NS = "http://www.w3.org/2000/svg"
ET.register_namespace("", SVG_NS)
ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")

# Deterministic output, text kept as text, and no TeX-like parsing of labels
# that come from registrants (an affiliation with "$" in it is just text).
STYLE = {
    "svg.hashsalt": "seminar-numbers",
    "svg.fonttype": "none",
    "text.parse_math": False,
    "font.size": 10,
    "font.family": "sans-serif",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
ACCENT, SECOND, THIRD = "#9a4500", "#1f2328", "#2f6f9f"
MAX_LABEL = 40
# The most labels under a chart's bars or steps: a series' forty talks (or a talk's sixty days of sign-ups)
# would write their dates over each other. The table beside the chart names every one.
MAX_TICKS = 12


def _short(label) -> str:
    text = str(label)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _date_ticks(axes, labels, **options) -> None:
    """Label at most MAX_TICKS of the x positions, evenly spaced from the first."""
    step = -(-len(labels) // MAX_TICKS)
    positions = list(range(0, len(labels), step))
    axes.set_xticks(positions, [labels[position] for position in positions], **options)


def _bars(axes, groups, series) -> None:
    """Side-by-side bars: for each (label, values) in `series`, one bar in each of the `groups`."""
    width = 0.8 / max(len(series), 1)
    colours = (SECOND, ACCENT, THIRD)
    for index, (label, values) in enumerate(series):
        offset = (index - (len(series) - 1) / 2) * width
        positions = [p + offset for p, value in zip(range(len(groups)), values, strict=True) if value is not None]
        heights = [value for value in values if value is not None]
        axes.bar(positions, heights, width, label=_short(label), color=colours[index % len(colours)])
    # Beside the plot, never over a bar.
    axes.legend(frameon=False, loc="upper left", bbox_to_anchor=(1, 1))


def _draw(table, axes) -> None:
    if not table.rows:
        axes.set_axis_off()
        axes.text(0.5, 0.5, table.description, ha="center", va="center")
        return
    if table.kind == "line":
        days = [row[0] for row in table.rows]
        axes.step(range(len(days)), [row[2] for row in table.rows], where="post", color=ACCENT)
        _date_ticks(axes, days, rotation=45, ha="right")
        axes.set_ylabel(str(table.columns[2]))
    elif table.kind == "grouped":
        # One group per talk (labelled by its date), a bar per figure from the third column on.
        _bars(
            axes,
            [r[1] for r in table.rows],
            [(table.columns[i], [r[i] for r in table.rows]) for i in range(2, len(table.columns))],
        )
        _date_ticks(axes, [r[1] for r in table.rows], rotation=45, ha="right")
    elif table.kind == "groups":
        # One group per figure (column), a bar per row (in the room, online); an empty cell draws no bar.
        categories = [str(column) for column in table.columns[1:]]
        _bars(axes, categories, [(row[0], row[1:]) for row in table.rows])
        axes.set_xticks(range(len(categories)), categories, rotation=30, ha="right")
    else:
        labels = [_short(row[0]) for row in table.rows][::-1]
        axes.barh(labels, [row[1] for row in table.rows][::-1], color=ACCENT)
        axes.set_xlabel(str(table.columns[1]))
    if table.kind != "bar":
        axes.yaxis.get_major_locator().set_params(integer=True)
    else:
        axes.xaxis.get_major_locator().set_params(integer=True)


def render_svg(table) -> str:
    """The chart of `table` as a standalone SVG document with <title> and <desc>."""
    from matplotlib import rc_context
    from matplotlib.backends.backend_svg import FigureCanvasSVG
    from matplotlib.figure import Figure

    with rc_context(STYLE):
        height = 3.2 if table.kind != "bar" else max(2.0, 0.35 * len(table.rows) + 1.2)
        figure = Figure(figsize=(7.5, height), layout="constrained")
        FigureCanvasSVG(figure)
        _draw(table, figure.add_subplot())
        out = io.BytesIO()
        # No "Title" metadata: matplotlib would add a second <title>.
        figure.savefig(out, format="svg", metadata={"Date": None})
    return _label(out.getvalue(), title=str(table.title), description=str(table.description), slug=table.slug)


def _label(svg: bytes, *, title: str, description: str, slug: str) -> str:
    root = ET.fromstring(svg)  # noqa: S314 (our own matplotlib output, not outside input)
    title_el = ET.Element(f"{{{SVG_NS}}}title", {"id": f"{slug}-title"})
    title_el.text = title
    desc_el = ET.Element(f"{{{SVG_NS}}}desc", {"id": f"{slug}-desc"})
    desc_el.text = description
    root.insert(0, desc_el)
    root.insert(0, title_el)
    root.set("role", "img")
    root.set("aria-labelledby", f"{slug}-title {slug}-desc")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode")
