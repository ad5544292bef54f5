// Health twin charts: one uPlot chart per risk, one line per scenario, over the 5/10/20-year horizons.
(function () {
  "use strict";
  const host = document.getElementById("charts");
  if (!host || !window.uPlot) return;
  const series = JSON.parse(host.dataset.series || "{}");
  const colours = ["#0b5cad", "#b00020", "#1b6e20", "#8a4b00", "#5b2a86"];
  const width = () => Math.min(host.clientWidth - 20, 760);
  for (const [risk, s] of Object.entries(series)) {
    const box = document.createElement("figure");
    box.className = "chart";
    const cap = document.createElement("figcaption");
    cap.textContent = risk.replace(/_/g, " ") + " (% over the years ahead)";
    box.appendChild(cap);
    host.appendChild(box);
    const data = [s.years, ...s.lines.map((l) => l.values)];
    const opts = { width: width(), height: 220,
      scales: { x: { time: false } },
      axes: [{ label: "years from now" }, { label: "%" }],
      series: [{ label: "years" }, ...s.lines.map((l, i) => ({ label: l.label, stroke: colours[i % colours.length], width: 2, points: { size: 6 } }))] };
    new uPlot(opts, data, box);
    // The same numbers as a table for screen readers.
    const t = document.createElement("table");
    t.className = "sr-only";
    t.innerHTML = "<caption>" + cap.textContent + "</caption><tr><th>scenario</th>" + s.years.map((y) => "<th>" + y + " y</th>").join("") + "</tr>" +
      s.lines.map((l) => "<tr><td>" + l.label + "</td>" + l.values.map((v) => "<td>" + (v === null ? "—" : v) + "</td>").join("") + "</tr>").join("");
    box.appendChild(t);
  }
})();
