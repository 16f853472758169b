/* Upload page: drag-and-drop or picker, several files, per-file tags, per-file progress and result.
   One request per file (XHR for upload progress); a refused file never blocks the others. */
(function () {
  "use strict";
  var root = document.getElementById("uploader");
  if (!root) { return; }
  var uploadUrl = root.getAttribute("data-upload-url");
  var maxBytes = parseInt(root.getAttribute("data-max-bytes"), 10);
  var maxLabel = root.getAttribute("data-max-label");
  var csrf = document.querySelector("meta[name=csrf-token]").getAttribute("content");
  var drop = document.getElementById("dropzone");
  var input = document.getElementById("file-input");
  var list = document.getElementById("file-rows");
  var template = document.getElementById("file-row-template");
  var uploadBtn = document.getElementById("upload-all");
  var summary = document.getElementById("upload-summary");
  var toSeries = document.getElementById("to-series");
  var batch = {
    view: document.getElementById("batch-view"),
    region: document.getElementById("batch-region"),
    time_point: document.getElementById("batch-time"),
    days_after: document.getElementById("batch-days")
  };
  var items = [];
  var busy = false;
  var PREVIEWABLE = /^image\/(jpeg|png)$/;

  function sizeLabel(n) {
    if (n < 1048576) { return Math.max(1, Math.round(n / 1024)) + " KB"; }
    return (n / 1048576).toFixed(1) + " MB";
  }

  function updateBatchFields() {
    window.trackerToggleTagFields(root.querySelector(".batch"), batch.view.value, batch.time_point.value);
  }

  function rowTags(item) {
    var tags = {};
    item.el.querySelectorAll("[data-tag]").forEach(function (f) { tags[f.getAttribute("data-tag")] = f.value; });
    return tags;
  }

  function updateRowFields(item) {
    var tags = rowTags(item);
    window.trackerToggleTagFields(item.el, tags.view, tags.time_point);
  }

  function setState(item, state, message, link) {
    item.state = state;
    item.el.classList.remove("done", "refused");
    if (state === "done" || state === "refused") { item.el.classList.add(state); }
    var result = item.el.querySelector(".result");
    result.textContent = message || "";
    if (link) {
      var a = document.createElement("a");
      a.href = link.href;
      a.textContent = link.text;
      result.appendChild(document.createTextNode(" "));
      result.appendChild(a);
    }
    var locked = state === "uploading" || state === "done";
    item.el.querySelectorAll("[data-tag]").forEach(function (f) { f.disabled = locked; });
    item.el.querySelector("[data-remove]").classList.toggle("hidden", state === "uploading" || state === "done");
    refresh();
  }

  function refresh() {
    var waiting = items.filter(function (i) { return i.state === "waiting" || i.state === "error"; }).length;
    var done = items.filter(function (i) { return i.state === "done"; }).length;
    var refused = items.filter(function (i) { return i.state === "refused"; }).length;
    uploadBtn.disabled = busy || waiting === 0;
    uploadBtn.textContent = waiting > 1 ? "Upload " + waiting + " photos" : "Upload photo";
    var parts = [];
    if (done) { parts.push(done + " uploaded"); }
    if (refused) { parts.push(refused + " refused"); }
    if (waiting && !busy) { parts.push(waiting + " waiting"); }
    summary.textContent = parts.join(" · ");
    toSeries.classList.toggle("hidden", done === 0 || busy);
  }

  function addFiles(fileList) {
    Array.prototype.forEach.call(fileList, function (file) {
      var el = template.content.firstElementChild.cloneNode(true);
      var item = { file: file, el: el, state: "waiting" };
      el.querySelector(".name").textContent = file.name;
      el.querySelector(".meta").textContent = sizeLabel(file.size);
      var preview = el.querySelector(".preview");
      if (PREVIEWABLE.test(file.type)) {
        var img = document.createElement("img");
        img.alt = "";
        img.src = URL.createObjectURL(file);
        preview.appendChild(img);
      } else {
        preview.textContent = /heic|heif/i.test(file.type + file.name) ? "HEIC" : "file";
      }
      el.querySelector("[data-tag=view]").value = batch.view.value;
      el.querySelector("[data-tag=region]").value = batch.region.value;
      el.querySelector("[data-tag=time_point]").value = batch.time_point.value;
      el.querySelector("[data-tag=days_after]").value = batch.days_after.value;
      el.querySelectorAll("[data-tag]").forEach(function (f) {
        f.addEventListener("change", function () { updateRowFields(item); });
      });
      el.querySelector("[data-remove]").addEventListener("click", function () {
        items = items.filter(function (i) { return i !== item; });
        el.remove();
        refresh();
      });
      list.appendChild(el);
      items.push(item);
      updateRowFields(item);
      if (file.size > maxBytes) {
        setState(item, "refused", "Refused: the file is " + sizeLabel(file.size) + "; the limit is " + maxLabel + ".");
      } else if (file.size === 0) {
        setState(item, "refused", "Refused: the file is empty (0 bytes).");
      } else {
        setState(item, "waiting", "Ready to upload");
      }
    });
    refresh();
  }

  function sendOne(item) {
    return new Promise(function (resolve) {
      var tags = rowTags(item);
      var form = new FormData();
      form.append("file", item.file, item.file.name);
      Object.keys(tags).forEach(function (k) { form.append(k, tags[k]); });
      var bar = item.el.querySelector("progress");
      bar.classList.remove("hidden");
      bar.value = 0;
      setState(item, "uploading", "Uploading…");
      var xhr = new XMLHttpRequest();
      xhr.open("POST", uploadUrl);
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); }
      });
      xhr.addEventListener("load", function () {
        var body = null;
        try { body = JSON.parse(xhr.responseText); } catch (err) { body = null; }
        bar.value = 100;
        if (xhr.status === 201 && body && body.photo) {
          setState(item, "done", "Uploaded: " + body.photo.view + ", " + body.photo.time_point.toLowerCase() + ".",
                   { href: body.photo.url, text: "Open" });
        } else if (xhr.status === 409 && body && body.existing_photo_url) {
          setState(item, "refused", "Not uploaded: " + body.error, { href: body.existing_photo_url, text: "See it" });
        } else if (xhr.status >= 400 && xhr.status < 500) {
          var msg = body && body.error ? body.error : "the server refused the file (" + xhr.status + ").";
          if (xhr.status === 400 && body && body.field) {
            setState(item, "error", "Check the tags: " + msg);
          } else {
            setState(item, "refused", "Refused: " + msg);
          }
        } else {
          setState(item, "error", "The server had a problem (" + xhr.status + "). Try again.");
        }
        bar.classList.add("hidden");
        resolve();
      });
      xhr.addEventListener("error", function () {
        bar.classList.add("hidden");
        setState(item, "error", "The connection was lost. Try again.");
        resolve();
      });
      xhr.send(form);
    });
  }

  function uploadAll() {
    var queue = items.filter(function (i) { return i.state === "waiting" || i.state === "error"; });
    if (!queue.length) { return; }
    busy = true;
    refresh();
    var next = function () {
      var item = queue.shift();
      if (!item) { busy = false; refresh(); return; }
      sendOne(item).then(next);
    };
    next();
  }

  ["dragenter", "dragover"].forEach(function (type) {
    drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.add("dragover"); });
  });
  ["dragleave", "drop"].forEach(function (type) {
    drop.addEventListener(type, function (e) { e.preventDefault(); drop.classList.remove("dragover"); });
  });
  drop.addEventListener("drop", function (e) {
    if (e.dataTransfer && e.dataTransfer.files && e.dataTransfer.files.length) { addFiles(e.dataTransfer.files); }
  });
  // A file dropped next to the zone must not make the browser leave the page.
  window.addEventListener("dragover", function (e) { e.preventDefault(); });
  window.addEventListener("drop", function (e) { e.preventDefault(); });
  input.addEventListener("change", function () { addFiles(input.files); input.value = ""; });
  uploadBtn.addEventListener("click", uploadAll);
  batch.view.addEventListener("change", updateBatchFields);
  batch.time_point.addEventListener("change", updateBatchFields);
  window.addEventListener("beforeunload", function (e) {
    if (busy) { e.preventDefault(); e.returnValue = ""; }
  });
  updateBatchFields();
  refresh();
})();
