/*! vnsearch.js: an embeddable Vietnamese search box, no dependencies. See docs/embed.md.
 * <script src="https://SEARCH-HOST/static/vnsearch.js" data-form="#search" defer></script>
 * or VNSearch.attach(form, {api: "https://SEARCH-HOST"}). Options (data-* or attach()):
 * form, api, results (selectors/URL), perPage, css="none", open="1" (a suggestion opens its page),
 * site (comma-separated), calendar="none" (no date picker), link (URL template of results: "/bai-viet/{id}"),
 * clicks="1" (report opened results: POST /v1/clicks).
 * Only the API's highlights (escaped, <mark> only) go in as HTML; other fields as text. */
(function (w, d) {
  "use strict";
  var script = d.currentScript;
  var T = {
    label: "Tìm kiếm",
    suggestions: "Gợi ý tìm kiếm",
    found: "Tìm thấy {n} kết quả",
    for: " cho “{q}”",
    seconds: " ({s} giây)",
    none: "Không tìm thấy kết quả",
    noneHint: "Hãy thử từ khóa khác, ít từ hơn, hoặc bỏ bớt bộ lọc.",
    dym: "Có phải bạn muốn tìm: ",
    error: "Không thể tải kết quả tìm kiếm. Vui lòng thử lại sau.",
    retry: "Thử lại",
    prev: "Trang trước",
    next: "Trang sau",
    page: "Trang {n}",
    pages: "Phân trang",
    byDate: "Xem theo ngày",
    category: "Chuyên mục",
    month: "Tháng {m}/{y}",
    clear: "Bỏ lọc",
    sort: "Sắp xếp",
    relevance: "Liên quan nhất",
    newest: "Mới nhất",
    oldest: "Cũ nhất",
    popular: "Xem nhiều nhất",
    day: "Ngày {d}",
    removeDay: "Bỏ lọc ngày {d}",
    monthYear: "Tháng {m} năm {y}",
    monthsOf: "Các tháng năm {y}",
    prevYear: "Năm trước",
    prevMonth: "Tháng trước",
    nextMonth: "Tháng sau",
    nextYear: "Năm sau",
    mShort: "Th{m}",
    weekdays: ["T2", "T3", "T4", "T5", "T6", "T7", "CN"],
    weekdaysLong: ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"],
    articles: "{n} bài viết",
    dayLabel: "Ngày {d} tháng {m} năm {y}: {n} bài viết",
    noDays: "Không có bài viết trong tháng này.",
    calError: "Không thể tải lịch.",
  };
  var count = 0;

  function fmt(s, v) {
    return s.replace(/\{(\w+)\}/g, function (_, k) { return v[k]; });
  }

  // An element with attributes (null/undefined skipped) and text (never HTML).
  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs || {}) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  function button(text, cls, onclick, attrs) {
    var b = el("button", attrs, text);
    b.type = "button";
    b.className = cls;
    b.addEventListener("click", onclick);
    return b;
  }

  function safeUrl(u) {
    return typeof u === "string" && /^https?:\/\//i.test(u) ? u : null;
  }

  function dateVN(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] : "";
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function pick(sel) {
    return typeof sel === "string" ? d.querySelector(sel) : sel || null;
  }

  function attach(target, opts) {
    opts = opts || {};
    var form = pick(target);
    var input = form && (form.tagName === "INPUT" ? form : form.querySelector(
      "input[type=search],input[name=q],input[type=text],input:not([type])"));
    if (!input) return null;
    if (form === input) form = input.form || input.parentNode;
    if (form.vnsearch) return form.vnsearch;
    var base = opts.api || (script ? new URL(script.src, d.baseURI).origin : location.origin);
    var api = String(base).replace(/\/+$/, "");
    var perPage = parseInt(opts.perPage, 10) || 10;
    var sites = opts.site ? String(opts.site).split(",") : [];
    function link(docId) {
      return opts.link.replace("{id}", encodeURIComponent(docId));
    }
    var id = "vns" + ++count;
    var results = pick(opts.results);
    if (!results) {
      results = el("div");
      form.parentNode.insertBefore(results, form.nextSibling);
    }
    results.classList.add("vns-results");
    form.classList.add("vns-form");

    // -- the combobox (WAI-ARIA 1.2 pattern) ---------------------------------------
    var listId = id + "-list";
    var list = el("ul", { id: listId, role: "listbox", class: "vns-suggest", "aria-label": T.suggestions });
    list.hidden = true;
    var wrap = el("div", { class: "vns-combo" });
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(list);
    var ia = { role: "combobox", "aria-autocomplete": "list", "aria-expanded": "false",
      "aria-controls": listId, autocomplete: "off" };
    for (var k in ia) input.setAttribute(k, ia[k]);
    if (!input.getAttribute("aria-label") && !(input.labels && input.labels.length)) {
      input.setAttribute("aria-label", T.label);
    }

    var items = [], active = -1, timer = 0, suggestSeq = 0, searchSeq = 0, focusSummary = false;
    var state = { q: "", page: 1, sort: "relevance" };

    function close() {
      list.hidden = true;
      input.setAttribute("aria-expanded", "false");
      input.removeAttribute("aria-activedescendant");
      active = -1;
    }

    function setActive(i) {
      if (!items.length) return;
      if (active >= 0) list.children[active].setAttribute("aria-selected", "false");
      active = (i + items.length) % items.length;
      var li = list.children[active];
      li.setAttribute("aria-selected", "true");
      input.setAttribute("aria-activedescendant", li.id);
      if (li.scrollIntoView) li.scrollIntoView({ block: "nearest" });
    }

    function choose(i) {
      var s = items[i], url = s && safeUrl(s.url);
      close();
      if (!s) return;
      if (opts.link && s.id) return w.location.assign(link(s.id));
      if (opts.open === "1" && url) return w.location.assign(url);
      input.value = s.title;
      run({ q: s.title });
    }

    function showSuggestions(data) {
      items = data.suggestions || [];
      list.textContent = "";
      close();
      if (!items.length) return;
      items.forEach(function (s, i) {
        var li = el("li", { id: listId + "-" + i, role: "option", "aria-selected": "false",
          class: "vns-option" + (s.source === "searches" ? " vns-option-learned" : "") });
        var t = el("span", { class: "vns-option-title" });
        t.innerHTML = s.highlight; // escaped by the API except <mark>
        li.appendChild(t);
        if (s.published) li.appendChild(el("span", { class: "vns-option-date" }, dateVN(s.published)));
        li.addEventListener("mousedown", function (e) { e.preventDefault(); });
        li.addEventListener("click", function () { choose(i); });
        list.appendChild(li);
      });
      list.hidden = false;
      input.setAttribute("aria-expanded", "true");
    }

    function suggest() {
      var q = input.value, seq = ++suggestSeq;
      if (!q.trim()) return close();
      get("/v1/suggest?" + new URLSearchParams({ q: q, limit: "6" })).then(function (data) {
        if (seq === suggestSeq && d.activeElement === input) showSuggestions(data);
      }, close);
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 200);
    });
    input.addEventListener("keydown", function (e) {
      var open = !list.hidden, key = e.key;
      if (key === "ArrowDown") {
        e.preventDefault();
        if (open) setActive(active + 1); else suggest();
      } else if (key === "ArrowUp" && open) {
        e.preventDefault();
        setActive(active - 1);
      } else if (key === "Enter") {
        if (open && active >= 0) { e.preventDefault(); return choose(active); }
        close();
        if (form.tagName !== "FORM") submit(e);
      } else if (key === "Escape" && open) {
        e.preventDefault();
        close();
      }
    });
    input.addEventListener("blur", function () { setTimeout(close, 150); });
    function submit(e) {
      e.preventDefault();
      clearTimeout(timer);
      suggestSeq++;
      close();
      run({ q: input.value });
    }
    form.addEventListener("submit", submit);

    // -- searching ---------------------------------------------------------------------
    function get(path) {
      return fetch(api + path, { headers: { Accept: "application/json" } }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      });
    }

    // A new query clears the filters; other changes (page, filters, sort) keep the rest.
    function run(change) {
      if ("q" in change) state = { q: change.q, page: 1, sort: state.sort };
      for (var k in change) state[k] = change[k];
      var p = new URLSearchParams({ q: state.q, page: state.page, per_page: perPage,
        sort: state.sort, facets: "year,month,category" });
      ["year", "month", "category"].forEach(function (f) { if (state[f]) p.append(f, state[f]); });
      if (state.day) { p.set("from", state.day); p.set("to", state.day); }
      sites.forEach(function (x) { p.append("site", x); });
      var seq = ++searchSeq;
      results.dispatchEvent(new CustomEvent("vnsearch:search", { bubbles: true, detail: p.toString() }));
      results.setAttribute("aria-busy", "true");
      results.classList.add("vns-loading");
      get("/v1/search?" + p).then(function (data) {
        if (seq === searchSeq) render(data);
      }, function () {
        if (seq === searchSeq) failed();
      });
    }

    function reset() {
      results.removeAttribute("aria-busy");
      results.classList.remove("vns-loading");
      results.textContent = "";
    }

    function failed() {
      reset();
      var box = el("div", { class: "vns-message vns-error", role: "alert" });
      box.appendChild(el("p", null, T.error));
      box.appendChild(button(T.retry, "vns-button", function () { run({}); }));
      results.appendChild(box);
    }

    function chip(text, n, on, change) {
      var b = button(text, "vns-chip", function () { run(change); }, { "aria-pressed": String(on) });
      b.appendChild(el("span", { class: "vns-count" }, n));
      return b;
    }

    function group(label, chips, box) {
      if (!chips.length) return;
      var g = el("div", { class: "vns-facet", role: "group", "aria-label": label });
      g.appendChild(el("span", { class: "vns-facet-label" }, label));
      chips.forEach(function (c) { g.appendChild(c); });
      box.appendChild(g);
    }

    function facets(f) {
      var box = el("div", { class: "vns-facets" });
      var dates = state.day ? [] : Object.keys(f.year || {}).map(function (y) {
        var on = state.year === y;
        return chip(y, f.year[y], on, { year: on ? null : y, month: null, page: 1 });
      });
      if (state.day) {
        var dv = dateVN(state.day), c = button(fmt(T.day, { d: dv }), "vns-chip vns-chip-day", function () {
          run({ day: null, page: 1 });
        }, { "aria-label": fmt(T.removeDay, { d: dv }) });
        dates.push(c);
        c.appendChild(el("span", { class: "vns-x", "aria-hidden": "true" }, "×"));
      }
      Object.keys(f.month || {}).forEach(function (m) {
        if (m.slice(0, 4) !== state.year) return;
        var on = state.month === m;
        dates.push(chip(fmt(T.month, { m: +m.slice(5), y: state.year }), f.month[m], on,
          { month: on ? null : m, page: 1 }));
      });
      var cats = Object.keys(f.category || {}).map(function (c) {
        var on = state.category === c;
        return chip(c, f.category[c], on, { category: on ? null : c, page: 1 });
      });
      group(T.byDate, dates, box);
      group(T.category, cats, box);
      if (state.year || state.category || state.day) {
        box.appendChild(button(T.clear, "vns-link vns-clear", function () {
          run({ year: null, month: null, category: null, day: null, page: 1 });
        }));
      }
      return box;
    }

    function sorter() {
      var label = el("label", { class: "vns-sort" }, T.sort + " ");
      var sel = el("select");
      ["relevance", "newest", "oldest", "popular"].forEach(function (s) {
        sel.appendChild(el("option", { value: s }, T[s]));
      });
      sel.value = state.sort;
      sel.addEventListener("change", function () { run({ sort: sel.value, page: 1 }); });
      label.appendChild(sel);
      return label;
    }

    // sendBeacon survives the navigation; a string is text/plain (no preflight).
    function reportClick(h, position, page) {
      if (opts.clicks !== "1" || !h.id || !navigator.sendBeacon) return;
      navigator.sendBeacon(api + "/v1/clicks", JSON.stringify({
        q: state.q.slice(0, 256), id: String(h.id).slice(0, 200), position: position, page: page }));
    }

    function hit(h, position, page) {
      var li = el("li", { class: "vns-hit" });
      var h3 = li.appendChild(el("h3", { class: "vns-hit-title" }));
      var url = opts.link && h.id ? link(h.id) : safeUrl(h.url);
      var a = h3.appendChild(el(url ? "a" : "span", { href: url }));
      var sent = 0, once = function (e) {
        if (url && (e.type === "click" || e.button === 1) && !sent++) reportClick(h, position, page);
      };
      a.addEventListener("click", once);
      a.addEventListener("auxclick", once);
      a.innerHTML = h.highlight.title; // escaped by the API except <mark>
      var meta = li.appendChild(el("p", { class: "vns-hit-meta" }));
      if (h.published) meta.appendChild(el("time", { datetime: h.published }, dateVN(h.published)));
      if (h.category) meta.appendChild(el("span", { class: "vns-hit-category" }, h.category));
      var p = li.appendChild(el("p", { class: "vns-snippet" }));
      p.innerHTML = h.highlight.snippet; // escaped by the API except <mark>
      return li;
    }

    function pager(cur, total) {
      var nav = el("nav", { class: "vns-pages", "aria-label": T.pages });
      function go(n, text, cls) {
        var b = button(text || String(n), "vns-page" + (cls || ""), function () {
          focusSummary = true;
          run({ page: n });
        });
        if (!text) b.setAttribute("aria-label", fmt(T.page, { n: n }));
        if (n === cur && !text) b.setAttribute("aria-current", "page");
        nav.appendChild(b);
      }
      if (cur > 1) go(cur - 1, T.prev, " vns-prev");
      var lo = Math.max(1, Math.min(cur - 3, total - 6));
      for (var n = lo; n <= Math.min(total, lo + 6); n++) go(n);
      if (cur < total) go(cur + 1, T.next, " vns-next");
      return nav;
    }

    function render(data) {
      reset();
      var months = Object.keys((data.facets || {}).month || {});
      latest = months.length ? months[0] : null; // newest first
      var q = state.q.trim(), n = data.total_hits;
      var text = n ? fmt(T.found, { n: n.toLocaleString("vi-VN") }) : T.none;
      if (q) text += fmt(T.for, { q: q });
      if (n) text += fmt(T.seconds, { s: Math.max(0.01, data.processing_time_ms / 1000).toFixed(2).replace(".", ",") });
      var head = results.appendChild(el("div", { class: "vns-head" }));
      var summary = head.appendChild(el("p", { class: "vns-summary", role: "status", tabindex: "-1" }, text));
      if (n > 1 && q) head.appendChild(sorter());
      if (data.did_you_mean) {
        var alt = data.did_you_mean;
        var dym = results.appendChild(el("p", { class: "vns-dym" }, T.dym));
        dym.appendChild(button(alt, "vns-link", function () { input.value = alt; run({ q: alt }); }));
      }
      var box = facets(data.facets || {});
      if (box.children.length) results.appendChild(box);
      if (!data.hits.length) {
        var msg = results.appendChild(el("div", { class: "vns-message vns-empty" }));
        msg.appendChild(el("p", { class: "vns-empty-title" }, T.none + "."));
        msg.appendChild(el("p", null, T.noneHint));
      } else {
        var ol = results.appendChild(el("ol", { class: "vns-hits", start: (data.page - 1) * data.per_page + 1 }));
        data.hits.forEach(function (h, i) {
          ol.appendChild(hit(h, (data.page - 1) * data.per_page + i + 1, data.page));
        });
      }
      if (data.total_pages > 1) results.appendChild(pager(data.page, data.total_pages));
      if (focusSummary) summary.focus();
      focusSummary = false;
    }

    // -- "Xem theo ngày": a month calendar fed by /v1/calendar --------------------------
    var latest = null;
    if (opts.calendar !== "none") calendar();

    function calendar() {
      var shown, seq = 0, panelId = id + "-cal";
      var toggle = button(T.byDate, "vns-cal-toggle", function () { if (panel.hidden) open(); else shut(); },
        { "aria-expanded": "false", "aria-controls": panelId, "aria-haspopup": "dialog" });
      toggle.insertBefore(el("span", { class: "vns-cal-icon", "aria-hidden": "true" }), toggle.firstChild);
      var panel = el("div", { id: panelId, class: "vns-cal", role: "dialog", "aria-label": T.byDate });
      panel.hidden = true;
      var head = panel.appendChild(el("div", { class: "vns-cal-head" }));
      var title = el("p", { class: "vns-cal-title", "aria-live": "polite" });
      [[-12, "«", T.prevYear], [-1, "‹", T.prevMonth], 0, [1, "›", T.nextMonth], [12, "»", T.nextYear]].forEach(function (b) {
        head.appendChild(b ? button(b[1], "vns-cal-nav", function () { move(b[0]); }, { "aria-label": b[2] }) : title);
      });
      var strip = panel.appendChild(el("div", { class: "vns-cal-months", role: "group" }));
      var grid = panel.appendChild(el("table", { class: "vns-cal-grid" }));
      var note = panel.appendChild(el("p", { class: "vns-cal-note" }));
      form.appendChild(toggle);
      form.appendChild(panel);

      function open() {
        panel.hidden = false;
        toggle.setAttribute("aria-expanded", "true");
        // The chosen day, else the newest month of the results, else of the index.
        var start = state.day || latest;
        (start ? Promise.resolve(start) : get("/v1/stats").then(function (x) { return x.date_range.to; }))
          .catch(function () {}).then(function (s) {
            s = s || new Date().toISOString();
            show(+s.slice(0, 4), +s.slice(5, 7), "day");
          });
      }

      function shut() {
        panel.hidden = true;
        toggle.setAttribute("aria-expanded", "false");
      }

      function move(k, focus) {
        var i = shown[0] * 12 + shown[1] - 1 + k;
        show(Math.floor(i / 12), i % 12 + 1, focus);
      }

      function show(y, m, focus) {
        shown = [y, m];
        title.textContent = fmt(T.monthYear, { m: m, y: y });
        var s = ++seq, p = new URLSearchParams({ year: y, month: m });
        if (state.q) p.set("q", state.q);
        if (state.category) p.set("category", state.category);
        sites.forEach(function (x) { p.append("site", x); });
        panel.classList.add("vns-loading");
        get("/v1/calendar?" + p).then(function (data) {
          if (s === seq) draw(data, focus);
        }, function () {
          if (s === seq) draw({ days: {}, months: {}, failed: true }, focus);
        });
      }

      function draw(data, focus) {
        var y = shown[0], m = shown[1], ym = y + "-" + pad(m), days = data.days || {}, btn;
        panel.classList.remove("vns-loading");
        strip.textContent = "";
        strip.setAttribute("aria-label", fmt(T.monthsOf, { y: y }));
        for (var i = 1; i <= 12; i++) {
          var n = (data.months || {})[y + "-" + pad(i)];
          btn = strip.appendChild(button(fmt(T.mShort, { m: i }), "vns-cal-month" + (n ? " vns-has" : ""), move.bind(null, i - m, "month"), {
            "aria-label": fmt(T.month, { m: i, y: y }) + (n ? ": " + fmt(T.articles, { n: n }) : ""),
            "aria-current": i === m ? "true" : null }));
          if (i === m && focus === "month") btn.focus();
        }
        grid.textContent = "";
        var row = grid.appendChild(el("thead")).appendChild(el("tr")), body = grid.appendChild(el("tbody"));
        T.weekdays.forEach(function (wd, i) { row.appendChild(el("th", { scope: "col", abbr: T.weekdaysLong[i] }, wd)); });
        var first = (new Date(y, m - 1, 1).getDay() + 6) % 7, last = new Date(y, m, 0).getDate(), picks = [];
        for (var c = 0; c < Math.ceil((first + last) / 7) * 7; c++) {
          if (c % 7 === 0) row = body.appendChild(el("tr"));
          var td = row.appendChild(el("td")), day = c - first + 1, key = ym + "-" + pad(day), k = days[key];
          if (day < 1 || day > last) continue;
          if (!k) { td.appendChild(el("span", { class: "vns-cal-day" }, day)); continue; }
          btn = td.appendChild(button(String(day), "vns-cal-day vns-has", choose.bind(null, key), {
            "aria-label": fmt(T.dayLabel, { d: day, m: m, y: y, n: k }), "aria-pressed": String(state.day === key), "data-day": day }));
          btn.appendChild(el("span", { class: "vns-cal-n", "aria-hidden": "true" }, k));
          picks.push(btn);
        }
        note.textContent = data.failed ? T.calError : picks.length ? "" : T.noDays;
        if (focus === "day") (grid.querySelector("[aria-pressed=true]") || picks[0] || head.children[1]).focus();
      }

      function choose(key) {
        shut();
        focusSummary = true;
        run({ day: key, year: null, month: null, page: 1 });
      }

      // Arrows move to the nearest day with articles in that direction (Tab works too).
      grid.addEventListener("keydown", function (e) {
        var step = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 }[e.key], want = +e.target.getAttribute("data-day") + step;
        if (!want) return;
        e.preventDefault();
        var b = grid.querySelectorAll("button"), best = null;
        for (var i = 0; i < b.length; i++) {
          var day = +b[i].getAttribute("data-day");
          if (step > 0 ? day >= want && !best : day <= want) best = b[i];
        }
        if (best) best.focus();
      });
      panel.addEventListener("keydown", function (e) {
        if (e.key === "Escape") { e.preventDefault(); shut(); toggle.focus(); }
      });
      d.addEventListener("click", function (e) {
        if (!panel.hidden && !panel.contains(e.target) && !toggle.contains(e.target)) shut();
      });
    }

    var handle = { form: form, input: input, results: results, search: function (q) {
      input.value = q;
      run({ q: q });
    } };
    form.vnsearch = handle;
    var initial = new URLSearchParams(location.search).get(input.name || "q");
    if (initial) handle.search(initial);
    return handle;
  }

  function auto() {
    var ds = (script && script.dataset) || {};
    var targets = d.querySelectorAll(ds.form || "form[data-vnsearch]");
    var css = script && ds.css !== "none" && script.src.replace(/vnsearch\.js(\?.*)?$/, "vnsearch.css");
    var links = d.querySelectorAll("link[rel=stylesheet]");
    for (var i = 0; i < links.length; i++) if (links[i].href === css) css = null;
    if (targets.length && css && css !== script.src) d.head.appendChild(el("link", { rel: "stylesheet", href: css }));
    for (i = 0; i < targets.length; i++) {
      attach(targets[i], { api: ds.api, results: ds.results, perPage: ds.perPage, open: ds.open,
        site: ds.site, calendar: ds.calendar, link: ds.link, clicks: ds.clicks });
    }
  }

  w.VNSearch = { attach: attach, strings: T, version: "1.1.0" };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", auto);
  else auto();
})(window, document);
