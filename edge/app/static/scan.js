// Scan: a photo (file or camera) goes to POST /v1/scan (read only); the overlay of what was read is drawn on the
// photo; the values become an editable form, and only Confirm stores them (POST /v1/scan/confirm).
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const status = $("scan-status"), canvas = $("scan-canvas"), form = $("scan-form");
  let read = null;

  function esc(s) { const d = document.createElement("div"); d.textContent = String(s ?? ""); return d.innerHTML; }
  const v = (f) => (f && f.value !== null && f.value !== undefined ? f.value : "");

  async function send(blob) {
    status.className = "muted"; status.textContent = "Reading the photo…";
    const img = new Image();
    img.src = URL.createObjectURL(blob);
    await img.decode();
    const body = new FormData();
    body.append("file", blob, "photo.jpg");
    const res = await fetch("/v1/scan", { method: "POST", body, credentials: "same-origin" });
    const out = await res.json();
    if (!out.success) { status.className = "error"; status.textContent = out.error.message + (out.error.hint ? " — " + out.error.hint : ""); return; }
    read = out.data;
    draw(img, read.overlay);
    fill(read);
    status.textContent = (read.labs.length + " lab values and " + read.medications.length + " medications read") +
      (read.warnings.length ? " · " + read.warnings.join("; ") : "");
  }

  function draw(img, overlay) {
    canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
    const g = canvas.getContext("2d");
    g.drawImage(img, 0, 0);
    g.lineWidth = Math.max(2, img.naturalWidth / 400);
    const boxes = [...((overlay && overlay.text) || []).map((t) => ({ ...t, kind: "text" })),
                   ...((overlay && overlay.items) || [])];
    for (const box of boxes) {
      const pts = box.box;
      if (!pts || !pts.length) continue;
      g.strokeStyle = box.kind === "lab" ? "#0b5cad" : box.kind === "medication" ? "#1b6e20" : "#9aa0a6";
      g.beginPath(); g.moveTo(pts[0][0], pts[0][1]);
      for (const p of pts.slice(1)) g.lineTo(p[0], p[1]);
      g.closePath(); g.stroke();
    }
  }

  function fill(r) {
    $("collected_on").value = r.collected_on || "";
    $("scan-labs").innerHTML = r.labs.map((l, i) =>
      '<fieldset class="row" data-lab="' + i + '"><legend>' + esc(l.label) + (l.flag ? " (" + esc(v(l.flag)) + ")" : "") + "</legend>" +
      '<div><label><input type="checkbox" name="keep" checked> Keep</label></div>' +
      '<div><label for="lab-a-' + i + '">Test</label><input id="lab-a-' + i + '" name="analyte" value="' + esc(v(l.analyte)) + '"></div>' +
      '<div><label for="lab-v-' + i + '">Value</label><input id="lab-v-' + i + '" name="value" inputmode="decimal" value="' + esc(v(l.value)) + '"></div>' +
      '<div><label for="lab-u-' + i + '">Unit</label><input id="lab-u-' + i + '" name="unit" value="' + esc(v(l.unit)) + '"></div>' +
      '<input type="hidden" name="label" value="' + esc(l.label) + '"><input type="hidden" name="flag" value="' + esc(v(l.flag)) + '"></fieldset>').join("") || "<p class=\"muted\">None.</p>";
    $("scan-meds").innerHTML = r.medications.map((m, i) =>
      '<fieldset class="row" data-med="' + i + '"><legend>Medication ' + (i + 1) + "</legend>" +
      '<div><label><input type="checkbox" name="keep" checked> Keep</label></div>' +
      '<div><label for="med-n-' + i + '">Name</label><input id="med-n-' + i + '" name="name" value="' + esc(v(m.name)) + '"></div>' +
      '<div><label for="med-s-' + i + '">Strength</label><input id="med-s-' + i + '" name="strength" inputmode="decimal" value="' + esc(v(m.strength)) + '"></div>' +
      '<div><label for="med-u-' + i + '">Unit</label><input id="med-u-' + i + '" name="unit" value="' + esc(v(m.unit)) + '"></div>' +
      '<div><label for="med-f-' + i + '">How often</label><input id="med-f-' + i + '" name="frequency" value="' + esc(v(m.frequency)) + '"></div>' +
      '<div><label for="med-r-' + i + '">Route</label><input id="med-r-' + i + '" name="route" value="' + esc(v(m.route)) + '"></div></fieldset>').join("") || "<p class=\"muted\">None.</p>";
    form.hidden = false;
    $("scan-saved").innerHTML = "";
  }

  function rows(selector, names) {
    return [...document.querySelectorAll(selector)].filter((fs) => fs.querySelector('[name="keep"]').checked).map((fs) => {
      const o = {};
      for (const n of names) o[n] = fs.querySelector('[name="' + n + '"]').value.trim() || null;
      return o;
    });
  }

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    document.querySelectorAll("#scan-form [aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
    const body = { image_sha256: read.image_sha256, collected_on: $("collected_on").value || null,
                   labs: rows("[data-lab]", ["analyte", "value", "unit", "label", "flag"]),
                   medications: rows("[data-med]", ["name", "strength", "unit", "frequency", "route"]) };
    const res = await fetch("/v1/scan/confirm", { method: "POST", headers: { "Content-Type": "application/json" },
                                                   body: JSON.stringify(body), credentials: "same-origin" });
    const out = await res.json();
    const box = $("scan-saved");
    if (out.success) {
      const s = out.data;
      box.innerHTML = s.repeat_of ? '<div class="problem" role="alert">Not stored again: ' + esc(s.repeat_of.why) + "</div>"
        : '<div class="notice" role="status" data-testid="scan-saved">Stored ' + s.metric_ids.length + " lab values and " +
          s.medication_ids.length + " medications" + (body.collected_on ? ", dated " + esc(body.collected_on) : "") + ".</div>";
    } else {
      const err = out.error || { message: (out.detail && out.detail[0] && out.detail[0].msg) || "not stored" };
      box.innerHTML = '<div class="problem" role="alert">' + esc(err.message) + "</div>";
      const m = /^(labs|medications)\.(\d+)\.(\w+)$/.exec(err.field || "");
      if (m) {
        const fs = document.querySelectorAll(m[1] === "labs" ? "[data-lab]" : "[data-med]");
        const kept = [...fs].filter((f) => f.querySelector('[name="keep"]').checked)[Number(m[2])];
        const el = kept && kept.querySelector('[name="' + m[3] + '"]');
        if (el) { el.setAttribute("aria-invalid", "true"); el.focus(); }
      }
    }
  });

  $("scan-file").addEventListener("change", (e) => { if (e.target.files[0]) send(e.target.files[0]); });

  const video = $("camera");
  $("camera-start").addEventListener("click", async () => {
    try {
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 1280, height: 960 } });
      video.hidden = false; await video.play(); $("camera-shot").hidden = false;
    } catch (err) { status.className = "error"; status.textContent = "No camera: " + err.message; }
  });
  $("camera-shot").addEventListener("click", () => {
    const c = document.createElement("canvas");
    c.width = video.videoWidth; c.height = video.videoHeight;
    c.getContext("2d").drawImage(video, 0, 0);
    video.srcObject.getTracks().forEach((t) => t.stop()); video.hidden = true; $("camera-shot").hidden = true;
    c.toBlob((b) => send(b), "image/jpeg", 0.92);
  });
})();
