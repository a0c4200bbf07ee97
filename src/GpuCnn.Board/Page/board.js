// The board's page: the run list, the charts of the ticked runs (hand-drawn SVG), and the details
// of one run. Everything comes from the board's /api/ endpoints; new epochs arrive as
// server-sent events while a run trains. The address keeps the choice: #runs=a,b&focus=a.
'use strict';

const LIST_EVERY_MS = 3000;
const PALETTE = ['#0969da', '#cf222e', '#1a7f37', '#8250df', '#bc4c00', '#1b7c83', '#bf3989', '#4d2d00', '#6e7781', '#116329'];
const SVG = 'http://www.w3.org/2000/svg';

// Decimals that tell ticks `step` apart (a point's own value, with no step, gets 4 significant digits).
const decimals = (v, step) => step ? Math.max(0, -Math.floor(Math.log10(step) + 1e-9)) : Math.max(0, 3 - Math.floor(Math.log10(Math.abs(v) || 1)));

// One chart per figure: the metrics.csv columns it draws (a dashed one is validation), and how its values read.
const CHARTS = [
  { figure: 'chart-loss', title: 'Loss', series: [{ key: 'loss' }, { key: 'val_loss', dashed: true }],
    format: (v, step) => v.toFixed(decimals(v, step)) },
  { figure: 'chart-accuracy', title: 'Accuracy', series: [{ key: 'accuracy' }, { key: 'val_accuracy', dashed: true }],
    format: (v, step) => (100 * v).toFixed(step ? decimals(100 * v, 100 * step) : 2) + ' %' },
  { figure: 'chart-learning-rate', title: 'Learning rate', series: [{ key: 'learning_rate' }],
    format: v => Number(v.toPrecision(4)).toExponential() },
  { figure: 'chart-speed', title: 'Images per second (training)', series: [{ key: 'images_per_second' }],
    format: (v, step) => v.toFixed(step ? decimals(v, step) : 0) },
];

const board = {
  runs: [],             // the list as /api/runs last gave it
  ticked: [],           // ids drawn on the charts, in the order they were ticked
  colours: new Map(),   // id -> colour, kept while ticked
  focus: null,          // the id whose details are shown
  loaded: new Map(),    // id -> { rows, state, details } for ticked runs and the focus
  source: null,         // the EventSource of the unfinished ticked runs
  sourceKey: '',
  listed: false,
};

function element(tag, text, className) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  if (className) e.className = className;
  return e;
}

function svg(tag, attributes, text) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

async function fetchJson(url) {
  const response = await fetch(url, { cache: 'no-store' });
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return response.json();
}

const percent = v => v === null || v === undefined ? '' : (100 * v).toFixed(2) + ' %';

// ---- the address ---------------------------------------------------------------------------

function readAddress() {
  const query = new URLSearchParams(location.hash.slice(1));
  return { runs: (query.get('runs') || '').split(',').filter(Boolean), focus: query.get('focus') };
}

function writeAddress() {
  const query = new URLSearchParams();
  if (board.ticked.length) query.set('runs', board.ticked.join(','));
  if (board.focus) query.set('focus', board.focus);
  history.replaceState(null, '', '#' + query.toString());
}

// ---- the run list --------------------------------------------------------------------------

async function refreshList() {
  let answer;
  try {
    answer = await fetchJson('api/runs');
  } catch {
    return; // the board went away for a moment; the next round tries again
  }
  board.runs = answer.runs;
  document.getElementById('root').textContent = answer.root;
  const known = new Set(board.runs.map(r => r.id));
  if (!board.listed) {
    const asked = readAddress();
    const wanted = asked.runs.length ? asked.runs : board.runs.slice(0, 1).map(r => r.id);
    // The runs the address names (or else the newest), once they are all there.
    if (wanted.length && wanted.every(id => known.has(id))) {
      board.listed = true;
      wanted.forEach(tick);
      board.focus = asked.focus || wanted[0];
      writeAddress();
    }
  }
  for (const run of board.runs) {
    const loaded = board.loaded.get(run.id);
    // A run that finished while nobody streamed it (or one that was stopped and resumed) is read again.
    if (loaded && loaded.state !== run.state) loadRun(run.id);
  }
  renderList();
  syncRuns();
  document.body.dataset.listed = String(board.runs.length);
}

function tick(id) {
  if (board.ticked.includes(id)) return;
  board.ticked.push(id);
  const used = new Set(board.colours.values());
  board.colours.set(id, PALETTE.find(c => !used.has(c)) || PALETTE[board.ticked.length % PALETTE.length]);
}

function untick(id) {
  board.ticked = board.ticked.filter(t => t !== id);
  board.colours.delete(id);
}

function renderList() {
  const body = document.querySelector('#run-list tbody');
  body.replaceChildren();
  for (const run of board.runs) {
    const row = element('tr');
    row.dataset.run = run.id;
    if (run.id === board.focus) row.classList.add('focus');
    const box = element('input');
    box.type = 'checkbox';
    box.checked = board.ticked.includes(run.id);
    box.addEventListener('change', () => {
      if (box.checked) tick(run.id); else untick(run.id);
      changed();
    });
    const first = element('td');
    first.append(box);
    if (board.colours.has(run.id)) {
      const swatch = element('span', null, 'swatch');
      swatch.style.backgroundColor = board.colours.get(run.id);
      first.append(swatch);
    }
    const name = element('button', run.id);
    name.addEventListener('click', () => {
      board.focus = run.id;
      changed();
    });
    const nameCell = element('td');
    nameCell.append(name);
    const epochs = run.plannedEpochs ? `${run.epochs} / ${run.plannedEpochs}` : String(run.epochs);
    row.append(first, nameCell, element('td', run.model || ''), element('td', epochs, 'number'),
      element('td', percent(run.valAccuracy), 'number'), element('td', percent(run.testAccuracy), 'number'),
      element('td', run.state, 'state-' + run.state));
    body.append(row);
  }
  const none = document.getElementById('no-runs');
  none.hidden = board.runs.length > 0;
  none.textContent = `No runs here yet. gpucnn train --run-dir ${document.getElementById('root').textContent}/NAME writes one, and it shows up here as it starts.`;
}

function changed() {
  writeAddress();
  renderList();
  syncRuns();
  drawCharts();
  renderDetails();
}

// ---- run data and the live stream ----------------------------------------------------------

async function loadRun(id) {
  let details;
  try {
    details = await fetchJson('api/run?id=' + encodeURIComponent(id));
  } catch {
    return;
  }
  board.loaded.set(id, { rows: details.metrics, state: details.state, details });
  drawCharts();
  if (id === board.focus) renderDetails();
  syncStream();
}

// Loads what the ticked runs and the focus need and forgets the rest.
function syncRuns() {
  const needed = new Set(board.ticked);
  if (board.focus) needed.add(board.focus);
  for (const id of [...board.loaded.keys()]) if (!needed.has(id)) board.loaded.delete(id);
  for (const id of needed) if (!board.loaded.has(id) && board.runs.some(r => r.id === id)) loadRun(id);
  syncStream();
}

// One stream for every ticked or focused run that has not finished; opened again when that set changes.
function syncStream() {
  const live = [...board.loaded.entries()].filter(([, run]) => run.state !== 'finished').map(([id]) => id).sort();
  const key = live.join('\n');
  if (key === board.sourceKey) return;
  if (board.source) board.source.close();
  board.source = null;
  board.sourceKey = key;
  const badge = document.getElementById('live');
  badge.textContent = '';
  badge.className = 'badge';
  if (!live.length) return;
  const source = new EventSource('api/events?' + live.map(id => 'id=' + encodeURIComponent(id)).join('&'));
  board.source = source;
  badge.textContent = 'live';
  badge.className = 'badge on';
  source.addEventListener('row', event => {
    const { run, row } = JSON.parse(event.data);
    const loaded = board.loaded.get(run);
    if (!loaded) return;
    // A stream opened again sends every row again: a row replaces the one of its epoch.
    const rows = loaded.rows.filter(r => r.epoch !== row.epoch);
    rows.push(row);
    rows.sort((a, b) => a.epoch - b.epoch);
    loaded.rows = rows;
    drawCharts();
  });
  source.addEventListener('reset', event => {
    const loaded = board.loaded.get(JSON.parse(event.data).run);
    if (loaded) loaded.rows = [];
  });
  source.addEventListener('finished', event => {
    const { run } = JSON.parse(event.data);
    if (board.loaded.has(run)) board.loaded.get(run).state = 'finished';
    syncStream();
    loadRun(run);
    refreshList();
  });
}

// ---- charts ----------------------------------------------------------------------------------

// About five round steps (1, 2 or 5 times a power of ten) across [low, high].
function ticks(low, high) {
  const raw = (high - low) / 5;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map(m => m * power).find(s => s >= raw);
  const first = Math.ceil(low / step) * step;
  const out = [];
  for (let v = first; v <= high + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

function drawCharts() {
  for (const chart of CHARTS) drawChart(chart);
}

function drawChart(chart) {
  const width = 560, height = 290, left = 64, right = 14, top = 30, bottom = 36;
  const lines = [];
  for (const id of board.ticked) {
    const run = board.loaded.get(id);
    if (!run) continue;
    for (const series of chart.series) {
      const points = run.rows.filter(r => r[series.key] !== null && r[series.key] !== undefined).map(r => [r.epoch, r[series.key]]);
      if (points.length) lines.push({ id, series, points });
    }
  }
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': chart.title });
  root.append(svg('text', { x: left, y: 18, class: 'title' }, chart.title));
  const figure = document.getElementById(chart.figure);
  figure.replaceChildren(root);
  if (!lines.length) {
    root.append(svg('text', { x: width / 2, y: height / 2, class: 'empty', 'text-anchor': 'middle' },
      board.ticked.length ? 'no epochs yet' : 'tick a run to draw it'));
    return;
  }
  const xs = lines.flatMap(l => l.points.map(p => p[0])), ys = lines.flatMap(l => l.points.map(p => p[1]));
  const xLow = Math.min(1, ...xs), xHigh = Math.max(xLow + 1, ...xs);
  let yLow = Math.min(...ys), yHigh = Math.max(...ys);
  const pad = (yHigh - yLow) * 0.08 || Math.abs(yHigh) * 0.1 || 1;
  yLow -= pad;
  yHigh += pad;
  const x = v => left + (v - xLow) / (xHigh - xLow) * (width - left - right);
  const y = v => height - bottom - (v - yLow) / (yHigh - yLow) * (height - top - bottom);
  const yTicks = ticks(yLow, yHigh);
  for (const v of yTicks) {
    root.append(svg('line', { x1: left, x2: width - right, y1: y(v), y2: y(v), class: 'grid' }));
    root.append(svg('text', { x: left - 6, y: y(v) + 4, class: 'tick', 'text-anchor': 'end' }, chart.format(v, yTicks.length > 1 ? yTicks[1] - yTicks[0] : undefined)));
  }
  for (const v of ticks(xLow, xHigh).filter(Number.isInteger)) {
    root.append(svg('line', { x1: x(v), x2: x(v), y1: height - bottom, y2: height - bottom + 4, class: 'axis' }));
    root.append(svg('text', { x: x(v), y: height - bottom + 16, class: 'tick', 'text-anchor': 'middle' }, String(v)));
  }
  root.append(svg('text', { x: (left + width - right) / 2, y: height - 4, class: 'tick', 'text-anchor': 'middle' }, 'epoch'));
  root.append(svg('line', { x1: left, x2: left, y1: top, y2: height - bottom, class: 'axis' }));
  root.append(svg('line', { x1: left, x2: width - right, y1: height - bottom, y2: height - bottom, class: 'axis' }));
  for (const line of lines) {
    const colour = board.colours.get(line.id);
    const d = line.points.map((p, i) => `${i ? 'L' : 'M'}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join('');
    root.append(svg('path', { d, stroke: colour, class: 'line' + (line.series.dashed ? ' dashed' : '') }));
    for (const [epoch, value] of line.points) {
      const point = svg('circle', { cx: x(epoch), cy: y(value), r: 3, fill: colour, 'data-run': line.id, 'data-series': line.series.key });
      point.append(svg('title', {}, `${line.id}, epoch ${epoch}: ${line.series.key} ${chart.format(value)}`));
      root.append(point);
    }
  }
}

// ---- one run's details -----------------------------------------------------------------------

function renderDetails() {
  const section = document.getElementById('details');
  const run = board.focus && board.loaded.get(board.focus);
  section.hidden = !run;
  if (!run) return;
  const details = run.details;
  document.getElementById('details-title').textContent = details.id;
  const test = details.test;
  document.getElementById('details-state').textContent = test
    ? `Finished: test accuracy ${percent(test.test_accuracy)} on ${test.images} images (test loss ${Number(test.test_loss).toFixed(4)}).`
    : `${run.state === 'training' ? 'Training' : 'Stopped'}: ${run.rows.length} epoch(s) so far.`;
  renderConfusion(test, details.classNames);
  document.getElementById('report').textContent = details.report || '(no classification report yet)';
  document.getElementById('command').textContent = details.command || '';
  document.getElementById('summary').textContent = details.summary || '';
  renderSettings(details.settings);
  const files = document.getElementById('files');
  files.replaceChildren(...details.files.map(name => {
    const link = element('a', name);
    link.href = `api/file?id=${encodeURIComponent(details.id)}&name=${encodeURIComponent(name)}`;
    const item = element('li');
    item.append(link);
    return item;
  }));
}

// Each cell shaded by its share of its row (the recall of the row's class on the diagonal).
function renderConfusion(test, classNames) {
  const table = document.getElementById('confusion');
  table.replaceChildren();
  document.getElementById('no-confusion').hidden = !!test;
  if (!test || !test.confusion) return;
  const n = test.confusion.length;
  const names = classNames && classNames.length === n ? classNames : [...Array(n).keys()].map(String);
  const head = element('tr');
  head.append(element('th'));
  for (const name of names) head.append(element('th', name, 'column'));
  table.append(head);
  test.confusion.forEach((counts, r) => {
    const row = element('tr');
    row.append(element('th', names[r]));
    const total = counts.reduce((a, b) => a + b, 0) || 1;
    counts.forEach((count, c) => {
      const cell = element('td', String(count));
      const share = count / total;
      cell.style.backgroundColor = r === c ? `rgba(26, 127, 55, ${share})` : `rgba(207, 34, 46, ${Math.min(1, share * 3)})`;
      if (share > 0.5) cell.style.color = '#fff';
      row.append(cell);
    });
    table.append(row);
  });
}

// settings.json's groups (hyperparameters, data) as headed blocks; anything deeper as JSON text.
function renderSettings(settings) {
  const table = document.getElementById('settings');
  table.replaceChildren();
  if (!settings) return;
  const isGroup = v => typeof v === 'object' && v !== null && !Array.isArray(v);
  const text = v => typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v);
  const add = (key, value, className) => {
    const row = element('tr', null, className);
    row.append(element('td', key), element('td', value));
    table.append(row);
  };
  const entries = Object.entries(settings);
  for (const [key, value] of entries.filter(([, v]) => !isGroup(v))) add(key, text(value));
  for (const [group, values] of entries.filter(([, v]) => isGroup(v))) {
    add(group, '', 'group');
    for (const [key, value] of Object.entries(values)) add(key, text(value), 'member');
  }
}

refreshList().then(() => {
  drawCharts();
  renderDetails();
  document.body.dataset.ready = '1';
});
setInterval(refreshList, LIST_EVERY_MS);
