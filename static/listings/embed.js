/*
 * The next talks of a seminar series, rendered into an element of another site.
 *
 *   <div id="seminar-talks"><a href="https://seminars.example.edu/series/ifml-seminar/">Upcoming talks</a></div>
 *   <script src="https://seminars.example.edu/static/listings/embed.js" defer
 *           data-source="https://seminars.example.edu/series/ifml-seminar/talks.json"
 *           data-target="seminar-talks" data-limit="3"></script>
 *
 * It reads the public JSON listing without cookies (credentials: "omit"), sets
 * no cookie, stores nothing and reports nothing. It builds the list with DOM
 * calls and text nodes only (no innerHTML, no style attributes), so it runs
 * under a host page's strict Content-Security-Policy as long as script-src and
 * connect-src allow this site. Whatever the element held stays there until the
 * talks arrive, and stays if they never do. Style it through the classes
 * seminar-embed, seminar-embed__talk, __title, __speakers, __when, __place, __more.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.dataset.source || !script.dataset.target) {
    return;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    node.className = className;
    if (text) {
      node.textContent = text;
    }
    return node;
  }

  function link(href, className, text) {
    var anchor = element("a", className, text);
    // Only our own absolute http(s) addresses become links.
    if (/^https?:\/\//.test(href)) {
      anchor.href = href;
    }
    return anchor;
  }

  function speakers(talk) {
    return talk.speakers
      .map(function (speaker) {
        return speaker.affiliation ? speaker.name + " (" + speaker.affiliation + ")" : speaker.name;
      })
      .join(", ");
  }

  function talkItem(talk, texts) {
    var item = element("li", "seminar-embed__talk" + (talk.status === "cancelled" ? " seminar-embed__talk--cancelled" : ""));
    item.appendChild(link(talk.url, "seminar-embed__title", talk.title));
    if (talk.status === "cancelled") {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(element("span", "seminar-embed__badge", texts.cancelled));
    }
    if (talk.speakers.length) {
      item.appendChild(element("div", "seminar-embed__speakers", speakers(talk)));
    }
    var when = element("time", "seminar-embed__when", talk.when);
    when.dateTime = talk.start;
    var line = element("div", "seminar-embed__meta");
    line.appendChild(when);
    line.appendChild(document.createTextNode(" · "));
    line.appendChild(element("span", "seminar-embed__place", talk.where));
    item.appendChild(line);
    return item;
  }

  function render(target, data) {
    var container = element("div", "seminar-embed");
    if (data.talks.length) {
      var list = element("ol", "seminar-embed__list");
      data.talks.forEach(function (talk) {
        list.appendChild(talkItem(talk, data.texts));
      });
      container.appendChild(list);
    } else {
      container.appendChild(element("p", "seminar-embed__empty", data.texts.empty));
    }
    var more = element("p", "seminar-embed__more");
    more.appendChild(link(data.url, "", data.texts.more));
    container.appendChild(more);
    target.replaceChildren(container);
  }

  function load() {
    var target = document.getElementById(script.dataset.target);
    if (!target) {
      return;
    }
    var url = new URL(script.dataset.source, script.src);
    if (script.dataset.limit) {
      url.searchParams.set("limit", script.dataset.limit);
    }
    fetch(url.href, { credentials: "omit", referrerPolicy: "no-referrer", mode: "cors" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("listing answered " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        render(target, data);
      })
      .catch(function () {
        // Leave the host's fallback content in place.
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", load);
  } else {
    load();
  }
})();
