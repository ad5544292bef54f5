// Draws the charts and the family graph from the JSON the server rendered into the page (no inline scripts).
(function () {
  "use strict";
  function data(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function lineChart(target, title, xs, ys, label) {
    var width = Math.max(320, target.clientWidth - 8);
    return new uPlot({
      title: title, width: width, height: 220,
      series: [{}, { label: label, stroke: "#0b5cad", width: 2, points: { show: true, size: 5 } }],
      axes: [{}, { label: label }],
    }, [xs, ys], target);
  }
  function metrics() {
    var series = data("series-data"), host = document.getElementById("metric-charts");
    if (!series || !host || typeof uPlot === "undefined") return;
    Object.keys(series).sort().forEach(function (type) {
      var box = document.createElement("div");
      box.className = "metric-chart";
      box.setAttribute("role", "img");
      box.setAttribute("aria-label", type + " over time, " + series[type].length + " readings");
      host.appendChild(box);
      lineChart(box, type, series[type].map(function (p) { return p[0]; }),
                series[type].map(function (p) { return p[1]; }), type);
    });
  }
  function volumes() {
    var v = data("volume-data"), host = document.getElementById("volume-chart");
    if (!v || !host || typeof uPlot === "undefined") return;
    host.setAttribute("role", "img");
    host.setAttribute("aria-label", "readings per day");
    lineChart(host, "readings per day", v.x, v.y, "readings");
  }
  function family() {
    var elements = data("family-data"), host = document.getElementById("family-graph");
    if (!elements || !host || typeof cytoscape === "undefined") return;
    window.familyGraph = cytoscape({
      container: host, elements: elements, layout: { name: "breadthfirst", directed: true, padding: 20 },
      style: [
        { selector: "node", style: { label: "data(label)", "text-wrap": "wrap", "text-valign": "bottom",
          "background-color": "#6b8fb3", "font-size": 12 } },
        { selector: "node[kind = 'patient']", style: { "background-color": "#0b5cad", width: 40, height: 40 } },
        { selector: "edge", style: { label: "data(label)", "curve-style": "bezier", "target-arrow-shape": "triangle",
          "line-color": "#9aa7b4", "font-size": 11 } },
      ],
    });
  }
  document.addEventListener("DOMContentLoaded", function () { metrics(); volumes(); family(); });
})();
