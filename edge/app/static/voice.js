// Speak a symptom: the microphone streams PCM16 to the edge's voice WebSocket (/v1/voice/stream); partial
// transcripts show while speaking; the result shows urgency, advice, specialty, red flags and the unsure words.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const start = $("voice-start"), stop = $("voice-stop"), status = $("voice-status");
  let ws = null, ctx = null, source = null, proc = null, stream = null, endedAt = 0;

  function esc(s) { const d = document.createElement("div"); d.textContent = String(s ?? ""); return d.innerHTML; }

  function connect() {
    return new Promise((resolve, reject) => {
      const sock = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/v1/voice/stream");
      sock.binaryType = "arraybuffer";
      sock.onopen = () => resolve(sock);
      sock.onerror = () => reject(new Error("the voice service is not reachable"));
      sock.onmessage = (m) => handle(JSON.parse(m.data));
      sock.onclose = () => { if (ws === sock) ws = null; };
    });
  }

  function handle(msg) {
    const d = msg.data || {};
    if (msg.event === "voice_partial_transcript") {
      $("partial").textContent = d.text;
    } else if (msg.event === "health_alert") {
      const b = $("alert-banner");
      const flags = (d.red_flags || []).map((f) => esc(f.title || f.id || "red flag")).join(", ");
      b.innerHTML = "RED FLAG: " + flags + "<p>" + esc(d.advice) + "</p>";
      b.hidden = false;
      b.focus && b.setAttribute("tabindex", "-1");
    } else if (msg.event === "voice_analysis_result") {
      window.__voiceLatencyMs = performance.now() - endedAt;  // end of speech → result shown (the bench reads it)
      show(d);
      status.textContent = "Analysed and saved.";
      start.disabled = false;
    } else if (msg.event === "error") {
      status.textContent = "Problem: " + d.message + (d.hint ? " — " + d.hint : "");
      status.className = "error";
      start.disabled = false; stop.disabled = true;
    }
  }

  function marked(text, unsure) {
    const doubt = new Set((unsure || []).map((w) => String(w.word).toLowerCase().replace(/[^\p{L}\p{N}']/gu, "")));
    return text.split(/(\s+)/).map((w) => {
      const key = w.toLowerCase().replace(/[^\p{L}\p{N}']/gu, "");
      return key && doubt.has(key) ? '<mark class="unsure" title="the recogniser was unsure">' + esc(w) + "</mark>" : esc(w);
    }).join("");
  }

  function show(d) {
    const t = d.triage || {};
    const conf = t.confidence || {};
    const flags = (d.red_flags || []).map((f) => "<li>" + esc(f.title || f.id) + (f.evidence && f.evidence.length ? " (heard: " + esc(f.evidence.join(", ")) + ")" : "") + "</li>").join("");
    $("voice-result").innerHTML =
      '<p data-testid="transcript">' + marked(d.transcript || "", conf.unsure_words) + "</p>" +
      '<p>Urgency: <span class="badge ' + esc(t.urgency) + '" data-testid="urgency">' + esc(t.urgency) + "</span>" +
      (t.specialty ? " · Specialty: <strong data-testid=\"specialty\">" + esc(t.specialty) + "</strong>" : "") + "</p>" +
      "<p data-testid=\"advice\">" + esc(t.advice) + "</p>" +
      (flags ? "<h3>Red flags</h3><ul>" + flags + "</ul>" : "") +
      ((conf.confirm || []).length ? "<h3>Please confirm</h3><ul>" + conf.confirm.map((q) => "<li>" + esc(q) + "</li>").join("") + "</ul>" : "");
    $("symptom_id").value = d.symptom_id;
    $("transcript").value = d.transcript || "";
    $("voice-correct").hidden = false;
  }

  start.addEventListener("click", async () => {
    start.disabled = true; status.className = "muted"; status.textContent = "Starting the microphone…";
    $("partial").textContent = ""; $("alert-banner").hidden = true;
    try {
      ws = ws || await connect();
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false,
                                                                    noiseSuppression: false, autoGainControl: false } });
      ctx = new AudioContext();
      source = ctx.createMediaStreamSource(stream);
      proc = ctx.createScriptProcessor(4096, 1, 1);
      ws.send(JSON.stringify({ event: "voice_stream_start", data: { sample_rate: ctx.sampleRate, channels: 1, encoding: "pcm_s16le" } }));
      proc.onaudioprocess = (e) => {
        if (!ws || ws.readyState !== 1) return;
        const f = e.inputBuffer.getChannelData(0);
        const pcm = new Int16Array(f.length);
        for (let i = 0; i < f.length; i++) { const s = Math.max(-1, Math.min(1, f[i])); pcm[i] = s < 0 ? s * 0x8000 : s * 0x7fff; }
        ws.send(pcm.buffer);
      };
      source.connect(proc); proc.connect(ctx.destination);
      stop.disabled = false; status.textContent = "Listening… press Done when you have finished.";
    } catch (err) {
      status.className = "error"; status.textContent = "Cannot listen: " + err.message; start.disabled = false;
    }
  });

  stop.addEventListener("click", () => {
    stop.disabled = true;
    if (proc) { proc.disconnect(); source.disconnect(); }
    if (stream) stream.getTracks().forEach((t) => t.stop());
    if (ctx) ctx.close();
    endedAt = performance.now();
    if (ws && ws.readyState === 1) ws.send(JSON.stringify({ event: "voice_stream_end", data: {} }));
    status.textContent = "Analysing…";
  });
})();
