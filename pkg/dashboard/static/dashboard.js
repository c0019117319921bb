// Knobs dashboard: sortable and filterable tables, and live pages. The
// server says when what a page shows has changed (server-sent events at
// <body data-events>); the page then fetches itself and swaps its <main>,
// keeping the tables' order and filters, open details and focus. Nothing
// polls.
(function () {
  "use strict";
  const sorts = {}; // table id -> {col, dir}

  function cellValue(row, col, type) {
    const cell = row.cells[col];
    if (!cell) return type === "num" ? NaN : "";
    const raw = cell.dataset.v !== undefined ? cell.dataset.v : cell.textContent.trim();
    return type === "num" ? parseFloat(raw) : raw.toLowerCase();
  }

  function sortTable(table) {
    const s = sorts[table.id];
    const ths = table.tHead ? table.tHead.rows[0].cells : [];
    for (let i = 0; i < ths.length; i++) ths[i].removeAttribute("aria-sort");
    if (!s || !ths[s.col]) return;
    ths[s.col].setAttribute("aria-sort", s.dir > 0 ? "ascending" : "descending");
    const type = ths[s.col].dataset.type;
    const body = table.tBodies[0];
    const rows = Array.from(body.rows);
    rows.sort((a, b) => {
      const x = cellValue(a, s.col, type), y = cellValue(b, s.col, type);
      if (type === "num") {
        // Rows without a number sort last either way.
        if (isNaN(x)) return isNaN(y) ? 0 : 1;
        if (isNaN(y)) return -1;
        return (x - y) * s.dir;
      }
      return x < y ? -s.dir : x > y ? s.dir : 0;
    });
    rows.forEach((r) => body.appendChild(r));
  }

  function filterTable(table) {
    const input = document.querySelector('input[data-filter="' + table.id + '"]');
    const words = input ? input.value.toLowerCase().split(/\s+/).filter(Boolean) : [];
    for (const row of table.tBodies[0].rows) {
      const text = row.textContent.toLowerCase();
      row.hidden = !words.every((w) => text.includes(w));
    }
  }

  function setUp() {
    document.querySelectorAll("table.sortable").forEach((table) => {
      const ths = table.tHead.rows[0].cells;
      for (let i = 0; i < ths.length; i++) {
        ths[i].tabIndex = 0;
        const sortBy = () => {
          const s = sorts[table.id];
          sorts[table.id] = { col: i, dir: s && s.col === i ? -s.dir : 1 };
          sortTable(table);
        };
        ths[i].addEventListener("click", sortBy);
        ths[i].addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(); } });
      }
      sortTable(table);
      filterTable(table);
    });
    document.querySelectorAll("input[data-filter]").forEach((input) => {
      input.addEventListener("input", () => {
        const table = document.getElementById(input.dataset.filter);
        if (table) filterTable(table);
      });
    });
  }

  let busy = false, again = false;
  async function refresh() {
    if (busy) { again = true; return; }
    busy = true;
    try {
      const resp = await fetch(location.href, { headers: { Accept: "text/html" }, cache: "no-store" });
      if (!resp.ok) return;
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      const fresh = doc.querySelector("main");
      const old = document.querySelector("main");
      if (!fresh || !old) return;
      // Keep what the reader set: filters, open details, focus.
      const values = {}, open = {};
      old.querySelectorAll("input[id]").forEach((i) => { values[i.id] = i.value; });
      old.querySelectorAll("details[id]").forEach((d) => { open[d.id] = d.open; });
      const focused = document.activeElement && document.activeElement.id;
      const caret = focused && document.activeElement.selectionStart;
      fresh.querySelectorAll("input[id]").forEach((i) => { if (i.id in values) i.value = values[i.id]; });
      fresh.querySelectorAll("details[id]").forEach((d) => { if (d.id in open) d.open = open[d.id]; });
      const scroll = {};
      old.querySelectorAll(".scroll").forEach((el, i) => { scroll[i] = el.scrollTop; });
      old.replaceWith(fresh);
      fresh.querySelectorAll(".scroll").forEach((el, i) => { if (i in scroll) el.scrollTop = scroll[i]; });
      setUp();
      if (focused) {
        const el = document.getElementById(focused);
        if (el) { el.focus(); if (caret != null && el.setSelectionRange) el.setSelectionRange(caret, caret); }
      }
      document.title = doc.title;
      document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
    } catch (e) {
      // A failed fetch is retried on the next change.
    } finally {
      busy = false;
      if (again) { again = false; refresh(); }
    }
  }

  function live() {
    const url = document.body.dataset.events;
    const status = document.getElementById("live-status");
    if (!url || !window.EventSource) return;
    const source = new EventSource(url);
    source.addEventListener("change", refresh);
    source.addEventListener("open", () => { if (status) { status.textContent = "live"; status.classList.remove("off"); } });
    source.addEventListener("error", () => { if (status) { status.textContent = "reconnecting"; status.classList.add("off"); } });
  }

  document.addEventListener("DOMContentLoaded", () => { setUp(); live(); });
})();
