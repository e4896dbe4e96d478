// The playground page: draws what the server says one person sees, and sends what they do.
// Messages and views arrive already rendered from Block Kit (bot/playground/blockkit.py);
// this file only lays them out and turns clicks and forms into the page API's calls.
"use strict";

const $ = (selector) => document.querySelector(selector);
const page = { me: null, channel: null, state: null, modalHash: null, metaOpen: false };

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  const answer = await fetch(path, options);
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok || data.ok === false) {
    toast(data.error ? `Slack said: ${data.error}` : `The playground answered ${answer.status}`);
  }
  return data;
}

function toast(text) {
  const box = $("#toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 4000);
}

function initials(name) {
  return name.split(/\s+/).map((part) => part[0] || "").join("").slice(0, 2).toUpperCase();
}

async function refresh() {
  if (!page.me) return;
  page.state = await api(`/play/state?user=${encodeURIComponent(page.me)}`);
  drawSidebar();
  drawChannel();
  drawModal();
  if (page.metaOpen) drawMeta();
}

function navButton(id, label) {
  const button = document.createElement("button");
  button.type = "button";
  button.className = "nav" + (page.channel === id ? " active" : "");
  button.dataset.channel = id;
  button.textContent = label;
  return button;
}

function drawSidebar() {
  const { channels, dm } = page.state;
  $("#channel-list").replaceChildren(...channels.map((c) => navButton(c.id, `# ${c.name}`)));
  $("#dm-list").replaceChildren(navButton(dm, "pixelbot"));
  document.querySelector("[data-channel=home]").classList.toggle("active", page.channel === "home");
}

function messageElement(shown, inThread) {
  const item = document.createElement("div");
  item.className = "msg" + (shown.ephemeral ? " ephemeral" : "");
  item.dataset.testid = "message";
  item.dataset.ts = shown.ts;
  const avatar = document.createElement("div");
  avatar.className = "avatar" + (shown.bot ? " bot" : "");
  avatar.textContent = initials(shown.author);
  const content = document.createElement("div");
  content.className = "content";
  const head = document.createElement("div");
  const author = document.createElement("span");
  author.className = "author";
  author.textContent = shown.author + (shown.bot ? " APP" : "");
  const meta = document.createElement("span");
  meta.className = "msg-meta";
  meta.textContent = shown.edited ? "(edited)" : "";
  head.append(author, meta);
  const body = document.createElement("div");
  body.className = "body";
  body.innerHTML = shown.html; // rendered and escaped on the server
  content.append(head);
  if (shown.ephemeral) {
    const note = document.createElement("div");
    note.className = "ephemeral-note";
    note.textContent = "Only visible to you";
    content.append(note);
  }
  content.append(body);
  if (!inThread && shown.replies.length) {
    const thread = document.createElement("div");
    thread.className = "thread";
    thread.dataset.testid = "thread";
    thread.append(...shown.replies.map((reply) => messageElement(reply, true)));
    content.append(thread);
  }
  item.append(avatar, content);
  return item;
}

function drawChannel() {
  const { channels, dm, messages, home } = page.state;
  const isHome = page.channel === "home";
  $("#messages").hidden = isHome;
  $("#composer-form").hidden = isHome;
  $("#home").hidden = !isHome;
  if (isHome) {
    $("#channel-title").textContent = "pixelbot · Home";
    $("#channel-purpose").textContent = "";
    $("#home").innerHTML = home ? home.html : "<p>Loading App Home…</p>";
    $("#home").dataset.viewId = home ? home.id : "";
    return;
  }
  const channel = channels.find((c) => c.id === page.channel);
  $("#channel-title").textContent = channel ? `# ${channel.name}` : "pixelbot";
  $("#channel-purpose").textContent = channel ? channel.purpose : "Direct messages with pixelbot";
  const list = $("#messages");
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...(messages[page.channel] || []).map((m) => messageElement(m, false)));
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// Values typed in a modal survive a redraw of the same view (views.update keeps them too).
function inputsOf(root) {
  const kept = {};
  root.querySelectorAll(".bk-input").forEach((field) => {
    const key = `${field.dataset.blockId}/${field.dataset.actionId}/${field.dataset.kind}`;
    kept[key] = [...field.querySelectorAll("input, textarea, select")].map((el) =>
      el.type === "checkbox" ? el.checked : el.multiple ? [...el.selectedOptions].map((o) => o.value) : el.value);
  });
  return kept;
}

function restoreInputs(root, kept) {
  root.querySelectorAll(".bk-input").forEach((field) => {
    const key = `${field.dataset.blockId}/${field.dataset.actionId}/${field.dataset.kind}`;
    const values = kept[key];
    if (!values) return;
    [...field.querySelectorAll("input, textarea, select")].forEach((el, i) => {
      if (el.type === "checkbox") el.checked = values[i];
      else if (el.multiple) [...el.options].forEach((o) => { o.selected = values[i].includes(o.value); });
      else if (values[i] !== "") el.value = values[i];
    });
  });
}

function drawModal() {
  const modal = page.state.modal;
  $("#modal").hidden = !modal;
  if (!modal) { page.modalHash = null; return; }
  const body = $("#modal-body");
  if (page.modalHash === `${modal.id}:${modal.hash}:${modal.html.length}`) return;
  const kept = body.dataset.viewId === modal.id ? inputsOf(body) : {};
  body.innerHTML = modal.html;
  body.dataset.viewId = modal.id;
  restoreInputs(body, kept);
  const view = body.querySelector(".bk-view");
  $("#modal-submit").textContent = (view && view.dataset.submitLabel) || "Submit";
  $("#modal-submit").hidden = !(view && view.dataset.submitLabel);
  $("#modal-cancel").textContent = (view && view.dataset.closeLabel) || "Cancel";
  page.modalHash = `${modal.id}:${modal.hash}:${modal.html.length}`;
}

function option(el) {
  const chosen = el.selectedOptions ? el.selectedOptions[0] : null;
  if (!chosen || !chosen.value) return null;
  return { text: { type: "plain_text", text: chosen.textContent, emoji: true }, value: chosen.value };
}

function stateValues(root) {
  const values = {};
  root.querySelectorAll(".bk-input").forEach((field) => {
    const { blockId, actionId, kind } = field.dataset;
    let value;
    if (kind === "static_select") {
      value = { type: kind, selected_option: option(field.querySelector("select")) };
    } else if (kind === "multi_static_select") {
      const select = field.querySelector("select");
      value = { type: kind, selected_options: [...select.selectedOptions].map((o) => ({ text: { type: "plain_text", text: o.textContent }, value: o.value })) };
    } else if (kind === "checkboxes") {
      const boxes = [...field.querySelectorAll("input[type=checkbox]")].filter((b) => b.checked);
      value = { type: kind, selected_options: boxes.map((b) => ({ text: { type: "plain_text", text: b.parentElement.textContent.trim() }, value: b.value })) };
    } else {
      const input = field.querySelector("input, textarea");
      value = { type: kind || "plain_text_input", value: input && input.value !== "" ? input.value : null };
    }
    values[blockId] = Object.assign(values[blockId] || {}, { [actionId]: value });
  });
  return values;
}

function confirmFirst(confirm) {
  if (!confirm) return Promise.resolve(true);
  return new Promise((resolve) => {
    const text = (part) => (confirm[part] && confirm[part].text) || "";
    $("#confirm-title").textContent = text("title") || "Are you sure?";
    $("#confirm-text").textContent = text("text");
    $("#confirm-yes").textContent = text("confirm") || "Yes";
    $("#confirm-no").textContent = text("deny") || "Cancel";
    $("#confirm").hidden = false;
    const done = (answer) => () => { $("#confirm").hidden = true; resolve(answer); };
    $("#confirm-yes").onclick = done(true);
    $("#confirm-no").onclick = done(false);
  });
}

async function clicked(element) {
  const data = element.dataset;
  if (data.url) { window.open(data.url, "_blank", "noopener"); }
  const confirm = data.confirm ? JSON.parse(data.confirm) : null;
  if (!(await confirmFirst(confirm))) return;
  const action = { type: data.kind || "button", action_id: data.actionId, block_id: data.blockId };
  if (action.type === "button") { action.value = data.value || ""; action.text = element.textContent.trim(); }
  else { action.selected_option = option(element); }
  const inModal = element.closest("#modal-body");
  const inHome = element.closest("#home");
  const body = { user: page.me, action };
  if (inModal || inHome) {
    const root = inModal || inHome;
    body.view_id = root.dataset.viewId;
    body.values = stateValues(root);
  } else {
    body.channel = page.channel;
    body.ts = element.closest(".msg").dataset.ts;
    body.values = stateValues(element.closest(".msg"));
  }
  await api("/play/click", body);
}

function interactive(event) {
  const target = event.target.closest(".bk-button, select[data-action-id]");
  if (!target || target.closest(".bk-input")) return null;
  if (target.tagName === "SELECT" && event.type !== "change") return null;
  if (target.tagName !== "SELECT" && event.type !== "click") return null;
  return target;
}

for (const root of ["#messages", "#home", "#modal-body"]) {
  for (const type of ["click", "change"]) {
    $(root).addEventListener(type, (event) => {
      const target = interactive(event);
      if (target) { event.preventDefault(); clicked(target); }
    });
  }
}

document.addEventListener("click", async (event) => {
  const nav = event.target.closest("[data-channel]");
  if (!nav || !nav.classList.contains("nav")) return;
  page.channel = nav.dataset.channel;
  if (page.channel === "home") await api("/play/home", { user: page.me });
  refresh();
});

$("#composer-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = $("#composer").value.trim();
  if (!text) return;
  if (!/^\/pixel(\s|$)/.test(text)) {
    toast("Only /pixel commands reach pixelbot here: try /pixel help");
    return;
  }
  $("#composer").value = "";
  await api("/play/command", { user: page.me, channel: page.channel, text });
});

$("#composer").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    $("#composer-form").requestSubmit();
  }
});

$("#modal-submit").addEventListener("click", async () => {
  const body = $("#modal-body");
  await api("/play/submit", { user: page.me, view_id: body.dataset.viewId, values: stateValues(body) });
});

$("#modal-cancel").addEventListener("click", async () => {
  await api("/play/close", { user: page.me, view_id: $("#modal-body").dataset.viewId });
});

$("#user-switcher").addEventListener("change", (event) => {
  page.me = event.target.value;
  page.modalHash = null;
  localStorage.setItem("pixelbot-playground-user", page.me);
  if (page.channel && page.channel.startsWith("D")) page.channel = "D" + page.me.slice(1);
  refresh();
});

// --- Meta panel: the sandbox's control API -----------------------------------------------

$("#meta-toggle").addEventListener("click", () => {
  page.metaOpen = !page.metaOpen;
  $("#meta-panel").hidden = !page.metaOpen;
  if (page.metaOpen) drawMeta();
});

async function control(path, body) {
  const options = body === undefined ? {} : {
    method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body),
  };
  const answer = await fetch(`/graph/_sandbox/${path}`, options);
  const data = await answer.json().catch(() => ({}));
  if (!answer.ok) toast(`Meta (simulated) said: ${data.error || answer.status}`);
  return data;
}

async function drawMeta() {
  const [requests, calls] = await Promise.all([control("requests"), control("calls")]);
  const list = $("#meta-requests");
  list.replaceChildren(...(requests.requests || []).map((r) => {
    const item = document.createElement("div");
    item.className = "request";
    item.dataset.testid = "meta-request";
    item.dataset.requestId = r.id;
    const label = document.createElement("div");
    label.textContent = `#${r.id} ${r.request_status}: ${Object.keys(r.assets).join(", ")} → ${r.receiving_business_id}`;
    item.append(label);
    if (r.request_status === "PENDING") {
      for (const [text, path, body] of [
        ["Approve in Business Settings", "decide", { request_status: "APPROVE" }],
        ["Decline in Business Settings", "decide", { request_status: "DECLINE" }],
        ["Let it expire", "expire", {}],
      ]) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = text;
        button.dataset.testid = `meta-${path}-${body.request_status || "expire"}`.toLowerCase();
        button.onclick = async () => { await control(`requests/${r.id}/${path}`, body); drawMeta(); };
        item.append(button);
      }
    }
    return item;
  }));
  if (!list.children.length) list.textContent = "No requests yet: share a pixel first.";
  $("#meta-calls").replaceChildren(...(calls.calls || []).slice(-40).reverse().map((c) => {
    const item = document.createElement("li");
    const params = Object.entries(c.params || {}).map(([k, v]) => `${k}=${v}`).join(" ");
    item.textContent = `${c.method} ${c.path} ${params} → ${c.status}`;
    return item;
  }));
}

document.addEventListener("click", async (event) => {
  const button = event.target.closest("[data-meta]");
  if (!button) return;
  const kind = button.dataset.meta;
  if (kind === "remove-partner") {
    await control("partners/remove", { pixel_id: "300400500600701", business_id: "100200300400502" });
    toast("Bright Agency no longer has Acme Shoes - Website at Meta");
  } else if (kind === "expire-token") {
    await control("tokens/expire", { business_id: "100200300400501" });
    toast("Acme Shoes' tokens expired at Meta");
  } else if (kind === "faults") {
    const latency = Number($("#meta-latency").value) || 0;
    const every = Number($("#meta-rate").value) || 0;
    await control("faults", { latency_ms: latency, rate_limit_every: every });
    toast(`Meta now answers after ${latency} ms` + (every ? `, rate-limiting every ${every}th call` : ""));
  } else if (kind === "reconcile") {
    $("#meta-reconcile-result").textContent = "…";
    const done = await api("/play/reconcile", { user: page.me });
    $("#meta-reconcile-result").textContent = (done.lines || []).slice(0, 2).join("; ");
  }
  drawMeta();
});

// --- start --------------------------------------------------------------------------------

async function start() {
  const first = await fetch("/play/state?user=U0PLAYACME").then((r) => r.json());
  const saved = localStorage.getItem("pixelbot-playground-user");
  page.me = first.people.some((p) => p.id === saved) ? saved : first.people[0].id;
  $("#user-switcher").replaceChildren(...first.people.map((p) => {
    const item = document.createElement("option");
    item.value = p.id;
    item.textContent = `${p.name} — ${p.title}`;
    return item;
  }));
  $("#user-switcher").value = page.me;
  page.channel = first.channels[0].id;
  await refresh();
  const live = new EventSource("/play/live");
  live.onmessage = () => refresh();
}

start();
