// The kiosk: agency tabs then services, a search, priority groups, an idle reset.
// Other modules (e.g. a booking check-in box) use window.kiosk: t(), issue(), show(), onReset(), slot.
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  const branchId = decodeURIComponent(location.pathname.split("/").pop());
  const $ = (id) => document.getElementById(id);
  const IDLE_MS = Number(params.get("idle") || 60) * 1000;
  // A registered kiosk's device token (?device=… once, kept on the device): its tickets are not
  // throttled per address, as a hall's kiosks serve everyone from one address.
  if (params.get("device")) localStorage.setItem("kiosk-device-token", params.get("device"));
  const DEVICE = localStorage.getItem("kiosk-device-token");
  const TEKS = {
    id: {
      judul: "Ambil Nomor Antrian", besar: "Huruf besar", bahasa: "English", cari: "Cari layanan",
      contoh: "Ketik, misalnya: akta lahir, KTP, pajak motor", prioritas: "Prioritas:", umum: "Umum",
      lansia: "Lansia", disabilitas: "Disabilitas", ibu_hamil: "Ibu Hamil", ya: "Ya, benar", batal: "Batal",
      ulang: "Cetak ulang tiket terakhir", pindai: "Pindai kode QR atau buka:", cetak: "Cetak", selesai: "Selesai",
      konfirmasi: (g) => `Anda memilih antrian prioritas untuk ${g}. Petugas dapat meminta bukti. Benar?`,
      buka: "Buka", menunggu: (n) => `${n} menunggu`, tunggu: (s) => (s < 60 ? "< 1 menit" : `± ${Math.round(s / 60)} menit`),
      tutup: "Tutup", bukaLagi: (w) => `buka lagi ${w}`, tidakAda: "Tidak ada layanan yang cocok.",
      posisi: (n, w) => `${n} orang di depan Anda, perkiraan menunggu ${w}.`, kode: "Kode",
      cabang: "Cabang tidak ditemukan.", jaringan: "Tidak dapat terhubung. Coba lagi.",
      alasan: { holiday: "hari libur", closed: "tutup", not_open_yet: "belum buka", cutoff: "pengambilan ditutup", break: "istirahat", quota: "kuota habis" },
      instansi: "Instansi",
    },
    en: {
      judul: "Take a Queue Number", besar: "Large text", bahasa: "Bahasa Indonesia", cari: "Search services",
      contoh: "Type, e.g.: birth certificate (akta lahir), KTP, vehicle tax", prioritas: "Priority:", umum: "General",
      lansia: "Elderly", disabilitas: "Disability", ibu_hamil: "Pregnant", ya: "Yes, correct", batal: "Cancel",
      ulang: "Reprint the last ticket", pindai: "Scan the QR code or open:", cetak: "Print", selesai: "Done",
      konfirmasi: (g) => `You chose the priority queue for ${g}. Staff may ask for proof. Correct?`,
      buka: "Open", menunggu: (n) => `${n} waiting`, tunggu: (s) => (s < 60 ? "< 1 min" : `about ${Math.round(s / 60)} min`),
      tutup: "Closed", bukaLagi: (w) => `opens again ${w}`, tidakAda: "No matching service.",
      posisi: (n, w) => `${n} people ahead of you, estimated wait ${w}.`, kode: "Code",
      cabang: "Branch not found.", jaringan: "Cannot connect. Please try again.",
      alasan: { holiday: "holiday", closed: "closed", not_open_yet: "not open yet", cutoff: "issuing closed", break: "break", quota: "quota used up" },
      instansi: "Agencies",
    },
  };
  const state = { lang: "id", group: "", agency: null, board: null, lastTicket: localStorage.getItem("kiosk-last-ticket") };
  const resets = [];
  const t = (key, ...args) => { const v = TEKS[state.lang][key]; return typeof v === "function" ? v(...args) : v; };

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = t(el.dataset.i18n); });
    $("bahasa").lang = state.lang === "id" ? "en" : "id";
    $("cari").placeholder = t("contoh");
    $("instansi").setAttribute("aria-label", t("instansi"));
    if (state.board) { $("judul").textContent = `${state.board.name}: ${t("judul")}`; renderAgencies(); renderServices(); search(); }
  }

  function when(iso) {
    if (!iso) return "";
    const d = new Date(iso);
    const tz = state.board ? state.board.timezone : undefined;
    const locale = state.lang === "id" ? "id-ID" : "en-GB";
    const day = d.toLocaleDateString(locale, { timeZone: tz, weekday: "long", day: "numeric", month: "short" });
    const time = d.toLocaleTimeString(locale, { timeZone: tz, hour: "2-digit", minute: "2-digit" });
    return `${day} ${time}`;
  }

  function serviceButton(svc, withAgency) {
    const b = document.createElement("button");
    b.type = "button";
    b.className = "layanan";
    b.dataset.service = svc.service_id;
    const name = document.createElement("strong");
    name.textContent = svc.name;
    b.appendChild(name);
    if (withAgency) {
      const ag = state.board.agencies.find((a) => a.id === svc.agency_id);
      const small = document.createElement("span");
      small.className = "instansi-kecil";
      small.textContent = ag ? ag.name : "";
      b.appendChild(small);
    }
    const status = document.createElement("span");
    status.className = "status";
    if (svc.issuing.state === "open") {
      status.textContent = `${t("buka")} · ${t("menunggu", svc.waiting)} · ${t("tunggu", svc.estimated_wait_seconds)}`;
      b.addEventListener("click", () => issue(svc.service_id, b));
    } else {
      const reason = t("alasan")[svc.issuing.reason] || t("tutup");
      const again = svc.issuing.retry_at ? ` · ${t("bukaLagi", when(svc.issuing.retry_at))}` : "";
      status.textContent = `${t("tutup")} (${reason})${again}`;
      b.disabled = true;
    }
    b.dataset.issuing = svc.issuing.state;
    b.appendChild(status);
    return b;
  }

  function renderAgencies() {
    const root = $("instansi");
    root.replaceChildren();
    for (const agency of state.board.agencies) {
      const b = document.createElement("button");
      b.type = "button";
      b.setAttribute("role", "tab");
      b.id = `tab-${agency.id}`;
      b.setAttribute("aria-selected", String(agency.id === state.agency));
      b.textContent = agency.name;
      b.addEventListener("click", () => { state.agency = agency.id; renderAgencies(); renderServices(); });
      root.appendChild(b);
    }
  }

  function renderServices() {
    const panel = $("layanan");
    panel.setAttribute("aria-labelledby", `tab-${state.agency}`);
    panel.replaceChildren(...state.board.services.filter((s) => s.agency_id === state.agency).map((s) => serviceButton(s, false)));
  }

  async function loadBoard() {
    try {
      const resp = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}/kiosk`);
      if (!resp.ok) { $("pesan").textContent = t("cabang"); return; }
      state.board = await resp.json();
      if (!state.agency || !state.board.agencies.some((a) => a.id === state.agency)) {
        state.agency = state.board.agencies.length ? state.board.agencies[0].id : null;
      }
      $("pesan").textContent = "";
      applyLanguage();
      window.kiosk.ready = true;
    } catch (e) {
      $("pesan").textContent = t("jaringan");
    }
  }

  let searchTimer = null;
  let searchSeq = 0;
  async function search() {
    const q = $("cari").value.trim();
    const box = $("hasil");
    if (!q || !state.board) { box.replaceChildren(); return; }
    const seq = ++searchSeq;
    try {
      const resp = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}/services/search?q=${encodeURIComponent(q)}`);
      const data = await resp.json();
      if (seq !== searchSeq) return;
      if (!resp.ok) { box.replaceChildren(); return; }
      const byId = new Map(state.board.services.map((s) => [s.service_id, s]));
      const found = data.items.map((h) => byId.get(h.service_id)).filter(Boolean).slice(0, 6);
      if (!found.length) {
        const p = document.createElement("p");
        p.textContent = t("tidakAda");
        box.replaceChildren(p);
      } else {
        box.replaceChildren(...found.map((s) => serviceButton(s, true)));
      }
    } catch (e) {
      $("pesan").textContent = t("jaringan");
    }
  }

  function chooseGroup(btn, confirmed) {
    if (btn.dataset.group && !confirmed) {
      $("konfirmasi-teks").textContent = t("konfirmasi", btn.textContent);
      $("konfirmasi").hidden = false;
      $("konfirmasi").dataset.group = btn.dataset.group;
      $("konfirmasi-ya").focus();
      return;
    }
    state.group = btn.dataset.group;
    document.querySelectorAll("#prioritas button").forEach((b) => b.setAttribute("aria-pressed", String(b === btn)));
  }

  async function issue(serviceId, button) {
    if (button) button.disabled = true;
    $("pesan").textContent = "";
    // One key per tap: a retry or a double tap returns the same ticket.
    const key = crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
    const body = { service_id: serviceId, channel: "kiosk", priority_group: state.group || null };
    try {
      let resp;
      for (let attempt = 0; attempt < 3 && !resp; attempt++) {
        try {
          resp = await fetch(`/api/v1/branches/${encodeURIComponent(branchId)}/tickets`, {
            method: "POST",
            headers: { "Content-Type": "application/json", "Idempotency-Key": key, ...(DEVICE ? { "X-Kiosk-Token": DEVICE } : {}) },
            body: JSON.stringify(body),
          });
        } catch (e) { await new Promise((r) => setTimeout(r, 800)); }
      }
      if (!resp) throw new Error(t("jaringan"));
      const data = await resp.json();
      if (!resp.ok) throw new Error(data.detail || data.title);
      show(data);
      return data;
    } catch (e) {
      $("pesan").textContent = e.message;
      return null;
    } finally {
      if (button) button.disabled = false;
      loadBoard();
    }
  }

  function printUrl(id) {
    const back = encodeURIComponent(location.pathname + location.search);
    return `/print/${encodeURIComponent(id)}?back=${back}&lang=${state.lang}${params.get("autoprint") === "1" ? "&autoprint=1" : ""}`;
  }

  function show(ticket) {
    state.lastTicket = ticket.id;
    localStorage.setItem("kiosk-last-ticket", ticket.id);
    if (params.get("autoprint") === "1") { location.assign(printUrl(ticket.id)); return; }
    $("t-instansi").textContent = ticket.agency_name;
    $("t-nomor").textContent = ticket.number;
    $("t-layanan").textContent = ticket.service_name + (ticket.priority ? " (prioritas)" : "");
    $("t-posisi").textContent = t("posisi", Math.max(ticket.position - 1, 0), t("tunggu", ticket.estimated_wait_seconds));
    const url = `${location.origin}/t/${ticket.id}`;
    const a = document.createElement("a");
    a.href = url; a.textContent = url;
    $("t-tautan").replaceChildren(a);
    $("t-qr").src = `/api/v1/tickets/${ticket.id}/qr.svg`;
    $("tiket").classList.remove("tersembunyi");
    $("mulai").classList.add("tersembunyi");
    $("cetak").focus();
  }

  function reset() {
    $("tiket").classList.add("tersembunyi");
    $("mulai").classList.remove("tersembunyi");
    $("konfirmasi").hidden = true;
    $("cari").value = "";
    $("hasil").replaceChildren();
    $("pesan").textContent = "";
    chooseGroup(document.querySelector('#prioritas button[data-group=""]'), true);
    document.body.classList.remove("besar");
    $("besar").setAttribute("aria-pressed", "false");
    state.lang = "id";
    if (state.board && state.board.agencies.length) state.agency = state.board.agencies[0].id;
    $("ulang").hidden = !state.lastTicket;
    applyLanguage();
    resets.forEach((fn) => fn());
  }

  let idleTimer = null;
  function activity() { clearTimeout(idleTimer); idleTimer = setTimeout(reset, IDLE_MS); }
  ["pointerdown", "keydown", "input"].forEach((ev) => document.addEventListener(ev, activity, true));

  document.querySelectorAll("#prioritas button").forEach((b) => b.addEventListener("click", () => chooseGroup(b, false)));
  $("konfirmasi-ya").addEventListener("click", () => {
    const g = $("konfirmasi").dataset.group;
    $("konfirmasi").hidden = true;
    chooseGroup(document.querySelector(`#prioritas button[data-group="${g}"]`), true);
  });
  $("konfirmasi-batal").addEventListener("click", () => { $("konfirmasi").hidden = true; });
  $("cari").addEventListener("input", () => { clearTimeout(searchTimer); searchTimer = setTimeout(search, 250); });
  $("bahasa").addEventListener("click", () => { state.lang = state.lang === "id" ? "en" : "id"; applyLanguage(); });
  $("besar").addEventListener("click", () => {
    const on = document.body.classList.toggle("besar");
    $("besar").setAttribute("aria-pressed", String(on));
  });
  $("cetak").addEventListener("click", () => { if (state.lastTicket) location.assign(printUrl(state.lastTicket)); });
  $("ulang").addEventListener("click", () => { if (state.lastTicket) location.assign(printUrl(state.lastTicket)); });
  $("selesai").addEventListener("click", reset);

  window.kiosk = { ready: false, state, t, issue, show, reset, onReset: (fn) => resets.push(fn), slot: $("ekstra"), texts: TEKS };
  setInterval(() => { $("jam").textContent = new Date().toLocaleTimeString(state.lang === "id" ? "id-ID" : "en-GB"); }, 1000);
  setInterval(loadBoard, 20000);
  reset();
  activity();
  loadBoard();
})();
