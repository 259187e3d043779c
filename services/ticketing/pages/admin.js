// The admin console: branches, agencies, services, counters and users, through the API.
(function () {
  "use strict";
  var s = window.staff, $ = s.$;
  var branch = null;

  function formValues(form) {
    var out = {};
    new FormData(form).forEach(function (v, k) { if (v !== "") out[k] = v; });
    return out;
  }
  function list(text) { return (text || "").split(",").map(function (x) { return x.trim(); }).filter(Boolean); }

  async function loadBranches() {
    var branches = (await s.api("/api/v1/branches")).items;
    var own = s.me.role === "admin" ? branches : branches.filter(function (b) { return b.id === s.me.branch_id; });
    $("cabang").replaceChildren.apply($("cabang"), own.map(function (b) { return new Option(b.name + " (" + b.id + ")", b.id); }));
    if (branch && own.some(function (b) { return b.id === branch; })) $("cabang").value = branch;
    await show();
  }

  async function show() {
    branch = $("cabang").value;
    if (!branch) return;
    $("ekspor").href = "#";
    var detail = await s.api("/api/v1/branches/" + encodeURIComponent(branch));
    $("instansi").replaceChildren.apply($("instansi"), detail.agencies.map(function (a) {
      var tr = document.createElement("tr"); s.cell(tr, a.id); s.cell(tr, a.name); return tr;
    }));
    $("pilih-instansi").replaceChildren.apply($("pilih-instansi"), detail.agencies.map(function (a) { return new Option(a.name, a.id); }));
    $("layanan").replaceChildren.apply($("layanan"), detail.services.map(function (svc) {
      var tr = document.createElement("tr");
      s.cell(tr, svc.id); s.cell(tr, svc.name); s.cell(tr, svc.prefix); s.cell(tr, svc.daily_quota);
      s.cell(tr, "").appendChild(s.button(s.t("delete") + " " + svc.name, function () {
        change("/api/v1/services/" + encodeURIComponent(svc.id), { deleted: true });
      }));
      return tr;
    }));
    $("loket").replaceChildren.apply($("loket"), detail.counters.map(function (c) {
      var tr = document.createElement("tr"); s.cell(tr, c.id); s.cell(tr, c.name); s.cell(tr, c.zone); s.cell(tr, c.service_ids.join(", ")); return tr;
    }));
    var users = (await s.api("/api/v1/users?branch_id=" + encodeURIComponent(branch))).items;
    $("pengguna-daftar").replaceChildren.apply($("pengguna-daftar"), users.map(function (u) {
      var tr = document.createElement("tr");
      s.cell(tr, u.username); s.cell(tr, u.role); s.cell(tr, u.counter_ids.join(", "));
      s.cell(tr, u.disabled ? s.t("disabled") : s.t("active"));
      s.cell(tr, "").appendChild(s.button((u.disabled ? s.t("enable") : s.t("disable")) + " " + u.username, function () {
        change("/api/v1/users/" + encodeURIComponent(u.username), { disabled: !u.disabled });
      }));
      return tr;
    }));
  }

  async function change(path, body) {
    try { await s.api(path, { method: "PATCH", body: JSON.stringify(body) }); s.say(s.t("saved"), true); await show(); }
    catch (e) { s.say(e.message); }
  }

  function submit(id, path, shape) {
    $(id).addEventListener("submit", async function (ev) {
      ev.preventDefault();
      try {
        await s.api(path(), { method: "POST", body: JSON.stringify(shape(formValues(ev.target))) });
        ev.target.reset(); s.say(s.t("saved"), true); await show();
      } catch (e) { s.say(e.message); }
    });
  }

  function base() { return "/api/v1/branches/" + encodeURIComponent(branch); }
  submit("f-instansi", function () { return base() + "/agencies"; }, function (v) { return v; });
  submit("f-layanan", function () { return base() + "/services"; }, function (v) {
    v.quota = Number(v.quota); if (v.service_minutes) v.service_minutes = Number(v.service_minutes); return v;
  });
  submit("f-loket", function () { return base() + "/counters"; }, function (v) { v.service_ids = list(v.service_ids); return v; });
  submit("f-pengguna", function () { return "/api/v1/users"; }, function (v) {
    v.counter_ids = list(v.counter_ids); v.branch_id = v.role === "admin" ? null : branch; return v;
  });
  $("cabang").addEventListener("change", function () { show().catch(function (e) { s.say(e.message); }); });
  $("ekspor").addEventListener("click", async function (ev) {
    ev.preventDefault();
    try {
      var text = await s.api(base() + "/export.yaml");
      var link = document.createElement("a");
      link.href = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
      link.download = branch + ".yaml"; link.click();
    } catch (e) { s.say(e.message); }
  });
  s.start(function () { loadBranches().catch(function (e) { s.say(e.message); }); });
})();
