/* The demo page's article view. vnsearch.js links results and suggestions to
 * #/doc/<id> (data-link); this script shows that article inside the page, with
 * "TIN MỚI HƠN" / "TIN ĐÃ ĐƯA" (/neighbors) and "Tin liên quan" (/related) beside
 * it, each linking to the same view. Every field is inserted as text. */
(function (w, d) {
  "use strict";
  var view = d.getElementById("article"), results = d.getElementById("results");
  var intro = d.querySelectorAll("[data-search-only]"), seq = 0, scrollBack = 0, opened = "";
  if (!view || !results) return;

  function el(tag, attrs, text) {
    var e = d.createElement(tag);
    for (var k in attrs || {}) if (attrs[k] != null) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  function get(path) {
    return fetch(path, { headers: { Accept: "application/json" } }).then(function (r) {
      if (!r.ok) throw new Error(r.status === 404 ? "404" : "HTTP " + r.status);
      return r.json();
    });
  }

  function dateVN(iso) {
    var m = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d\d:\d\d))?/.exec(iso || "");
    return m ? m[3] + "/" + m[2] + "/" + m[1] + (m[4] ? " " + m[4] : "") : "";
  }

  function docHash(id) {
    return "#/doc/" + encodeURIComponent(id);
  }

  function show(article) {
    view.hidden = !article;
    results.hidden = article;
    for (var i = 0; i < intro.length; i++) intro[i].hidden = article;
  }

  function route() {
    var m = /^#\/doc\/(.+)/.exec(location.hash), id = "";
    if (!m) {
      if (view.hidden) return;
      show(false);
      view.textContent = "";
      d.title = title;
      w.scrollTo(0, scrollBack);
      var back = results.querySelector('a[href="' + CSS.escape(opened) + '"]');
      if (back) back.focus({ preventScroll: true });
      return;
    }
    if (view.hidden) {
      scrollBack = w.scrollY;
      opened = location.hash;
    }
    try {
      id = decodeURIComponent(m[1]);
    } catch (e) { /* a malformed address: "not found" below */ }
    show(true);
    open(id);
  }

  // Back to the results: a new history entry without the hash (Back returns here).
  function leave() {
    history.pushState(null, "", location.pathname + location.search);
    route();
  }

  function backButton() {
    var b = el("button", { type: "button", class: "article-back" }, "‹ Về trang kết quả tìm kiếm");
    b.addEventListener("click", leave);
    return b;
  }

  function list(label, items) {
    var s = el("section", { class: "news-list" });
    s.appendChild(el("h2", null, label));
    var ul = s.appendChild(el("ul"));
    items.forEach(function (b) {
      var li = ul.appendChild(el("li"));
      li.appendChild(el("a", { href: docHash(b.id) }, b.title));
      if (b.published) li.appendChild(el("span", { class: "news-date" }, " (" + dateVN(b.published).slice(0, 10) + ")"));
    });
    s.hidden = !items.length;
    return s;
  }

  function open(id) {
    var s = ++seq, path = "/v1/documents/" + encodeURIComponent(id);
    view.setAttribute("aria-busy", "true");
    Promise.all([
      get(path),
      get(path + "/neighbors?n=5").catch(function () { return {}; }),
      get(path + "/related?n=5").catch(function () { return {}; }),
    ]).then(function (r) {
      if (s === seq) render(r[0], r[1], r[2]);
    }, function (err) {
      if (s !== seq) return;
      view.removeAttribute("aria-busy");
      view.textContent = "";
      var box = view.appendChild(el("div", { class: "vns-message vns-error", role: "alert" }));
      box.appendChild(el("p", null, err.message === "404" ? "Không tìm thấy bài viết này."
        : "Không thể tải bài viết. Vui lòng thử lại sau."));
      box.appendChild(backButton());
    });
  }

  function render(doc, nb, rel) {
    view.removeAttribute("aria-busy");
    view.textContent = "";
    view.appendChild(backButton());
    var layout = view.appendChild(el("div", { class: "article-layout" }));
    var main = layout.appendChild(el("article", { class: "article" }));
    if (doc.category) main.appendChild(el("p", { class: "article-category" }, doc.category));
    var h = main.appendChild(el("h1", { class: "article-title", tabindex: "-1" }, doc.title));
    var meta = main.appendChild(el("p", { class: "article-meta" }));
    if (doc.published) meta.appendChild(el("time", { datetime: doc.published }, dateVN(doc.published)));
    var body = main.appendChild(el("div", { class: "article-body" }));
    (doc.body || "").split("\n").forEach(function (para) {
      if (para.trim()) body.appendChild(el("p", null, para));
    });
    if (doc.views != null) {
      main.appendChild(el("p", { class: "article-views" }, "Số lượt người xem: " + doc.views.toLocaleString("vi-VN")));
    }
    if (/^https?:\/\//i.test(doc.url || "")) {
      var src = main.appendChild(el("p", { class: "article-source" }));
      src.appendChild(el("a", { href: doc.url, rel: "noopener noreferrer" }, "Xem bài gốc"));
    }
    main.appendChild(list("Tin liên quan", rel.related || [])).classList.add("related");
    var aside = layout.appendChild(el("aside", { class: "article-aside", "aria-label": "Tin cùng chuyên mục" }));
    aside.appendChild(list("TIN MỚI HƠN", nb.newer || [])).classList.add("newer");
    aside.appendChild(list("TIN ĐÃ ĐƯA", nb.older || [])).classList.add("older");
    d.title = doc.title + " · " + title;
    view.scrollIntoView();
    h.focus({ preventScroll: true });
  }

  var title = d.title;
  w.addEventListener("hashchange", route);
  // A new search (from the box or the date picker) closes the article.
  d.addEventListener("vnsearch:search", function () {
    if (!view.hidden) leave();
  });
  route();
})(window, document);
