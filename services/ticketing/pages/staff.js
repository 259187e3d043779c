// Shared by the staff consoles: the API call with the bearer token, log-in, and the two languages.
(function () {
  "use strict";
  var WORDS = {
    id: {
      lang: "English", logout: "Keluar", login: "Masuk", username: "Nama pengguna", password: "Kata sandi",
      admin_title: "Konsol Admin", supervisor_title: "Pemantau Aula", branch: "Cabang", export: "Ekspor YAML",
      agencies: "Instansi", services: "Layanan", counters: "Loket", users: "Pengguna", id: "ID", name: "Nama",
      prefix: "Awalan", quota: "Kuota", actions: "Aksi", agency: "Instansi", minutes: "Menit layanan",
      zone: "Zona", services_order: "Layanan (urut, dipisah koma)", role: "Peran", status: "Status",
      counters_comma: "Loket (dipisah koma)", add_agency: "Tambah instansi", add_service: "Tambah layanan",
      add_counter: "Tambah loket", add_user: "Tambah pengguna", disable: "Nonaktifkan", enable: "Aktifkan",
      delete: "Hapus", active: "aktif", disabled: "nonaktif", saved: "Tersimpan.",
      waiting: "Menunggu", oldest: "Terlama", forecast: "Perkiraan", ok_close: "selesai sebelum tutup",
      at_risk: "tidak terlayani", suggest: "Saran: buka/alihkan", stop: "Hentikan", resume: "Buka lagi",
      reason: "Alasan", stopped: "dihentikan", close: "Tutup", operator: "Petugas", ticket: "Tiket",
      serving: "dilayani", idle: "menganggur", text: "Teks berjalan", mode: "Mode", send: "Kirim",
      marquee: "Teks berjalan", speak_once: "Umumkan sekali", move: "Pindahkan", cancel: "Batalkan",
      ticket_id: "ID tiket", to_service: "Ke layanan", audit: "Jejak audit", at: "Waktu", actor: "Pelaku",
      action: "Tindakan", target: "Sasaran", announcement: "Pengumuman", ticket_actions: "Tiket menunggu",
      issuing: "Penerbitan",
    },
    en: {
      lang: "Bahasa Indonesia", logout: "Log out", login: "Log in", username: "User name", password: "Password",
      admin_title: "Admin console", supervisor_title: "Hall monitor", branch: "Branch", export: "Export YAML",
      agencies: "Agencies", services: "Services", counters: "Counters", users: "Users", id: "ID", name: "Name",
      prefix: "Prefix", quota: "Quota", actions: "Actions", agency: "Agency", minutes: "Service minutes",
      zone: "Zone", services_order: "Services (in order, comma-separated)", role: "Role", status: "Status",
      counters_comma: "Counters (comma-separated)", add_agency: "Add agency", add_service: "Add service",
      add_counter: "Add counter", add_user: "Add user", disable: "Disable", enable: "Enable",
      delete: "Delete", active: "active", disabled: "disabled", saved: "Saved.",
      waiting: "Waiting", oldest: "Oldest", forecast: "Forecast", ok_close: "done before closing",
      at_risk: "not served", suggest: "Suggestion: open/assign", stop: "Stop", resume: "Resume",
      reason: "Reason", stopped: "stopped", close: "Close", operator: "Operator", ticket: "Ticket",
      serving: "serving", idle: "idle", text: "Running text", mode: "Mode", send: "Send",
      marquee: "Running text", speak_once: "Speak once", move: "Move", cancel: "Cancel",
      ticket_id: "Ticket ID", to_service: "To service", audit: "Audit trail", at: "At", actor: "Actor",
      action: "Action", target: "Target", announcement: "Announcement", ticket_actions: "Waiting tickets",
      issuing: "Issuing",
    },
  };
  var $ = function (id) { return document.getElementById(id); };
  var staff = (window.staff = {
    lang: localStorage.getItem("antrian-lang") || "id",
    token: sessionStorage.getItem("antrian-token"),
    me: JSON.parse(sessionStorage.getItem("antrian-user") || "null"),
    $: $,
    t: function (key) { return (WORDS[staff.lang] || WORDS.id)[key] || key; },
    translate: function () {
      document.documentElement.lang = staff.lang;
      document.querySelectorAll("[data-t]").forEach(function (el) { el.textContent = staff.t(el.dataset.t); });
    },
    say: function (text, ok) { $(ok ? "ok" : "pesan").textContent = text; $(ok ? "pesan" : "ok").textContent = ""; },
    api: async function (path, options) {
      options = options || {};
      var headers = { "Content-Type": "application/json" };
      if (staff.token) headers.Authorization = "Bearer " + staff.token;
      var resp = await fetch(path, Object.assign({}, options, { headers: headers }));
      if (resp.status === 401 && path !== "/api/v1/auth/login") { staff.forget(); throw new Error("401"); }
      if (resp.status === 204) return null;
      var type = resp.headers.get("Content-Type") || "";
      var data = type.indexOf("json") >= 0 ? await resp.json() : await resp.text();
      if (!resp.ok) throw new Error((data && (data.detail || data.title)) || String(resp.status));
      return data;
    },
    forget: function () {
      staff.token = null; staff.me = null; sessionStorage.removeItem("antrian-token"); sessionStorage.removeItem("antrian-user");
      $("kerja").classList.add("tersembunyi"); $("masuk").classList.remove("tersembunyi"); $("keluar").classList.add("tersembunyi");
    },
    cell: function (tr, text) { var td = document.createElement("td"); td.textContent = text; tr.appendChild(td); return td; },
    button: function (label, onClick) {
      var b = document.createElement("button"); b.type = "button"; b.className = "sekunder"; b.textContent = label;
      b.addEventListener("click", onClick); return b;
    },
    start: function (onReady) {
      staff.translate();
      $("bahasa").addEventListener("click", function () {
        staff.lang = staff.lang === "id" ? "en" : "id"; localStorage.setItem("antrian-lang", staff.lang);
        staff.translate(); if (staff.me) onReady();
      });
      $("keluar").addEventListener("click", async function () {
        try { await staff.api("/api/v1/auth/logout", { method: "POST" }); } catch (e) { /* already ended */ }
        staff.forget();
      });
      $("masuk").addEventListener("submit", async function (ev) {
        ev.preventDefault();
        try {
          var body = JSON.stringify({ username: $("username").value, password: $("password").value });
          var data = await staff.api("/api/v1/auth/login", { method: "POST", body: body });
          staff.token = data.token; staff.me = data;
          sessionStorage.setItem("antrian-token", data.token); sessionStorage.setItem("antrian-user", JSON.stringify(data));
          staff.say("", true);
          ready();
        } catch (e) { staff.say(e.message); }
      });
      function ready() {
        $("pengguna").textContent = staff.me.username + " (" + staff.me.role + ")";
        $("masuk").classList.add("tersembunyi"); $("kerja").classList.remove("tersembunyi"); $("keluar").classList.remove("tersembunyi");
        onReady();
      }
      if (staff.token && staff.me) ready();
    },
  });
})();
