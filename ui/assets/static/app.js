// Live progress: the live page listens to the server's events and shows
// each snapshot. Everything else on the page works without script.
(function () {
  "use strict";
  var live = document.getElementById("live");
  if (!live || !window.EventSource) {
    return;
  }
  var fields = ["status", "message", "sent", "failed", "unknown", "pending", "rate", "left"];
  var source = new EventSource(live.dataset.events);
  source.onmessage = function (e) {
    var s = JSON.parse(e.data);
    live.dataset.phase = s.phase;
    fields.forEach(function (k) {
      var el = document.getElementById("p-" + k);
      if (el) {
        el.textContent = s[k];
      }
    });
    document.getElementById("stop-form").hidden = !s.can_stop;
    document.getElementById("again").hidden = s.phase !== "ended";
    var notes = document.getElementById("p-notes");
    notes.replaceChildren.apply(notes, s.notes.map(function (n) {
      var li = document.createElement("li");
      li.textContent = n;
      return li;
    }));
  };
})();
