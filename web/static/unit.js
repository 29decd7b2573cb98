// Live adhesion status and the copy button; the page works without this script.
(function () {
  document.querySelectorAll(".copy-button").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.dataset.copy);
      input.select();
      if (navigator.clipboard) { navigator.clipboard.writeText(input.value); }
      button.textContent = "Copiado!";
    });
  });
  var box = document.getElementById("adesao");
  if (!box || box.dataset.final === "sim") { return; }
  var statusEl = document.getElementById("adesao-status");
  function poll() {
    fetch(box.dataset.url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (s) {
      statusEl.textContent = s.label;
      statusEl.dataset.status = s.status;
      if (!(s.running || s.status === "running")) { window.location.reload(); return; }
      window.setTimeout(poll, 1000);
    }).catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
