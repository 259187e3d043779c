// The supervisor's hall monitor: the floor refreshed every few seconds, and the interventions.
(function () {
  "use strict";
  var s = window.staff, $ = s.$;
  var branch = decodeURIComponent(location.pathname.split("/").filter(Boolean)[1] || "");
  var names = {};
  var timer = null;
  var api = (window.monitor = { refreshes: 0 });

  function mins(seconds) { return seconds == null ? "–" : Math.round(seconds / 60) + " mnt"; }

  function counterCard(c) {
    var div = document.createElement("div");
    div.className = "loket " + c.status;
    var h = document.createElement("h3"); h.textContent = c.name + " · " + c.status; div.appendChild(h);
    var p = document.createElement("p");
    p.textContent = s.t("operator") + ": " + (c.operator || "–") + " · " + s.t("ticket") + ": " + (c.ticket_number || "–") +
      (c.serving_seconds != null ? " · " + s.t("serving") + " " + mins(c.serving_seconds) : "") +
      (c.idle_seconds != null ? " · " + s.t("idle") + " " + mins(c.idle_seconds) : "");
    div.appendChild(p);
    if (c.status !== "closed") {
      div.appendChild(s.button(s.t("close") + " " + c.name, function () {
        act("/api/v1/counters/" + encodeURIComponent(c.counter_id) + "/close", "POST");
      }));
    }
    return div;
  }

  function serviceRow(q, issuing) {
    var tr = document.createElement("tr");
    var f = q.forecast;
    s.cell(tr, q.service_name); s.cell(tr, q.waiting); s.cell(tr, mins(q.oldest_waiting_seconds));
    var fc = s.cell(tr, f.all_served ? s.t("ok_close") + " (" + mins(f.finish_seconds) + ")" : f.unserved + " " + s.t("at_risk") +
      (f.suggested_counter_name ? " · " + s.t("suggest") + " " + f.suggested_counter_name : ""));
    if (!f.all_served) fc.className = "risiko";
    var cell = s.cell(tr, issuing.issuing_open ? "" : s.t("stopped") + ": " + issuing.issuing_stop_reason + " ");
    if (issuing.issuing_open) {
      var input = document.createElement("input");
      input.setAttribute("aria-label", s.t("reason") + " " + q.service_name); input.placeholder = s.t("reason");
      cell.appendChild(input);
      cell.appendChild(s.button(s.t("stop") + " " + q.service_name, function () {
        act("/api/v1/services/" + encodeURIComponent(q.service_id) + "/issuing", "PUT", { open: false, reason: input.value || "-" });
      }));
    } else {
      cell.appendChild(s.button(s.t("resume") + " " + q.service_name, function () {
        act("/api/v1/services/" + encodeURIComponent(q.service_id) + "/issuing", "PUT", { open: true });
      }));
    }
    return tr;
  }

  async function refresh() {
    var m = await s.api("/api/v1/branches/" + encodeURIComponent(branch) + "/monitor");
    var detail = await s.api("/api/v1/branches/" + encodeURIComponent(branch));
    $("nama-cabang").textContent = "· " + detail.name;
    var issuing = {};
    detail.services.forEach(function (svc) { issuing[svc.id] = svc; names[svc.id] = svc.name; });
    $("loket").replaceChildren.apply($("loket"), m.counters.map(counterCard));
    $("layanan").replaceChildren.apply($("layanan"), m.queue.services.map(function (q) {
      return serviceRow(q, issuing[q.service_id] || { issuing_open: true });
    }));
    var chosen = $("pilih-tiket").value;
    $("pilih-tiket").replaceChildren.apply($("pilih-tiket"), m.waiting.map(function (t) {
      return new Option(t.number + " · " + (names[t.service_id] || t.service_id), t.ticket_id);
    }));
    if (chosen) $("pilih-tiket").value = chosen;
    var svc = $("pilih-layanan").value;
    $("pilih-layanan").replaceChildren.apply($("pilih-layanan"), detail.services.map(function (x) { return new Option(x.name, x.id); }));
    if (svc) $("pilih-layanan").value = svc;
    var audit = await s.api("/api/v1/audit?limit=20&branch_id=" + encodeURIComponent(branch));
    $("audit").replaceChildren.apply($("audit"), audit.items.map(function (e) {
      var tr = document.createElement("tr");
      s.cell(tr, new Date(e.at).toLocaleTimeString()); s.cell(tr, e.actor); s.cell(tr, e.action); s.cell(tr, e.target);
      return tr;
    }));
    api.refreshes += 1;
  }

  async function act(path, method, body) {
    try {
      await s.api(path, { method: method, body: body ? JSON.stringify(body) : undefined });
      s.say(s.t("saved"), true);
      await refresh();
    } catch (e) { s.say(e.message); }
  }

  $("f-tiket").addEventListener("submit", function (ev) {
    ev.preventDefault();
    act("/api/v1/tickets/" + encodeURIComponent($("pilih-tiket").value) + "/move", "POST", { service_id: $("pilih-layanan").value });
  });
  $("batal").addEventListener("click", function () {
    act("/api/v1/tickets/" + encodeURIComponent($("pilih-tiket").value) + "/staff-cancel", "POST", { reason: $("alasan-batal").value || "-" });
  });
  $("f-umum").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var v = new FormData(ev.target);
    act("/api/v1/branches/" + encodeURIComponent(branch) + "/announcements", "POST", { text: v.get("text"), mode: v.get("mode") });
  });
  // No push channel reaches this page from ticketing: the floor is re-read every 3 seconds.
  s.start(function () {
    refresh().catch(function (e) { s.say(e.message); });
    if (!timer) timer = setInterval(function () { if (s.token) refresh().catch(function (e) { s.say(e.message); }); }, 3000);
  });
})();
