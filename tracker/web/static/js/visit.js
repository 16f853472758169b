/* Visit form: device settings only apply to treatment sessions. */
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) { return; }
  var kind = form.querySelector("select[name=kind]");
  function update() {
    form.querySelectorAll("[data-treatment-only]").forEach(function (el) {
      el.classList.toggle("hidden", kind.value !== "treatment");
    });
  }
  kind.addEventListener("change", update);
  update();
})();
