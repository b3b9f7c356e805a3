// Parley demo client: the public REST API and WebSocket protocol (docs/protocol.md), nothing else.
// Plain DOM, no build step. Chat text is only ever set through textContent, never parsed as markup.
'use strict';

const ID_RULE = /^[A-Za-z0-9_-]{1,64}$/;
const TYPING_SEND_EVERY_MS = 3000; // the protocol rate-limits typing; people type in bursts anyway
const TYPING_SHOW_MS = 4000; // a little longer than the sender's interval, so it does not flicker
const LIST_REFRESH_MS = 5000; // nothing pushes "you were added": poll the list while connected
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 15000;
const SYNC_LIMIT = 100;
const MAX_ERRORS_SHOWN = 5;

const $ = (id) => document.getElementById(id);

const state = {
  userId: null,
  device: null,
  token: null,
  ws: null,
  welcomed: false,
  retries: 0,
  retryTimer: null,
  listTimer: null,
  conversations: new Map(), // id -> {conversationId, members, title, lastSeq, readSeq}
  current: null, // the open conversation's id
  messages: new Map(), // conversation id -> Map(seq -> message frame)
  pending: new Map(), // idempotencyKey -> {conversationId, body, failed}
  presence: new Map(), // user id -> {status, lastSeen}
  typing: new Map(), // user id -> timer, for the open conversation only
  reads: new Map(), // conversation id -> Map(user id -> highest read seq)
  readSent: new Map(), // conversation id -> highest read seq this page reported
  lastTypingSent: 0,
};

// ---- small DOM helpers ------------------------------------------------------------------------

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  }
  for (const child of children) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function time(iso) {
  return iso ? new Date(iso).toLocaleTimeString() : '';
}

function showError(text) {
  const list = $('errors');
  const item = el('li', { 'data-testid': 'error', title: 'click to dismiss' }, text);
  item.addEventListener('click', () => item.remove());
  list.append(item);
  while (list.children.length > MAX_ERRORS_SHOWN) list.firstElementChild.remove();
}

function errorText(body, response) {
  return body && body.error ? `${body.error.code}: ${body.error.message}` : `HTTP ${response.status}`;
}

// ---- sign in ----------------------------------------------------------------------------------

async function signIn(event) {
  event.preventDefault();
  const userId = $('signin-user').value.trim();
  const device = $('signin-device').value.trim() || 'browser';
  if (!ID_RULE.test(userId) || !ID_RULE.test(device)) {
    showError('names and devices are 1 to 64 characters of A-Z a-z 0-9 _ -');
    return;
  }
  const token = $('signin-token').value.trim() || (await devToken(userId));
  if (token) start(userId, device, token);
}

/** A token from the node's development endpoint, or null (then the page asks for one). */
async function devToken(userId) {
  try {
    const response = await fetch('/dev/token', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ userId }),
    });
    if (response.status === 404) {
      askForToken();
      return null;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) {
      showError(`sign in: ${errorText(body, response)}`);
      return null;
    }
    return body.token;
  } catch (e) {
    showError(`sign in: ${e.message}`);
    return null;
  }
}

function askForToken() {
  const notice = $('signin-notice');
  notice.textContent =
    'Dev tokens are off on this node (PARLEY_DEV_TOKENS=on enables them locally). ' +
    'Paste a token for this name, e.g. from bin/parley-token.';
  notice.hidden = false;
  $('signin-token-label').hidden = false;
  $('signin-token').focus();
}

function start(userId, device, token) {
  Object.assign(state, { userId, device, token });
  sessionStorage.setItem('parley', JSON.stringify({ userId, device, token }));
  $('signin').hidden = true;
  $('chat').hidden = false;
  $('signout').hidden = false;
  $('whoami').textContent = `${userId} · ${device}`;
  connect();
  loadConversations();
}

/** Forgets the session and starts the page afresh; `reason` is shown after the reload. */
function signOut(reason) {
  sessionStorage.removeItem('parley');
  if (typeof reason === 'string') sessionStorage.setItem('parley-notice', reason);
  state.token = null;
  clearTimeout(state.retryTimer);
  clearInterval(state.listTimer);
  if (state.ws) state.ws.close();
  location.reload();
}

// ---- REST -------------------------------------------------------------------------------------

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = await response.json().catch(() => null);
  if (!response.ok) throw Object.assign(new Error(errorText(json, response)), { response });
  return json;
}

async function loadConversations() {
  try {
    const { conversations } = await api('GET', '/api/conversations');
    conversations.forEach(mergeConversation);
    renderConversations();
  } catch (e) {
    showError(`conversation list: ${e.message}`);
  }
}

function mergeConversation(c) {
  const known = state.conversations.get(c.conversationId) || { lastSeq: 0, readSeq: 0 };
  state.conversations.set(c.conversationId, {
    ...known,
    ...c,
    lastSeq: Math.max(known.lastSeq || 0, c.lastSeq || 0),
    readSeq: Math.max(known.readSeq || 0, c.readSeq || 0),
  });
}

async function createConversation(event) {
  event.preventDefault();
  const members = $('create-members').value.split(/[\s,]+/).filter(Boolean);
  const bad = members.find((m) => !ID_RULE.test(m));
  if (bad) {
    showError(`"${bad}" is not a user id (1 to 64 characters of A-Z a-z 0-9 _ -)`);
    return;
  }
  const title = $('create-title').value.trim();
  try {
    const created = await api('POST', '/api/conversations', {
      members,
      ...(title ? { title } : {}),
    });
    mergeConversation(created);
    $('create').reset();
    openConversation(created.conversationId);
  } catch (e) {
    showError(`create: ${e.message}`);
  }
}

// ---- WebSocket --------------------------------------------------------------------------------

function connect() {
  clearTimeout(state.retryTimer);
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  const query = `access_token=${encodeURIComponent(state.token)}&device=${encodeURIComponent(state.device)}`;
  const ws = new WebSocket(`${scheme}://${location.host}/ws?${query}`);
  state.ws = ws;
  state.welcomed = false;
  setConnection('connecting');
  ws.addEventListener('message', (event) => {
    if (state.ws === ws) onFrame(JSON.parse(event.data));
  });
  ws.addEventListener('close', () => {
    if (state.ws !== ws) return;
    const wasWelcomed = state.welcomed;
    state.ws = null;
    state.welcomed = false;
    clearInterval(state.listTimer);
    if (!wasWelcomed) checkToken();
    scheduleReconnect();
  });
}

/** An upgrade refused before `welcome` may mean the token expired: ask REST, which says why. */
async function checkToken() {
  try {
    await api('GET', '/api/conversations');
  } catch (e) {
    if (e.response && e.response.status === 401) {
      signOut(`the token was refused (${e.message}); sign in again`);
    }
  }
}

function scheduleReconnect() {
  if (!state.token) return;
  // Exponential with jitter, so clients of a node that went away do not all return at once.
  const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** state.retries);
  const delay = Math.round(ceiling * (0.5 + Math.random() / 2));
  state.retries++;
  setConnection('reconnecting', `reconnecting in ${(delay / 1000).toFixed(1)} s`);
  state.retryTimer = setTimeout(connect, delay);
}

function setConnection(stateName, text = stateName) {
  const badge = $('connection');
  badge.dataset.state = stateName;
  badge.textContent = text;
}

function sendFrame(frame) {
  if (!state.ws || !state.welcomed) return false;
  state.ws.send(JSON.stringify(frame));
  return true;
}

function sync(conversationId) {
  sendFrame({ type: 'sync', conversationId, afterSeq: lastSeen(conversationId), limit: SYNC_LIMIT });
}

function onFrame(frame) {
  switch (frame.type) {
    case 'welcome':
      return onWelcome(frame);
    case 'ack':
      return onAck(frame);
    case 'message':
      return onMessage(frame);
    case 'history':
      return onHistory(frame);
    case 'presence':
      state.presence.set(frame.userId, { status: frame.status, lastSeen: frame.lastSeen });
      return renderMembers();
    case 'typing':
      return onTyping(frame);
    case 'receipt':
      return onReceipt(frame);
    case 'error':
      return onError(frame);
    case 'reconnect':
      // The node is going away: leave now; the close handler reconnects (to any node) and syncs.
      setConnection('reconnecting', `server asked to reconnect (${frame.reason})`);
      state.ws.close();
      return undefined;
    default:
      return undefined; // pong, and types a newer server may add
  }
}

function onWelcome(frame) {
  state.welcomed = true;
  state.retries = 0;
  state.userId = frame.userId;
  setConnection('connected', `connected · node ${frame.node.replace(/^pekko:\/\/[^@]*@/, '')}`);
  // Catch up on everything missed while away, then resend unacked sends under their own keys:
  // the server answers a retry with the original ack, so nothing is delivered twice.
  if (state.current) sendFrame({ type: 'open', conversationId: state.current });
  for (const id of state.messages.keys()) sync(id);
  for (const [idempotencyKey, p] of state.pending) {
    if (!p.failed) sendFrame({ type: 'send', conversationId: p.conversationId, idempotencyKey, body: p.body });
  }
  clearInterval(state.listTimer);
  state.listTimer = setInterval(loadConversations, LIST_REFRESH_MS);
}

function onAck(frame) {
  const pending = state.pending.get(frame.idempotencyKey);
  if (!pending) return;
  state.pending.delete(frame.idempotencyKey);
  addMessages(frame.conversationId, [
    { ...frame, type: 'message', senderId: state.userId, body: pending.body },
  ]);
}

function onMessage(frame) {
  const id = frame.conversationId;
  stopTyping(frame.senderId);
  if (!state.messages.has(id)) {
    // Not opened yet: keeping this one message would make the first sync start after it.
    const conversation = state.conversations.get(id);
    if (conversation) conversation.lastSeq = Math.max(conversation.lastSeq || 0, frame.seq);
    else loadConversations();
    renderConversations();
    return;
  }
  // A gap means pushes were missed (e.g. across a node failure): history fills it in.
  if (frame.seq > lastSeen(id) + 1) sync(id);
  addMessages(id, [frame]);
}

function onHistory(frame) {
  addMessages(frame.conversationId, frame.messages);
  if (frame.hasMore) sync(frame.conversationId);
}

function onTyping(frame) {
  if (frame.conversationId !== state.current || frame.userId === state.userId) return;
  clearTimeout(state.typing.get(frame.userId));
  state.typing.set(
    frame.userId,
    setTimeout(() => stopTyping(frame.userId), TYPING_SHOW_MS),
  );
  renderTyping();
}

function stopTyping(userId) {
  if (!state.typing.has(userId)) return;
  clearTimeout(state.typing.get(userId));
  state.typing.delete(userId);
  renderTyping();
}

function onReceipt(frame) {
  if (frame.kind !== 'read') return;
  const reads = state.reads.get(frame.conversationId) || new Map();
  reads.set(frame.userId, Math.max(reads.get(frame.userId) || 0, frame.seq));
  state.reads.set(frame.conversationId, reads);
  if (frame.conversationId === state.current) renderReadMarks();
}

function onError(frame) {
  showError(`${frame.code}: ${frame.message}${frame.ref ? ` (${frame.ref})` : ''}`);
  const pending = state.pending.get(frame.ref);
  if (pending) {
    pending.failed = frame.code;
    renderMessages();
  }
}

// ---- conversations and messages ---------------------------------------------------------------

function lastSeen(conversationId) {
  const messages = state.messages.get(conversationId);
  return messages && messages.size ? Math.max(...messages.keys()) : 0;
}

function addMessages(conversationId, messages) {
  if (!state.messages.has(conversationId)) state.messages.set(conversationId, new Map());
  const known = state.messages.get(conversationId);
  for (const m of messages) known.set(m.seq, m);
  const conversation = state.conversations.get(conversationId);
  if (conversation) conversation.lastSeq = Math.max(conversation.lastSeq || 0, lastSeen(conversationId));
  renderConversations();
  if (conversationId === state.current) {
    renderMessages();
    markRead();
  }
}

function openConversation(conversationId) {
  if (state.current === conversationId) return;
  if (state.current) sendFrame({ type: 'close', conversationId: state.current });
  state.current = conversationId;
  for (const userId of [...state.typing.keys()]) stopTyping(userId);
  if (!state.messages.has(conversationId)) state.messages.set(conversationId, new Map());
  sendFrame({ type: 'open', conversationId });
  sync(conversationId);
  $('conversation').hidden = false;
  renderConversations();
  renderConversation();
  $('composer-input').focus();
}

function sendMessage(event) {
  event.preventDefault();
  const input = $('composer-input');
  const body = input.value;
  if (!state.current || !body.trim()) return;
  const idempotencyKey = crypto.randomUUID();
  state.pending.set(idempotencyKey, { conversationId: state.current, body });
  // Not connected: it stays pending and goes out, under the same key, after the next welcome.
  sendFrame({ type: 'send', conversationId: state.current, idempotencyKey, body });
  input.value = '';
  renderMessages();
}

function retrySend(idempotencyKey) {
  const pending = state.pending.get(idempotencyKey);
  if (!pending) return;
  pending.failed = null;
  sendFrame({ type: 'send', conversationId: pending.conversationId, idempotencyKey, body: pending.body });
  renderMessages();
}

function onComposerInput() {
  const now = Date.now();
  if (!state.current || now - state.lastTypingSent < TYPING_SEND_EVERY_MS) return;
  if (sendFrame({ type: 'typing', conversationId: state.current })) state.lastTypingSent = now;
}

/** Reports the highest seq on screen as read, once per new seq, while the page is visible. */
function markRead() {
  const id = state.current;
  if (!id || document.visibilityState !== 'visible') return;
  const seq = lastSeen(id);
  if (seq <= (state.readSent.get(id) || 0)) return;
  if (sendFrame({ type: 'receipt', conversationId: id, seq, kind: 'read' })) {
    state.readSent.set(id, seq);
    const conversation = state.conversations.get(id);
    if (conversation) conversation.readSeq = Math.max(conversation.readSeq || 0, seq);
    renderConversations();
  }
}

// ---- rendering --------------------------------------------------------------------------------

function titleOf(c) {
  return c.title || c.members.filter((m) => m !== state.userId).join(', ') || c.conversationId;
}

let renderedList = '';

function renderConversations() {
  // The list is polled: rebuilding it unchanged could swallow a click that is under way.
  const signature = JSON.stringify([state.current, state.userId, [...state.conversations.values()]]);
  if (signature === renderedList) return;
  renderedList = signature;
  const items = [...state.conversations.values()].map((c) => {
    const button = el(
      'button',
      { type: 'button' },
      el('strong', { 'data-testid': 'conversation-title' }, titleOf(c)),
      el('span', { class: 'members', 'data-testid': 'conversation-members' }, c.members.join(', ')),
      el(
        'span',
        { class: 'seqs', 'data-testid': 'conversation-seqs', 'data-last-seq': c.lastSeq, 'data-read-seq': c.readSeq },
        `last #${c.lastSeq} · read #${c.readSeq}`,
      ),
    );
    button.addEventListener('click', () => openConversation(c.conversationId));
    const current = c.conversationId === state.current;
    return el(
      'li',
      { 'data-testid': 'conversation', 'data-conversation-id': c.conversationId, 'aria-current': current ? 'true' : null },
      button,
    );
  });
  $('conversations').replaceChildren(...items);
}

function renderConversation() {
  const c = state.conversations.get(state.current);
  const title = $('conversation-title');
  title.textContent = c ? titleOf(c) : state.current;
  title.dataset.conversationId = state.current;
  renderMembers();
  renderMessages();
  renderTyping();
  renderReadMarks();
}

function renderMembers() {
  const c = state.conversations.get(state.current);
  const members = c ? c.members : [];
  $('members').replaceChildren(
    ...members.map((userId) => {
      if (userId === state.userId) return el('li', { class: 'me' }, `${userId} (you)`);
      const p = state.presence.get(userId) || { status: 'unknown' };
      const status =
        p.status === 'offline' && p.lastSeen ? `offline, last seen ${time(p.lastSeen)}` : p.status;
      return el(
        'li',
        { 'data-testid': `presence-${userId}`, 'data-status': p.status, class: p.status },
        `${userId} · ${status}`,
      );
    }),
  );
}

function renderMessages() {
  const id = state.current;
  if (!id) return;
  const known = [...(state.messages.get(id) || new Map()).values()].sort((a, b) => a.seq - b.seq);
  const items = known.map((m) =>
    el(
      'li',
      {
        'data-testid': 'message',
        'data-seq': m.seq,
        'data-sender': m.senderId,
        class: m.senderId === state.userId ? 'mine' : 'theirs',
      },
      el('span', { class: 'sender', 'data-testid': 'message-sender' }, m.senderId),
      el('span', { class: 'body', 'data-testid': 'message-body' }, m.body),
      el('span', { class: 'meta', 'data-testid': 'message-seq' }, `#${m.seq} ${time(m.sentAt)}`),
    ),
  );
  for (const [key, p] of state.pending) {
    if (p.conversationId !== id) continue;
    const meta = el('span', { class: 'meta' }, p.failed ? `not sent (${p.failed}) · retry` : 'sending…');
    const item = el(
      'li',
      { 'data-testid': 'message-pending', class: `mine pending${p.failed ? ' failed' : ''}` },
      el('span', { class: 'sender' }, state.userId),
      el('span', { class: 'body' }, p.body),
      meta,
    );
    if (p.failed) item.addEventListener('click', () => retrySend(key));
    items.push(item);
  }
  const list = $('messages');
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...items);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

function renderTyping() {
  const line = $('typing');
  const who = [...state.typing.keys()];
  line.hidden = who.length === 0;
  line.dataset.users = who.join(',');
  line.textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`;
}

function renderReadMarks() {
  const reads = state.reads.get(state.current) || new Map();
  $('read-marks').replaceChildren(
    ...[...reads.entries()]
      .filter(([userId]) => userId !== state.userId)
      .map(([userId, seq]) =>
        el('li', { 'data-testid': 'read-mark', 'data-user': userId, 'data-seq': seq }, `${userId} read up to #${seq}`),
      ),
  );
}

// ---- start ------------------------------------------------------------------------------------

document.addEventListener('DOMContentLoaded', () => {
  $('signin').addEventListener('submit', signIn);
  $('signout').addEventListener('click', signOut);
  $('create').addEventListener('submit', createConversation);
  $('refresh').addEventListener('click', loadConversations);
  $('composer').addEventListener('submit', sendMessage);
  $('composer-input').addEventListener('input', onComposerInput);
  document.addEventListener('visibilitychange', markRead);
  const notice = sessionStorage.getItem('parley-notice');
  sessionStorage.removeItem('parley-notice');
  if (notice) showError(notice);
  const saved = JSON.parse(sessionStorage.getItem('parley') || 'null');
  if (saved) start(saved.userId, saved.device, saved.token);
});
