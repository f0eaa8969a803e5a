// The caraway dashboard: polls the head's JSON API (the same JSON as
// `caraway list|summary ... --format json`) and redraws each section.
// Values are put in as text, never as HTML: names and errors come from
// user code.
'use strict';

const params = new URLSearchParams(location.search);
// ?refresh=MS changes how often the page asks (default 2 s).
const refreshMs = Math.max(250, Number(params.get('refresh')) || 2000);
const svgNs = 'http://www.w3.org/2000/svg';

function $(id) {
  return document.getElementById(id);
}

async function api(path) {
  const res = await fetch(path, {cache: 'no-store'});
  if (!res.ok) {
    let why = 'HTTP ' + res.status;
    try {
      why = (await res.json()).error || why;
    } catch (e) {
      // The body was not JSON: the status says enough.
    }
    throw new Error(path + ': ' + why);
  }
  return res.json();
}

function bytes(n) {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i + 1 < units.length) {
    n /= 1024;
    ++i;
  }
  return (i === 0 ? String(n) : n.toFixed(1)) + ' ' + units[i];
}

function amount(x) {
  return Number.isInteger(x) ? String(x) : x.toFixed(2);
}

// "CPU 1/2, tpu 0/1": in use of total per resource.
function resourceUse(total, available) {
  return Object.keys(total || {}).sort().map((k) => {
    const used = total[k] - ((available || {})[k] || 0);
    return k + ' ' + amount(used) + '/' + amount(total[k]);
  }).join(', ');
}

function el(tag, text, cls) {
  const x = document.createElement(tag);
  if (text !== undefined && text !== null)
    x.textContent = String(text);
  if (cls)
    x.className = cls;
  return x;
}

function usageBar(used, capacity) {
  const cell = el('td');
  const bar = el('span', null, 'bar');
  const fill = el('span');
  const share = capacity > 0 ? Math.min(1, used / capacity) : 0;
  fill.style.width = (share * 100).toFixed(1) + '%';
  bar.appendChild(fill);
  cell.appendChild(bar);
  cell.appendChild(document.createTextNode(
    bytes(used) + ' of ' + bytes(capacity)));
  return cell;
}

// columns: [header, key or function(row) returning text or a <td>, class]
function fillTable(table, columns, rows, emptyText) {
  table.replaceChildren();
  const head = el('tr');
  for (const [header] of columns)
    head.appendChild(el('th', header));
  table.appendChild(head);
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', emptyText, 'empty');
    td.colSpan = columns.length;
    tr.appendChild(td);
    table.appendChild(tr);
    return;
  }
  for (const row of rows) {
    const tr = el('tr');
    for (const [, key, cls] of columns) {
      const value = typeof key === 'function' ? key(row) : row[key];
      if (value instanceof HTMLElement) {
        tr.appendChild(value);
        continue;
      }
      const state = key === 'state' ? ' state-' + value : '';
      tr.appendChild(el('td', value, (cls || '') + state));
    }
    table.appendChild(tr);
  }
}

// Node ids differ in their first digits; actor, task and object ids share
// their owner's, so those show whole.
function short(id) {
  return (id || '').slice(0, 8);
}

function drawStatus(status) {
  $('node-count').textContent = status.alive_nodes;
  $('node-word').textContent = status.alive_nodes === 1 ? 'node' : 'nodes';
  const cpu = status.total.CPU;
  $('cpu-use').textContent = cpu === undefined
    ? '–' : amount(status.used.CPU || 0) + '/' + amount(cpu);
  let used = 0;
  let capacity = 0;
  for (const n of status.nodes) {
    if (n.state !== 'alive')
      continue;
    used += n.object_store_used;
    capacity += n.object_store_capacity;
  }
  $('store-use').textContent = bytes(used) + ' of ' + bytes(capacity);
  $('pending-count').textContent = status.pending_tasks;
}

function drawNodes(nodes) {
  fillTable($('nodes'), [
    ['ID', (r) => short(r.id), 'mono'],
    ['Address', 'address'],
    ['State', 'state'],
    ['Resources in use', (r) => resourceUse(r.total, r.available)],
    ['Object store', (r) => usageBar(r.object_store_used,
                                     r.object_store_capacity)],
    ['Pending tasks', 'pending_tasks'],
  ], nodes, 'no nodes');
}

function drawActors(actors) {
  $('actor-count').textContent = '(' + actors.length + ')';
  fillTable($('actors'), [
    ['ID', 'id', 'mono'],
    ['State', 'state'],
    ['Class', 'class'],
    ['Name', 'qualified_name'],
    ['Node', 'node_short', 'mono'],
    ['Job', 'job'],
    ['PID', 'pid_text'],
    ['Restarts', 'restarts'],
    ['Death', 'death'],
  ], actors, 'no actors');
}

function drawJobs(jobs) {
  fillTable($('jobs'), [['Job', 'job'], ['Driver', 'driver']], jobs,
            'no jobs');
}

function drawTasks(summary, failed) {
  const states = ['PENDING', 'SCHEDULED', 'RUNNING', 'FINISHED', 'FAILED'];
  fillTable($('task-summary'),
            [['Function', 'function']].concat(
              states.map((s) => [s, s]), [['Total', 'total']]),
            summary, 'no tasks');
  failed.sort((x, y) => y.ended_ns - x.ended_ns);
  fillTable($('failures'), [
    ['Task', 'id', 'mono'],
    ['Function', 'function'],
    ['Node', 'node_short', 'mono'],
    ['Attempts', 'attempts'],
    ['Error', 'error', 'task-error'],
  ], failed.slice(0, 20), 'no failed tasks');
}

function drawObjects(objects, total) {
  $('object-count').textContent = total > objects.length
    ? '(the ' + objects.length + ' largest of ' + total + ')'
    : '(' + objects.length + ')';
  fillTable($('objects'), [
    ['ID', 'id', 'mono'],
    ['State', 'state'],
    ['Size', 'size_text'],
    ['Made by', 'made_by'],
    ['Owner', 'owner'],
    ['Where', 'where'],
    ['Copies', 'copies'],
    ['Held by', (r) => holders(r)],
  ], objects, 'no objects');
}

function holders(r) {
  const parts = [];
  if (r.local_refs)
    parts.push(r.local_refs + ' local');
  if (r.submitted_refs)
    parts.push(r.submitted_refs + ' tasks');
  if (r.contained_refs)
    parts.push(r.contained_refs + ' objects');
  if (r.borrowers)
    parts.push(r.borrowers + ' borrowers');
  return parts.join(', ');
}

// The trace as bars: a row per worker process, time left to right.
function drawTimeline(trace) {
  const box = $('timeline');
  box.replaceChildren();
  const names = new Map();
  const spans = [];
  for (const e of trace.traceEvents) {
    if (e.ph === 'M' && e.name === 'process_name')
      names.set(e.pid + '', e.args.name);
    else if (e.ph === 'M' && e.name === 'thread_name')
      names.set(e.pid + '/' + e.tid, e.args.name);
    else if (e.ph === 'X')
      spans.push(e);
  }
  if (spans.length === 0) {
    box.appendChild(el('p', 'no tasks ran yet', 'muted'));
    return;
  }
  // The latest spans only: thousands of bars would only slow the page.
  const shown = 2000;
  if (spans.length > shown) {
    spans.splice(0, spans.length - shown);
    box.appendChild(el('p', 'the latest ' + shown + ' tasks', 'muted'));
  }
  const rows = [...new Set(spans.map((e) => e.pid + '/' + e.tid))].sort();
  const start = Math.min(...spans.map((e) => e.ts));
  const end = Math.max(...spans.map((e) => e.ts + e.dur));
  const width = 1000;
  const label = 260;
  const rowHeight = 18;
  const scale = (width - label) / Math.max(1, end - start);
  const svg = document.createElementNS(svgNs, 'svg');
  svg.setAttribute('viewBox', '0 0 ' + width + ' ' + (rows.length * rowHeight
                                                       + 20));
  rows.forEach((row, i) => {
    const text = document.createElementNS(svgNs, 'text');
    text.setAttribute('x', 0);
    text.setAttribute('y', i * rowHeight + 13);
    const node = names.get(row.split('/')[0]) || '';
    text.textContent = (names.get(row) || row) + ' · '
      + node.replace(/^node (\w{8})\w*$/, 'node $1');
    svg.appendChild(text);
  });
  for (const e of spans) {
    const rect = document.createElementNS(svgNs, 'rect');
    rect.setAttribute('x', label + (e.ts - start) * scale);
    rect.setAttribute('y', rows.indexOf(e.pid + '/' + e.tid) * rowHeight + 2);
    rect.setAttribute('width', Math.max(1, e.dur * scale));
    rect.setAttribute('height', rowHeight - 4);
    rect.setAttribute('class', e.args.state);
    const title = document.createElementNS(svgNs, 'title');
    title.textContent = e.name + ' ' + (e.dur / 1000).toFixed(1) + ' ms'
      + (e.args.error ? ': ' + e.args.error : '');
    rect.appendChild(title);
    svg.appendChild(rect);
  }
  const axis = document.createElementNS(svgNs, 'text');
  axis.setAttribute('x', width);
  axis.setAttribute('y', rows.length * rowHeight + 15);
  axis.setAttribute('text-anchor', 'end');
  axis.textContent = ((end - start) / 1e6).toFixed(2) + ' s';
  svg.appendChild(axis);
  box.appendChild(svg);
}

let polls = 0;

async function refresh() {
  try {
    const objects = await fetch('/api/objects?limit=20', {cache: 'no-store'});
    if (!objects.ok)
      throw new Error('/api/objects: HTTP ' + objects.status);
    const objectTotal = Number(objects.headers.get('X-Objects-Total'));
    const [status, actors, jobs, summary, failed, trace] = await Promise.all([
      api('/api/status'),
      api('/api/actors?limit=1000'),
      api('/api/jobs?limit=1000'),
      api('/api/summary/tasks?limit=1000'),
      api('/api/tasks?limit=10000&filter='
          + encodeURIComponent('state=FAILED')),
      // The whole task table: read every fifth time only.
      polls % 5 === 0 ? api('/api/timeline') : null,
    ]);
    drawStatus(status);
    drawNodes(status.nodes);
    drawActors(actors);
    drawJobs(jobs);
    drawTasks(summary, failed);
    drawObjects(await objects.json(), objectTotal);
    if (trace)
      drawTimeline(trace);
    ++polls;
    $('error').hidden = true;
    $('updated').textContent = 'updated ' + new Date().toLocaleTimeString();
    document.body.dataset.refreshed = String(
      Number(document.body.dataset.refreshed || 0) + 1);
  } catch (e) {
    $('error').textContent = 'Cannot read the cluster: ' + e.message;
    $('error').hidden = false;
  }
  setTimeout(refresh, refreshMs);
}

refresh();
