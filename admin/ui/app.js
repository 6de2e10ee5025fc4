// The tenant Admin's "Salesforce Integration" page of syncd (served at /admin/).
//
// Plain JavaScript, no build step, no framework. The page runs under a strict
// Content-Security-Policy, so everything is wired up here (no inline handlers)
// and every piece of text that comes from the API is put into the page with
// textContent / text nodes, never as HTML: Salesforce error messages may
// contain anything.
"use strict";

const API = "/api/v1";
const TOKEN_KEY = "syncd.admin.token";
const POLL_MS = 1000; // test call: how often to ask for its state
const POLL_LIMIT_MS = 2 * 60 * 1000; // test call: when to stop asking
const REFRESH_MS = 10 * 1000; // summary and sync log refresh themselves
const TYPING_PAUSE_MS = 5 * 1000; // no refresh this soon after a keystroke
const SEARCH_DEBOUNCE_MS = 400;
const LOG_LIMIT = 50;

const TARGET_NAMES = { salesforce: "Salesforce", kintone: "Kintone" };

const AUTH_MESSAGES = {
  missing: "This page needs a sign-in link from KoeIQ. Open Admin → Settings → Salesforce Integration in KoeIQ again.",
  expired: "Your sign-in link has expired. Open Admin → Settings → Salesforce Integration in KoeIQ again to get a new one.",
  forbidden: "Only a tenant Admin can configure the integration. Ask an Admin of your KoeIQ tenant.",
};

// What the reason of a failed connection check (422 connection_check_failed)
// means, in words an Admin can act on.
const SF_REASONS = {
  wrong_secret: "Salesforce refused the Client Secret. Copy the Consumer Secret of the External Client App again.",
  unknown_client_id: "Salesforce does not know this Client ID. Copy the Consumer Key of the External Client App again; a new app can take a few minutes to be ready.",
  flow_not_enabled: "The Client Credentials Flow is not enabled for this app, or it has no Run As user. In the External Client App, enable the Client Credentials Flow and choose the user it runs as.",
  not_authorized: "Salesforce refused the Run As user or the org: the user or the org may be inactive, or the user may not use this app.",
  unreachable: "Could not reach the Instance URL. Check the My Domain URL and that the org is up.",
  refused: "Salesforce refused the credentials. Check the Client ID and the Client Secret.",
};
const KT_REASONS = {
  wrong_token: "Kintone refused the API token for this app. Generate a token in the app's settings and save it again.",
  not_authorized: "The API token lacks a permission. Give it View, Add and Edit records in the app's settings.",
  unknown_app: "Kintone has no app with this App ID. Check the number in the app's address.",
  unreachable: "Could not reach the Base URL. Check the Kintone address and try again.",
  refused: "Kintone refused the request. Check the API token and the App ID.",
};

const $ = (id) => document.getElementById(id);

const state = {
  token: "",
  stopped: false, // signed out: no more requests, no more timers
  summary: null,
  pack: false, // the tenant has the Audit & Export Pack
  busy: { sf: false, kt: false, retry: false, testCall: false },
  dirty: { sf: false, kt: false }, // the form differs from what is saved
  testCall: null, // { id, target, started, timer }
  sfInstanceURL: "", // the saved Salesforce instance URL: links to Contacts, Leads and Users
  log: { cursors: [""], next: "", seq: 0, busy: false },
  lastTyped: 0,
  refreshTimer: 0,
  searchTimer: 0,
};

// ---------------------------------------------------------------------------
// Small helpers

// h builds an element. Children are nodes or strings (added as text, never
// parsed as HTML); null, undefined and false are skipped.
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (name === "class") el.className = value;
    else if (name === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function fmtNumber(n) {
  return Number(n || 0).toLocaleString("en-US");
}

// fmtTime shows an API timestamp in the browser's local time.
function fmtTime(iso) {
  if (!iso) return "";
  const d = new Date(iso);
  if (Number.isNaN(d.getTime()) || d.getFullYear() <= 1) return ""; // Go's zero time: never
  return d.toLocaleString();
}

// safeURL returns u if it is an http(s) URL, else "": a link's href must
// never be a javascript: URL, whatever the API hands us.
function safeURL(u) {
  try {
    const url = new URL(u);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
  } catch {
    return "";
  }
}

// sentence ends text with a full stop unless it has one.
function sentence(text) {
  return /[.!?…]$/.test(text) ? text : `${text}.`;
}

function plural(n, one, many) {
  return `${fmtNumber(n)} ${n === 1 ? one : many}`;
}

// setStatus replaces what a status area (an aria-live region) says. kind is
// "ok", "error", "info" or "busy"; parts are strings (one paragraph each) or
// nodes.
function setStatus(el, kind, ...parts) {
  el.dataset.kind = kind;
  el.replaceChildren(...parts.filter(Boolean).map((p) => (typeof p === "string" ? h("p", {}, p) : p)));
}

function clearStatus(el) {
  delete el.dataset.kind;
  el.replaceChildren();
}

// ---------------------------------------------------------------------------
// Sign-in: the token comes in the URL fragment and lives in sessionStorage.

const memoryStore = new Map(); // when sessionStorage is not available
function storeGet(key) {
  try { return sessionStorage.getItem(key) || ""; } catch { return memoryStore.get(key) || ""; }
}
function storeSet(key, value) {
  try { sessionStorage.setItem(key, value); } catch { memoryStore.set(key, value); }
}
function storeDelete(key) {
  try { sessionStorage.removeItem(key); } catch { /* nothing stored */ }
  memoryStore.delete(key);
}

// takeTokenFromURL moves a token in the fragment (#token=…) into
// sessionStorage and removes the fragment from the address bar, keeping path
// and query, so the token is neither left in the history nor in a copied link.
// It reports whether there was one.
function takeTokenFromURL() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  if (!params.has("token")) return false;
  const token = params.get("token").trim();
  history.replaceState(history.state, "", location.pathname + location.search);
  if (token) storeSet(TOKEN_KEY, token);
  return token !== "";
}

// signOut shows why the page cannot be used, and nothing else of it.
function signOut(why) {
  if (why !== "missing") storeDelete(TOKEN_KEY);
  stopAll();
  showMessage(AUTH_MESSAGES[why]);
}

// stopAll ends every request loop: after it no request is made.
function stopAll() {
  state.stopped = true;
  clearInterval(state.refreshTimer);
  clearTimeout(state.searchTimer);
  if (state.testCall) clearTimeout(state.testCall.timer);
}

// showMessage hides the page and shows only text in #message.
function showMessage(text) {
  $("app").hidden = true;
  $("loading").hidden = true;
  const box = $("message");
  box.replaceChildren(h("p", {}, text));
  box.hidden = false;
}

// ---------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, body) {
    super(body.message || (status ? `syncd answered HTTP ${status}.` : "Could not reach syncd."));
    this.status = status;
    this.code = body.error || "";
    this.field = typeof body.field === "string" ? body.field : null;
    this.reason = body.reason || "";
  }
}

// api calls syncd's admin API with the Admin's token and returns the parsed
// JSON answer. It throws an ApiError on failure; a 401 or a 403 forbidden
// also signs the page out, so callers only need `if (state.stopped) return`.
async function api(method, path, body) {
  if (state.stopped) throw new ApiError(0, { error: "stopped", message: "Signed out." });
  const headers = { Accept: "application/json", Authorization: `Bearer ${state.token}` };
  const init = { method, headers, credentials: "omit", cache: "no-store" };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, init);
  } catch {
    throw new ApiError(0, { error: "network", message: "Could not reach syncd. Check your connection and try again." });
  }
  let data = null;
  try {
    const text = await res.text();
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null; // e.g. a proxy's HTML error page
  }
  if (res.ok) return data || {};
  const err = new ApiError(res.status, data && typeof data === "object" ? data : {});
  if (res.status === 401) signOut("expired");
  else if (res.status === 403 && err.code === "forbidden") signOut("forbidden");
  throw err;
}

// ---------------------------------------------------------------------------
// Summary: tenant, last 24 h, attention, failed total

async function loadSummary() {
  const s = await api("GET", "/summary");
  state.summary = s;
  state.pack = Boolean(s.tenant && s.tenant.audit_export_pack);
  renderSummary(s);
  updateControls();
}

function renderSummary(s) {
  const tenant = s.tenant || {};
  $("tenant-name").textContent = tenant.name || tenant.id || "";
  document.title = `Salesforce Integration · ${tenant.name || "KoeIQ"} · KoeIQ syncd`;

  const day = s.last_24h || {};
  const count = (n, label, kind) => [h("strong", { class: `count count-${kind}` }, fmtNumber(n)), ` ${label}`];
  const since = fmtTime(s.since);
  const active = TARGET_NAMES[s.integration];
  $("summary").replaceChildren(
    h("p", { class: "summary-line" },
      h("span", { class: "summary-label" }, "Last 24 h: "),
      count(day.synced, "synced", "synced"), " · ",
      count(day.pending, "pending", "pending"), " · ",
      count(day.failed, "failed", "failed"),
      day.skipped ? [" · ", count(day.skipped, "skipped", "skipped")] : null,
      since ? h("span", { class: "muted small" }, ` (since ${since})`) : null),
    h("p", { class: "active-line" },
      active ? `Active integration: ${active}.` : "No integration is enabled: calls are not pushed to a CRM.",
      s.needs_attention ? h("strong", { class: "attention-flag" }, " Needs attention.") : h("span", { class: "ok-flag" }, " All is well.")),
  );

  renderAttention(Array.isArray(s.attention) ? s.attention : []);

  const failed = Number(s.failed || 0);
  $("failed-total").textContent = failed
    ? `${plural(failed, "failed call", "failed calls")} in total${s.pending ? `, ${fmtNumber(s.pending)} pending` : ""}.`
    : `No failed calls${s.pending ? `; ${fmtNumber(s.pending)} pending` : ""}.`;
}

// renderAttention lists what the Admin must do (message + action), as a warning.
function renderAttention(items) {
  const box = $("attention");
  if (!items.length) {
    box.hidden = true;
    box.replaceChildren();
    return;
  }
  box.replaceChildren(
    h("h3", {}, "Needs attention"),
    h("ul", {}, items.map((item) => h("li", { dataset: { code: item.code || "" } },
      h("p", {}, item.message || item.code || ""),
      item.action ? h("p", { class: "action" }, h("strong", {}, "What to do: "), item.action) : null))),
  );
  box.hidden = false;
}

async function retryFailed() {
  const status = $("retry-status");
  state.busy.retry = true;
  updateControls();
  setStatus(status, "busy", "Queuing the failed calls again…");
  try {
    const r = await api("POST", "/calls/retry-failed");
    const n = Number(r.queued || 0);
    setStatus(status, "ok", n ? `Queued ${plural(n, "failed call", "failed calls")} again.` : "There were no failed calls to retry.");
    refreshAll();
  } catch (err) {
    if (state.stopped) return;
    setStatus(status, "error", err.message);
  } finally {
    state.busy.retry = false;
    updateControls();
  }
}

// ---------------------------------------------------------------------------
// Settings forms (Salesforce and Kintone share the code; FORMS says how they
// differ).

const FORMS = {
  sf: {
    name: "Salesforce",
    path: "/integrations/salesforce",
    reasons: SF_REASONS,
    secretField: "client_secret",
    fields: {
      enabled: "sf-enabled",
      instance_url: "sf-instance-url",
      client_id: "sf-client-id",
      client_secret: "sf-client-secret",
      object_type: "sf-object-type",
      external_id_field: "sf-external-id-field",
      link_who: "sf-link-who",
      assign_owner: "sf-assign-owner",
      phone_fields: "sf-phone-fields",
      who_field: "sf-who-field",
      owner_field: "sf-owner-field",
    },
    labels: {
      enabled: "Enable Salesforce mode", instance_url: "Instance URL", client_id: "Client ID", client_secret: "Client Secret",
      object_type: "Object type", external_id_field: "External ID field",
      link_who: "Link each call to the Contact or Lead", assign_owner: "Assign each new record to the agent's user",
      phone_fields: "Extra phone fields", who_field: "Lookup field for the Contact or Lead", owner_field: "Lookup field for the owner",
    },
    fill(st) {
      $("sf-enabled").checked = Boolean(st.enabled);
      $("sf-instance-url").value = st.instance_url || "";
      $("sf-client-id").value = st.client_id || "";
      $("sf-object-type").value = st.object_type || "Task";
      $("sf-external-id-field").value = st.external_id_field || "";
      fillSecret("sf-client-secret", st.client_secret_set);
      $("sf-link-who").checked = Boolean(st.link_who);
      $("sf-assign-owner").checked = Boolean(st.assign_owner);
      $("sf-phone-fields").value = list(st.phone_fields).join(", ");
      $("sf-who-field").value = st.who_field || "";
      $("sf-owner-field").value = st.owner_field || "";
      toggleLookupFields();
      state.sfInstanceURL = st.instance_url || "";
    },
    body() {
      return {
        enabled: $("sf-enabled").checked,
        instance_url: $("sf-instance-url").value.trim(),
        client_id: $("sf-client-id").value.trim(),
        object_type: $("sf-object-type").value.trim(),
        external_id_field: $("sf-external-id-field").value.trim(),
        // Call matching (SPEC §5.6): always sent, so what is saved is what the form shows.
        link_who: $("sf-link-who").checked,
        assign_owner: $("sf-assign-owner").checked,
        phone_fields: $("sf-phone-fields").value.split(",").map((f) => f.trim()).filter(Boolean),
        who_field: $("sf-who-field").value.trim(),
        owner_field: $("sf-owner-field").value.trim(),
      };
    },
    saved: (st) => (st.enabled ? "Saved. Salesforce accepted the credentials." : "Saved (disabled)."),
    renderTest: renderSalesforceTest,
  },
  kt: {
    name: "Kintone",
    path: "/integrations/kintone",
    reasons: KT_REASONS,
    secretField: "api_token",
    fields: { enabled: "kt-enabled", base_url: "kt-base-url", app_id: "kt-app-id", api_token: "kt-api-token" },
    labels: { enabled: "Enable Kintone mode", base_url: "Base URL", app_id: "App ID", api_token: "API token" },
    fill(st) {
      $("kt-enabled").checked = Boolean(st.enabled);
      $("kt-base-url").value = st.base_url || "";
      $("kt-app-id").value = st.app_id ? String(st.app_id) : "";
      fillSecret("kt-api-token", st.api_token_set);
    },
    body() {
      const raw = $("kt-app-id").value.trim();
      const appID = raw === "" ? 0 : Number(raw);
      if (!Number.isSafeInteger(appID) || appID < 0) {
        throw new ApiError(400, { error: "invalid_request", field: "app_id", message: "App ID must be a whole number, such as 12." });
      }
      return { enabled: $("kt-enabled").checked, base_url: $("kt-base-url").value.trim(), app_id: appID };
    },
    saved: (st) => (st.enabled ? "Saved. Kintone accepted the API token." : "Saved (disabled)."),
    renderTest: renderKintoneTest,
  },
};

// toggleLookupFields shows the custom object's lookup fields unless the
// object type is Task (empty means Task), which always uses WhoId and OwnerId.
function toggleLookupFields() {
  const type = $("sf-object-type").value.trim();
  $("sf-lookup-fields").hidden = type === "" || type === "Task";
}

// fillSecret empties a secret field: a stored secret is never shown, and an
// empty field keeps it.
function fillSecret(id, isSet) {
  const input = $(id);
  input.value = "";
  input.placeholder = isSet ? "set — leave empty to keep it" : "not set";
}

async function loadSettings(key) {
  const st = await api("GET", FORMS[key].path);
  renderSettings(key, st);
}

function renderSettings(key, st) {
  FORMS[key].fill(st);
  state.dirty[key] = false;
  clearFieldErrors(key);

  const updated = fmtTime(st.updated_at);
  $(`${key}-updated`).textContent = updated ? `Last saved ${updated}${st.updated_by ? ` by ${st.updated_by}` : ""}.` : "Not configured yet.";

  // The daemon marks the settings when the CRM refused them during a push.
  const note = $(`${key}-attention`);
  note.hidden = !st.attention;
  note.textContent = st.attention
    ? `Calls wait: ${FORMS[key].name} refused the saved settings (${st.attention})${st.attention_at ? ` at ${fmtTime(st.attention_at)}` : ""}. Correct them and save again.`
    : "";
}

async function saveSettings(key) {
  const form = FORMS[key];
  const status = $(`${key}-status`);
  if (state.busy[key]) return;
  clearFieldErrors(key);
  let body;
  try {
    body = form.body();
  } catch (err) {
    showFieldError(key, err.field, err.message);
    setStatus(status, "error", `Nothing was saved: ${err.message}`);
    $(form.fields[err.field]).focus();
    return;
  }
  const secret = $(form.fields[form.secretField]).value.trim();
  if (secret) body[form.secretField] = secret; // omitted: keep the stored one

  state.busy[key] = true;
  updateControls();
  setStatus(status, "busy", body.enabled ? `Saving and checking the credentials with ${form.name}…` : "Saving…");
  try {
    const st = await api("PUT", form.path, body);
    renderSettings(key, st);
    setStatus(status, "ok", form.saved(st));
    refreshSummary();
  } catch (err) {
    if (state.stopped) return;
    setStatus(status, "error", ...explainError(key, err));
    if (err.status === 400 && err.field !== null && showFieldError(key, err.field, err.message)) {
      $(form.fields[err.field]).focus();
    }
    if (err.code === "audit_export_pack_required") refreshSummary();
  } finally {
    state.busy[key] = false;
    updateControls();
  }
}

// explainError turns a failed save or test into status lines: the words for
// a check's reason, the API's own message otherwise.
function explainError(key, err) {
  const form = FORMS[key];
  switch (err.code) {
    case "connection_check_failed": {
      const words = form.reasons[err.reason];
      return words ? [words, detail(err.message)] : [err.message];
    }
    case "invalid_request":
      return [`Nothing was saved: ${fieldMessage(key, err.field, err.message)}`];
    case "not_configured":
      return [`${form.name} is not configured yet. Save the settings first, then test the connection.`];
    default:
      return [err.message];
  }
}

// detail is a smaller line with the API's exact words, for support.
function detail(text) {
  return text ? h("p", { class: "detail" }, `Details: ${text}`) : null;
}

// fieldMessage names the field as its label does: "instance_url must be …"
// reads better as "Instance URL must be …".
function fieldMessage(key, field, message) {
  const label = field != null && FORMS[key].labels[field];
  return label && message.startsWith(`${field} `) ? label + message.slice(field.length) : message;
}

// showFieldError shows message next to the field the API named, marks the
// field invalid and links the message to it. It reports whether the form has
// that field.
function showFieldError(key, field, message) {
  const id = FORMS[key].fields[field];
  const input = id && $(id);
  if (!input) return false;
  const group = input.closest("[hidden]");
  if (group) group.hidden = false; // e.g. a lookup field while the object type reads Task
  const text = fieldMessage(key, field, message);
  const errID = `${id}-error`;
  let p = $(errID);
  if (!p) {
    p = h("p", { id: errID, class: "field-error" });
    input.closest(".field").append(p);
  }
  p.textContent = text;
  input.setAttribute("aria-invalid", "true");
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
  if (!described.includes(errID)) input.setAttribute("aria-describedby", [...described, errID].join(" "));
  return true;
}

function clearFieldError(input) {
  const errID = `${input.id}-error`;
  const p = $(errID);
  if (p) p.remove();
  input.removeAttribute("aria-invalid");
  const described = (input.getAttribute("aria-describedby") || "").split(" ").filter((id) => id && id !== errID);
  if (described.length) input.setAttribute("aria-describedby", described.join(" "));
  else input.removeAttribute("aria-describedby");
}

function clearFieldErrors(key) {
  for (const id of Object.values(FORMS[key].fields)) clearFieldError($(id));
}

async function testConnection(key) {
  const form = FORMS[key];
  const status = $(`${key}-status`);
  if (state.busy[key]) return;
  state.busy[key] = true;
  updateControls();
  setStatus(status, "busy", `Testing the saved settings with ${form.name}…`);
  try {
    const report = await api("POST", `${form.path}/test`);
    const parts = form.renderTest(report);
    if (state.dirty[key]) parts.push(h("p", { class: "detail" }, "This tested the saved settings; save your changes to test them."));
    setStatus(status, report.ok ? "ok" : "error", ...parts);
  } catch (err) {
    if (state.stopped) return;
    setStatus(status, "error", ...explainError(key, err));
  } finally {
    state.busy[key] = false;
    updateControls();
  }
}

const list = (items) => (Array.isArray(items) ? items.filter(Boolean) : []);

// fieldsLine is "Missing fields: A, B." or null.
function fieldsLine(label, items) {
  const names = list(items);
  return names.length ? h("p", {}, `${label}: `, h("code", {}, names.join(", ")), ".") : null;
}

function problemsList(problems) {
  const items = list(problems);
  return items.length ? h("ul", { class: "problems" }, items.map((p) => h("li", {}, p))) : null;
}

function renderSalesforceTest(r) {
  const parts = [];
  const object = r.object_type || "the object";
  if (r.ok) parts.push(`Connected to ${r.instance_url || "Salesforce"}. All fields syncd writes are there and writable.`);
  else parts.push(`Salesforce answered, but pushing to ${object} would fail:`);
  parts.push(
    problemsList(r.problems),
    fieldsLine(`Missing fields on ${object}`, r.missing_fields),
    fieldsLine("Not createable (check field-level security for the Run As user)", r.not_createable_fields),
    fieldsLine("Not updateable (check field-level security for the Run As user)", r.not_updateable_fields),
  );
  // The Go struct may come without JSON tags (Used/Max); accept both spellings.
  const usage = r.api_usage;
  if (usage) {
    const used = usage.used ?? usage.Used;
    const max = usage.max ?? usage.Max;
    if (Number.isFinite(used) && Number.isFinite(max)) {
      parts.push(h("p", { class: "usage" }, `${fmtNumber(used)} of ${fmtNumber(max)} API requests used in the last 24 h.`));
    }
  }
  return parts.filter(Boolean);
}

function renderKintoneTest(r) {
  const parts = [];
  if (r.ok) parts.push(`Connected to app ${r.app_id} on ${r.base_url || "Kintone"}. All fields syncd writes are there.`);
  else parts.push("Kintone answered, but pushing to the app would fail:");
  parts.push(problemsList(r.problems), fieldsLine("Missing fields", r.missing_fields));
  return parts.filter(Boolean);
}

// ---------------------------------------------------------------------------
// Send a test call, and follow it until its record exists.

async function sendTestCall() {
  const status = $("test-call-status");
  if (state.testCall) return;
  state.busy.testCall = true;
  updateControls();
  setStatus(status, "busy", "Sending a test call…");
  try {
    const r = await api("POST", "/test-call");
    state.testCall = { id: r.call_id, target: r.target, started: Date.now(), timer: 0 };
    showTestCall("busy", "Queued…");
    pollTestCall(state.testCall);
  } catch (err) {
    if (state.stopped) return;
    state.busy.testCall = false;
    updateControls();
    setStatus(status, "error", err.code === "not_enabled" ? "No integration is enabled. Enable one and save its settings first." : err.message);
  }
}

// showTestCall says what became of the test call: "Test call test-…: <what>".
function showTestCall(kind, what, ...more) {
  const tc = state.testCall;
  setStatus($("test-call-status"), kind, h("p", {}, "Test call ", h("code", {}, tc.id), `: ${what}`), ...more);
}

function pollTestCall(tc) {
  if (state.stopped || state.testCall !== tc) return;
  if (Date.now() - tc.started > POLL_LIMIT_MS) {
    showTestCall("error", "no record after 2 minutes, so this page stopped watching. Look for the call in the sync log below.");
    finishTestCall();
    return;
  }
  api("GET", `/calls/${encodeURIComponent(tc.id)}/sync`)
    .then((res) => {
      if (state.testCall !== tc) return;
      if (!renderTestCallState(tc, res)) tc.timer = setTimeout(pollTestCall, POLL_MS, tc);
    })
    .catch((err) => {
      if (state.stopped || state.testCall !== tc) return;
      // 404: not dispatched yet, so syncd does not know the call. Otherwise
      // a hiccup: keep asking until the 2 minutes are up.
      if (err.status === 404) showTestCall("busy", "Queued…");
      else showTestCall("busy", "waiting…", h("p", { class: "detail" }, `Could not ask for its state: ${err.message}`));
      tc.timer = setTimeout(pollTestCall, POLL_MS, tc);
    });
}

// renderTestCallState shows one answer of GET /calls/{id}/sync and reports
// whether the test call is done (synced or failed).
function renderTestCallState(tc, res) {
  const targets = list(res.targets);
  const t = targets.find((x) => x.target === tc.target) || targets[0];
  const where = TARGET_NAMES[(t && t.target) || tc.target] || "the CRM";
  if (!t) {
    const dispatched = list(res.events).some((e) => e.dispatched_at);
    showTestCall("busy", dispatched ? "Pushing…" : "Queued…");
    return false;
  }
  if (t.state === "synced") {
    const href = safeURL(t.record_url);
    const link = href
      ? h("p", {}, h("a", { id: "test-call-link", class: "record-link", href, target: "_blank", rel: "noopener noreferrer" }, `Open the record in ${where}`))
      : h("p", {}, `Record ${t.record_id || ""}`);
    showTestCall("ok", `Synced. Its record exists in ${where}.`, link);
    finishTestCall();
    return true;
  }
  if (t.state === "failed") {
    showTestCall("error", `Failed after ${plural(t.attempts || 0, "attempt", "attempts")}.`, h("p", { class: "last-error" }, t.last_error || "No error was recorded."));
    finishTestCall();
    return true;
  }
  // pending: being pushed, or waiting for another attempt
  showTestCall("busy", "Pushing…",
    t.last_error ? h("p", { class: "detail" }, `Attempt ${t.attempts} failed and will be retried: ${t.last_error}`) : null);
  return false;
}

function finishTestCall() {
  if (state.testCall) clearTimeout(state.testCall.timer);
  state.testCall = null;
  state.busy.testCall = false;
  updateControls();
  refreshAll();
}

// ---------------------------------------------------------------------------
// Sync log

function logCursor() {
  return state.log.cursors[state.log.cursors.length - 1];
}

function logFilters() {
  return { state: $("log-state").value, q: $("log-q").value.trim() };
}

// loadLog fetches the current page. Only the newest request's answer is
// shown, so fast filter changes cannot leave an older list on screen.
async function loadLog() {
  const seq = ++state.log.seq;
  const params = new URLSearchParams({ limit: String(LOG_LIMIT) });
  const { state: st, q } = logFilters();
  if (st) params.set("state", st);
  if (q) params.set("q", q);
  if (logCursor()) params.set("after", logCursor());
  state.log.busy = true;
  $("log").setAttribute("aria-busy", "true");
  try {
    const r = await api("GET", `/calls?${params}`);
    if (seq !== state.log.seq) return;
    renderLog(list(r.calls), r.next_after || "");
    if ($("log-status").dataset.kind === "error") clearStatus($("log-status"));
  } catch (err) {
    if (state.stopped || seq !== state.log.seq) return;
    setStatus($("log-status"), "error", `Could not load the sync log: ${err.message}`);
  } finally {
    if (seq === state.log.seq) {
      state.log.busy = false;
      $("log").removeAttribute("aria-busy");
    }
  }
}

// firstPage starts the log over, e.g. after the filter changed.
function firstPage() {
  state.log.cursors = [""];
  loadLog();
}

function renderLog(calls, next) {
  const body = $("log-body");
  // Keep keyboard focus on the same row's button across a re-render.
  const focused = body.contains(document.activeElement) ? document.activeElement : null;
  const focusRow = focused && focused.closest("tr") ? focused.closest("tr").dataset.callId : null;

  body.replaceChildren(...(calls.length ? calls.map(logRow) : [emptyRow()]));
  state.log.next = next;

  const { q } = logFilters();
  $("log-caption").textContent = q
    ? "The tenant's calls whose ID begins with the search, in call ID order."
    : "The tenant's calls and what became of their push, newest first.";
  $("log-page").textContent = `Page ${state.log.cursors.length}`;
  updateControls();

  if (focusRow != null) {
    const row = [...body.rows].find((r) => r.dataset.callId === focusRow);
    const button = row && row.querySelector("button.resync");
    if (button && !button.disabled) button.focus();
    else $("log-refresh").focus();
  }
}

function emptyRow() {
  const { state: st, q } = logFilters();
  let text = "No calls yet. Analysed calls appear here once KoeIQ reports them; Send a test call to try the integration.";
  if (state.log.cursors.length > 1) text = "No more calls.";
  else if (st || q) text = "No calls match this filter.";
  return h("tr", { class: "empty" }, h("td", { colspan: "8" }, text));
}

const STATE_LABELS = { synced: "Synced", pending: "Pending", failed: "Failed", skipped: "Skipped" };

function logRow(c) {
  const href = safeURL(c.record_url);
  let record = h("span", { class: "muted" }, "—");
  if (c.record_id && href) {
    record = h("a", { class: "record-link", href, target: "_blank", rel: "noopener noreferrer",
      title: `Open in ${TARGET_NAMES[c.target] || "the CRM"}` }, c.record_id);
  } else if (c.record_id) {
    record = h("span", {}, c.record_id);
  }

  return h("tr", { dataset: { callId: c.call_id, state: c.state } },
    h("th", { scope: "row", class: "call-id" }, h("code", {}, c.call_id), c.test ? h("span", { class: "badge badge-test" }, "test") : null),
    h("td", {}, h("span", { class: `badge badge-${STATE_LABELS[c.state] ? c.state : "other"}` }, STATE_LABELS[c.state] || c.state || "?")),
    h("td", { class: "record" }, record),
    h("td", { class: "link-cell" }, linkedTo(c)),
    h("td", { class: "num" }, fmtNumber(c.attempts)),
    h("td", { class: "last-error" }, lastErrorText(c)),
    h("td", { class: "last-push" }, c.last_push_at ? h("time", { datetime: c.last_push_at }, fmtTime(c.last_push_at)) : h("span", { class: "muted" }, "never")),
    h("td", { class: "row-actions" },
      h("button", { type: "button", class: "resync secondary small", "aria-label": `Resync call ${c.call_id}`, disabled: !state.pack }, "Resync")),
  );
}

// What a call's match result means when it linked nobody ("off" and no
// result yet say nothing).
const MATCH_WORDS = { none: "no match", invalid_number: "number not valid", error: "match failed" };
// Why a record kept the integration's default owner.
const OWNER_NOTES = {
  no_user: "default owner: no active user with the agent's email",
  inactive_user: "default owner: the agent's user is inactive",
  no_agent_email: "default owner: no agent email",
  error: "default owner: the user lookup failed",
};

// sfLink links to a Salesforce record by ID on the saved instance, or is
// null when there is no http(s) instance URL (or the ID looks wrong).
function sfLink(id, cls, text, title) {
  const base = safeURL(state.sfInstanceURL);
  if (!base || !/^[A-Za-z0-9]{15,18}$/.test(id)) return null;
  const href = `${base.replace(/\/+$/, "")}/${encodeURIComponent(id)}`;
  return h("a", { class: cls, href, target: "_blank", rel: "noopener noreferrer", title }, text);
}

// linkedTo is what the Linked to column shows: the Contact or Lead the
// record is linked to (or why none), and the owner syncd set (or why the
// default owner was kept).
function linkedTo(c) {
  const parts = [];
  const match = c.match || "";
  if (c.who_id) {
    const type = c.who_type || "Record";
    const link = sfLink(c.who_id, "who-link", type, `Open the ${type} ${c.who_id} in Salesforce`);
    parts.push(h("span", { class: "who" }, link || `${type} ${c.who_id}`));
  }
  const ambiguous = /^ambiguous:(\d+)$/.exec(match);
  if (ambiguous) {
    parts.push(h("span", { class: "match-note", title: `${ambiguous[1]} people have this number; the most recently changed was chosen.` },
      `newest of ${fmtNumber(Number(ambiguous[1]))}`));
  } else if (!c.who_id && MATCH_WORDS[match]) {
    parts.push(h("span", { class: `match-note match-${match}` }, MATCH_WORDS[match]));
  }
  if (c.owner_id) {
    const link = sfLink(c.owner_id, "owner-link", "Owner", `Open the owner ${c.owner_id} in Salesforce`);
    parts.push(h("span", { class: "owner" }, link || `Owner ${c.owner_id}`));
  } else if (c.owner_note) {
    parts.push(h("span", { class: "owner-note" }, OWNER_NOTES[c.owner_note] || `default owner: ${c.owner_note}`));
  }
  return parts;
}

// lastErrorText is what to show in the Last error column.
function lastErrorText(c) {
  if (c.state === "skipped") return c.skipped_reason || c.last_error || "";
  if (c.state === "pending" && c.retry_at) {
    const next = `next try ${fmtTime(c.retry_at)}`;
    return c.last_error ? `${c.last_error} (${next})` : next;
  }
  return c.last_error || "";
}

async function resync(button) {
  const row = button.closest("tr");
  const id = row.dataset.callId;
  const status = $("log-status");
  button.disabled = true;
  button.dataset.busy = "true";
  button.textContent = "Queuing…";
  let ok = false;
  try {
    await api("POST", `/calls/${encodeURIComponent(id)}/resync`);
    ok = true;
    setStatus(status, "ok", h("p", {}, "Queued again: ", h("code", {}, id), "."));
  } catch (err) {
    if (state.stopped) return;
    setStatus(status, "error", h("p", {}, "Could not resync ", h("code", {}, id), `: ${err.message}`));
  } finally {
    delete button.dataset.busy;
    button.textContent = "Resync";
    button.disabled = !state.pack;
  }
  if (ok) await refreshAll();
}

// ---------------------------------------------------------------------------
// Enabling and disabling controls

// updateControls sets every button's disabled state from the plan, the
// active integration and what is running.
function updateControls() {
  const ro = !state.pack;
  $("pack-notice").hidden = !ro;
  for (const key of ["sf", "kt"]) {
    $(`${key}-fieldset`).disabled = ro;
    $(`${key}-save`).disabled = ro || state.busy[key];
    $(`${key}-test`).disabled = ro || state.busy[key];
    $(`${key}-form`).setAttribute("aria-busy", String(state.busy[key]));
  }
  $("retry-failed").disabled = ro || state.busy.retry;

  const integration = state.summary ? state.summary.integration : "";
  $("test-call").disabled = ro || !integration || state.busy.testCall;
  $("test-call-note").hidden = ro || Boolean(integration);

  for (const b of $("log-body").querySelectorAll("button.resync")) {
    if (!b.dataset.busy) b.disabled = ro;
  }
  $("log-prev").disabled = state.log.cursors.length <= 1;
  $("log-next").disabled = !state.log.next;
}

// ---------------------------------------------------------------------------
// Refreshing

async function refreshSummary() {
  try {
    await loadSummary();
  } catch (err) {
    if (state.stopped) return;
    setStatus($("retry-status"), "error", `Could not refresh the summary: ${err.message}`);
  }
}

function refreshAll() {
  return Promise.all([refreshSummary(), loadLog()]);
}

// autoRefresh runs every 10 s: the summary and the current log page, unless
// the Admin is typing, the tab is hidden or a log request is under way.
function autoRefresh() {
  if (state.stopped || document.hidden || state.log.busy) return;
  if (Date.now() - state.lastTyped < TYPING_PAUSE_MS) return;
  refreshAll();
}

// ---------------------------------------------------------------------------
// Wiring

function wire() {
  for (const key of ["sf", "kt"]) {
    const form = $(`${key}-form`);
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      saveSettings(key);
    });
    form.addEventListener("input", (e) => {
      state.dirty[key] = true;
      if (e.target.getAttribute("aria-invalid")) clearFieldError(e.target);
    });
    $(`${key}-test`).addEventListener("click", () => testConnection(key));
  }

  $("sf-object-type").addEventListener("input", toggleLookupFields);
  $("sf-object-type").addEventListener("change", toggleLookupFields);

  $("retry-failed").addEventListener("click", retryFailed);
  $("test-call").addEventListener("click", sendTestCall);

  $("log-form").addEventListener("submit", (e) => {
    e.preventDefault();
    clearTimeout(state.searchTimer);
    firstPage();
  });
  $("log-state").addEventListener("change", firstPage);
  $("log-q").addEventListener("input", () => {
    clearTimeout(state.searchTimer);
    state.searchTimer = setTimeout(firstPage, SEARCH_DEBOUNCE_MS);
  });
  $("log-refresh").addEventListener("click", () => refreshAll());
  $("log-next").addEventListener("click", () => {
    if (!state.log.next) return;
    state.log.cursors.push(state.log.next);
    loadLog();
  });
  $("log-prev").addEventListener("click", () => {
    if (state.log.cursors.length > 1) state.log.cursors.pop();
    loadLog();
  });
  $("log-body").addEventListener("click", (e) => {
    const button = e.target.closest("button.resync");
    if (button && !button.disabled) resync(button);
  });

  // Typing anywhere in a form holds the automatic refresh back.
  document.addEventListener("input", () => { state.lastTyped = Date.now(); }, true);

  // A new sign-in link opened on this page while it is open only changes
  // the fragment: take the token and start over.
  window.addEventListener("hashchange", () => {
    if (takeTokenFromURL()) location.reload();
  });
}

async function start() {
  wire();
  takeTokenFromURL();
  state.token = storeGet(TOKEN_KEY);
  try {
    if (!state.token) {
      signOut("missing");
      return;
    }
    await Promise.all([loadSummary(), loadSettings("sf"), loadSettings("kt")]);
    await loadLog();
    if (state.stopped) return;
    $("loading").hidden = true;
    $("app").hidden = false;
    state.refreshTimer = setInterval(autoRefresh, REFRESH_MS);
  } catch (err) {
    if (state.stopped) return;
    stopAll();
    showMessage(`The page could not be loaded: ${sentence(err.message)} Reload the page to try again.`);
  } finally {
    // Tests wait for this; it is set however the first load ended.
    document.body.dataset.ready = "true";
  }
}

start();
