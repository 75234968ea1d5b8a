// The Backprop playground page. It draws what the engine's JSON API returns; it computes nothing itself.
const $ = (id) => document.getElementById(id);
const SVG = 'http://www.w3.org/2000/svg';

// A 503 means the server's computing slots are all taken: wait as long as it asks (Retry-After), a few times.
async function api(method, url, body) {
  for (let attempt = 1; ; attempt++) {
    const res = await fetch(url, { method, headers: body ? { 'Content-Type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    if (res.status === 503 && attempt < 5) {
      await new Promise(r => setTimeout(r, 1000 * (Number(res.headers.get('Retry-After')) || 1)));
      continue;
    }
    let json;
    try { json = await res.json(); } catch { throw new Error(`the server answered HTTP ${res.status} without a JSON body`); }
    if (!res.ok) throw new Error(json.error || `HTTP ${res.status}`);
    return json;
  }
}
const orNull = (x) => Number.isFinite(x) ? x : null;
const fmt = (x, digits = 6) => (x === null || x === undefined) ? '—' : Number(x).toPrecision(digits).replace(/(\.\d*?)0+$/, '$1').replace(/\.$/, '');

// ---------- tabs ----------
const tabs = [$('tab-derivation'), $('tab-training')];
function selectTab(tab) {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute('aria-controls')).hidden = !on;
  }
  tab.focus();
  if (tab.id === 'tab-training' && !training.run) newRun();
}
tabs.forEach((t, i) => {
  t.addEventListener('click', () => selectTab(t));
  t.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowRight' || e.key === 'ArrowLeft') { e.preventDefault(); selectTab(tabs[(i + (e.key === 'ArrowRight' ? 1 : tabs.length - 1)) % tabs.length]); }
  });
});

// ---------- tab 1: the seed network ----------
const seed = { state: null, result: null, shown: 'none' }; // shown: none | forward | backward
const PARAMS = [];
for (let i = 1; i <= 2; i++) for (let j = 1; j <= 3; j++) PARAMS.push({ name: `V${i}${j}`, get: (s) => s.v[i - 1][j - 1], set: (s, x) => { s.v[i - 1][j - 1] = x; } });
for (let i = 1; i <= 3; i++) for (let j = 1; j <= 2; j++) PARAMS.push({ name: `W${i}${j}`, get: (s) => s.w[i - 1][j - 1], set: (s, x) => { s.w[i - 1][j - 1] = x; } });
PARAMS.push({ name: 'b1', get: (s) => s.b1, set: (s, x) => { s.b1 = x; } });
PARAMS.push({ name: 'b2', get: (s) => s.b2, set: (s, x) => { s.b2 = x; } });
const gradOf = (g, name) => name === 'b1' ? g.b1 : name === 'b2' ? g.b2 : (name[0] === 'V' ? g.v : g.w)[+name[1] - 1][+name[2] - 1];

function buildParamTable() {
  const t = $('param-table');
  t.innerHTML = '<tr><th></th><th>→ H1</th><th>→ H2</th><th>→ H3</th></tr>' +
    [1, 2].map(i => `<tr><th>X${i}</th>${[1, 2, 3].map(j => `<td><input id="p-V${i}${j}" type="number" step="any" aria-label="V${i}${j}" data-sym="V${i}${j}"></td>`).join('')}</tr>`).join('') +
    '<tr><th></th><th>→ O1</th><th>→ O2</th><th></th></tr>' +
    [1, 2, 3].map(i => `<tr><th>P${i}</th>${[1, 2].map(j => `<td><input id="p-W${i}${j}" type="number" step="any" aria-label="W${i}${j}" data-sym="W${i}${j}"></td>`).join('')}<td></td></tr>`).join('') +
    '<tr><th>b1</th><td><input id="p-b1" type="number" step="any" aria-label="b1" data-sym="b1"></td><th>b2</th><td><input id="p-b2" type="number" step="any" aria-label="b2" data-sym="b2"></td></tr>';
  for (const input of t.querySelectorAll('input')) {
    input.addEventListener('change', onEdit);
    input.addEventListener('focus', () => highlight([input.dataset.sym]));
    input.addEventListener('blur', () => highlight([]));
  }
}

function fillForm() {
  const s = seed.state;
  $('in-X1').value = s.input[0]; $('in-X2').value = s.input[1];
  $('in-Y1').value = s.target[0]; $('in-Y2').value = s.target[1];
  $('in-lr').value = s.learning_rate; $('in-order').value = s.update_order; $('in-biases').value = s.trainable_bias ? 'trainable' : 'frozen';
  for (const p of PARAMS) $('p-' + p.name).value = p.get(s);
}

function readForm() {
  const s = structuredClone(seed.state);
  const num = (id) => { const v = $(id).valueAsNumber; if (!Number.isFinite(v)) throw new Error(`${$(id).getAttribute('aria-label') || id.replace(/^(in|p)-/, '')}: enter a number`); return v; };
  s.input = [num('in-X1'), num('in-X2')];
  s.target = [num('in-Y1'), num('in-Y2')];
  s.learning_rate = num('in-lr');
  s.update_order = $('in-order').value; s.trainable_bias = $('in-biases').value === 'trainable';
  for (const p of PARAMS) p.set(s, num('p-' + p.name));
  return s;
}

function onEdit() {
  try { seed.state = readForm(); } catch (e) { status('seed-status', e.message, true); return; }
  seed.shown = 'none';
  render();
  status('seed-status', 'Edited: press Forward to compute.');
}

async function seedCall(steps) {
  const state = readForm();
  const result = await api('POST', '/api/seed', { ...state, steps, lang: $('in-lang').value });
  seed.state = result.state;
  seed.result = result;
  fillForm();
  return result;
}

async function act(kind) {
  try {
    if (kind === 'reset') {
      seed.state = await api('GET', '/api/seed/default');
      $('in-lang').value = $('in-lang').value || 'en';
      fillForm();
      seed.shown = 'none';
      seed.result = null;
      await seedCall(0);
      render();
      status('seed-status', 'Reset to the seed document\'s values. Press Forward.');
      return;
    }
    const steps = kind === 'step' ? 1 : kind === 'run' ? 100 : 0;
    const r = await seedCall(steps);
    seed.shown = kind === 'forward' ? 'forward' : 'backward';
    render();
    const lossText = `E = ${fmt(r.loss, 10)}`;
    if (kind === 'forward') status('seed-status', `Forward pass: ${lossText}. Press Backward for the gradients.`);
    else if (kind === 'backward') status('seed-status', `Backward pass: every gradient at the current weights; ${lossText}. Step applies the update.`);
    else status('seed-status', `${steps} update${steps > 1 ? 's' : ''} (${seed.state.update_order}): E went from ${fmt(r.loss_history[0], 10)} to ${fmt(r.loss, 10)}.`);
  } catch (e) { status('seed-status', e.message, true); }
}

function status(id, text, error = false) { const el = $(id); el.textContent = text; el.classList.toggle('error', error); }

function render() { renderDiagram(); renderValues(); renderTrace(); }

function renderValues() {
  const r = seed.result, t = $('value-table');
  const show = seed.shown !== 'none' && r;
  const rows = [];
  const cell = (name, v) => `<td><span class="sym">${name}</span> = <span id="val-${name}" data-value="${show ? v : ''}">${show ? fmt(v, 10) : '—'}</span></td>`;
  if (r) {
    rows.push('<tr>' + [1, 2, 3].map(j => cell(`H${j}`, r.forward.h[j - 1])).join('') + '</tr>');
    rows.push('<tr>' + [1, 2, 3].map(j => cell(`P${j}`, r.forward.p[j - 1])).join('') + '</tr>');
    rows.push('<tr>' + [1, 2].map(j => cell(`Q${j}`, r.forward.q[j - 1])).join('') + '</tr>');
    rows.push('<tr>' + [1, 2].map(j => cell(`O${j}`, r.forward.o[j - 1])).join('') + cell('E', r.loss) + '</tr>');
    const g = seed.shown === 'backward';
    const gcell = (name) => `<td><span class="sym">∂E/∂${name}</span> = <span id="grad-${name}" data-value="${g ? gradOf(r.gradients, name) : ''}">${g ? fmt(gradOf(r.gradients, name), 8) : '—'}</span></td>`;
    for (let k = 0; k < PARAMS.length; k += 3) rows.push('<tr>' + PARAMS.slice(k, k + 3).map(p => gcell(p.name)).join('') + '</tr>');
  }
  t.innerHTML = rows.join('');
}

function el(name, attrs, parent) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (parent) parent.appendChild(e);
  return e;
}
function text(parent, x, y, content, attrs = {}) { const t = el('text', { x, y, 'text-anchor': 'middle', ...attrs }, parent); t.textContent = content; return t; }

function renderDiagram() {
  const s = seed.state, r = seed.result;
  if (!s) return;
  const fwd = seed.shown !== 'none' && r, back = seed.shown === 'backward' && r;
  const W = 800, H = 540, R = 40;
  const svg = el('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': 'The seed network: inputs, hidden and output neurons, every weight on its edge' });
  const X = { in: 70, hid: 400, out: 730 };
  // Spread so that the weight labels of edges leaving one neuron do not overlap (checked on the screenshots).
  const pos = { X1: [X.in, 140], X2: [X.in, 400], H1: [X.hid, 100], H2: [X.hid, 270], H3: [X.hid, 440], O1: [X.out, 150], O2: [X.out, 400] };
  let gmax = 0;
  if (back) for (const p of PARAMS) gmax = Math.max(gmax, Math.abs(gradOf(r.gradients, p.name)));
  const edges = [];
  for (let i = 1; i <= 2; i++) for (let j = 1; j <= 3; j++) edges.push({ name: `V${i}${j}`, a: `X${i}`, b: `H${j}`, syms: [`V${i}${j}`, `X${i}`, `H${j}`] });
  for (let i = 1; i <= 3; i++) for (let j = 1; j <= 2; j++) edges.push({ name: `W${i}${j}`, a: `H${i}`, b: `O${j}`, syms: [`W${i}${j}`, `P${i}`, `Q${j}`] });
  const labels = el('g', {});
  for (const e of edges) {
    const p = PARAMS.find(q => q.name === e.name);
    const [x1, y1] = pos[e.a], [x2, y2] = pos[e.b];
    const g = el('g', { class: 'edge', tabindex: 0, 'data-syms': e.syms.join(' '), role: 'button', 'aria-label': `${e.name} = ${p.get(s)}; edit` }, svg);
    let stroke = '#9aa3ad', width = 1.5;
    if (back) { const gv = gradOf(r.gradients, e.name); stroke = gv > 0 ? '#c0392b' : gv < 0 ? '#2471a3' : '#9aa3ad'; width = 1 + 7 * (gmax > 0 ? Math.abs(gv) / gmax : 0); }
    el('line', { x1: x1 + R, y1, x2: x2 - R, y2, stroke, 'stroke-width': width, 'stroke-linecap': 'round' }, g);
    // The label sits a third of the way along, so the labels of edges meeting at one neuron do not overlap.
    const t = e.name[0] === 'V' ? 0.3 : 0.7, lx = x1 + R + (x2 - x1 - 2 * R) * t, ly = y1 + (y2 - y1) * t;
    const lg = el('g', { class: 'edge-label', 'data-syms': e.syms.join(' ') }, labels);
    lg.addEventListener('click', () => $('p-' + e.name).focus());
    const label = `${e.name} = ${fmt(p.get(s), 4)}`;
    el('rect', { x: lx - 70, y: ly - 13, width: 140, height: back ? 38 : 21, rx: 4, fill: '#fff', stroke: '#d8dbe0' }, lg);
    text(lg, lx, ly + 3, label, { 'font-size': 14 });
    if (back) text(lg, lx, ly + 20, `∂E/∂${e.name} = ${fmt(gradOf(r.gradients, e.name), 3)}`, { 'font-size': 13, fill: stroke });
    g.addEventListener('click', () => $('p-' + e.name).focus());
    g.addEventListener('keydown', (ev) => { if (ev.key === 'Enter' || ev.key === ' ') { ev.preventDefault(); $('p-' + e.name).focus(); } });
  }
  svg.appendChild(labels);
  const node = (id, lines, syms, fill) => {
    const [x, y] = pos[id];
    const g = el('g', { class: 'node', tabindex: 0, 'data-syms': syms.join(' '), 'aria-label': lines.join(', ') }, svg);
    el('circle', { cx: x, cy: y, r: R, fill, stroke: '#4a5563', 'stroke-width': 1.5 }, g);
    lines.forEach((ln, k) => text(g, x, y + (k - (lines.length - 1) / 2) * 16 + 4, ln, { 'font-size': 14, 'font-weight': k === 0 ? 600 : 400 }));
    return g;
  };
  for (let i = 1; i <= 2; i++) node(`X${i}`, [`X${i}`, fmt(s.input[i - 1], 4)], [`X${i}`], '#e8eef7');
  for (let j = 1; j <= 3; j++) node(`H${j}`, fwd ? [`H${j} ${fmt(r.forward.h[j - 1], 4)}`, `P${j} ${fmt(r.forward.p[j - 1], 4)}`] : [`H${j}`, `P${j}`], [`H${j}`, `P${j}`], '#f3efe3');
  for (let j = 1; j <= 2; j++) {
    node(`O${j}`, fwd ? [`Q${j} ${fmt(r.forward.q[j - 1], 4)}`, `O${j} ${fmt(r.forward.o[j - 1], 4)}`] : [`Q${j}`, `O${j}`], [`Q${j}`, `O${j}`, `Y${j}`], '#e6f2e6');
    const [x, y] = pos[`O${j}`];
    text(svg, x, y + R + 18, `target Y${j} = ${fmt(s.target[j - 1], 4)}`, { 'font-size': 13, fill: '#5a6472' });
  }
  // The shared biases, one per layer, as in the document's figure.
  const bias = (name, x, y, value, grad) => {
    const g = el('g', { class: 'node', tabindex: 0, 'data-syms': name }, svg);
    el('rect', { x: x - 66, y: y - 15, width: 132, height: back ? 36 : 22, rx: 11, fill: '#fff7e0', stroke: '#c9a227' }, g);
    text(g, x, y + 2, `${name} = ${fmt(value, 4)} (shared)`, { 'font-size': 13 });
    if (back) text(g, x, y + 17, `∂E/∂${name} = ${fmt(grad, 3)}`, { 'font-size': 12 });
    g.addEventListener('click', () => $('p-' + name).focus());
  };
  bias('b1', 235, 28, s.b1, back ? r.gradients.b1 : 0);
  bias('b2', 565, 28, s.b2, back ? r.gradients.b2 : 0);
  text(svg, 8, H - 12, 'input layer', { 'font-size': 13, 'text-anchor': 'start', fill: '#5a6472' });
  text(svg, X.hid, H - 12, 'hidden layer (sigmoid)', { 'font-size': 13, fill: '#5a6472' });
  text(svg, W - 8, H - 12, 'output layer (sigmoid)', { 'font-size': 13, 'text-anchor': 'end', fill: '#5a6472' });
  if (back) text(svg, W / 2, H - 34, 'edge colour and width: the gradient ∂E/∂weight (red > 0, blue < 0)', { 'font-size': 13, fill: '#5a6472' });
  for (const g of svg.querySelectorAll('[data-syms]')) {
    const syms = g.dataset.syms.split(' ');
    g.addEventListener('mouseenter', () => highlight(syms));
    g.addEventListener('focus', () => highlight(syms));
    g.addEventListener('mouseleave', () => highlight([]));
    g.addEventListener('blur', () => highlight([]));
  }
  $('diagram').replaceChildren(svg);
}

function renderTrace() {
  const r = seed.result, pre = $('trace');
  if (!r) { pre.textContent = ''; return; }
  const lines = r.trace.split('\n');
  const frag = document.createDocumentFragment();
  let inSlip = false;
  for (const line of lines) {
    if (/^\s*! /.test(line)) inSlip = true; else if (line.trim() === '') inSlip = false;
    const span = document.createElement('span');
    span.className = 'line' + (inSlip ? ' slip' : '');
    span.textContent = line + '\n';
    frag.appendChild(span);
  }
  pre.replaceChildren(frag);
}

function highlight(syms) {
  const pre = $('trace');
  let first = null;
  const res = syms.map(s => new RegExp(`(^|[^A-Za-z0-9_])${s}(?![0-9])`));
  for (const span of pre.children) {
    const on = syms.length > 0 && res.some(re => re.test(span.textContent));
    span.classList.toggle('hl', on);
    // Scroll to the first equation that uses the symbol, not to the introduction's mention of it.
    if (on && !first && /^\s*\((\d+|A\d+)\)/.test(span.textContent)) first = span;
  }
  if (first) pre.scrollTop = first.offsetTop - pre.offsetTop - 20;
}

for (const id of ['in-X1', 'in-X2', 'in-Y1', 'in-Y2', 'in-lr', 'in-order', 'in-biases']) $(id).addEventListener('change', onEdit);
$('in-lang').addEventListener('change', () => act(seed.shown === 'none' ? 'forward' : seed.shown));
$('seed-form').addEventListener('submit', (e) => { e.preventDefault(); act('forward'); });
$('btn-forward').addEventListener('click', () => act('forward'));
$('btn-backward').addEventListener('click', () => act('backward'));
$('btn-step').addEventListener('click', () => act('step'));
$('btn-run').addEventListener('click', () => act('run'));
$('btn-reset').addEventListener('click', () => act('reset'));

// ---------- tab 2: training ----------
const COLORS = [[228, 87, 46], [47, 95, 167], [118, 176, 65], [243, 167, 18], [142, 68, 173]];
const training = { run: null, running: false, losses: [], busy: false };

async function newRun() {
  training.running = false;
  $('tr-train').textContent = 'Train';
  try {
    const hidden = $('tr-hidden').value.trim() === '' ? [] : $('tr-hidden').value.split(',').map(s => Number(s.trim()));
    const body = { dataset: $('tr-dataset').value, samples: $('tr-samples').valueAsNumber, hidden, activation: $('tr-activation').value,
      optimizer: $('tr-optimizer').value, learning_rate: orNull($('tr-lr').valueAsNumber), batch_size: orNull($('tr-batch').valueAsNumber) };
    const r = await api('POST', '/api/train', body);
    training.run = r;
    training.losses = [[0, r.status.loss]];
    draw(r.status);
    $('legend').replaceChildren(...Array.from({ length: r.class_count }, (_, k) => {
      // Colours set through the CSSOM: the page's policy forbids inline style attributes.
      const item = document.createElement('span'), dot = document.createElement('i');
      dot.style.background = `rgb(${COLORS[k % COLORS.length].join(',')})`;
      item.append(dot, ` class ${k}`);
      return item;
    }));
    status('train-status', `${r.dataset}: ${r.points.length} points, ${r.class_count} classes; network with ${r.parameter_count} parameters. Press Train.`);
  } catch (e) { status('train-status', e.message, true); }
}

async function trainSteps(steps) {
  if (!training.run || training.busy) return;
  training.busy = true;
  try {
    const s = await api('POST', `/api/train/${training.run.id}/step`, { steps, grid: 60 });
    training.losses.push([s.steps_trained, s.loss]);
    if (training.losses.length > 2000) training.losses = training.losses.filter((_, i) => i % 2 === 0);
    draw(s);
    const rate = s.steps_per_second ? `, ${Math.round(s.steps_per_second).toLocaleString('en')} steps/s on the server` : '';
    status('train-status', `step ${s.steps_trained}: loss ${fmt(s.loss, 4)}, accuracy ${(s.accuracy * 100).toFixed(1)}%${rate}`);
    $('train-status').dataset.accuracy = s.accuracy;
    $('train-status').dataset.step = s.steps_trained;
  } catch (e) { training.running = false; $('tr-train').textContent = 'Train'; status('train-status', e.message, true); }
  finally { training.busy = false; }
}

async function loop() {
  while (training.running) {
    await trainSteps(25);
    await new Promise(r => requestAnimationFrame(r));
  }
}

function draw(s) {
  const run = training.run, c = $('regions'), ctx = c.getContext('2d');
  const n = s.grid.size, img = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    const col = COLORS[s.grid.predicted_class[i] % COLORS.length], a = s.grid.confidence[i];
    const k = 0.25 + 0.45 * Math.max(0, (a - 1 / run.class_count) / (1 - 1 / run.class_count)); // stronger shade where the network is sure
    img.data.set([255 - (255 - col[0]) * k, 255 - (255 - col[1]) * k, 255 - (255 - col[2]) * k, 255], i * 4);
  }
  const off = new OffscreenCanvas(n, n);
  off.getContext('2d').putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(off, 0, 0, c.width, c.height);
  const [x0, x1, y0, y1] = run.bounds;
  for (const [x, y, label] of run.points) {
    const px = (x - x0) / (x1 - x0) * c.width, py = (y1 - y) / (y1 - y0) * c.height;
    ctx.beginPath(); ctx.arc(px, py, 4, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${COLORS[label % COLORS.length].join(',')})`; ctx.fill();
    ctx.lineWidth = 1; ctx.strokeStyle = '#fff'; ctx.stroke();
  }
  drawLoss();
}

function drawLoss() {
  const c = $('loss'), ctx = c.getContext('2d'), L = training.losses.filter(p => p[1] !== null);
  ctx.clearRect(0, 0, c.width, c.height);
  const m = { l: 52, r: 12, t: 12, b: 36 }, w = c.width - m.l - m.r, h = c.height - m.t - m.b;
  // Axis ends at round numbers (1, 1.2, 1.6, 2, ... x 10^k, quarters of which are round too) so the tick labels read 0.25, 0.5, ... rather than 0.26, 0.51.
  const nice = (v) => { const e = 10 ** Math.floor(Math.log10(v)); return [1, 1.2, 1.6, 2, 2.4, 3, 4, 5, 6, 8, 10].map(m => m * e).find(c => c >= v * 0.999); };
  const xmax = nice(Math.max(4, ...L.map(p => p[0]))), ymax = nice(Math.max(1e-6, ...L.map(p => p[1])));
  ctx.strokeStyle = '#5a6472'; ctx.lineWidth = 1;
  ctx.beginPath(); ctx.moveTo(m.l, m.t); ctx.lineTo(m.l, m.t + h); ctx.lineTo(m.l + w, m.t + h); ctx.stroke();
  ctx.fillStyle = '#1d232b'; ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'right';
  for (let k = 0; k <= 4; k++) { const v = ymax * k / 4, y = m.t + h - h * k / 4; ctx.fillText(fmt(v, 2), m.l - 6, y + 4); ctx.strokeStyle = '#eceef1'; ctx.beginPath(); ctx.moveTo(m.l + 1, y); ctx.lineTo(m.l + w, y); ctx.stroke(); }
  ctx.textAlign = 'center';
  for (let k = 0; k <= 4; k++) { const v = Math.round(xmax * k / 4), x = m.l + w * k / 4; ctx.fillText(String(v), x, m.t + h + 16); }
  ctx.fillText('training steps', m.l + w / 2, c.height - 4);
  ctx.save(); ctx.translate(12, m.t + h / 2); ctx.rotate(-Math.PI / 2); ctx.fillText('loss', 0, 0); ctx.restore();
  ctx.strokeStyle = '#2f5fa7'; ctx.lineWidth = 2; ctx.beginPath();
  L.forEach(([x, y], i) => { const px = m.l + w * x / xmax, py = m.t + h - h * y / ymax; i ? ctx.lineTo(px, py) : ctx.moveTo(px, py); });
  ctx.stroke();
}

$('tr-new').addEventListener('click', newRun);
$('tr-step').addEventListener('click', () => trainSteps(10));
$('tr-train').addEventListener('click', () => {
  training.running = !training.running;
  $('tr-train').textContent = training.running ? 'Pause' : 'Train';
  if (training.running) loop();
});
$('train-form').addEventListener('submit', (e) => { e.preventDefault(); newRun(); });
// The defaults live on the server (TrainingDefaults): an empty η or batch field sends null, which takes them; the
// fields show them as placeholders. Choosing another optimizer empties η, so that the new one's default applies.
let trainDefaults = null;
api('GET', '/api/train/options').then(o => { trainDefaults = o; showDefaults(); }).catch(() => {});
function showDefaults() {
  if (!trainDefaults) return;
  $('tr-lr').placeholder = String(trainDefaults.learning_rates[$('tr-optimizer').value]);
  $('tr-batch').placeholder = String(trainDefaults.batch_size);
}
$('train-form').addEventListener('change', (e) => {
  if (!['tr-dataset', 'tr-optimizer'].includes(e.target.id)) return;
  if (e.target.id === 'tr-optimizer') { $('tr-lr').value = ''; showDefaults(); }
  newRun();
});

// Keyboard shortcuts when not typing in a field.
document.addEventListener('keydown', (e) => {
  if (e.target.closest && e.target.closest('input, select, textarea') || e.ctrlKey || e.metaKey || e.altKey) return;
  const onSeed = !$('panel-derivation').hidden;
  const map = onSeed ? { f: 'btn-forward', b: 'btn-backward', s: 'btn-step', r: 'btn-run' } : { ' ': 'tr-train', s: 'tr-step' };
  const id = map[e.key];
  if (id && !(e.key === ' ' && e.target.tagName === 'BUTTON')) { e.preventDefault(); $(id).click(); }
});

buildParamTable();
act('reset');
