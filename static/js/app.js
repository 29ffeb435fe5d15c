// Spotcheck's own script: the progress of evidence uploads. Forms with
// data-upload are sent by htmx (multipart, CSRF token in a header, so the
// server streams the files); this shows how much has gone.
document.addEventListener("htmx:xhr:progress", function (e) {
  var form = e.target.closest("form[data-upload]");
  if (!form || !e.detail.lengthComputable) return;
  var bar = form.querySelector("progress[data-upload-progress]");
  if (!bar) return;
  bar.hidden = false;
  bar.max = e.detail.total;
  bar.value = e.detail.loaded;
  bar.textContent = Math.round((100 * e.detail.loaded) / e.detail.total) + "%";
});
document.addEventListener("htmx:beforeRequest", function (e) {
  var form = e.target.closest("form[data-upload]");
  if (form) form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
});
document.addEventListener("htmx:afterRequest", function (e) {
  var form = e.target.closest("form[data-upload]");
  if (form) form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
});
