// The deep-zoom viewer of a large figure (templates/curation/figure_zoom.html):
// OpenSeadragon reads the figure's .dzi and its tiles from RareDerm itself.
document.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("zoom");
  if (!element || !window.OpenSeadragon) return;
  window.OpenSeadragon({
    element: element,
    tileSources: element.getAttribute("data-dzi"),
    prefixUrl: element.getAttribute("data-prefix"),
    // The canvas drawer: no WebGL needed, and nothing the page's CSP forbids.
    drawer: "canvas",
    showNavigator: true,
    maxZoomPixelRatio: 2,
  });
});
