// kilo client gallery. Plain JS, no build step. Every text from the server or a visitor is
// put on the page with textContent, never as HTML. The visitor's token is never kept here:
// the server sets it as an HttpOnly cookie of this link's API paths (out of every script's
// reach, see kilo/api/gallery_page.py) when asked by the X-Kilo-Visitor header, and the
// browser sends it with each call.
"use strict";

(() => {
  const app = document.getElementById("app");
  const slug = app.dataset.slug;
  const api = app.dataset.api;
  const $ = (id) => document.getElementById(id);
  let view = null;
  let current = -1;
  let pinned = null;

  async function call(method, path, body) {
    const headers = { "Accept": "application/json", "X-Kilo-Visitor": "cookie" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(api + path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin", cache: "no-store",
    });
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    return { status: res.status, data };
  }

  function show(id) {
    for (const s of ["locked", "missing", "grid"]) $(s).hidden = s !== id;
  }

  async function load() {
    const res = await call("GET", "/share/" + encodeURIComponent(slug));
    if (res.status !== 200) {
      show("missing");
      document.title = "Gallery not available";
      return;
    }
    view = res.data;
    $("title").textContent = view.title;
    document.title = view.title;
    if (view.requiresAuth) {
      show("locked");
      $("password").focus();
      return;
    }
    show("grid");
    const all = $("download-all");
    all.hidden = !view.downloadAllUrl;
    if (view.downloadAllUrl) all.href = view.downloadAllUrl;
    renderGrid();
    summarise();
  }

  function favorites() { return view.assets.filter((a) => a.favorite).length; }

  function summarise() {
    const n = favorites();
    const parts = [view.assets.length + " photos", n + (n === 1 ? " favorite" : " favorites")];
    if (view.minPicks) parts.push("pick at least " + view.minPicks);
    if (view.maxPicks) parts.push("at most " + view.maxPicks);
    if (view.submitted) parts.push("selection sent");
    $("summary").textContent = parts.join(" · ");
    const submit = $("submit");
    submit.hidden = view.submitted || n === 0;
    submit.disabled = Boolean(view.minPicks && n < view.minPicks);
  }

  function heart(asset) {
    const b = document.createElement("button");
    b.className = "heart";
    b.type = "button";
    b.setAttribute("aria-pressed", String(asset.favorite));
    b.setAttribute("aria-label", asset.favorite ? "Remove favorite" : "Favorite");
    b.textContent = asset.favorite ? "\u2665" : "\u2661";
    b.disabled = view.submitted;
    b.addEventListener("click", (e) => { e.stopPropagation(); toggle(asset); });
    return b;
  }

  function renderGrid() {
    const grid = $("grid");
    grid.replaceChildren();
    view.assets.forEach((asset, i) => {
      const tile = document.createElement("figure");
      tile.className = "tile";
      tile.tabIndex = 0;
      tile.dataset.assetId = asset.assetId;
      const img = document.createElement("img");
      img.src = asset.thumbUrl || asset.previewUrl;
      img.loading = i < 12 ? "eager" : "lazy";
      img.decoding = "async";
      img.alt = asset.filename || "Photo " + (i + 1);
      if (asset.width && asset.height) { img.width = asset.width; img.height = asset.height; }
      tile.append(img, heart(asset));
      if (asset.commentsCount) {
        const c = document.createElement("span");
        c.className = "count";
        c.textContent = "\u270E " + asset.commentsCount;
        tile.append(c);
      }
      tile.addEventListener("click", () => open(i));
      tile.addEventListener("keydown", (e) => { if (e.key === "Enter") open(i); });
      grid.append(tile);
    });
  }

  async function toggle(asset) {
    if (view.submitted) return;
    const want = !asset.favorite;
    const res = await call("POST", "/share/" + encodeURIComponent(slug) + "/favorite",
                           { assetId: asset.assetId, favorite: want });
    if (res.status === 200) {
      asset.favorite = want;
      asset.favoriteCount = (asset.favoriteCount || 0) + (want ? 1 : -1);
    } else if (res.data && res.data.message) {
      $("summary").textContent = res.data.message;
      return;
    }
    renderGrid();
    summarise();
    if (current >= 0) paint();
  }

  function picture(asset) {
    const img = document.createElement("img");
    img.src = asset.previewUrl;
    img.alt = asset.filename || "Photo";
    return img;
  }

  function paint() {
    const asset = view.assets[current];
    const stage = $("stage");
    stage.replaceChildren();
    if (pinned !== null && pinned !== current) {
      stage.className = "stage two";
      stage.append(picture(view.assets[pinned]), picture(asset));
    } else {
      stage.className = "stage";
      stage.append(picture(asset));
    }
    // the photo's name when the gallery shows names: bird_burst.heic [2/4] for a frame
    $("position").textContent = (current + 1) + " / " + view.assets.length +
      (asset.filename ? " \u00B7 " + asset.filename : "");
    const fav = $("fav");
    fav.setAttribute("aria-pressed", String(asset.favorite));
    fav.textContent = asset.favorite ? "\u2665" : "\u2661";
    fav.disabled = view.submitted;
    $("compare").setAttribute("aria-pressed", String(pinned !== null));
    const dl = $("download");
    dl.hidden = !asset.downloadUrl;
    if (asset.downloadUrl) dl.href = asset.downloadUrl;
  }

  function open(i) {
    current = i;
    $("lightbox").hidden = false;
    paint();
    $("close").focus();
  }

  function close() {
    if (!$("drawer").hidden) { $("drawer").hidden = true; return; }
    $("lightbox").hidden = true;
    pinned = null;
    const tile = document.querySelectorAll(".tile")[current];
    current = -1;
    if (tile) tile.focus();
  }

  function step(by) {
    if (current < 0) return;
    current = (current + by + view.assets.length) % view.assets.length;
    paint();
    if (!$("drawer").hidden) loadComments();
  }

  async function loadComments() {
    const asset = view.assets[current];
    const res = await call("GET", "/x-kilo/share/" + encodeURIComponent(slug) + "/comments?assetId="
                           + encodeURIComponent(asset.assetId));
    const list = $("comments");
    list.replaceChildren();
    for (const c of (res.status === 200 ? res.data.items : [])) {
      const li = document.createElement("li");
      li.textContent = c.text;
      list.append(li);
    }
  }

  $("password-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const res = await call("POST", "/share/" + encodeURIComponent(slug) + "/auth",
                           { password: $("password").value });
    if (res.status === 200) {
      $("password").value = "";
      $("password-error").textContent = "";
      await load();
    } else if (res.status === 429) {
      $("password-error").textContent = "Too many tries. Wait a minute and try again.";
    } else {
      $("password-error").textContent = "That password did not work.";
    }
  });

  $("comment-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const asset = view.assets[current];
    const text = $("comment").value.trim();
    if (!text) return;
    const res = await call("POST", "/share/" + encodeURIComponent(slug) + "/comment",
                           { assetId: asset.assetId, text });
    if (res.status === 201) {
      $("comment").value = "";
      $("comment-error").textContent = "";
      asset.commentsCount = (asset.commentsCount || 0) + 1;
      await loadComments();
      renderGrid();
    } else {
      $("comment-error").textContent = (res.data && res.data.message) || "Not sent.";
    }
  });

  $("submit").addEventListener("click", async () => {
    const n = favorites();
    if (!window.confirm("Send your " + n + " favorites to the photographer? "
                        + "You cannot change them afterwards.")) return;
    const res = await call("POST", "/x-kilo/share/" + encodeURIComponent(slug) + "/submit", {});
    if (res.status === 200) {
      view.submitted = true;
      renderGrid();
      summarise();
    } else if (res.data && res.data.message) {
      $("summary").textContent = res.data.message;
    }
  });

  $("prev").addEventListener("click", () => step(-1));
  $("next").addEventListener("click", () => step(1));
  $("close").addEventListener("click", close);
  $("fav").addEventListener("click", () => toggle(view.assets[current]));
  $("compare").addEventListener("click", () => {
    pinned = pinned === null ? current : null;
    paint();
  });
  $("comments-open").addEventListener("click", () => {
    $("drawer").hidden = !$("drawer").hidden;
    if (!$("drawer").hidden) { loadComments(); $("comment").focus(); }
  });

  document.addEventListener("keydown", (e) => {
    if ($("lightbox").hidden || e.target.tagName === "TEXTAREA") return;
    if (e.key === "ArrowRight") step(1);
    else if (e.key === "ArrowLeft") step(-1);
    else if (e.key === "Escape") close();
    else if (e.key === "f" || e.key === "F") toggle(view.assets[current]);
    else if (e.key === "c" || e.key === "C") $("compare").click();
  });

  load();
})();
