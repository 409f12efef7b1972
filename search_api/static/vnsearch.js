/*! vnsearch.js: an embeddable Vietnamese search box, no dependencies. See docs/embed.md.
 * <script src="https://SEARCH-HOST/static/vnsearch.js" data-form="#search" defer></script>
 * or VNSearch.attach(form, {api: "https://SEARCH-HOST"}). Options (data-* or attach()):
 * form, api, results (selectors/URL), perPage, css="none", open="1" (a suggestion opens its page).
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
        var li = el("li", { id: listId + "-" + i, role: "option", class: "vns-option", "aria-selected": "false" });
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
      var seq = ++searchSeq;
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
      var dates = Object.keys(f.year || {}).map(function (y) {
        var on = state.year === y;
        return chip(y, f.year[y], on, { year: on ? null : y, month: null, page: 1 });
      });
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
      if (state.year || state.category) {
        box.appendChild(button(T.clear, "vns-link vns-clear", function () {
          run({ year: null, month: null, category: null, page: 1 });
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

    function hit(h) {
      var li = el("li", { class: "vns-hit" });
      var h3 = li.appendChild(el("h3", { class: "vns-hit-title" }));
      var url = safeUrl(h.url);
      var a = h3.appendChild(el(url ? "a" : "span", { href: url }));
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
        data.hits.forEach(function (h) { ol.appendChild(hit(h)); });
      }
      if (data.total_pages > 1) results.appendChild(pager(data.page, data.total_pages));
      if (focusSummary) summary.focus();
      focusSummary = false;
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
      attach(targets[i], { api: ds.api, results: ds.results, perPage: ds.perPage, open: ds.open });
    }
  }

  w.VNSearch = { attach: attach, strings: T, version: "1.0.0" };
  if (d.readyState === "loading") d.addEventListener("DOMContentLoaded", auto);
  else auto();
})(window, document);
