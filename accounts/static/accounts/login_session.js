// The QR login page in admin: polls the session's status and shows the QR code as it changes
// (a file, not an inline script: the admin runs under a Content-Security-Policy without inline scripts).
(function () {
  var box = document.getElementById("login-session");
  if (!box || box.dataset.final === "1") { return; }
  var url = box.dataset.statusUrl;
  function show(data) {
    document.getElementById("session-badge").innerHTML = data.badge;
    document.getElementById("session-message").textContent = data.message;
    document.getElementById("login-status").textContent = data.login_status.replace(/_/g, " ");
    var qr = document.getElementById("session-qr");
    var waiting = document.getElementById("session-waiting");
    if (data.qr_image && !data.is_final) {
      if (qr.getAttribute("src") !== data.qr_image) { qr.src = data.qr_image; }
      qr.style.display = ""; waiting.style.display = "none";
    } else if (data.is_final) {
      qr.style.display = "none"; waiting.style.display = "none";
    }
  }
  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (data) { show(data); if (!data.is_final) { setTimeout(poll, 1000); } })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
