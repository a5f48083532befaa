// socklab's classroom page. Read-only: it only listens to /events.
// Every string from the session goes into the page as textContent (or an SVG
// text node), never as markup: a peer's `<script>` shows as those characters.
'use strict';

/** Log rows kept in the page; older ones are removed (the server keeps its own bounded past). */
const MAX_ROWS = 2000;
/** How each kind of log entry is styled, by event type; any other type (a kind added later) gets `other`. */
const ENTRY_STYLE = {
  command: 'cmd',
  listening: 'open',
  connect: 'open',
  accept: 'open',
  data: 'in',
  datagram: 'in',
  send: 'out',
  end: 'fin',
  shutdown: 'fin',
  stop: 'fin',
  close: 'quiet',
  timeout: 'fin',
  error: 'bad',
  'command-error': 'bad',
  'expect-fail': 'bad',
  'expect-ok': 'good',
  note: 'note',
  fold: 'fold',
};
/** Paints the server reads back from the terminal's colours; anything else is shown plain. */
const PAINTS = new Set(['green', 'red', 'yellow', 'cyan', 'magenta', 'blue', 'dim', 'bold', 'command']);

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const log = $('log');
const status = $('status');
const large = $('large');
const follow = $('follow');
let diagram = { participants: [], rows: [] };

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function setStatus(text, state) {
  status.textContent = text;
  status.dataset.state = state;
}

function scrolled() {
  if (follow.checked) log.scrollTop = log.scrollHeight;
}

function addRow(row) {
  log.append(row);
  while (log.childElementCount > MAX_ROWS) log.firstElementChild.remove();
  scrolled();
}

/** A line of the page itself (not of the session): resyncs, what was not kept. */
function addMarker(text) {
  addRow(el('li', 'marker', text));
}

/** The handlers of the stream's event kinds; a kind the page does not know is not listened to. */
const HANDLERS = {
  hello(msg) {
    // A fresh stream is a new session's (or this page's first): what the page showed belongs to another.
    if (msg.mode === 'fresh') log.replaceChildren();
    if (msg.earlier > 0) addMarker(`${msg.earlier.toLocaleString()} earlier events are not kept; the table and the diagram show the whole session now`);
    setStatus('live', 'live');
  },
  log(entry) {
    const row = el('li', `ev ev-${ENTRY_STYLE[entry.type] ?? 'other'}`);
    row.dataset.seq = String(entry.seq);
    row.dataset.type = entry.type;
    row.append(el('span', 'clock', entry.clock));
    const body = el('div', 'body');
    for (const line of entry.lines) {
      const div = el('div', 'line');
      for (const [paint, text] of line) div.append(el('span', PAINTS.has(paint) ? `p-${paint}` : '', text));
      body.append(div);
    }
    row.append(body);
    addRow(row);
  },
  resync(msg) {
    addMarker(`— ${msg.missed.toLocaleString()} events missed here (this view fell behind, or came back too late); the table and the diagram are current —`);
    setStatus('live (resynced)', 'live');
  },
  table(snapshot) {
    const table = $('endpoints');
    const head = el('tr');
    for (const h of snapshot.header) head.append(el('th', '', h));
    table.tHead.replaceChildren(head);
    const rows = snapshot.rows.map((cells) => {
      const tr = el('tr');
      for (const [i, c] of cells.entries()) tr.append(el('td', `col-${snapshot.header[i] ?? 'x'}`, c));
      tr.dataset.state = cells[5] ?? '';
      return tr;
    });
    table.tBodies[0].replaceChildren(...rows);
    $('endpoints-more').textContent = snapshot.rows.length === 0 ? 'nothing open yet' : (snapshot.more ?? '');
  },
  diagram(snapshot) {
    diagram = snapshot;
    $('diagram-note').textContent = snapshot.omitted ?? (snapshot.rows.length === 0 ? 'nothing to draw yet' : '');
    drawDiagram();
  },
};

const SVG = 'http://www.w3.org/2000/svg';
function svg(tag, attrs, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The sequence diagram as SVG: a lane per participant, an arrow or a note per row (the server's timeline model). */
function drawDiagram() {
  const scale = large.checked ? 1.6 : 1;
  const col = 210 * scale;
  const rowH = 26 * scale;
  const top = 30 * scale;
  const { participants, rows } = diagram;
  const x = new Map(participants.map((p, i) => [p, i * col + col / 2]));
  const width = Math.max(participants.length * col, col);
  const height = top + rows.length * rowH + rowH / 2;
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, class: 'seq', role: 'img', 'aria-label': 'sequence diagram' });
  const defs = svg('defs', {});
  const marker = svg('marker', { id: 'head', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' });
  marker.append(svg('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrowhead' }));
  defs.append(marker);
  root.append(defs);
  for (const p of participants) {
    const cx = x.get(p);
    root.append(svg('line', { x1: cx, y1: top - 8 * scale, x2: cx, y2: height, class: 'lane' }));
    root.append(svg('text', { x: cx, y: 16 * scale, class: 'head', 'text-anchor': 'middle' }, cut(p, 20)));
  }
  rows.forEach((row, i) => {
    const y = top + i * rowH + rowH * 0.7;
    if (row.arrow) {
      const a = x.get(row.from) ?? 0;
      const b = x.get(row.to) ?? 0;
      root.append(svg('line', { x1: a, y1: y, x2: b, y2: y, class: `arrow s-${row.style}`, 'marker-end': 'url(#head)' }));
      root.append(svg('text', { x: (a + b) / 2, y: y - 5 * scale, class: `label s-${row.style}`, 'text-anchor': 'middle' }, cut(row.label, Math.max(6, Math.floor(Math.abs(b - a) / (7.5 * scale))))));
    } else {
      root.append(svg('text', { x: x.get(row.at) ?? 0, y, class: 'note', 'text-anchor': 'middle' }, `[${cut(row.label, 24)}]`));
    }
  });
  $('diagram').replaceChildren(root);
  if (follow.checked) $('diagram').scrollTop = $('diagram').scrollHeight;
}

function cut(text, n) {
  const chars = Array.from(text);
  return chars.length <= n ? text : `${chars.slice(0, n - 1).join('')}…`;
}

function applyLarge() {
  document.body.classList.toggle('large', large.checked);
  drawDiagram();
}

function connect() {
  const query = params.has('token') ? `?token=${encodeURIComponent(params.get('token'))}` : '';
  const source = new EventSource(`events${query}`);
  for (const [name, handle] of Object.entries(HANDLERS)) {
    source.addEventListener(name, (e) => handle(JSON.parse(e.data)));
  }
  // The browser reconnects by itself and sends Last-Event-ID: the server goes on after the last entry shown.
  source.addEventListener('error', () => {
    setStatus(source.readyState === EventSource.CLOSED ? 'disconnected (refused, or socklab stopped): reload to try again' : 'reconnecting…', 'down');
  });
}

large.checked = params.get('large') === '1';
large.addEventListener('change', applyLarge);
follow.addEventListener('change', scrolled);
applyLarge();
connect();
