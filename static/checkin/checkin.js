// The door list filters as you type; without JavaScript the search form does the same on the server.
// A long list is shown in part (data-complete absent): then only the server can search it.
(function () {
  "use strict";
  var form = document.querySelector("[data-door-search]");
  var list = document.getElementById("door-list");
  if (!form || !list || !list.hasAttribute("data-complete")) { return; }
  var input = form.querySelector("input[type=search]");
  var empty = document.getElementById("door-empty");
  // Each person's data-search is their name and address folded on the server (registrations/search.py).
  var people = Array.prototype.slice.call(list.querySelectorAll("[data-search]"));
  // The words typed, folded the same way: any letter case, no accents, compatibility forms unified,
  // so that "nunez" finds "Ñúñez" here as the server's search does.
  function fold(text) {
    return text.toLowerCase().replace(/ß/g, "ss").normalize("NFKD").replace(/\p{Mn}/gu, "").normalize("NFC");
  }
  function filter() {
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    people.forEach(function (person) {
      var text = person.getAttribute("data-search");
      var match = words.every(function (word) { return text.indexOf(word) !== -1; });
      person.hidden = !match;
      if (match) { shown += 1; }
    });
    if (empty) { empty.hidden = shown !== 0; }
  }
  input.addEventListener("input", filter);
  form.addEventListener("submit", function (event) {
    // Every person is already on the page: filtering here saves a round trip.
    if (people.length) { event.preventDefault(); filter(); }
  });
})();
