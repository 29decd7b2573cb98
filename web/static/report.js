// The report's "Imprimir" button (a script file: the Content-Security-Policy allows no inline script).
(function () {
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
})();
