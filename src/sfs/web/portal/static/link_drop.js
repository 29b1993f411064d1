// A share link's drop zone: files dropped on it go into the form's file input, which is then
// sent. Without JavaScript the same form works with the file chooser alone.
(function () {
  "use strict";

  var form = document.querySelector("form[data-drop-zone]");
  if (!form) {
    return;
  }
  var input = form.querySelector('input[type="file"]');
  var zone = form.querySelector(".drop-zone") || form;

  function stop(event) {
    event.preventDefault();
    event.stopPropagation();
  }

  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      stop(event);
      zone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function (event) {
      stop(event);
      zone.classList.remove("dragging");
    });
  });
  zone.addEventListener("drop", function (event) {
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      form.submit();
    }
  });
})();
