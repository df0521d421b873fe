/* The search page on a phone: the facets follow the results, behind the "Refine" button.
 * (Without script the button is a link to #facets, which CSS shows as the target.) */
(function () {
  "use strict";
  var button = document.querySelector("[data-refine]");
  var facets = document.querySelector("[data-facets]");
  if (!button || !facets) return;
  button.addEventListener("click", function (event) {
    event.preventDefault();
    var open = !facets.classList.contains("open");
    facets.classList.toggle("open", open);
    button.setAttribute("aria-expanded", open ? "true" : "false");
    if (open) facets.scrollIntoView({ block: "start" });
  });
  button.addEventListener("keydown", function (event) {
    if (event.key === " ") { event.preventDefault(); button.click(); }
  });
})();
