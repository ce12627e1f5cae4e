// The analyst console's keyboard shortcuts. Without this script every action is a button.
// Queue: j / k move the highlight between alerts, Enter opens the highlighted one, x ticks it,
// a / e / r acknowledge, escalate or resolve it through the bulk form (the same request as
// ticking it and choosing the action). Alert page: a / e / r submit that step's form.
// The pages say which keys work only once this script runs ([data-shortcut-help] starts hidden).
// A file of the package: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";
  var ACTIONS = { a: "acknowledge", e: "escalate", r: "resolve" };

  function typing(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function queue(form) {
    var rows = Array.prototype.slice.call(form.querySelectorAll("tr[data-alert]"));
    if (!rows.length) { return null; }
    var current = -1;

    function highlight(index) {
      if (current >= 0) { rows[current].classList.remove("current"); rows[current].removeAttribute("aria-current"); }
      current = Math.max(0, Math.min(rows.length - 1, index));
      var row = rows[current];
      row.classList.add("current");
      row.setAttribute("aria-current", "true");
      var link = row.querySelector("th a");
      if (link) { link.focus(); }
    }

    function act(action) {
      if (current < 0) { return; }
      rows.forEach(function (row, i) {
        var box = row.querySelector('input[name="ids"]');
        if (box) { box.checked = i === current; }
      });
      form.querySelector('select[name="action"]').value = action;
      form.submit();
    }

    return function (key) {
      if (key === "j") { highlight(current + 1); return true; }
      if (key === "k") { highlight(current < 0 ? 0 : current - 1); return true; }
      if (key === "x" && current >= 0) {
        var box = rows[current].querySelector('input[name="ids"]');
        if (box) { box.checked = !box.checked; }
        return true;
      }
      if (ACTIONS[key]) { act(ACTIONS[key]); return true; }
      return false;
    };
  }

  function alertPage() {
    if (!document.getElementById("triage-title")) { return null; }
    return function (key) {
      var form = ACTIONS[key] && document.getElementById("act-" + ACTIONS[key]);
      if (!form) { return false; }
      form.submit();
      return true;
    };
  }

  var bulk = document.querySelector("form[data-shortcuts]");
  var handle = bulk ? queue(bulk) : alertPage();
  if (!handle) { return; }
  Array.prototype.forEach.call(document.querySelectorAll("[data-shortcut-help]"), function (help) {
    help.hidden = false;
  });
  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey || typing(event.target)) { return; }
    if (handle(event.key)) { event.preventDefault(); }
  });
}());
