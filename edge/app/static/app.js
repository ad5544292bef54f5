// The kiosk app's shared behaviour: the service worker, the idle lock, and the Vitals form's helpers.
(function () {
  "use strict";
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(() => {});
  }

  // Idle lock: after data-idle-s seconds without a touch, key or pointer, the screen locks (the server also
  // refuses an idle session, so this only makes the lock visible at once).
  const body = document.body;
  const idle = Number(body.dataset.idleS || 0);
  if (idle > 0 && body.dataset.locked === "no") {
    let last = Date.now();
    const poke = () => { last = Date.now(); };
    ["pointerdown", "keydown", "touchstart", "input"].forEach((e) => window.addEventListener(e, poke, true));
    setInterval(() => {
      if (Date.now() - last > idle * 1000) {
        const f = document.createElement("form");
        f.method = "post"; f.action = "/lock";
        document.body.appendChild(f); f.submit();
      }
    }, 1000);
  }

  // Vitals: the unit list follows the chosen reading; "Correct" fills the form with the reading to correct.
  function units() {
    const metric = document.getElementById("metric");
    const unit = document.getElementById("unit");
    if (!metric || !unit) return;
    const opt = metric.selectedOptions[0];
    const keep = unit.value;
    unit.innerHTML = "";
    (opt.dataset.units || "").split(",").filter(Boolean).forEach((u) => {
      const o = document.createElement("option"); o.value = u; o.textContent = u; unit.appendChild(o);
    });
    if ([...unit.options].some((o) => o.value === keep)) unit.value = keep;
  }
  document.addEventListener("change", (e) => { if (e.target.id === "metric") units(); });
  document.addEventListener("click", (e) => {
    const btn = e.target.closest("button.correct");
    if (btn) {
      document.getElementById("metric").value = btn.dataset.metric;
      units();
      document.getElementById("unit").value = btn.dataset.unit;
      document.getElementById("value").value = btn.dataset.value;
      document.getElementById("notes").value = btn.dataset.notes;
      document.getElementById("correcting").value = btn.dataset.id;
      document.getElementById("add-h").textContent = "Correct a reading";
      document.getElementById("cancel-correct").hidden = false;
      document.getElementById("value").focus();
    }
    if (e.target.id === "cancel-correct") {
      document.getElementById("correcting").value = "";
      document.getElementById("add-h").textContent = "Record a reading";
      e.target.hidden = true;
    }
  });
  // A table wider than a phone scrolls sideways: it must then take the keyboard focus, or a keyboard user
  // cannot scroll it (WCAG 2.1.1; axe-core's scrollable-region-focusable).
  function scrollables() {
    document.querySelectorAll("table, .chart").forEach((el) => {
      if (el.scrollWidth > el.clientWidth + 1) el.setAttribute("tabindex", "0");
      else if (el.getAttribute("tabindex") === "0") el.removeAttribute("tabindex");
    });
  }
  window.addEventListener("load", scrollables);
  window.addEventListener("resize", scrollables);
  // Move the focus to the first field the server marked invalid, so a keyboard user lands on it.
  document.addEventListener("htmx:afterSwap", () => {
    scrollables();
    const bad = document.querySelector('[aria-invalid="true"]');
    if (bad) bad.focus();
  });
})();
