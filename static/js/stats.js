// Statistics page: one bar chart per <canvas data-chart>, from the json_script data.
// The same numbers are in the table under each chart, so nothing depends on this script.
(function () {
  "use strict";
  var source = document.getElementById("chart-data");
  if (!source || typeof Chart === "undefined") return;
  var data = JSON.parse(source.textContent);
  var accent = getComputedStyle(document.documentElement).getPropertyValue("--accent").trim() || "#8a2f4b";
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var chart = data[canvas.dataset.chart];
    if (!chart || !chart.rows.length) return;
    var horizontal = chart.rows.length > 8 || canvas.dataset.chart === "diagnosis";
    new Chart(canvas, {
      type: "bar",
      data: {
        // Long site names are cut on the axis; the table under the chart has them whole.
        labels: chart.rows.map(function (row) { return row[0].length > 34 ? row[0].slice(0, 33) + "\u2026" : row[0]; }),
        datasets: [{ label: "Cases", data: chart.rows.map(function (row) { return row[1]; }), backgroundColor: accent }]
      },
      options: {
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: { legend: { display: false } },
        // Diagnoses: a bar opens the diagnosis's entity page (the table's names link there too).
        onClick: chart.links ? function (event, elements) {
          if (elements.length) window.location.assign(chart.links[elements[0].index]);
        } : undefined,
        onHover: chart.links ? function (event, elements) {
          event.native.target.style.cursor = elements.length ? "pointer" : "default";
        } : undefined,
        scales: {
          x: { beginAtZero: true, ticks: { precision: 0 } },
          y: { beginAtZero: true, ticks: { precision: 0 } }
        }
      }
    });
  });
})();
