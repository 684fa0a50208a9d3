// mockbay inspector: polls the admin API for new exchanges and shows one in full.
// Plain JavaScript, no dependencies. Everything shown is set with textContent (never innerHTML),
// since requests and replies are arbitrary text.
"use strict";

const POLL_MS = 1000;
const RESYNC = 15;
const MAX_ROWS = 1000; // rows drawn at once (newest first); the filter reaches the whole journal
const token = new URLSearchParams(location.search).get("token");
const headers = token ? { "x-mockbay-admin-token": token } : {};

const exchanges = new Map(); // seq -> journal entry
let shown = []; // entries in the list, in order
let selected = null; // request_id of the selected row
let opened = null; // request_id shown in the detail pane
let lastSeq = 0;

const $ = (id) => document.getElementById(id);
const rows = $("rows");
const filters = { text: $("f-text"), scenario: $("f-scenario"), status: $("f-status"), model: $("f-model") };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, as = "json") {
  const reply = await fetch(`/_mockbay/${path}`, { headers });
  if (!reply.ok) throw new Error(`${path}: HTTP ${reply.status}`);
  return as === "json" ? reply.json() : reply.text();
}

// ---- the list ----------------------------------------------------------------------------

function lastUserText(body) {
  const messages = body && Array.isArray(body.messages) ? body.messages : [];
  for (let i = messages.length - 1; i >= 0; i--) {
    if (messages[i].role !== "user") continue;
    const content = messages[i].content;
    if (typeof content === "string") return content;
    if (Array.isArray(content)) return content.filter((b) => b.type === "text").map((b) => b.text).join(" ");
  }
  return "";
}

function answeredBy(entry) {
  if (entry.scenario && !entry.generated) return entry.scenario;
  if (entry.generated) return "(generated)";
  if (entry.missed) return "(unmatched)";
  return "";
}

function modelOf(entry) {
  return (entry.body && typeof entry.body.model === "string" && entry.body.model) || "";
}

function matches(entry) {
  const text = filters.text.value.trim().toLowerCase();
  if (filters.scenario.value && answeredBy(entry) !== filters.scenario.value) return false;
  if (filters.status.value && String(entry.status)[0] !== filters.status.value) return false;
  if (filters.model.value && modelOf(entry) !== filters.model.value) return false;
  if (!text) return true;
  const haystack = [entry.request_id, entry.path, entry.endpoint, answeredBy(entry), modelOf(entry),
    String(entry.status), lastUserText(entry.body)].join(" ").toLowerCase();
  return haystack.includes(text);
}

function clock(epochSeconds) {
  return new Date(epochSeconds * 1000).toTimeString().slice(0, 8);
}

function row(entry) {
  const by = answeredBy(entry);
  const status = entry.status || "…";
  return el("li", { class: `row${entry.request_id === selected ? " sel" : ""}`, "data-rid": entry.request_id,
      "data-seq": entry.seq, onclick: () => { select(entry.request_id); open(entry.request_id); } },
    el("span", { class: "time" }, clock(entry.started_at)),
    el("span", { class: "req" },
      el("span", {}, `${entry.method} ${entry.endpoint || entry.path}`, entry.stream ? el("span", { class: "tag" }, "stream") : null),
      el("span", { class: "rid" }, entry.request_id)),
    el("span", { class: `status s${String(entry.status)[0]}` }, status),
    el("span", { class: `scenario${entry.scenario && !entry.generated ? "" : " none"}`, title: by }, by || "—"),
    el("span", { class: "model", title: modelOf(entry) }, modelOf(entry)),
    el("span", { class: "num" }, entry.duration_ms ? entry.duration_ms.toFixed(1) : "…"));
}

function fillSelect(select, values) {
  const have = new Set([...select.options].map((o) => o.value));
  for (const value of [...values].sort()) {
    if (value && !have.has(value)) select.append(el("option", { value }, value));
  }
}

function drawList() {
  const all = [...exchanges.values()].sort((a, b) => b.seq - a.seq);
  const next = all.filter(matches).slice(0, MAX_ROWS);
  // Keep what the reader looks at still: rows added above the first visible one push the
  // scroll position down by their height, so nothing moves under the eye or the pointer.
  const rowHeight = rows.firstElementChild ? rows.firstElementChild.offsetHeight : 0;
  const topSeq = shown.length ? shown[Math.min(shown.length - 1, Math.floor(rows.scrollTop / (rowHeight || 1)))].seq : null;
  const scrolled = rows.scrollTop;
  rows.replaceChildren(...next.map(row));
  if (topSeq !== null && scrolled > 0 && rowHeight) {
    const before = shown.findIndex((e) => e.seq === topSeq);
    const after = next.findIndex((e) => e.seq === topSeq);
    if (before >= 0 && after >= 0) rows.scrollTop = scrolled + (after - before) * rowHeight;
  }
  shown = next;
  $("empty").style.display = exchanges.size ? "none" : "";
  $("count").textContent = `${next.length} of ${exchanges.size} exchange${exchanges.size === 1 ? "" : "s"}`;
  fillSelect(filters.scenario, all.map(answeredBy));
  fillSelect(filters.model, all.map(modelOf));
}

let polls = 0;

async function poll() {
  // An exchange still in progress (a stream being sent) is asked for again until it ends; every
  // RESYNC-th poll reads the whole journal, so a reset or a cleared journal shows here too.
  const pending = [...exchanges.values()].filter((e) => !e.duration_ms).map((e) => e.seq);
  const resync = ++polls % RESYNC === 0;
  const after = resync ? 0 : pending.length ? Math.min(...pending) - 1 : lastSeq;
  try {
    const data = await api(`requests?after=${after}`);
    let changed = false;
    if (resync) {
      const kept = new Set(data.requests.map((e) => e.seq));
      for (const seq of [...exchanges.keys()]) {
        if (!kept.has(seq)) { exchanges.delete(seq); changed = true; }
      }
    }
    for (const entry of data.requests) {
      const old = exchanges.get(entry.seq);
      if (!old || old.duration_ms !== entry.duration_ms || old.status !== entry.status) changed = true;
      exchanges.set(entry.seq, entry);
      lastSeq = Math.max(lastSeq, entry.seq);
      if (opened === entry.request_id && old && !old.duration_ms && entry.duration_ms) open(entry.request_id, true);
    }
    if (changed || !shown.length) drawList();
    $("live-dot").className = "dot";
  } catch (error) {
    $("live-dot").className = "dot down";
    $("count").textContent = String(error.message || error);
  }
  setTimeout(poll, POLL_MS);
}

// ---- selection and keys --------------------------------------------------------------------

function select(requestId) {
  selected = requestId;
  for (const node of rows.children) node.classList.toggle("sel", node.dataset.rid === requestId);
  const node = [...rows.children].find((n) => n.dataset.rid === requestId);
  if (node) node.scrollIntoView({ block: "nearest" });
}

function move(step) {
  if (!shown.length) return;
  const index = shown.findIndex((e) => e.request_id === selected);
  const next = index < 0 ? 0 : Math.max(0, Math.min(shown.length - 1, index + step));
  select(shown[next].request_id);
}

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement;
  if (event.key === "Escape" && typing) { event.target.blur(); rows.focus(); return; }
  if (typing || event.metaKey || event.ctrlKey || event.altKey) return;
  if (event.key === "/") { event.preventDefault(); filters.text.focus(); filters.text.select(); }
  else if (event.key === "j" || event.key === "ArrowDown") { event.preventDefault(); move(1); }
  else if (event.key === "k" || event.key === "ArrowUp") { event.preventDefault(); move(-1); }
  else if (event.key === "Enter" && selected) { event.preventDefault(); open(selected); }
});
for (const input of Object.values(filters)) input.addEventListener("input", drawList);

// ---- one exchange ----------------------------------------------------------------------------

function kv(pairs) {
  return el("table", { class: "kv" },
    pairs.filter(([, v]) => v !== undefined && v !== null && v !== "").map(([k, v]) => el("tr", {}, el("td", {}, k), el("td", {}, String(v)))));
}

function json(value) {
  return el("pre", {}, JSON.stringify(value, null, 2));
}

function blockText(block) {
  if (typeof block === "string") return block;
  if (block.type === "text") return block.text;
  if (block.type === "tool_use") return `${block.name}(${JSON.stringify(block.input)})`;
  if (block.type === "tool_result") {
    const content = block.content;
    return `→ ${block.tool_use_id}: ${typeof content === "string" ? content : JSON.stringify(content)}`;
  }
  if (block.type === "thinking") return block.thinking;
  return JSON.stringify(block);
}

function message(role, content) {
  const blocks = typeof content === "string" ? [content] : Array.isArray(content) ? content : [content];
  return el("div", { class: "msg" }, el("div", { class: "role" }, role),
    blocks.map((b) => el("div", {}, typeof b === "object" && b.type && b.type !== "text" ? el("span", { class: "block-kind" }, `${b.type} `) : null,
      el("span", { class: "text" }, blockText(b)))));
}

function requestSection(entry) {
  const body = entry.body || {};
  const parts = [el("h3", {}, "Request"),
    kv([["path", `${entry.method} ${entry.path}`], ["model", body.model], ["max_tokens", body.max_tokens],
      ["stream", body.stream ? "yes" : ""], ["tools", Array.isArray(body.tools) ? body.tools.map((t) => t.name || t.type).join(", ") : ""],
      ["session", entry.session], ["platform", entry.platform]])];
  if (body.system) parts.push(message("system", body.system));
  for (const m of Array.isArray(body.messages) ? body.messages : []) parts.push(message(m.role, m.content));
  parts.push(el("details", {}, el("summary", {}, "Headers (credentials masked)"), kv(Object.entries(entry.headers || {}))));
  parts.push(el("details", {}, el("summary", {}, "Body as sent"), json(entry.body)));
  return parts;
}

function replyText(value) {
  if (typeof value === "string") return value;
  if (value && Array.isArray(value.chunks)) return value.chunks.join("");
  return JSON.stringify(value);
}

function replySection(detail) {
  const reply = detail.reply;
  const parts = [el("h3", {}, "Reply")];
  if (!reply) {
    parts.push(el("p", { class: "none" }, detail.reply_unavailable || "no reply"));
  } else if (reply.error) {
    parts.push(el("div", { class: "answer miss" }, `${reply.error.status} ${reply.error.type}: `, el("span", { class: "text" }, reply.error.message)));
  } else {
    const texts = (reply.content || []).filter((b) => "text" in b).map((b) => replyText(b.text));
    if (texts.length) parts.push(el("div", { class: "msg" }, el("div", { class: "role" }, "assistant"), el("div", { class: "text assembled" }, texts.join("\n"))));
    for (const block of reply.content || []) {
      const kind = Object.keys(block).find((k) => k !== "signature" && k !== "id") || "block";
      if (kind === "text") continue;
      const value = block[kind];
      const shownValue = kind === "tool_use" ? `${value.name}(${JSON.stringify(value.input)})` : replyText(value);
      parts.push(el("div", { class: "msg" }, el("span", { class: "block-kind" }, `${kind} `), el("span", { class: "text" }, shownValue)));
    }
    const usage = reply.usage || {};
    parts.push(kv([["stop_reason", reply.stop_reason], ["id", reply.id], ["model", reply.model],
      ["input_tokens", usage.input_tokens], ["output_tokens", usage.output_tokens],
      ["cache_read_input_tokens", usage.cache_read_input_tokens], ["cache_creation_input_tokens", usage.cache_creation_input_tokens],
      ["fault", reply.fault ? `${reply.fault.kind} after ${reply.fault.after_events} events` : ""]]));
  }
  parts.push(el("details", {}, el("summary", {}, Array.isArray(detail.response) ? `Events as sent (${detail.response.length})` : "Body as sent"), json(detail.response)));
  return parts;
}

function answerSection(entry) {
  const parts = [el("h3", {}, "Answered by")];
  if (entry.scenario && !entry.generated) {
    parts.push(el("div", { class: "answer" }, "scenario ", el("strong", {}, entry.scenario), ", step ", el("code", {}, entry.step || "—"),
      entry.reply_index !== null && entry.reply_index !== undefined ? `, reply ${entry.reply_index + 1} of its sequence` : ""));
    return parts;
  }
  if (!entry.missed) {
    parts.push(el("p", { class: "none" }, entry.endpoint === "messages" ? "not matched (the request was refused before matching)" : "not a Messages request: no scenario involved"));
    return parts;
  }
  const near = entry.near_misses || [];
  parts.push(el("div", { class: "answer miss" },
    entry.generated ? "No scenario matched; the generate fallback answered." : "No scenario matched (strict fallback).",
    near.length ? el("ol", {}, near.map((n) => el("li", {}, el("strong", {}, n.scenario), " failed at ", el("code", {}, n.where), ": ",
      n.failed, el("div", { class: "where" }, n.file)))) : el("div", { class: "where" }, "no scenario came near")));
  return parts;
}

function timelineSection(entry) {
  const planned = entry.planned_offsets_ms || [];
  const observed = entry.observed_offsets_ms || [];
  if (!planned.length) return [];
  const end = Math.max(1, ...planned, ...observed) * 1.04;
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 1000 92");
  svg.setAttribute("preserveAspectRatio", "none");
  const line = (x1, y1, x2, y2, cls) => {
    const node = document.createElementNS(ns, "line");
    for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) node.setAttribute(k, v);
    node.setAttribute("class", cls);
    node.setAttribute("vector-effect", "non-scaling-stroke");
    svg.append(node);
  };
  const x = (ms) => 10 + (ms / end) * 980;
  planned.forEach((ms, i) => {
    line(x(ms), 14, x(ms), 38, "planned");
    if (i < observed.length) line(x(ms), 38, x(observed[i]), 54, "observed");
  });
  observed.forEach((ms) => line(x(ms), 54, x(ms), 78, "observed"));
  const late = observed.map((ms, i) => ms - (planned[i] || 0));
  const worst = late.length ? Math.max(...late) : 0;
  return [el("h3", {}, "Stream timeline"),
    el("div", { class: "timeline" }, svg,
      el("div", { class: "legend" }, `top: planned, bottom: observed · ${planned.length} events over ${Math.max(...planned).toFixed(1)} ms`,
        ` · ${observed.length} sent · latest ${worst.toFixed(2)} ms behind plan`, entry.fault ? ` · fault: ${entry.fault}` : ""))];
}

async function saveScenario(requestId, button) {
  button.disabled = true;
  try {
    const text = await api(`requests/${requestId}/scenario`, "text");
    const link = el("a", { href: URL.createObjectURL(new Blob([text], { type: "application/yaml" })), download: `${requestId}.yaml` });
    document.body.append(link);
    link.click();
    link.remove();
    $("saved").replaceChildren(el("summary", {}, "Scenario YAML (downloaded)"), el("pre", { id: "saved-yaml" }, text));
    $("saved").hidden = false;
    $("saved").open = true;
  } catch (error) {
    $("saved").replaceChildren(el("summary", {}, "Scenario YAML"), el("p", { class: "none" }, String(error.message || error)));
    $("saved").hidden = false;
    $("saved").open = true;
  } finally {
    button.disabled = false;
  }
}

async function open(requestId, quiet) {
  opened = requestId;
  const pane = $("detail");
  let detail;
  try {
    detail = await api(`requests/${requestId}`);
  } catch (error) {
    pane.replaceChildren(el("p", { class: "none" }, String(error.message || error)));
    return;
  }
  if (opened !== requestId) return; // a later choice won
  const canSave = detail.endpoint === "messages" && detail.reply;
  const save = el("button", { id: "save", type: "button", onclick: () => saveScenario(requestId, save) }, "Save as scenario");
  const scroll = quiet ? pane.scrollTop : 0;
  pane.replaceChildren(
    el("h2", {}, `${detail.method} ${detail.endpoint || detail.path}`, el("span", { class: `status s${String(detail.status)[0]}` }, detail.status),
      el("code", { id: "detail-rid" }, detail.request_id)),
    el("div", { class: "legend" }, `${new Date(detail.started_at * 1000).toLocaleString()} · ${detail.duration_ms.toFixed(1)} ms`,
      detail.client_disconnected ? " · client hung up" : ""),
    canSave ? el("div", { class: "actions" }, save) : null,
    el("details", { id: "saved", hidden: true }),
    ...answerSection(detail), ...replySection(detail), ...timelineSection(detail), ...requestSection(detail));
  pane.scrollTop = scroll;
}

poll();
rows.focus();
