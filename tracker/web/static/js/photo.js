/* Photo page: show the region / days fields of the re-tag form only when they apply. */
(function () {
  "use strict";
  var form = document.getElementById("retag-form");
  if (!form) { return; }
  var view = form.querySelector("select[name=view]");
  var time = form.querySelector("select[name=time_point]");
  function update() { window.trackerToggleTagFields(form, view.value, time.value); }
  view.addEventListener("change", update);
  time.addEventListener("change", update);
  update();
})();
