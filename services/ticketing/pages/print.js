// The printable ticket: /print/{ticket}?autoprint=1&roll=58&back=/kiosk/x&lang=en
(() => {
  "use strict";
  const params = new URLSearchParams(location.search);
  const ticketId = decodeURIComponent(location.pathname.split("/").pop());
  const $ = (id) => document.getElementById(id);
  const lang = params.get("lang") === "en" ? "en" : "id";
  const TEKS = {
    id: { depan: (n) => `Di depan Anda: ${n} orang`, tunggu: (s) => `Perkiraan menunggu: ${s < 60 ? "kurang dari 1 menit" : `sekitar ${Math.round(s / 60)} menit`}`,
      pindai: "Pindai untuk memantau antrian", cetak: "Cetak", lebar58: "Kertas 58 mm", lebar80: "Kertas 80 mm", kembali: "Kembali", prioritas: "PRIORITAS" },
    en: { depan: (n) => `Ahead of you: ${n}`, tunggu: (s) => `Estimated wait: ${s < 60 ? "under a minute" : `about ${Math.round(s / 60)} min`}`,
      pindai: "Scan to follow your queue", cetak: "Print", lebar58: "58 mm paper", lebar80: "80 mm paper", kembali: "Back", prioritas: "PRIORITY" },
  };
  const t = TEKS[lang];
  document.documentElement.lang = lang;
  const back = params.get("back");
  const safeBack = back && back.startsWith("/") && !back.startsWith("//") ? back : null;

  function setRoll(r58) {
    document.body.classList.toggle("roll-58", r58);
    $("lebar").setAttribute("aria-pressed", String(r58));
    $("lebar").textContent = r58 ? t.lebar80 : t.lebar58;
  }

  async function load() {
    try {
      const resp = await fetch(`/api/v1/tickets/${encodeURIComponent(ticketId)}`);
      const ticket = await resp.json();
      if (!resp.ok) { $("pesan").textContent = ticket.detail || ticket.title; return; }
      const bresp = await fetch(`/api/v1/branches/${encodeURIComponent(ticket.branch_id)}`);
      const branch = bresp.ok ? await bresp.json() : { name: "", timezone: undefined };
      $("p-aula").textContent = branch.name;
      $("p-instansi").textContent = ticket.agency_name;
      $("p-layanan").textContent = ticket.service_name + (ticket.priority ? ` (${t.prioritas})` : "");
      $("p-nomor").textContent = ticket.number;
      const issued = new Date(ticket.issued_at);
      const locale = lang === "id" ? "id-ID" : "en-GB";
      $("p-waktu").textContent = issued.toLocaleString(locale, { timeZone: branch.timezone, dateStyle: "medium", timeStyle: "short" });
      $("p-depan").textContent = t.depan(Math.max(ticket.position - 1, 0));
      $("p-tunggu").textContent = t.tunggu(ticket.estimated_wait_seconds);
      const url = `${location.origin}/t/${ticket.id}`;
      $("p-tautan").textContent = url;
      const qr = $("p-qr");
      await new Promise((resolve) => { qr.onload = resolve; qr.onerror = resolve; qr.src = `/api/v1/tickets/${ticket.id}/qr.svg`; });
      window.printed = { ready: true, number: ticket.number };
      if (params.get("autoprint") === "1") {
        window.addEventListener("afterprint", () => { if (safeBack) location.assign(safeBack); });
        window.print();
        if (safeBack) setTimeout(() => location.assign(safeBack), 15000);
      }
    } catch (e) {
      $("pesan").textContent = lang === "id" ? "Tidak dapat terhubung. Coba lagi." : "Cannot connect. Please try again.";
    }
  }

  $("p-pindai").textContent = t.pindai;
  $("cetak").textContent = t.cetak;
  $("kembali").textContent = t.kembali;
  $("kembali").href = safeBack || "/";
  $("cetak").addEventListener("click", () => window.print());
  $("lebar").addEventListener("click", () => setRoll(!document.body.classList.contains("roll-58")));
  setRoll(params.get("roll") === "58");
  window.printed = { ready: false };
  load();
})();
