// Therapy: camera frames (JPEG) go to the edge's therapy WebSocket (/v1/therapy/ws), which runs the pose model
// and answers with live therapy_feedback (reps, form cues, visibility); Finish stores the session.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const video = $("therapy-video"), start = $("therapy-start"), stop = $("therapy-stop");
  let ws = null, timer = null, reps = 0, finished = false;
  const canvas = document.createElement("canvas");

  function esc(s) { const d = document.createElement("div"); d.textContent = String(s ?? ""); return d.innerHTML; }
  function say(text) { const li = document.createElement("li"); li.textContent = text; const f = $("feedback"); f.prepend(li); while (f.children.length > 5) f.lastChild.remove(); }

  function handle(m) {
    if (m.type === "therapy_started") { $("cue").textContent = m.cue || ""; }
    else if (m.type === "therapy_feedback") {
      if (m.kind === "rep") { reps += 1; $("reps").textContent = reps; $("nobody").hidden = true; }
      else if (m.kind === "visibility") { $("nobody").hidden = false; }
      if (m.kind !== "visibility") $("nobody").hidden = true;
      if (m.message) say(m.message);
    } else if (m.type === "therapy_summary") {
      $("therapy-summary").innerHTML = '<div class="notice" role="status" data-testid="therapy-summary">' + m.reps +
        " reps, score " + Math.round(m.score) + "/100 in " + Math.round(m.duration_s) + " s — saved.</div>" +
        (m.reasons || []).map((r) => "<p>" + esc(r) + "</p>").join("");
    } else if (m.type === "error") {
      const none = /nobody was in view/.test(m.message || "");
      $("therapy-summary").innerHTML = '<div class="problem" role="alert" data-testid="therapy-error">' +
        (none ? "No person in view: nothing was saved. " : "") + esc(m.message) + (m.hint ? " — " + esc(m.hint) : "") + "</div>";
    }
  }

  function sendFrame() {
    // A frame still being sent means the link is slower than the camera: skip this one.
    if (finished || !ws || ws.readyState !== 1 || ws.bufferedAmount > 0 || !video.videoWidth) return;
    canvas.width = 480; canvas.height = Math.round(480 * video.videoHeight / video.videoWidth);
    canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
    // Encoding is asynchronous: a frame finished after Finish was pressed is not sent.
    canvas.toBlob((b) => { if (b && !finished && ws && ws.readyState === 1) b.arrayBuffer().then((buf) => { if (!finished) ws.send(buf); }); }, "image/jpeg", 0.8);
  }

  start.addEventListener("click", async () => {
    start.disabled = true; finished = false; reps = 0; $("reps").textContent = "0"; $("feedback").innerHTML = ""; $("therapy-summary").innerHTML = "";
    try {
      video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
      await video.play();
      ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/therapy/ws");
      ws.onmessage = (e) => handle(JSON.parse(e.data));
      ws.onopen = () => {
        ws.send(JSON.stringify({ type: "start", exercise: $("exercise").value }));
        timer = setInterval(sendFrame, 150);
        stop.disabled = false;
      };
      ws.onclose = () => { clearInterval(timer); start.disabled = false; stop.disabled = true; };
    } catch (err) {
      handle({ type: "error", message: "Cannot use the camera: " + err.message }); start.disabled = false;
    }
  });

  stop.addEventListener("click", () => {
    clearInterval(timer); stop.disabled = true; finished = true;
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ type: "end", save: true }));
    if (video.srcObject) video.srcObject.getTracks().forEach((t) => t.stop());
    setTimeout(() => { if (ws) ws.close(); }, 3000);
  });
})();
