// The filing wizard checks a field as soon as it is left: the step's answers go to the server,
// which validates them with the API's model (nothing is saved), and each field's message is
// shown beside it, as after "Save and continue". Without this script the same check happens on
// submit. A file of the package: the Content-Security-Policy forbids inline script.
(function () {
  "use strict";
  var form = document.querySelector("form[data-validate-url]");
  if (!form) { return; }
  var pending = null;

  function fieldBox(name) {
    var input = form.querySelector('[name="' + name + '"]');
    return input ? input.closest(".field") : null;
  }

  function show(name, message) {
    var box = fieldBox(name);
    if (!box) { return; }
    var id = name + "-error";
    var error = document.getElementById(id);
    var input = box.querySelector("input, select, textarea");
    if (!message) {
      if (error) { error.remove(); }
      box.classList.remove("has-error");
      if (input) { input.removeAttribute("aria-invalid"); }
      return;
    }
    if (!error) {
      error = document.createElement("p");
      error.className = "field-error";
      error.id = id;
      var label = box.querySelector("label, legend");
      label.insertAdjacentElement("afterend", error);
    }
    error.textContent = message;
    box.classList.add("has-error");
    if (input && input.type !== "checkbox" && input.type !== "radio") {
      input.setAttribute("aria-invalid", "true");
      var described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
      if (described.indexOf(id) < 0) { described.push(id); input.setAttribute("aria-describedby", described.join(" ")); }
    }
  }

  function check(changed) {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(form.dataset.validateUrl, {
      method: "POST", body: new FormData(form), signal: pending.signal, credentials: "same-origin",
      headers: { "Accept": "application/json" }
    }).then(function (response) { return response.ok ? response.json() : null; })
      .then(function (answer) {
        if (!answer) { return; }
        var messages = {};
        answer.errors.forEach(function (e) { messages[e.field] = e.message; });
        answer.fields.forEach(function (name) {
          if (name === changed || !messages[name]) { show(name, messages[name]); }
        });
      }).catch(function () { /* offline or superseded: the submit checks again */ });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name) { check(event.target.name.split("-")[0]); }
  });
}());
