// The desk survey (PermenPAN-RB 14/2017): nine elements scored 1-4, an optional profile, a suggestion.
(() => {
  "use strict";
  const counterId = decodeURIComponent(location.pathname.split("/").pop());
  const $ = (id) => document.getElementById(id);
  const TEKS = {
    id: {
      judul: "Survei Kepuasan Masyarakat", bahasa: "English", kirim: "Kirim", saran: "Saran (boleh dikosongkan)",
      profil: "Profil responden (boleh dikosongkan)", pilih: "Pilih…",
      unsur: ["Persyaratan", "Sistem, mekanisme dan prosedur", "Waktu penyelesaian", "Biaya/tarif",
        "Produk spesifikasi jenis pelayanan", "Kompetensi pelaksana", "Perilaku pelaksana",
        "Penanganan pengaduan, saran dan masukan", "Sarana dan prasarana"],
      nilai: ["Tidak baik", "Kurang baik", "Baik", "Sangat baik"],
      tiket: (n, s, c) => `Menilai layanan tiket ${n} (${s}) di ${c}.`, meja: (c) => `Menilai layanan ${c}.`,
      kurang: "Mohon nilai kesembilan unsur.", terima: "Terima kasih atas penilaian Anda.",
      jaringan: "Tidak dapat terhubung. Coba lagi.",
      sex: ["Jenis kelamin", { laki_laki: "Laki-laki", perempuan: "Perempuan" }],
      age_group: ["Usia", { under_20: "< 20 tahun", "20_29": "20–29", "30_39": "30–39", "40_49": "40–49", "50_59": "50–59", "60_plus": "60 tahun ke atas" }],
      education: ["Pendidikan", { sd: "SD ke bawah", smp: "SMP", sma: "SMA", diploma: "D1–D4", s1: "S1", s2: "S2", s3: "S3" }],
      occupation: ["Pekerjaan", { pns: "PNS", tni: "TNI", polri: "POLRI", swasta: "Pegawai swasta", wirausaha: "Wirausaha", pelajar: "Pelajar/Mahasiswa", lainnya: "Lainnya" }],
    },
    en: {
      judul: "Public Satisfaction Survey", bahasa: "Bahasa Indonesia", kirim: "Send", saran: "Suggestion (optional)",
      profil: "About you (optional)", pilih: "Choose…",
      unsur: ["Requirements", "Systems, mechanisms and procedures", "Completion time", "Costs/fees",
        "Service products", "Staff competence", "Staff behaviour", "Handling of complaints and suggestions",
        "Facilities"],
      nilai: ["Poor", "Fair", "Good", "Very good"],
      tiket: (n, s, c) => `Rating ticket ${n} (${s}) at ${c}.`, meja: (c) => `Rating the service of ${c}.`,
      kurang: "Please rate all nine elements.", terima: "Thank you for your rating.",
      jaringan: "Cannot connect. Please try again.",
      sex: ["Sex", { laki_laki: "Male", perempuan: "Female" }],
      age_group: ["Age", { under_20: "under 20", "20_29": "20–29", "30_39": "30–39", "40_49": "40–49", "50_59": "50–59", "60_plus": "60 or over" }],
      education: ["Education", { sd: "Primary or less", smp: "Junior high", sma: "Senior high", diploma: "Diploma", s1: "Bachelor", s2: "Master", s3: "Doctorate" }],
      occupation: ["Occupation", { pns: "Civil servant", tni: "Armed forces", polri: "Police", swasta: "Private employee", wirausaha: "Self-employed", pelajar: "Student", lainnya: "Other" }],
    },
  };
  const PROFILE = ["sex", "age_group", "education", "occupation"];
  let lang = "id";
  let target = null;

  function render() {
    const t = TEKS[lang];
    document.documentElement.lang = lang;
    $("judul").textContent = t.judul;
    $("bahasa").textContent = t.bahasa;
    $("bahasa").lang = lang === "id" ? "en" : "id";
    $("kirim").textContent = t.kirim;
    $("saran-label").textContent = t.saran;
    const chosen = Array.from({ length: 9 }, (_, i) => { const r = document.querySelector(`input[name="u${i}"]:checked`); return r ? r.value : null; });
    const box = $("unsur");
    box.replaceChildren();
    t.unsur.forEach((name, i) => {
      const fs = document.createElement("fieldset");
      const lg = document.createElement("legend");
      lg.textContent = `${i + 1}. ${name}`;
      const row = document.createElement("div");
      row.className = "pilihan";
      t.nilai.forEach((label, k) => {
        const l = document.createElement("label");
        const r = document.createElement("input");
        r.type = "radio"; r.name = `u${i}`; r.value = String(k + 1); r.checked = chosen[i] === r.value;
        l.append(r, document.createTextNode(`${k + 1} ${label}`));
        row.appendChild(l);
      });
      fs.append(lg, row);
      box.appendChild(fs);
    });
    const profil = $("profil");
    const kept = Object.fromEntries(PROFILE.map((k) => [k, $(`p-${k}`) ? $(`p-${k}`).value : ""]));
    profil.replaceChildren();
    const legend = document.createElement("legend");
    legend.textContent = t.profil;
    profil.appendChild(legend);
    for (const key of PROFILE) {
      const [label, options] = t[key];
      const l = document.createElement("label");
      l.htmlFor = `p-${key}`;
      l.textContent = label;
      const sel = document.createElement("select");
      sel.id = `p-${key}`;
      sel.append(new Option(t.pilih, ""), ...Object.entries(options).map(([v, text]) => new Option(text, v)));
      sel.value = kept[key];
      l.appendChild(sel);
      profil.appendChild(l);
    }
    if (target) {
      $("sasaran").textContent = target.ticket_id
        ? t.tiket(target.number, target.service_name, target.counter_name) : t.meja(target.counter_name);
    }
  }

  async function load() {
    try {
      const resp = await fetch(`/api/v1/counters/${encodeURIComponent(counterId)}/survey`);
      const data = await resp.json();
      if (!resp.ok) { $("pesan").textContent = data.detail || data.title; return; }
      target = data;
      render();
      window.survey = { ready: true, target };
    } catch (e) { $("pesan").textContent = TEKS[lang].jaringan; }
  }

  $("survei").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const scores = Array.from({ length: 9 }, (_, i) => { const r = document.querySelector(`input[name="u${i}"]:checked`); return r ? Number(r.value) : null; });
    if (scores.includes(null)) { $("pesan").textContent = TEKS[lang].kurang; return; }
    const respondent = Object.fromEntries(PROFILE.map((k) => [k, $(`p-${k}`).value || null]));
    const saran = $("saran").value.trim();
    const body = { ticket_id: target ? target.ticket_id : null, scores, respondent, saran: saran || null };
    try {
      const resp = await fetch(`/api/v1/counters/${encodeURIComponent(counterId)}/survey`, {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
      });
      const data = await resp.json();
      if (!resp.ok) { $("pesan").textContent = data.detail || data.title; return; }
      $("pesan").textContent = "";
      $("survei").classList.add("tersembunyi");
      $("terima").textContent = TEKS[lang].terima;
      $("terima").classList.remove("tersembunyi");
      window.survey.submitted = data;
    } catch (e) { $("pesan").textContent = TEKS[lang].jaringan; }
  });
  $("bahasa").addEventListener("click", () => { lang = lang === "id" ? "en" : "id"; render(); });
  window.survey = { ready: false };
  render();
  load();
})();
