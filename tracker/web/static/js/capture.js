/* Capture page: the device camera (getUserMedia, HTTPS or localhost only) under an adjustable ghost
   of the view's baseline; a file chooser as the fallback. Uploads through the JSON API. */
(function () {
  "use strict";
  var root = document.querySelector("[data-capture]");
  if (!root) { return; }
  var video = root.querySelector("[data-video]"), still = root.querySelector("[data-still]");
  var ghost = root.querySelector("[data-ghost]"), note = root.querySelector("[data-camera-note]");
  var shoot = root.querySelector("[data-shoot]"), fileInput = root.querySelector("[data-file]");
  var status = root.querySelector("[data-capture-status]");
  var ghostSel = document.getElementById("cap-ghost"), opacity = document.getElementById("cap-opacity");
  var token = document.querySelector("meta[name=csrf-token]").content;

  function say(text) { status.textContent = text; }
  function tags() {
    return { view: document.getElementById("cap-view").value, region: document.getElementById("cap-region").value,
             time_point: document.getElementById("cap-time").value, days_after: document.getElementById("cap-days").value };
  }
  function pickGhost() {
    var opt = ghostSel.selectedOptions[0];
    ghost.classList.toggle("hidden", !ghostSel.value);
    if (ghostSel.value) { ghost.src = ghostSel.value; }
    if (opt && opt.dataset.view) { document.getElementById("cap-view").value = opt.dataset.view; document.getElementById("cap-region").value = opt.dataset.region; }
  }
  ghostSel.addEventListener("change", pickGhost);
  opacity.addEventListener("input", function () { ghost.style.opacity = String(opacity.value / 100); });
  if (ghostSel.options.length > 1 && !ghostSel.value) { ghostSel.selectedIndex = 1; pickGhost(); }

  function upload(blob, name) {
    var form = new FormData(), t = tags();
    form.append("file", blob, name);
    Object.keys(t).forEach(function (k) { form.append(k, t[k]); });
    say("Uploading…");
    return fetch(root.dataset.uploadUrl, { method: "POST", body: form, credentials: "same-origin", headers: { "X-CSRFToken": token } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, body: j }; }); })
      .then(function (res) {
        if (!res.ok) { say(res.body.error || "The photo was refused."); return; }
        var photo = res.body.photo;
        if (root.dataset.retakeUrl) {
          var f = new FormData();
          f.append("retake_photo_id", photo.id);
          return fetch(root.dataset.retakeUrl, { method: "POST", body: f, credentials: "same-origin", headers: { "X-CSRFToken": token } })
            .then(function () { window.location.href = photo.url; });
        }
        say("Saved: " + photo.view + ", " + photo.time_point + ". It is being checked and measured now.");
        var a = document.createElement("a"); a.href = photo.url; a.textContent = " Open it"; status.appendChild(a);
      })
      .catch(function () { say("The upload failed. Check the connection and try again."); });
  }

  fileInput.addEventListener("change", function () { if (fileInput.files[0]) { upload(fileInput.files[0], fileInput.files[0].name); } });
  shoot.addEventListener("click", function () {
    var c = document.createElement("canvas");
    c.width = video.videoWidth; c.height = video.videoHeight;
    c.getContext("2d").drawImage(video, 0, 0);
    c.toBlob(function (blob) { still.src = URL.createObjectURL(blob); upload(blob, "capture.jpg"); }, "image/jpeg", 0.95);
  });

  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    note.textContent = "This browser gives the page no camera here (it needs HTTPS). Choose a file instead.";
    return;
  }
  navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment", width: { ideal: 4096 }, height: { ideal: 3072 } }, audio: false })
    .then(function (stream) {
      video.srcObject = stream; video.classList.remove("hidden"); note.classList.add("hidden");
      video.play(); shoot.disabled = false;
    })
    .catch(function () { note.textContent = "The camera is not available (permission refused or no camera). Choose a file instead."; });
})();
