// Keyboard shortcuts of the screening inbox: j/k move between papers,
// i include, e exclude (with the reason chosen in the paper's list), m maybe.
(function () {
  "use strict";
  const papers = () => Array.from(document.querySelectorAll("article.candidate"));
  function current() {
    const active = document.activeElement;
    return active && active.closest ? active.closest("article.candidate") : null;
  }
  function move(step) {
    const all = papers();
    if (!all.length) return;
    const at = all.indexOf(current());
    const next = all[Math.min(Math.max(at + step, 0), all.length - 1)] || all[0];
    next.focus();
    next.scrollIntoView({ block: "nearest" });
  }
  const buttons = { i: "include", e: "exclude", m: "maybe" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    if (event.key === "j") { move(1); event.preventDefault(); return; }
    if (event.key === "k") { move(-1); event.preventDefault(); return; }
    const decision = buttons[event.key];
    const paper = current();
    if (!decision || !paper) return;
    const button = paper.querySelector(`button[name="decision"][value="${decision}"]`);
    if (button) { event.preventDefault(); button.click(); }
  });
  // After a decision the page comes back at the paper decided: focus the next one.
  window.addEventListener("DOMContentLoaded", function () {
    const all = papers();
    if (all.length) all[0].focus({ preventScroll: true });
  });
})();
