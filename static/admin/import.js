/* Progress for the import pages. Without JavaScript the forms submit as usual and everything works.
   - Checking a file: the upload runs in the background with a progress bar, then the check's page opens.
   - Importing: a busy bar while the server imports (it answers when every row is written). */
(function () {
  "use strict";

  function showProgress(form, text) {
    var box = form.querySelector(".import-progress");
    if (!box) return null;
    box.hidden = false;
    box.querySelector(".import-progress__text").textContent = text;
    return box.querySelector("progress");
  }

  function submitPlainly(form) {
    form.removeAttribute("data-upload-progress");
    HTMLFormElement.prototype.submit.call(form);
  }

  document.querySelectorAll("form[data-upload-progress]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!form.hasAttribute("data-upload-progress") || !window.FormData || !window.XMLHttpRequest) return;
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      var bar = showProgress(form, form.getAttribute("data-uploading"));
      if (button) button.disabled = true;
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.addEventListener("progress", function (e) {
        if (bar && e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; }
      });
      xhr.upload.addEventListener("load", function () {
        if (bar) bar.removeAttribute("value");
        showProgress(form, form.getAttribute("data-checking"));
      });
      xhr.addEventListener("load", function () {
        var data = null;
        try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
        if (xhr.status === 200 && data && data.location) {
          window.location.assign(data.location);
        } else {
          submitPlainly(form);  // let the server's page (an error in the form) show as without JavaScript
        }
      });
      xhr.addEventListener("error", function () { submitPlainly(form); });
      xhr.send(new FormData(form));
    });
  });

  document.querySelectorAll("form[data-busy-progress]").forEach(function (form) {
    form.addEventListener("submit", function () {
      showProgress(form, form.getAttribute("data-busy"));
      var button = form.querySelector("button[type=submit]");
      if (button) window.setTimeout(function () { button.disabled = true; }, 0);
    });
  });
}());
