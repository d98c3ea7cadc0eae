// IoMT deployment console. Plain script, no build step. Every value shown comes from the authenticated API and is put
// into the page as text (textContent), never as HTML.
"use strict";
(() => {
  const TOKEN_KEY = "iomt-operations-token";
  const $ = (id) => document.getElementById(id);
  const STATUS = {
    Running: ["▶", "s-info"], Baking: ["◔", "s-info"], AwaitingApproval: ["✋", "s-warn"], Paused: ["‖", "s-warn"],
    Halted: ["⊗", "s-bad"], RolledBack: ["↩", "s-bad"], Completed: ["✔", "s-ok"], Superseded: ["⤴", "s-info"],
    Pending: ["○", "s-info"], Deploying: ["▶", "s-info"], Passed: ["✔", "s-ok"], Failed: ["✖", "s-bad"],
  };
  const LABEL = { AwaitingApproval: "Awaiting approval", RolledBack: "Rolled back" };
  const state = { token: null, settings: { refreshSeconds: 5 }, me: null, rollout: null, serverSkewMs: 0, timer: 0, loads: 0 };

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function statusText(s) { const [icon] = STATUS[s] || ["•"]; return `${icon} ${LABEL[s] || s}`; }
  function badge(e, s) { e.textContent = s ? statusText(s) : "–"; e.className = "badge " + ((STATUS[s] || [])[1] || ""); }
  function when(t) { return t ? new Date(t).toLocaleString() : "–"; }
  function say(text) { $("message").textContent = text || ""; }

  async function api(path, options) {
    const response = await fetch("api/" + path, {
      ...options,
      headers: { "Accept": "application/json", "Authorization": "Bearer " + state.token, ...(options && options.body ? { "Content-Type": "application/json" } : {}) },
      cache: "no-store",
    });
    if (response.status === 401) { forgetToken("The token was refused (expired, or issued for another audience). Sign in again."); throw new Error("unauthorized"); }
    const body = response.status === 204 ? null : await response.json().catch(() => null);
    if (!response.ok) {
      const error = new Error(response.status === 403 && !body ? "Your token lacks the role this needs." : (body && (body.detail || body.title)) || `HTTP ${response.status}`);
      error.status = response.status;
      throw error;
    }
    return body;
  }

  // A pasted token (this tab's sessionStorage) wins; otherwise the host's token endpoint, when it has one.
  async function getToken() {
    const pasted = sessionStorage.getItem(TOKEN_KEY);
    if (pasted) return pasted;
    if (state.settings.tokenEndpoint) {
      try {
        const r = await fetch(state.settings.tokenEndpoint, { credentials: "same-origin", cache: "no-store" });
        if (r.ok) { const t = await r.json(); if (t && t.accessToken) return t.accessToken; }
      } catch (e) { /* no token from the endpoint: ask for one */ }
    }
    return null;
  }

  function forgetToken(why) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null; state.me = null;
    clearTimeout(state.timer);
    $("dashboard").hidden = true; $("sign-out").hidden = true;
    $("sign-in").hidden = false; $("who").textContent = "Not signed in";
    say(why);
  }

  async function start() {
    try { state.settings = await (await fetch("settings.json", { cache: "no-store" })).json(); } catch (e) { /* defaults */ }
    state.token = await getToken();
    if (!state.token) { forgetToken(""); $("token-input").focus(); return; }
    try {
      state.me = await api("me");
    } catch (e) {
      if (e.message !== "unauthorized") forgetToken(e.status === 403 ? "Signed in, but your token holds neither the reader nor the operator role." : e.message);
      return;
    }
    $("sign-in").hidden = true; $("dashboard").hidden = false; $("sign-out").hidden = false;
    $("who").textContent = `Signed in as ${state.me.actor} — ${state.me.canOperate ? "Operator" : "Reader (read-only)"}`;
    for (const e of document.querySelectorAll(".operator-only")) e.hidden = !state.me.canOperate;
    await refresh();
  }

  async function refresh() {
    clearTimeout(state.timer);
    const withFleet = state.loads % 6 === 0;
    state.loads++;
    try {
      const [status, rollout, history, pins, fleet] = await Promise.all([
        api("status"), api("rollout"), api("history"), api("pins"), withFleet || !state.fleet ? api("fleet") : Promise.resolve(state.fleet)]);
      state.fleet = fleet;
      state.serverSkewMs = Date.parse(rollout.serverTime) - Date.now();
      renderStatus(status, rollout); renderRollout(rollout); renderFleet(fleet); renderBuilds(status); renderPins(pins); renderHistory(history);
      const active = rollout.active;
      $("refresh-note").textContent = `Updated ${new Date().toLocaleTimeString()}` + (active ? `; refreshes every ${state.me.refreshSeconds} s while the rollout is active.` : "; no rollout is active, so the page does not refresh by itself.");
      if (active) state.timer = setTimeout(refresh, state.me.refreshSeconds * 1000);
    } catch (e) {
      if (e.message !== "unauthorized") { say("Could not refresh: " + e.message); state.timer = setTimeout(refresh, state.me.refreshSeconds * 1000 * 3); }
    }
  }

  function renderStatus(status, r) {
    $("current").textContent = status.current || "none yet";
    $("in-flight").textContent = status.inFlight || "none";
    $("candidate").textContent = status.candidate || "none";
    badge($("rollout-status"), r.rollout ? r.rollout.status : null);
  }

  function renderRollout(r) {
    const ro = r.rollout;
    state.rollout = ro;
    const waves = $("waves"), tbody = waves.querySelector("tbody");
    tbody.replaceChildren();
    if (!ro) { $("rollout-summary").textContent = "No progressive rollout yet."; waves.hidden = true; $("bake").hidden = true; $("status-reason").hidden = true; return; }
    $("rollout-summary").textContent = `Rollout ${ro.id}: build ${ro.from || "none"} → ${ro.target}, ${statusText(ro.status)}, wave ${ro.wave + 1} of ${ro.waves.length}, started ${when(ro.startedAt)}.`;
    const reason = $("status-reason");
    reason.hidden = !ro.statusReason; reason.textContent = ro.statusReason ? "Reason: " + ro.statusReason : "";
    waves.hidden = false;
    ro.waves.forEach((w, i) => {
      const tr = el("tr", null, i === ro.wave && r.active ? "current-wave" : "");
      const name = el("th", w.name + (i === ro.wave && r.active ? " (current)" : "")); name.scope = "row"; tr.append(name);
      const st = el("td"); const b = el("span", statusText(w.status), (STATUS[w.status] || [])[1]); st.append(b); tr.append(st);
      for (const n of [w.connectors, w.updated, w.failed, w.unhealthy, w.noData, w.deleted]) tr.append(el("td", n, "num"));
      tr.append(el("td", w.verdict || "–"));
      tbody.append(tr);
    });
    const failed = $("failed"); failed.replaceChildren();
    for (const f of ro.failedConnectors) failed.append(el("li", `✖ ${f.connector} (wave ${f.wave}): ${f.reason}`));
    if (!ro.failedConnectors.length) failed.append(el("li", "None."));
    const commands = $("commands"); commands.replaceChildren();
    for (const c of [...ro.commands].reverse()) commands.append(el("li", `${when(c.at)} — ${c.action} by ${c.actor}${c.reason ? ": " + c.reason : ""}`));
    if (!ro.commands.length) commands.append(el("li", "None."));
    tickBake();
  }

  function tickBake() {
    const ro = state.rollout, bake = $("bake");
    if (!ro || !ro.bakeUntil || ro.status !== "Baking") { bake.hidden = true; return; }
    const left = Math.max(0, Date.parse(ro.bakeUntil) - (Date.now() + state.serverSkewMs));
    const s = Math.floor(left / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    bake.hidden = false;
    bake.textContent = `◔ Bake ends in ${h ? h + " h " : ""}${m} min ${String(sec).padStart(2, "0")} s (at ${when(ro.bakeUntil)}); the health gate is judged then.`;
  }

  function renderFleet(f) {
    $("fleet-summary").textContent = `${f.total} connectors; current build ${f.current || "none"}${f.target ? ", rollout target " + f.target : ""}; ${f.excluded} excluded, ${f.deleted} deleted.`;
    const chart = $("fleet-chart"); chart.replaceChildren();
    const max = Math.max(1, ...f.versions.map((v) => v.connectors));
    for (const v of f.versions) {
      const li = el("li");
      const tags = [v.isCurrent ? "current" : null, v.isTarget ? "target" : null].filter(Boolean).join(", ");
      li.append(el("span", (v.version ? "build " + v.version : "no version") + (tags ? ` (${tags})` : "")));
      const track = el("span", null, "track"); track.setAttribute("aria-hidden", "true");
      const fill = el("span", null, "fill" + (v.isTarget ? " target" : "")); fill.style.display = "block"; fill.style.width = (100 * v.connectors / max) + "%";
      track.append(fill); li.append(track);
      const pct = f.total ? Math.round(100 * v.connectors / f.total) : 0;
      li.append(el("span", `${v.connectors} connector${v.connectors === 1 ? "" : "s"} (${pct}%)`));
      chart.append(li);
    }
    if (!f.versions.length) chart.append(el("li", "No connectors."));
    const s = $("stragglers"); s.replaceChildren();
    for (const x of f.stragglers) s.append(el("li", `${x.connector}: ${x.version || "no version"}${x.pinnedTo ? " (pinned to " + x.pinnedTo + ")" : ""}${x.error ? " — " + x.error : ""}`));
    if (f.stragglerCount > f.stragglers.length) s.append(el("li", `… and ${f.stragglerCount - f.stragglers.length} more.`));
    if (!f.stragglerCount) s.append(el("li", "None."));
  }

  function actionButton(text, action, data, cls) {
    const b = el("button", text, cls); b.type = "button"; b.dataset.action = action;
    for (const [k, v] of Object.entries(data)) b.dataset[k] = v;
    return b;
  }

  function renderBuilds(status) {
    const tbody = $("builds").querySelector("tbody"); tbody.replaceChildren();
    for (const b of [...status.builds].reverse()) {
      const tr = el("tr");
      const th = el("th", b.build); th.scope = "row"; tr.append(th);
      tr.append(el("td", [b.isCurrent && "current", b.isInFlight && "in flight", b.isCandidate && "candidate"].filter(Boolean).join(", ") || "–"));
      const inv = b.invalidation;
      tr.append(el("td", inv ? `✖ Invalidated ${when(inv.at)} by ${inv.actor}: ${inv.reason}` : "✔ Valid", inv ? "s-bad" : ""));
      if (state.me.canOperate) {
        const td = el("td");
        td.append(inv ? actionButton("Reinstate", "reinstate", { build: b.build }) : actionButton("Invalidate", "invalidate", { build: b.build }, "danger"));
        tr.append(td);
      }
      tbody.append(tr);
    }
  }

  function renderPins(pins) {
    const tbody = $("pins").querySelector("tbody"); tbody.replaceChildren();
    for (const p of pins) {
      const tr = el("tr");
      const th = el("th", p.connector); th.scope = "row"; tr.append(th);
      tr.append(el("td", p.excluded ? "⊘ excluded from rollouts" : "⚑ build " + p.build));
      tr.append(el("td", p.reason)); tr.append(el("td", `${p.actor}, ${when(p.at)}`));
      if (state.me.canOperate) { const td = el("td"); td.append(actionButton("Unpin", "unpin", { connector: p.connector })); tr.append(td); }
      tbody.append(tr);
    }
    if (!pins.length) { const tr = el("tr"); const td = el("td", "No pins."); td.colSpan = 5; tr.append(td); tbody.append(tr); }
  }

  function renderHistory(history) {
    const ol = $("history"); ol.replaceChildren();
    for (const h of history) {
      const counts = Object.entries(h.counts || {}).map(([k, v]) => `${v} ${k}`).join(", ");
      ol.append(el("li", `${when(h.completedAt)} — ${h.succeeded ? "✔ succeeded" : "✖ did not complete"}: ${h.kind} ${h.from || "none"} → ${h.to}${counts ? " (" + counts + ")" : ""}`));
    }
    if (!history.length) ol.append(el("li", "None yet."));
  }

  // The actions: each opens the dialog, which asks for a reason (required where the engine requires one) and confirmation.
  const ACTIONS = {
    pause: { title: "Pause the rollout", text: "No deployment starts until the rollout is resumed; the wave being deployed stops starting connectors.", ok: "Pause rollout", reason: true, call: (f) => api("rollout/pause", post({ reason: f.reason })) },
    resume: { title: "Resume the rollout", text: "The rollout goes on from where it was paused.", ok: "Resume rollout", call: (f) => api("rollout/resume", post({ reason: f.reason })) },
    promote: { title: "Promote the rollout", text: "Ends the current bake or approval now.", ok: "Promote", call: (f) => api("rollout/promote", post({ reason: f.reason })) },
    "promote-full": { title: "Promote in full", text: "Deploys every remaining wave now, without bakes or approvals; each wave is still verified and held to its threshold.", ok: "Promote in full", call: (f) => api("rollout/promote", post({ reason: f.reason, full: true })) },
    abort: { title: "Abort the rollout", text: "Invalidates the target and brings the connectors that received it back to the previous build.", ok: "Abort rollout", reason: true, call: (f) => api("rollout/abort", post({ reason: f.reason })) },
    rollback: { title: "Roll back", text: "Invalidates the build that is current or in flight and rolls the fleet back. Leave the build empty for the newest valid older build.", ok: "Roll back", reason: true, build: "Roll back to build (optional)", call: (f) => api("rollback", post({ reason: f.reason, to: f.build || null })) },
    invalidate: { title: "Invalidate build", text: "No update will pick this build again; connectors are not touched.", ok: "Invalidate", reason: true, call: (f, d) => api(`builds/${encodeURIComponent(d.build)}/invalidate`, post({ reason: f.reason })) },
    reinstate: { title: "Reinstate build", text: "The build becomes valid again; the next check may roll it out.", ok: "Reinstate", call: (f, d) => api(`builds/${encodeURIComponent(d.build)}/reinstate`, post({ reason: f.reason })) },
    pin: { title: "Pin a connector", text: "Holds a connector on a build (no update or rollback moves it), or excludes it from rollouts.", ok: "Pin", reason: true, connector: true, build: "Build", exclude: true, call: (f) => api(`pins/${encodeURIComponent(f.connector)}`, { method: "PUT", body: JSON.stringify({ reason: f.reason, build: f.exclude ? null : f.build, exclude: f.exclude }) }) },
    unpin: { title: "Unpin connector", text: "The next tick brings the connector to the current build.", ok: "Unpin", call: (f, d) => api(`pins/${encodeURIComponent(d.connector)}`, { method: "DELETE" }) },
  };
  function post(body) { return { method: "POST", body: JSON.stringify(body) }; }

  let opener = null, pending = null;
  function openDialog(button) {
    const a = ACTIONS[button.dataset.action];
    if (!a) return;
    opener = button; pending = { action: a, data: { ...button.dataset } };
    const target = button.dataset.build ? ` ${button.dataset.build}` : button.dataset.connector ? ` ${button.dataset.connector}` : "";
    $("confirm-title").textContent = a.title + target;
    $("confirm-text").textContent = a.text;
    $("confirm-ok").textContent = a.ok;
    $("confirm-reason-label").textContent = a.reason ? "Reason (required)" : "Reason (optional)";
    $("confirm-reason").setAttribute("aria-required", a.reason ? "true" : "false"); $("confirm-reason").value = "";
    $("field-connector").hidden = !a.connector; $("confirm-connector").value = ""; $("confirm-connector").setAttribute("aria-required", a.connector ? "true" : "false");
    $("field-build").hidden = !a.build; $("confirm-build").value = ""; $("confirm-build-label").textContent = a.build || "Build";
    $("field-exclude").hidden = !a.exclude; $("confirm-exclude").checked = false;
    $("confirm-error").textContent = "";
    $("confirm").showModal();
    (a.connector ? $("confirm-connector") : $("confirm-reason")).focus();
  }
  function closeDialog() {
    $("confirm").close();
    if (opener && document.contains(opener)) opener.focus(); else $("rollout-status").closest("section").querySelector("h2").focus();
  }
  async function confirmDialog(event) {
    event.preventDefault();
    const f = { reason: $("confirm-reason").value.trim(), build: $("confirm-build").value.trim(), connector: $("confirm-connector").value.trim(), exclude: $("confirm-exclude").checked };
    if (pending.action.reason && !f.reason) { $("confirm-error").textContent = "A reason is required."; $("confirm-reason").focus(); return; }
    if (pending.action.connector && !f.connector) { $("confirm-error").textContent = "A connector id is required."; $("confirm-connector").focus(); return; }
    $("confirm-ok").disabled = true;
    try {
      const result = await pending.action.call(f, pending.data);
      closeDialog();
      say("✔ " + ((result && result.message) || "Done."));
      await refresh();
    } catch (e) {
      if (e.message !== "unauthorized") $("confirm-error").textContent = "✖ " + e.message; else closeDialog();
    } finally { $("confirm-ok").disabled = false; }
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const h of document.querySelectorAll("h2")) h.tabIndex = -1;
    $("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const t = $("token-input").value.trim();
      if (!t) return;
      sessionStorage.setItem(TOKEN_KEY, t); $("token-input").value = ""; say("");
      start();
    });
    $("sign-out").addEventListener("click", () => { forgetToken("The token was forgotten."); $("token-input").focus(); });
    document.addEventListener("click", (e) => { const b = e.target.closest("button[data-action]"); if (b) openDialog(b); });
    $("confirm-form").addEventListener("submit", confirmDialog);
    $("confirm-cancel").addEventListener("click", closeDialog);
    $("confirm").addEventListener("cancel", (e) => { e.preventDefault(); closeDialog(); });
    setInterval(tickBake, 1000);
    start();
  });
})();
