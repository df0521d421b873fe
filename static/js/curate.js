/* The case form: add/remove inline rows, autosave, and submit-once.
 * No dependencies beyond htmx (already on every page) for the rows' live lookups. */
(function () {
  "use strict";
  var form = document.getElementById("case-form");
  if (!form) return;

  var statusEl = form.querySelector("[data-autosave-status]");
  var dirty = false;
  var submitting = false;
  var stopped = false;
  var inFlight = null;
  var seconds = parseInt(form.getAttribute("data-autosave-seconds") || "15", 10);

  function say(text) { if (statusEl) statusEl.textContent = text; }

  function setVersion(version) {
    document.querySelectorAll("[data-version]").forEach(function (input) { input.value = version; });
    document.querySelectorAll("[data-version-label]").forEach(function (el) { el.textContent = version; });
  }

  // -- inline rows ---------------------------------------------------------
  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function () {
      var prefix = button.getAttribute("data-add-row");
      var total = form.querySelector("#id_" + prefix + "-TOTAL_FORMS");
      var template = document.getElementById(prefix + "-empty");
      var body = document.querySelector("#" + prefix + "-rows tbody");
      var index = parseInt(total.value, 10);
      var holder = document.createElement("tbody");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index));
      var row = holder.firstElementChild;
      body.appendChild(row);
      total.value = String(index + 1);
      if (window.htmx) window.htmx.process(row);
      var first = row.querySelector("input[type=text], input:not([type]), select");
      if (first) first.focus();
      dirty = true;
    });
  });

  form.addEventListener("change", function (event) {
    if (event.target.matches("[data-remove-row]")) {
      var row = event.target.closest("tr");
      if (row) row.classList.toggle("removed", event.target.checked);
    }
  });

  // -- autosave ------------------------------------------------------------
  function markDirty() {
    if (submitting) return;
    if (!dirty && !inFlight && !stopped) say("Unsaved changes — autosaved within " + seconds + " s.");
    dirty = true;
  }
  form.addEventListener("input", markDirty);
  form.addEventListener("change", markDirty);

  function autosave() {
    if (!dirty || stopped || submitting || inFlight) return Promise.resolve();
    dirty = false;
    var data = new FormData(form);
    data.delete("action");
    data.delete("version_override");
    say("Saving…");
    inFlight = fetch(form.getAttribute("data-autosave-url"), {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return { status: "error", message: "The server answered oddly (HTTP " + response.status + "); not saved." }; });
    }).then(function (answer) {
      if (answer.status === "saved" || answer.status === "unchanged" || answer.status === "partial") {
        // "partial": the valid fields and rows are saved, the rest is kept as typed.
        setVersion(answer.version);
      } else if (answer.status === "conflict" || answer.status === "readonly") {
        stopped = true;
      } else {
        dirty = true;  // not saved: try again after the next edit
      }
      say(answer.message || "");
    }).catch(function () {
      dirty = true;
      say("Offline? Not saved yet — will try again. What you typed is still here.");
    }).finally(function () { inFlight = null; });
    return inFlight;
  }

  window.setInterval(autosave, Math.max(seconds, 2) * 1000);
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") autosave();
  });

  window.addEventListener("beforeunload", function (event) {
    if (dirty && !submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });

  // -- submit once ---------------------------------------------------------
  form.addEventListener("submit", function (event) {
    if (submitting) { event.preventDefault(); return; }
    var submitter = event.submitter;
    if (inFlight) {
      // Let the autosave finish first, so the form carries the version it produced.
      event.preventDefault();
      inFlight.then(function () { form.requestSubmit(submitter || undefined); });
      return;
    }
    submitting = true;
    if (submitter && submitter.name) {
      var copy = document.createElement("input");
      copy.type = "hidden";
      copy.name = submitter.name;
      copy.value = submitter.value;
      form.appendChild(copy);
    }
    document.querySelectorAll("button[type=submit]").forEach(function (button) {
      if (button.form === form || form.contains(button)) button.disabled = true;
    });
    say(submitter && submitter.value === "submit" ? "Submitting…" : "Saving…");
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (other) {
    other.addEventListener("submit", function (event) {
      if (!window.confirm(other.getAttribute("data-confirm"))) event.preventDefault();
      else submitting = true;
    });
  });
})();
