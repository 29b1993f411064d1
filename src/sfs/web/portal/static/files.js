// The Files page, made quicker with a script; without one every part still works as plain
// links and forms (the upload form posts as multipart, the selection form posts its boxes).
// - uploads: chosen files, a chosen folder, or files and folders dropped onto the page, sent one
//   by one with a progress bar each (PUT /file/upload/<path>, the folders made on the way);
// - the selection bar: a "select all" box and a count;
// - row menus: one open at a time, Escape closes it and gives the focus back.
(function () {
  "use strict";

  var section = document.querySelector("section.files");
  if (!section || !window.XMLHttpRequest || !window.Promise) {
    return;
  }
  var space = section.getAttribute("data-space") || "";

  // -- row menus ---------------------------------------------------------------------------
  var menus = Array.prototype.slice.call(section.querySelectorAll("details.row-menu"));
  menus.forEach(function (menu) {
    menu.addEventListener("toggle", function () {
      if (menu.open) {
        menus.forEach(function (other) {
          if (other !== menu) {
            other.open = false;
          }
        });
      }
    });
    menu.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && menu.open) {
        menu.open = false;
        menu.querySelector("summary").focus();
      }
    });
  });
  document.addEventListener("click", function (event) {
    menus.forEach(function (menu) {
      if (menu.open && !menu.contains(event.target)) {
        menu.open = false;
      }
    });
  });

  // -- thumbnails that the server declines fall back to the type's icon ----------------------
  Array.prototype.forEach.call(section.querySelectorAll("img.thumb"), function (image) {
    function failed() {
      image.classList.add("failed");
    }
    if (image.complete && image.naturalWidth === 0) {
      failed();
    }
    image.addEventListener("error", failed);
  });

  // -- selection ---------------------------------------------------------------------------
  var bar = document.getElementById("selection");
  var all = section.querySelector("input.select-all");
  var boxes = Array.prototype.slice.call(
    section.querySelectorAll('input[type="checkbox"][name="items"]')
  );
  function showCount() {
    var count = boxes.filter(function (box) {
      return box.checked;
    }).length;
    var label = bar.querySelector(".selected-count");
    if (count === 0) {
      label.textContent = label.getAttribute("data-none");
    } else if (count === 1) {
      label.textContent = label.getAttribute("data-one");
    } else {
      label.textContent = label.getAttribute("data-many").replace("{count}", String(count));
    }
    bar.classList.toggle("has-selection", count > 0);
    if (all) {
      all.checked = count > 0 && count === boxes.length;
      all.indeterminate = count > 0 && count < boxes.length;
    }
  }
  if (bar) {
    if (all && boxes.length > 0) {
      all.hidden = false;
      all.addEventListener("change", function () {
        boxes.forEach(function (box) {
          box.checked = all.checked;
        });
        showCount();
      });
    }
    boxes.forEach(function (box) {
      box.addEventListener("change", showCount);
    });
    showCount();
  }

  // -- uploads -----------------------------------------------------------------------------
  var form = section.querySelector("form.upload");
  if (!form) {
    return; // a Viewer's page: nothing may be added
  }
  var input = form.querySelector("#files");
  var folderPicker = form.querySelector(".folder-picker");
  var folderInput = form.querySelector("#folder-files");
  var status = form.querySelector(".upload-status");
  var button = form.querySelector('button[type="submit"]');
  var token = section.getAttribute("data-csrf");
  var base = form.getAttribute("data-upload-base").replace(/\/$/, "");
  var overlay = section.querySelector(".drop-overlay");
  var busy = false;

  function uploadUrl(relative) {
    var parts = relative.split("/").filter(function (part) {
      return part !== "";
    });
    var url = base + "/" + parts.map(encodeURIComponent).join("/");
    return space ? url + "?space=" + encodeURIComponent(space) : url;
  }

  function row(name, size) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    label.className = "upload-name";
    label.textContent = name;
    label.title = name;
    var progress = document.createElement("progress");
    progress.max = size || 1;
    progress.value = 0;
    progress.setAttribute("aria-label", name);
    var message = document.createElement("span");
    message.className = "upload-message";
    message.textContent = form.getAttribute("data-uploading");
    item.appendChild(label);
    item.appendChild(progress);
    item.appendChild(message);
    status.appendChild(item);
    return { item: item, bar: progress, message: message };
  }

  function send(job, shown) {
    return new Promise(function (resolve) {
      var request = new XMLHttpRequest();
      request.open("PUT", uploadUrl(job.path));
      request.setRequestHeader("X-CSRF-Token", token);
      request.setRequestHeader("Content-Type", "application/octet-stream");
      if (job.path.indexOf("/") !== -1) {
        request.setRequestHeader("X-Make-Folders", "1");
      }
      if (job.file.lastModified) {
        request.setRequestHeader("X-Modified-At", String(job.file.lastModified));
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
      request.send(job.file);
    });
  }

  function makeFolder(path) {
    // An empty folder that was dropped: made with the same form the page offers.
    var parts = path.split("/");
    var name = parts.pop();
    var parent = parts.map(encodeURIComponent).join("/");
    var url = "/file/new-folder" + base.slice("/file/upload".length) + (parent ? "/" + parent : "");
    var body = new URLSearchParams({ csrf_token: token, name: name });
    return fetch(space ? url + "?space=" + encodeURIComponent(space) : url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      redirect: "manual",
    }).catch(function () {
      return null;
    });
  }

  // jobs: [{file, path}] with path relative to this folder; folders: empty folders to make.
  function uploadAll(jobs, folders) {
    if (busy || (jobs.length === 0 && folders.length === 0)) {
      return;
    }
    busy = true;
    button.disabled = true;
    status.textContent = "";
    var uploaded = 0;
    var versions = 0;
    var failed = false;
    var chain = Promise.resolve();
    // Every level of an empty folder, parents first (a level that exists is refused, harmlessly).
    var levels = [];
    folders.forEach(function (path) {
      var parts = path.split("/");
      for (var i = 1; i <= parts.length; i += 1) {
        var level = parts.slice(0, i).join("/");
        if (levels.indexOf(level) === -1) {
          levels.push(level);
        }
      }
    });
    levels.sort(function (a, b) {
      return a.split("/").length - b.split("/").length;
    });
    levels.forEach(function (path) {
      chain = chain.then(function () {
        return makeFolder(path);
      });
    });
    jobs.forEach(function (job) {
      var shown = row(job.path, job.file.size);
      chain = chain.then(function () {
        return send(job, shown).then(function (result) {
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
      busy = false;
      if (!failed) {
        var target = form.getAttribute("data-folder-url");
        var joiner = target.indexOf("?") === -1 ? "?" : "&";
        window.location.assign(
          target + joiner + "done=uploaded&n=" + uploaded + "&versions=" + versions
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
      if (folderInput) {
        folderInput.value = "";
      }
    });
  }

  form.addEventListener("submit", function (event) {
    var files = Array.prototype.slice.call(input.files || []);
    if (files.length === 0) {
      return; // the browser's own "required" message, or the server's, applies
    }
    event.preventDefault();
    uploadAll(
      files.map(function (file) {
        return { file: file, path: file.name };
      }),
      []
    );
  });

  if (folderInput && "webkitdirectory" in folderInput) {
    folderPicker.hidden = false;
    folderInput.addEventListener("change", function () {
      var files = Array.prototype.slice.call(folderInput.files || []);
      uploadAll(
        files.map(function (file) {
          return { file: file, path: file.webkitRelativePath || file.name };
        }),
        []
      );
    });
  }

  // -- drag and drop -----------------------------------------------------------------------
  function readAll(reader) {
    // readEntries gives a folder's entries in batches; an empty batch ends it.
    return new Promise(function (resolve) {
      var entries = [];
      function next() {
        reader.readEntries(
          function (batch) {
            if (batch.length === 0) {
              resolve(entries);
              return;
            }
            entries = entries.concat(Array.prototype.slice.call(batch));
            next();
          },
          function () {
            resolve(entries);
          }
        );
      }
      next();
    });
  }

  function walk(entry, prefix, jobs, folders) {
    var path = prefix ? prefix + "/" + entry.name : entry.name;
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(
          function (file) {
            jobs.push({ file: file, path: path });
            resolve();
          },
          function () {
            resolve();
          }
        );
      });
    }
    if (!entry.isDirectory) {
      return Promise.resolve();
    }
    return readAll(entry.createReader()).then(function (children) {
      if (children.length === 0) {
        folders.push(path);
      }
      return Promise.all(
        children.map(function (child) {
          return walk(child, path, jobs, folders);
        })
      );
    });
  }

  function dropped(transfer) {
    var jobs = [];
    var folders = [];
    var items = Array.prototype.slice.call(transfer.items || []);
    var entries = items
      .map(function (item) {
        return item.kind === "file" && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null;
      })
      .filter(function (entry) {
        return entry !== null;
      });
    if (entries.length === 0) {
      // No entry API: plain files only.
      Array.prototype.forEach.call(transfer.files || [], function (file) {
        jobs.push({ file: file, path: file.name });
      });
      return Promise.resolve({ jobs: jobs, folders: folders });
    }
    return Promise.all(
      entries.map(function (entry) {
        return walk(entry, "", jobs, folders);
      })
    ).then(function () {
      return { jobs: jobs, folders: folders };
    });
  }

  var depth = 0;
  function carriesFiles(event) {
    var types = event.dataTransfer ? Array.prototype.slice.call(event.dataTransfer.types) : [];
    return types.indexOf("Files") !== -1;
  }
  form.querySelector(".drop-hint").hidden = false;
  section.addEventListener("dragenter", function (event) {
    if (!carriesFiles(event)) {
      return;
    }
    event.preventDefault();
    depth += 1;
    overlay.hidden = false;
  });
  section.addEventListener("dragover", function (event) {
    if (!carriesFiles(event)) {
      return;
    }
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  section.addEventListener("dragleave", function () {
    depth = Math.max(0, depth - 1);
    if (depth === 0) {
      overlay.hidden = true;
    }
  });
  section.addEventListener("drop", function (event) {
    if (!carriesFiles(event)) {
      return;
    }
    event.preventDefault();
    depth = 0;
    overlay.hidden = true;
    dropped(event.dataTransfer).then(function (found) {
      uploadAll(found.jobs, found.folders);
    });
  });
})();
