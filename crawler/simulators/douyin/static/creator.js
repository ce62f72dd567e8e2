/* The simulator's creator-center page script: signs API calls (patched fetch/XHR), renders the works,
 * comment and chat pages from the JSON APIs, and hangs React-fiber-style props on rendered nodes.
 * __SIM_SECRET__ is replaced by the server with the signing secret. See README.md next to this file. */
(function () {
  "use strict";
  var SECRET = "__SIM_SECRET__";
  var CFG = window.__SIM_CFG__ || {};
  var API_RE = /^\/(aweme|janus|web\/api|sim-im)\//;
  var DEVICE = "device_platform=webapp&aid=2906&channel=channel_pc_web&pc_client_type=1&cookie_enabled=true";
  var COMMENT_READ = "/web/api/third_party/aweme/api/comment/read/aweme/v1/web/comment";
  var COMMENT_BASE = COMMENT_READ + "/list";
  // Surface variants (README.md, "Surface variants"): which forms of the real site this page shows.
  var SURFACE = CFG.surface || [];
  function has(variant) { return SURFACE.indexOf(variant) >= 0; }
  var KEY = Math.random().toString(36).slice(2, 13);
  var FIBER = "__reactFiber$" + KEY;
  var PROPS = "__reactProps$" + KEY;

  // ---- signing -------------------------------------------------------------------------------
  function fnv(str, basis) {
    var bytes = new TextEncoder().encode(str);
    var h = basis >>> 0;
    for (var i = 0; i < bytes.length; i++) {
      h ^= bytes[i];
      h = Math.imul(h, 16777619) >>> 0;
    }
    return h >>> 0;
  }
  function hex8(n) { return ("00000000" + (n >>> 0).toString(16)).slice(-8); }
  function canonical(path, query) {
    var kept = query.split("&").filter(function (p) { return p && p.indexOf("a_bogus=") !== 0; });
    return path.replace(/\/+$/, "") + "?" + kept.join("&");
  }
  function sign(path, query) {
    var t = canonical(path, query);
    var a = fnv(SECRET + t, 0x811c9dc5);
    var b = fnv(t + SECRET, a);
    var c = fnv(SECRET + t + SECRET, (b ^ 0x5bd1e995) >>> 0);
    return hex8(a) + hex8(b) + hex8(c);
  }
  function msToken() {
    var m = document.cookie.match(/(?:^|;\s*)msToken=([A-Za-z0-9_-]+)/);
    if (m) return m[1];
    var abc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-", t = "";
    for (var i = 0; i < 107; i++) t += abc[Math.floor(Math.random() * abc.length)];
    document.cookie = "msToken=" + t + "; path=/";
    return t;
  }
  function signUrl(input) {
    var u = new URL(input, location.href);
    if (u.origin !== location.origin || !API_RE.test(u.pathname)) return null;
    var q = u.search.replace(/^\?/, "");
    if (/(^|&)a_bogus=/.test(q)) return u.href;
    q = [q, DEVICE, "msToken=" + msToken()].filter(Boolean).join("&");
    q += "&a_bogus=" + sign(u.pathname, q);
    return u.origin + u.pathname + "?" + q;
  }
  var nativeFetch = window.fetch.bind(window);
  window.fetch = function (input, init) {
    if (typeof input === "string" || input instanceof URL) {
      var signed = signUrl(String(input));
      if (signed) input = signed;
    }
    return nativeFetch(input, init);
  };
  var nativeOpen = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    var args = Array.prototype.slice.call(arguments);
    var signed = signUrl(String(url));
    if (signed) args[1] = signed;
    return nativeOpen.apply(this, args);
  };

  // ---- helpers -------------------------------------------------------------------------------
  function h(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }
  function toast(msg) {
    var t = h("div", "semi-toast toast-Qm3p1", msg);
    document.body.appendChild(t);
    setTimeout(function () { t.remove(); }, 4000);
  }
  function api(url, options) {
    return fetch(url, options).then(function (r) { return r.text(); }).then(function (text) {
      if (!text) { toast("网络异常，请稍后重试"); return null; }
      var data = JSON.parse(text);
      if (data.status_code !== 0 && data.status_code !== undefined) toast(data.status_msg || "请求失败");
      return data;
    }).catch(function () { toast("网络异常，请稍后重试"); return null; });
  }
  function post(url, body) {
    return api(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
  }
  // React-fiber-style props: node[FIBER] is the host fiber; its `.return` chain (depth wrappers) reaches
  // the component fiber whose memoizedProps are `props`.
  function attachFiber(node, name, props, depth) {
    var host = { tag: 5, type: node.tagName.toLowerCase(), stateNode: node, memoizedProps: { className: node.className }, return: null };
    var cur = host;
    for (var i = 1; i < depth; i++) {
      cur.return = { tag: 5, type: "div", stateNode: null, memoizedProps: { className: "wrapper" }, return: null };
      cur = cur.return;
    }
    cur.return = { tag: 0, type: { name: name }, elementType: name, memoizedProps: props, return: { tag: 3, memoizedProps: null, return: null } };
    node[FIBER] = host;
    node[PROPS] = { className: node.className };
  }
  function fmtTime(value) {
    var n = Number(value);
    var d = new Date(n > 1e11 ? n : n * 1000);
    if (isNaN(d.getTime())) return String(value);
    function p(n) { return (n < 10 ? "0" : "") + n; }
    return d.getFullYear() + "-" + p(d.getMonth() + 1) + "-" + p(d.getDate()) + " " + p(d.getHours()) + ":" + p(d.getMinutes());
  }
  function nearBottom(el) { return el.scrollTop + el.clientHeight >= el.scrollHeight - 40; }
  // What a contenteditable holds, line breaks kept (Shift+Enter makes them), outer blanks trimmed.
  function editorText(input) { return input.innerText.replace(/\u00a0/g, " ").trim(); }
  // Enter sends, Shift+Enter breaks the line (as the platform's editors do).
  function enterSends(input, send) {
    input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); send.click(); }
    });
  }
  function editor(placeholder, onSend) {
    var box = h("div", "comment-input-Wr5t3");
    var wrap = h("div", "editor-Kd8s2");
    var ph = h("div", "placeholder-Lp3q9", placeholder);
    var input = h("div", "input-Xc6v2");
    input.setAttribute("contenteditable", "true");
    input.setAttribute("data-placeholder", placeholder);
    input.addEventListener("input", function () { ph.style.display = input.textContent ? "none" : ""; });
    ph.addEventListener("click", function () { input.focus(); });
    var send = h("button", "send-btn-Bq7w4", "发送");
    enterSends(input, send);
    send.addEventListener("click", function () {
      var text = editorText(input);
      if (!text) { toast("请输入内容"); return; }
      send.disabled = true;
      onSend(text).then(function (ok) {
        send.disabled = false;
        if (ok) { input.textContent = ""; ph.style.display = ""; }
      });
    });
    wrap.appendChild(ph); wrap.appendChild(input); box.appendChild(wrap); box.appendChild(send);
    return box;
  }

  // ---- login ---------------------------------------------------------------------------------
  function pageLogin() {
    var token = CFG.token;
    var img = document.querySelector("img[data-token]");
    var hint = document.querySelector(".scan-hint-Hx4c1");
    function poll() {
      fetch("/passport/web/check_qrconnect/?token=" + token).then(function (r) { return r.json(); }).then(function (d) {
        var s = d.data.status;
        if (s === "2") hint.style.display = "";
        if (s === "3") { location.href = d.data.redirect_url || "/creator-micro/home"; return; }
        if (s === "5") {
          return fetch("/passport/web/get_qrcode/").then(function (r) { return r.json(); }).then(function (q) {
            token = q.data.token; img.src = q.data.qrcode; img.setAttribute("data-token", token); hint.style.display = "none";
            setTimeout(poll, 1000);
          });
        }
        setTimeout(poll, 1000);
      }).catch(function () { setTimeout(poll, 2000); });
    }
    setTimeout(poll, 1000);
  }

  // ---- works ---------------------------------------------------------------------------------
  // The works API the page uses: work_list (default), item_list (works_v2) or a path no adapter knows.
  // The item list as captured (works_v2): asked without the trailing slash, which the site adds (301).
  function itemListUrl(cursor) { return "/aweme/v1/creator/item/list?count=12&cursor=" + cursor; }
  function worksUrl(cursor) {
    if (has("works_v2")) return itemListUrl(cursor);
    if (has("unknown")) return "/janus/douyin/creator/pc/work/list_next?status=0&count=12&max_cursor=" + cursor;
    return "/janus/douyin/creator/pc/work_list?status=0&count=12&max_cursor=" + cursor;
  }
  // The comment page's picker: the item list when the page shows the captured comment APIs too.
  function pickerUrl(cursor) { return has("comment_list_v2") ? itemListUrl(cursor) : worksUrl(cursor); }
  // -> {works: [aweme-like], items: [{metrics}], cursor, more}; an item-list work keeps its entry as `item`
  function worksOf(d) {
    if (d.item_info_list) {
      return {
        works: d.item_info_list.map(function (i) {
          return { aweme_id: i.item_id_plain, desc: i.title, create_time: i.create_time, media_type: i.media_type,
                   video: { cover: { url_list: [i.cover_image_url] } },
                   statistics: { comment_count: Number(i.comment_count) }, item: i };
        }),
        items: d.item_info_list.map(function () { return { metrics: {} }; }),
        cursor: d.cursor, more: !!d.has_more,
      };
    }
    return { works: d.aweme_list, items: d.items, cursor: d.max_cursor, more: !!d.has_more };
  }
  function workCard(a, item) {
    var m = (item && item.metrics) || {};
    var card = h("div", "video-card-Ab3x9");
    var cover = h("img", "video-cover-Sd2f3"); cover.src = a.video.cover.url_list[0]; card.appendChild(cover);
    var info = h("div", "video-info-Gh5j6");
    info.appendChild(h("div", "video-desc-Jk7l8", a.desc));
    info.appendChild(h("div", "video-time-Zx1c2", fmtTime(a.create_time) + (a.aweme_type === 68 ? " · 图文" : "")));
    info.appendChild(h("div", "video-metrics-Vb3n4", "播放 " + m.view_count + " · 点赞 " + m.like_count + " · 评论 " + m.comment_count + " · 分享 " + m.share_count));
    card.appendChild(info);
    attachFiber(card, "VideoCard", { awemeId: a.aweme_id, aweme: a, metrics: m }, 1);
    return card;
  }
  function pageWorks(root) {
    var list = h("div", "video-list-Hs8k2");
    var end = h("div", "load-status-Ty7w1");
    root.appendChild(list); root.appendChild(end);
    var cursor = 0, more = true, busy = false;
    function load() {
      if (!more || busy) return;
      busy = true; end.textContent = "加载中...";
      api(worksUrl(cursor)).then(function (d) {
        busy = false; end.textContent = "";
        if (!d || d.status_code !== 0) return;
        var w = worksOf(d);
        w.works.forEach(function (a, i) { list.appendChild(workCard(a, w.items[i])); });
        cursor = w.cursor; more = w.more;
        if (!more) end.textContent = "没有更多";
        else if (document.documentElement.scrollHeight <= window.innerHeight + 10) load();
      });
    }
    window.addEventListener("scroll", function () {
      if (window.innerHeight + window.scrollY >= document.documentElement.scrollHeight - 80) load();
    });
    load();
  }

  // ---- comments ------------------------------------------------------------------------------
  // A comment of either API shape -> the page's model (the first shape's fields). The captured shape
  // (`comment_info_list`, reply answers) names no work and no parent: `ctx` says which.
  function commentOf(c, ctx) {
    if (c.cid) return c;
    var u = c.user_info || {}, to = c.reply_to_user_info;
    return {
      cid: String(c.comment_id), aweme_id: ctx.aweme_id, text: c.text || "", create_time: c.create_time,
      digg_count: c.digg_count, reply_comment_total: Number(c.reply_count || 0), reply_id: ctx.reply_id || "0",
      level: c.level || (ctx.reply_id && ctx.reply_id !== "0" ? 2 : 1),
      reply_to_username: to && c.level === 2 ? to.screen_name : "",
      user: { uid: u.user_id, nickname: u.screen_name, avatar_thumb: { url_list: [u.avatar_url] } },
      label_text: c.is_author ? "作者" : "", image_list: c.image_list, sticker: c.sticker, ip_label: "",
      item_id: ctx.item_id, raw: c,
    };
  }
  function pageComment(root) {
    var head = h("div", "comment-header-Pq2m8");
    var pick = h("div", "select-work-Ks8d1", "选择作品"); pick.setAttribute("role", "button");
    var current = h("div", "current-work-Bn4v7", "未选定");
    head.appendChild(pick); head.appendChild(current); root.appendChild(head);
    var topSlot = h("div", "top-editor-Nm2b3"); root.appendChild(topSlot);
    var tabs = h("div", "tabs-Cv4x5"); tabs.setAttribute("role", "tablist");
    var tab = h("div", "tab-Rt5y6", "全部评论"); tab.setAttribute("role", "tab"); tab.setAttribute("aria-selected", "true");
    tabs.appendChild(tab); root.appendChild(tabs);
    var panel = h("div", "comment-list-Zx8c4"); panel.setAttribute("role", "tabpanel");
    root.appendChild(panel);
    var work = null, cursor = 0, more = false, busy = false, status = null, openEditor = null;

    function commentNode(c) {
      var node = h("div", "comment-item-Mn4b7" + (c.level === 2 ? " reply-item-Lk2j3" : ""));
      var avatar = h("img", "avatar-Qw2e3"); avatar.src = c.user.avatar_thumb.url_list[0]; node.appendChild(avatar);
      var body = h("div", "comment-body-Rt6y8");
      var top = h("div", "comment-user-Fg3h4");
      top.appendChild(h("span", "username-Hj4k5", c.user.nickname));
      if (c.label_text) top.appendChild(h("span", "label-Vb8n1", c.label_text));
      if (c.reply_to_username) top.appendChild(h("span", "reply-to-Cx9z8", "回复 " + c.reply_to_username));
      body.appendChild(top);
      body.appendChild(h("p", "comment-content-text-Ui9o0", c.text));
      (c.image_list || []).forEach(function (img) {
        var pic = h("img", "comment-image-Rg4t5"); pic.src = img.origin_url.url_list[0]; body.appendChild(pic);
      });
      if (c.sticker) { var st = h("img", "comment-sticker-Kw2e3"); st.src = c.sticker.static_url.url_list[0]; body.appendChild(st); }
      body.appendChild(h("div", "comment-meta-Ws2e3", fmtTime(c.create_time) + " · " + (c.ip_label || "")));
      var ops = h("div", "operations-Df5g6");
      var reply = h("div", "operation-item-Ty6u7", "回复");
      ops.appendChild(reply); ops.appendChild(h("div", "operation-item-Ty6u7", "点赞 " + c.digg_count));
      ops.appendChild(h("div", "operation-item-Ty6u7", "删除"));
      body.appendChild(ops);
      var slot = h("div", "reply-editor-slot-Aq1w2"); body.appendChild(slot);
      reply.addEventListener("click", function () {
        if (openEditor) openEditor.remove();
        openEditor = editor("回复 " + c.user.nickname + "：", function (text) { return sendReply(c, text); });
        slot.appendChild(openEditor);
        openEditor.querySelector("[contenteditable]").focus();
      });
      if (c.level === 1) {
        var replies = h("div", "replies-Pl0k9"); body.appendChild(replies);
        node._replies = replies;
        if (Number(c.reply_comment_total) > 0) body.appendChild(replyMore(c, replies));
      }
      node.appendChild(body);
      var fiberProps = {
        cid: c.cid, text: c.text, user: c.user, awemeId: c.aweme_id, replyId: c.reply_id, level: c.level,
        labelText: c.label_text, createTime: c.create_time, replyToUsername: c.reply_to_username, comment: c.raw || c,
      };
      if (has("encoded_cid")) {  // the page's own encoded id, not the API's; no API object either
        fiberProps.cid = "@i/" + btoa("v1:" + c.cid).replace(/=+$/, "");
        delete fiberProps.comment;
      }
      attachFiber(node, "CommentItem", fiberProps, 1);
      node._comment = c;
      return node;
    }
    function replyMore(c, container) {
      var more = h("div", "reply-more-Zs3x1", "查看" + c.reply_comment_total + "条回复");
      var rcursor = 0;
      more.addEventListener("click", function () {
        if (more._busy) return;
        more._busy = true;
        var url;
        if (has("comment_list_v2")) {
          url = "/aweme/v1/creator/comment/reply/list/?comment_id=" + encodeURIComponent(c.cid) + "&item_id=" + encodeURIComponent(c.item_id);
        } else {
          var replyPath = has("reply_list_v2") ? COMMENT_READ + "/reply/list/" : COMMENT_BASE + "/reply/";
          url = replyPath + "?comment_id=" + c.cid + "&item_id=" + c.aweme_id;
        }
        api(url + "&cursor=" + rcursor + "&count=10").then(function (d) {
          more._busy = false;
          if (!d || d.status_code !== 0) return;
          (d.comments || d.comment_info_list).forEach(function (r) {
            container.appendChild(commentNode(commentOf(r, { aweme_id: c.aweme_id, item_id: c.item_id, reply_id: c.cid })));
          });
          rcursor = d.cursor;
          if (d.has_more) more.textContent = "展开更多回复"; else more.remove();
        });
      });
      return more;
    }
    function sendReply(target, text) {
      var body = { item_id: work.item ? work.item.item_id : work.aweme_id, reply_id: target ? target.cid : "0", text: text };
      return post("/aweme/v1/creator/comment/reply/", body).then(function (d) {
        if (!d || d.status_code !== 0) return false;
        var thread = target ? (target.level === 2 ? target.reply_id : target.cid) : "0";
        var node = commentNode(commentOf(d.comment_info, { aweme_id: work.aweme_id, item_id: work.item && work.item.item_id, reply_id: thread }));
        if (!target) panel.insertBefore(node, panel.firstChild);
        else {
          var parentCid = target.level === 2 ? target.reply_id : target.cid;
          var parentNode = Array.prototype.find.call(panel.querySelectorAll(".comment-item-Mn4b7"), function (n) { return n._comment && n._comment.cid === parentCid; });
          (parentNode && parentNode._replies ? parentNode._replies : panel).appendChild(node);
          if (openEditor) { openEditor.remove(); openEditor = null; }
        }
        toast("回复成功");
        return true;
      });
    }
    function load() {
      if (!work || !more || busy) return;
      busy = true;
      var forWork = work;
      var url = has("comment_list_v2")
        ? "/aweme/v1/creator/comment/list/?item_id=" + encodeURIComponent(work.item.item_id) + "&sort=TIME"
        : COMMENT_BASE + "/select/?aweme_id=" + work.aweme_id;
      api(url + "&cursor=" + cursor + "&count=20").then(function (d) {
        busy = false;
        if (forWork !== work || !d || d.status_code !== 0) return;
        var ctx = { aweme_id: work.aweme_id, item_id: work.item && work.item.item_id, reply_id: "0" };
        (d.comments || d.comment_info_list).forEach(function (c) { panel.insertBefore(commentNode(commentOf(c, ctx)), status); });
        cursor = d.cursor; more = !!d.has_more;
        status.textContent = more ? "" : ((d.total || d.total_count) ? "没有更多评论" : "暂无评论");
        if (more && panel.scrollHeight <= panel.clientHeight + 10) load();
      });
    }
    function choose(a) {
      work = a; cursor = 0; more = true; busy = false;
      current.textContent = a.desc;
      panel.innerHTML = ""; status = h("div", "load-status-Ty7w1"); panel.appendChild(status);
      topSlot.innerHTML = "";
      topSlot.appendChild(editor("有爱评论，说点好听的~", function (text) { return sendReply(null, text); }));
      load();
    }
    panel.addEventListener("scroll", function () { if (nearBottom(panel)) load(); });
    if (has("notice")) {  // the notification strip: every page of comment notices, once per load
      var bar = h("div", "notice-bar-Ty3u4", ""); root.insertBefore(bar, head);
      var seen = 0;
      (function notices(ncursor) {
        api("/aweme/v1/web/notice/detail/?notice_group=2&count=20&cursor=" + ncursor).then(function (d) {
          if (!d || d.status_code !== 0) return;
          seen += d.notice_list_v2.length; bar.textContent = "新通知 " + seen;
          if (d.has_more) notices(d.cursor);
        });
      })(0);
    }

    pick.addEventListener("click", function () {
      var wrap = h("div", "semi-modal-wrap"); wrap.setAttribute("role", "dialog");
      var box = h("div", "semi-modal-content");
      box.appendChild(h("div", "semi-modal-header", "选择作品"));
      var list = h("div", "work-list-Gh6j2");
      var close = h("div", "semi-modal-close", "取消");
      box.appendChild(list); box.appendChild(close); wrap.appendChild(box); document.body.appendChild(wrap);
      close.addEventListener("click", function () { wrap.remove(); });
      var wcursor = 0, wmore = true, wbusy = false;
      var end = h("div", "load-status-Ty7w1"); list.appendChild(end);
      function loadWorks() {
        if (!wmore || wbusy) return;
        wbusy = true;
        api(pickerUrl(wcursor)).then(function (d) {
          wbusy = false;
          if (!d || d.status_code !== 0) return;
          var w = worksOf(d);
          w.works.forEach(function (a) {
            var card = h("div", "container-Lkxos9");
            var img = h("img", "cover-Ws4e5"); img.src = a.video.cover.url_list[0]; card.appendChild(img);
            var info = h("div", "info-Ed5r6");
            info.appendChild(h("div", "title-Yt7s2", a.desc));
            info.appendChild(h("div", "publish-time-Rf6t7", fmtTime(a.create_time)));
            info.appendChild(h("div", "comment-count-Cm3s8", "评论 " + a.statistics.comment_count));
            card.appendChild(info);
            card.addEventListener("click", function () { wrap.remove(); choose(a); });
            // an item-list card holds the list's entry (encrypted item_id, item_id_plain), not an aweme
            attachFiber(card, "WorkCard", a.item ? { itemId: a.item.item_id, item: a.item } : { awemeId: a.aweme_id, aweme: a }, 1);
            list.insertBefore(card, end);
          });
          wcursor = w.cursor; wmore = w.more;
          if (!wmore) end.textContent = "没有更多";
          else if (list.scrollHeight <= list.clientHeight + 10) loadWorks();
        });
      }
      list.addEventListener("scroll", function () { if (nearBottom(list)) loadWorks(); });
      loadWorks();
    });
  }

  // ---- chat ----------------------------------------------------------------------------------
  function isoOf(m) {  // a message's time as ISO, whichever form it came in (ms_times variant)
    var v = m.createdAt != null ? m.createdAt : (m.timestamp != null ? m.timestamp * 1000 : m.createTime);
    return typeof v === "number" ? new Date(v).toISOString() : String(v || "");
  }
  // chat_v2: the captured grid item as a row's props (live: badge and last message follow the row),
  // and a message node's captured props; both cyclic and holding functions, as React props are.
  var MEDIA_LABEL = { 5: "[表情]", 17: "[语音]", 27: "[图片]", 8: "[视频]" };
  function isReceipt(m) { return m.type === 50001 || m.type === 50002; }
  function rowProps(c, open) {
    if (!has("chat_v2")) return c;
    var v = { id: c.store.id, shortId: c.store.shortId, firstPageParticipant: c.store.firstPageParticipant,
              onClick: function () { open(c); } };
    Object.defineProperty(v, "_badgeCount", { enumerable: true, get: function () { return c.unreadCount; } });
    Object.defineProperty(v, "_lastMessage", { enumerable: true, get: function () { return c.lastStore || null; } });
    Object.defineProperty(v, "coreInfo", { enumerable: true, get: function () {
      var l = c.lastStore;
      return { lastMessage: l ? { content: l.content, createdTime: Math.floor(l.createdTime / 1000) } : null, owner: v };
    } });
    v.conversation = v;
    return v;
  }
  function messageProps(m) {
    if (!has("chat_v2") || !m.store) return m;
    var v = {}; Object.keys(m.store).forEach(function (k) { v[k] = m.store[k]; });
    v.self = v; v.onContextMenu = function () {};
    return v;
  }
  function pageChat(root) {
    var ROW = 72;
    var left = h("div", "chat-left-Ui8o9"), right = h("div", "chat-right-Op9i8");
    var tabs = h("div", "tabs-Cv4x5"); tabs.setAttribute("role", "tablist");
    var filter = "all";
    [["全部", "all"], ["未读", "unread"]].forEach(function (t, i) {
      var tab = h("div", "tab-Rt5y6", t[0]); tab.setAttribute("role", "tab"); tab.setAttribute("aria-selected", i === 0 ? "true" : "false");
      tab.addEventListener("click", function () {
        Array.prototype.forEach.call(tabs.children, function (x) { x.setAttribute("aria-selected", "false"); });
        tab.setAttribute("aria-selected", "true"); filter = t[1]; listEl.scrollTop = 0; render();
      });
      tabs.appendChild(tab);
    });
    var listEl = h("div", "conversation-list-Vd3s7");
    var inner = h("div", "virtual-inner-Bg7h8");
    listEl.appendChild(inner); left.appendChild(tabs); left.appendChild(listEl);
    var header = h("div", "box-header-Qa1z2"); var headerName = h("span", "box-header-name-Ws3x4", ""); header.appendChild(headerName);
    var content = h("div", "box-content-Ed4c5");
    content.appendChild(h("div", "empty-tip-Kl0p9", "选择一个会话开始聊天"));
    var input = h("div", "chat-input-Rf5v6");
    var editable = h("div", "input-Tg6b7"); editable.setAttribute("contenteditable", "true"); editable.setAttribute("data-placeholder", "发送消息");
    var send = h("button", "send-btn-Yh7n8", "发送");
    input.appendChild(editable); input.appendChild(send);
    enterSends(editable, send);
    right.appendChild(header); right.appendChild(content); right.appendChild(input);
    root.appendChild(left); root.appendChild(right);

    var convs = [], ccursor = 0, cmore = true, cbusy = false, users = {}, pending = {}, rows = {};
    var open = null, mcursor = 0, mmore = false, mbusy = false;

    function visible() { return filter === "unread" ? convs.filter(function (c) { return c.unreadCount > 0; }) : convs; }
    function loadConvs() {
      if (!cmore || cbusy) return;
      cbusy = true;
      api("/sim-im/v1/conversation/list?cursor=" + ccursor + "&count=30").then(function (d) {
        cbusy = false;
        if (!d || d.status_code !== 0) return;
        d.conversations.forEach(function (c) { if (c.store) c.lastStore = c.store._lastMessage; convs.push(c); });
        ccursor = d.cursor; cmore = !!d.has_more;
        render();
      });
    }
    function fillPeer(c) {
      var u = users[c.peer.uid];
      if (!u) return;
      c.peer.nickname = u.user.nickname; c.peer.avatar = u.user.avatar_thumb.url_list[0]; c.peer.signature = u.user.signature;
    }
    function rowNode(c, index) {
      var row = rows[c.conversationId];
      if (!row) {
        row = h("div", "conversation-item-Ik8l9"); row.setAttribute("role", "list-item");
        row._avatar = h("img", "avatar-Qw2e3"); row._name = h("div", "conversation-name-Ol9p0");
        row._preview = h("div", "conversation-preview-Mj6n5"); row._time = h("span", "time-Nh5b4"); row._badge = h("span", "unread-Bv4c3");
        [row._avatar, row._name, row._preview, row._time, row._badge].forEach(function (x) { row.appendChild(x); });
        row.addEventListener("click", function () { openConversation(c); });
        rows[c.conversationId] = row;
        attachFiber(row, "ConversationItem", rowProps(c, openConversation), 1);
      }
      row.style.top = (index * ROW) + "px";
      fillPeer(c);
      row._name.textContent = c.peer.nickname || "";
      if (c.peer.avatar) row._avatar.src = c.peer.avatar;
      row._preview.textContent = c.lastMessage ? (c.lastMessage.content.text || MEDIA_LABEL[c.lastMessage.type] || "") : "";
      row._time.textContent = c.updatedAt ? isoOf({ createdAt: c.updatedAt }).slice(5, 16).replace("T", " ") : "";
      row._badge.textContent = c.unreadCount > 0 ? String(c.unreadCount) : "";
      if (open === c) row.className = "conversation-item-Ik8l9 active-Xs2d3"; else row.className = "conversation-item-Ik8l9";
      return row;
    }
    function render() {
      var list = visible();
      inner.style.height = (list.length * ROW) + "px";
      var first = Math.max(0, Math.floor(listEl.scrollTop / ROW) - 2);
      var last = Math.min(list.length, Math.ceil((listEl.scrollTop + listEl.clientHeight) / ROW) + 2);
      var keep = {};
      for (var i = first; i < last; i++) {
        var row = rowNode(list[i], i);
        keep[list[i].conversationId] = true;
        // DOM order follows the visual order, as in a real virtual list
        var at = inner.children[i - first] || null;
        if (row !== at) inner.insertBefore(row, at);
      }
      Object.keys(rows).forEach(function (id) { if (!keep[id]) { rows[id].remove(); delete rows[id]; } });
      var missing = [];
      for (var j = first; j < last; j++) {
        var uid = list[j].peer.uid;
        if (!users[uid] && !pending[uid] && missing.indexOf(uid) < 0) missing.push(uid);
      }
      for (var k = 0; k < missing.length; k += 5) fetchUsers(missing.slice(k, k + 5));
      if (cmore && last >= convs.length - 5) loadConvs();
    }
    function fetchUsers(uids) {
      uids.forEach(function (u) { pending[u] = true; });
      // The page asks without the trailing slash; the server answers 301 to the slash form.
      api("/aweme/v1/creator/im/user_detail?user_ids=" + uids.join(",")).then(function (d) {
        uids.forEach(function (u) { delete pending[u]; });
        if (!d || d.status_code !== 0) return;
        d.user_list.forEach(function (u) { users[u.user_id] = u; });
        render();
        if (open && users[open.peer.uid]) { fillPeer(open); headerName.textContent = open.peer.nickname; }
      });
    }
    listEl.addEventListener("scroll", render);

    function messageNode(m) {
      var notice = m.content && m.content.aweType === 701;
      var node;
      if (notice) node = h("div", "message-item-Pz1x2 system-tip-Dc4f5", m.content.text);
      else {
        node = h("div", "message-item-Pz1x2" + (m.isFromMe ? " is-me-Ax2s3" : ""));
        var av = h("img", "avatar-Qw2e3"); av.src = m.avatar; node.appendChild(av);
        var bubble = h("div", "message-bubble-Gt5y6"); bubble.appendChild(h("span", "text-Sx3d4", m.content.text || MEDIA_LABEL[m.type] || ""));
        node.appendChild(bubble);
        node.appendChild(h("span", "time-Nh5b4", isoOf(m).slice(0, 16).replace("T", " ")));
      }
      attachFiber(node, "MessageItem", messageProps(m), 2);
      return node;
    }
    function openConversation(c) {
      open = c; mcursor = 0; mmore = true; mbusy = false;
      fillPeer(c);
      headerName.textContent = c.peer.nickname || "";
      if (!users[c.peer.uid] && !pending[c.peer.uid]) fetchUsers([c.peer.uid]);
      content.innerHTML = "";
      c.unreadCount = 0;
      render();
      loadMessages(true);
    }
    function loadMessages(first) {
      if (!open || !mmore || mbusy) return;
      mbusy = true;
      var forConv = open;
      api("/sim-im/v1/message/list?conversation_id=" + encodeURIComponent(open.conversationId) + "&cursor=" + mcursor + "&count=20").then(function (d) {
        mbusy = false;
        if (forConv !== open || !d || d.status_code !== 0) return;
        var before = content.scrollHeight, top = content.firstChild;
        d.messages.forEach(function (m) { content.insertBefore(messageNode(m), top); });
        mcursor = d.cursor; mmore = !!d.has_more;
        if (!mmore && !content.querySelector(".no-more-Lo9k8")) content.insertBefore(h("div", "no-more-Lo9k8", "没有更多消息了"), content.firstChild);
        if (first) content.scrollTop = content.scrollHeight;
        else content.scrollTop = content.scrollHeight - before;
        if (mmore && content.scrollHeight <= content.clientHeight + 10) loadMessages(false);
      });
    }
    content.addEventListener("scroll", function () { if (content.scrollTop < 5) loadMessages(false); });
    send.addEventListener("click", function () {
      var text = editorText(editable);
      if (!open) { toast("请先选择会话"); return; }
      if (!text) { toast("请输入内容"); return; }
      send.disabled = true;
      var c = open;
      post("/sim-im/v1/message/send", { conversation_id: c.conversationId, text: text }).then(function (d) {
        send.disabled = false;
        if (!d || d.status_code !== 0) return;
        editable.textContent = "";
        if (open === c) { content.appendChild(messageNode(d.message)); content.scrollTop = content.scrollHeight; }
        c.lastMessage = d.message; c.updatedAt = isoOf(d.message); if (d.message.store) c.lastStore = d.message.store;
        render();
      });
    });
    loadConvs();
    frontierStart();
    imStoreStart(root, function (m, conv) {  // the page's own list follows the store, as the real one does
      var c = convs.find(function (x) { return x.conversationId === m.conversationId; });
      if (!c || isReceipt(m)) return;
      c.lastMessage = { serverId: m.serverId, type: m.type, content: JSON.parse(m.content), createdAt: new Date(m.createdAt).toISOString() };
      if (c.store) { c.lastStore = {}; Object.keys(m).forEach(function (k) { if (k !== "createdAt") c.lastStore[k] = m[k]; }); c.lastStore.createdTime = m.createdAt; }
      c.updatedAt = c.lastMessage.createdAt;
      if (!m.isFromMe && open !== c) c.unreadCount = conv._badgeCount;
      render();
    });
  }

  // ---- the IM socket (the real page's frontier-im WebSocket): binary push frames, reopened when closed
  function frontierStart() {
    if (has("no_im_socket")) return;
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/sim-im/v1/frontier";
    (function open() {
      var ws = new WebSocket(url);
      ws.binaryType = "arraybuffer";
      ws.onclose = function () { setTimeout(open, 3000); };
    })();
  }

  // ---- the IM store (what the real page keeps in MobX: imStore / noticeStore) ---------------------
  // Reachable from the fiber of [data-e2e="im-entry"] (walk .return to the props holding imStore).
  // Filled from GET /sim-im/v1/push?cursor=-1, then fed by its long poll: every new message is
  // spliced into msgListToPush, its conversation and peer updated, the comment notice count set.
  function imStoreStart(root, onMessage) {
    var imStore = {
      converSationListOrigin: [], conversationMap: {}, userInfoFromServerMap: {}, selfInfo: null,
      msgListToPush: []
    };
    var noticeStore = { noticeUnreadCountMap: { "7": 0 } };
    var entry = h("div", "im-entry-Hy6t5"); entry.setAttribute("data-e2e", "im-entry");
    entry.style.display = "none";
    root.appendChild(entry);
    attachFiber(entry, "ImEntry", has("no_im_store") ? { unread: 0 } : { imStore: imStore, noticeStore: noticeStore }, 2);
    window.__SIM_IM_STORE__ = imStore;  // (sim) for tests only; the adapter never reads it
    function conversationPut(c) {
      var old = imStore.conversationMap[c.id];
      if (old) { Object.keys(c).forEach(function (k) { old[k] = c[k]; }); c = old; }
      else { imStore.conversationMap[c.id] = c; }
      var at = imStore.converSationListOrigin.indexOf(c);
      if (at >= 0) imStore.converSationListOrigin.splice(at, 1);
      imStore.converSationListOrigin.unshift(c);
      return c;
    }
    var cursor = -1;
    function poll() {
      api("/sim-im/v1/push?cursor=" + cursor).then(function (d) {
        if (!d || d.status_code !== 0) { setTimeout(poll, 3000); return; }
        if (cursor < 0) {
          d.conversations.slice().reverse().forEach(conversationPut);
          Object.keys(d.users).forEach(function (u) { imStore.userInfoFromServerMap[u] = d.users[u]; });
          imStore.selfInfo = d.self;
          noticeStore.noticeUnreadCountMap["7"] = d.notices["7"];
        }
        (d.events || []).forEach(function (e) {
          if (e.kind === "message") {
            imStore.userInfoFromServerMap[e.user.uid] = e.user;
            var conv = conversationPut(e.conversation);
            if (!isReceipt(e.message)) conv.lastMessage = e.message;
            imStore.msgListToPush.splice(imStore.msgListToPush.length, 0, e.message);
            if (imStore.msgListToPush.length > 200) imStore.msgListToPush.splice(0, 100);
            onMessage(e.message, conv);
          } else if (e.kind === "notice") {
            noticeStore.noticeUnreadCountMap[e.group] = e.count;
          } else if (e.kind === "navigate") {
            location.href = e.to;
          }
        });
        cursor = d.cursor;
        setTimeout(poll, 0);
      });
    }
    poll();
  }

  msToken(); // the real SDK sets msToken as soon as a page loads
  var root = document.getElementById("root");
  var pages = { login: pageLogin, works: pageWorks, comment: pageComment, chat: pageChat };
  if (pages[CFG.page]) pages[CFG.page](root);
  window.__SIM_READY__ = true;
})();
