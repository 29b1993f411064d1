// The Files page: upload the chosen files one by one with a progress bar each.
// Without JavaScript the same form posts as multipart; this only makes it show progress.
(function () {
  "use strict";

  var form = document.querySelector("form.upload");
  if (!form || !window.XMLHttpRequest || !window.Promise) {
    return;
  }
  var input = form.querySelector('input[type="file"]');
  var status = form.querySelector(".upload-status");
  var button = form.querySelector('button[type="submit"]');
  var token = form.querySelector('input[name="csrf_token"]').value;
  var base = form.getAttribute("data-upload-base").replace(/\/$/, "");

  function row(file) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    label.className = "upload-name";
    label.textContent = file.name;
    var bar = document.createElement("progress");
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-label", file.name);
    var message = document.createElement("span");
    message.className = "upload-message";
    message.textContent = form.getAttribute("data-uploading");
    item.appendChild(label);
    item.appendChild(bar);
    item.appendChild(message);
    status.appendChild(item);
    return { item: item, bar: bar, message: message };
  }

  function send(file, shown) {
    return new Promise(function (resolve) {
      var request = new XMLHttpRequest();
      request.open("PUT", base + "/" + encodeURIComponent(file.name));
      request.setRequestHeader("X-CSRF-Token", token);
      request.setRequestHeader("Content-Type", "application/octet-stream");
      if (file.lastModified) {
        request.setRequestHeader("X-Modified-At", String(file.lastModified));
      }
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) {
          shown.bar.max = event.total || 1;
          shown.bar.value = event.loaded;
        }
      });
      request.addEventListener("load", function () {
        var answer = {};
        try {
          answer = JSON.parse(request.responseText);
        } catch (ignored) {
          answer = {};
        }
        var ok = request.status === 200;
        resolve({
          ok: ok,
          replaced: ok && answer.replaced === true,
          message: answer.message || form.getAttribute("data-network"),
        });
      });
      request.addEventListener("error", function () {
        resolve({ ok: false, replaced: false, message: form.getAttribute("data-network") });
      });
      request.send(file);
    });
  }

  form.addEventListener("submit", function (event) {
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length === 0) {
      return; // the browser's own "required" message, or the server's, applies
    }
    event.preventDefault();
    button.disabled = true;
    status.textContent = "";
    var uploaded = 0;
    var versions = 0;
    var failed = false;
    var chain = Promise.resolve();
    files.forEach(function (file) {
      var shown = row(file);
      chain = chain.then(function () {
        return send(file, shown).then(function (result) {
          shown.message.textContent = result.message;
          if (result.ok) {
            shown.bar.value = shown.bar.max;
            uploaded += 1;
            versions += result.replaced ? 1 : 0;
          } else {
            failed = true;
            shown.item.className = "error";
            shown.message.setAttribute("role", "alert");
          }
        });
      });
    });
    chain.then(function () {
      if (!failed) {
        window.location.assign(
          form.getAttribute("data-folder-url") + "?done=uploaded&n=" + uploaded + "&versions=" + versions
        );
        return;
      }
      var summary = document.createElement("li");
      summary.setAttribute("role", "alert");
      summary.className = "error";
      summary.textContent = form.getAttribute("data-failed");
      status.appendChild(summary);
      button.disabled = false;
      input.value = "";
    });
  });
})();
