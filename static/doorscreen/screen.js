// The screen by the door: asks the server for news every data-refresh seconds
// and changes only the text that changed (no reload, no flash). A new QR code
// is loaded before it replaces the old one. A link that stopped working
// (changed or switched off) says so and stops asking.
(function () {
  "use strict";
  var root = document.getElementById("screen");
  if (!root) return;
  var every = Math.max(1, Number(root.getAttribute("data-refresh")) || 30) * 1000;
  var url = root.getAttribute("data-json");

  function field(name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  function setText(name, text) {
    var element = field(name);
    if (element && element.textContent !== text) element.textContent = text;
  }

  function setQr(path) {
    var image = field("qr");
    if (!image || !path || image.getAttribute("src") === path) return;
    var next = new Image();
    next.onload = function () { image.setAttribute("src", path); };
    next.src = path;
  }

  function notice(text) {
    var element = field("notice");
    element.hidden = !text;
    if (text) setText("notice", text);
  }

  function show(data) {
    var talk = data.talk;
    root.classList.toggle("screen--empty", !talk);
    root.querySelector(".screen__qr").hidden = !talk;
    setText("heading", data.heading);
    setText("title", talk ? talk.title : data.heading);
    setText("speakers", talk ? talk.speakers.join(" · ") : "");
    setText("when", talk ? talk.when : "");
    setText("place", talk ? talk.place : "");
    var seats = field("seats");
    setText("seats", talk ? talk.seats.text : "");
    seats.className = "screen__seats screen__seats--" + (talk ? talk.seats.tone : "none");
    if (talk) setQr(talk.qr);
    notice("");
  }

  function gone() {
    root.classList.add("screen--empty");
    root.querySelector(".screen__qr").hidden = true;
    ["heading", "speakers", "when", "place", "seats"].forEach(function (name) { setText(name, ""); });
    setText("title", root.getAttribute("data-gone"));
  }

  function poll() {
    fetch(url, { cache: "no-store", credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 404) {
          gone();
          return;
        }
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json().then(function (data) {
          show(data);
          every = Math.max(1, Number(data.refresh) || 30) * 1000;
          window.setTimeout(poll, every);
        });
      })
      .catch(function () {
        notice(root.getAttribute("data-offline"));
        window.setTimeout(poll, every);
      });
  }

  window.setTimeout(poll, every);
})();
