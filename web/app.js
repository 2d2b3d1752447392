// The web class browser: namespaces, a lazy class tree (one shallow EnumClasses per expanded
// node), a class view rendered from GetClass's JSON with the server's own MOF (as_mof), live class
// events (WatchClassEvents), and CompileMof with the object sink's events. No MOF is written or
// parsed here: the server does both.
import { RpcError, serverStream, setToken, unary } from './rpc.js';

const $ = (id) => document.getElementById(id);

/** Builds an element: `el('td', { className: 'x' }, 'text', child)`. */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  for (const child of children) if (child !== undefined && child !== null) node.append(child);
  return node;
}

function showStatus(text, isError = false) {
  const status = $('status');
  status.textContent = text;
  status.classList.toggle('error', isError);
}

function showError(error) {
  showStatus(error instanceof RpcError ? error.describe() : String(error), true);
}

const state = { namespace: 'root/cimv2', selected: undefined, watch: undefined };

// --- namespaces -------------------------------------------------------------------------------

async function loadNamespaces() {
  const paths = ['root'];
  try {
    await serverStream('EnumNamespaces', { parent: 'root', deep: true }, (ns) =>
      paths.push(ns.path.replaceAll('\\', '/')),
    );
  } catch (error) {
    showError(error);
  }
  const select = $('namespace');
  select.replaceChildren(...paths.sort().map((path) => el('option', { value: path }, path)));
  if (!paths.includes(state.namespace)) state.namespace = paths[0];
  select.value = state.namespace;
}

// --- the class tree ---------------------------------------------------------------------------

/** The direct subclasses of `superclass` ('' = the roots), sorted, system classes last or hidden. */
async function subclassesOf(superclass) {
  const names = [];
  await serverStream(
    'EnumClasses',
    { namespace: state.namespace, superclass, deep: false, localOnly: true },
    (cls) => names.push(cls.className),
  );
  const showSystem = $('show-system').checked;
  return names
    .filter((name) => showSystem || !name.startsWith('__'))
    .sort((a, b) => Number(a.startsWith('__')) - Number(b.startsWith('__')) || a.localeCompare(b));
}

function treeNode(name) {
  const children = el('ul', { role: 'group', hidden: true });
  const twisty = el('button', { className: 'twisty', type: 'button', title: 'expand' }, '▸');
  const link = el('button', { className: 'class-link', type: 'button' }, name);
  const item = el('li', { role: 'treeitem' }, twisty, link, children);
  item.dataset.class = name;
  item.setAttribute('aria-expanded', 'false');
  twisty.addEventListener('click', () => toggle(item, twisty, children));
  link.addEventListener('click', () => openClass(name));
  return item;
}

async function toggle(item, twisty, children) {
  const expanded = item.getAttribute('aria-expanded') === 'true';
  if (expanded) {
    item.setAttribute('aria-expanded', 'false');
    children.hidden = true;
    twisty.textContent = '▸';
    return;
  }
  if (item.dataset.loaded !== 'true') {
    twisty.textContent = '…';
    try {
      const names = await subclassesOf(item.dataset.class);
      children.replaceChildren(...names.map(treeNode));
      item.dataset.loaded = 'true';
      if (names.length === 0) twisty.classList.add('leaf');
    } catch (error) {
      twisty.textContent = '▸';
      showError(error);
      return;
    }
  }
  item.setAttribute('aria-expanded', 'true');
  children.hidden = false;
  twisty.textContent = '▾';
}

async function loadTree() {
  const tree = $('tree');
  tree.replaceChildren(el('li', { className: 'hint' }, 'loading…'));
  try {
    const roots = await subclassesOf('');
    tree.replaceChildren(...roots.map(treeNode));
    showStatus(`${state.namespace}: ${roots.length} root classes`);
  } catch (error) {
    tree.replaceChildren();
    showError(error);
  }
}

// --- the class view ---------------------------------------------------------------------------

const FLAVORS = [
  [0x01, 'ToInstance'],
  [0x02, 'ToSubclass'],
  [0x10, 'DisableOverride'],
  [0x20, 'Propagated'],
  [0x40, 'System'],
  [0x80, 'Amended'],
];

function flavorText(flavor = 0) {
  const names = FLAVORS.filter(([bit]) => (flavor & bit) !== 0).map(([, name]) => name);
  if ((flavor & 0x02) === 0) names.push('Restricted');
  if ((flavor & 0x10) === 0) names.push('EnableOverride');
  return names.join(' ');
}

function valueText(value) {
  if (value === undefined || value === null) return '';
  const [kind, v] = Object.entries(value)[0] ?? [];
  if (kind === undefined) return '';
  if (kind === 'array') return `{${(v.values ?? []).map(valueText).join(', ')}}`;
  if (kind === 'string' || kind === 'char16' || kind === 'datetime') return JSON.stringify(v);
  if (kind === 'object') return `instance of ${v.className}`;
  return String(v);
}

function typeText(member) {
  const type = member.type ?? member.returnType ?? 'CIM_EMPTY';
  let text =
    type === 'CIM_REFERENCE'
      ? `${member.referenceClass} REF`
      : type.replace(/^CIM_/, '').toLowerCase();
  if (member.embeddedClass) text += ` (${member.embeddedClass})`;
  return member.array ? `${text}[]` : text;
}

/** A member's qualifiers in a table cell: long values cut short, the whole text on hover. */
function qualifierText(qualifiers = []) {
  const full = (q) => `${q.name}${q.value ? `(${valueText(q.value)})` : ''}`;
  const short = (q) => {
    const text = full(q);
    return text.length > 48 ? `${text.slice(0, 45)}…)` : text;
  };
  return el('span', { title: qualifiers.map(full).join('\n') }, qualifiers.map(short).join(', '));
}

function table(headings, rows) {
  return el(
    'table',
    {},
    el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', {}, h)))),
    el('tbody', {}, ...rows),
  );
}

function row(cells, className = '') {
  return el('tr', { className }, ...cells.map((cell) => el('td', {}, cell ?? '')));
}

function systemTable(system = {}) {
  const entries = [
    ['__GENUS', system.genus],
    ['__CLASS', system.class],
    ['__SUPERCLASS', system.superclass],
    ['__DYNASTY', system.dynasty],
    ['__DERIVATION', (system.derivation ?? []).join(', ')],
    ['__SERVER', system.server],
    ['__NAMESPACE', system.namespace],
    ['__PATH', system.path],
    ['__RELPATH', system.relpath],
    ['__PROPERTY_COUNT', system.propertyCount ?? 0],
  ];
  return table(
    ['system property', 'value'],
    entries.map(([name, value]) => row([name, value === undefined ? '' : String(value)])),
  );
}

function qualifierTable(qualifiers = []) {
  return table(
    ['qualifier', 'value', 'flavor'],
    qualifiers.map((q) =>
      row([q.name, valueText(q.value), flavorText(q.flavor)], q.propagated ? 'propagated' : ''),
    ),
  );
}

function propertyTable(properties = []) {
  return table(
    ['property', 'type', 'default', 'class of origin', 'qualifiers'],
    properties.map((p) =>
      row(
        [p.name, typeText(p), valueText(p.value), p.classOrigin, qualifierText(p.qualifiers)],
        p.propagated ? 'propagated' : '',
      ),
    ),
  );
}

function parameterText(parameter) {
  const direction = [parameter.in ? 'in' : '', parameter.out ? 'out' : '']
    .filter(Boolean)
    .join(',');
  return `[${direction}] ${typeText(parameter)} ${parameter.name}`;
}

function methodTable(methods = []) {
  return table(
    ['method', 'returns', 'parameters', 'class of origin', 'qualifiers'],
    methods.map((m) =>
      row(
        [
          m.name,
          typeText(m),
          (m.parameters ?? []).map(parameterText).join(', '),
          m.classOrigin,
          qualifierText(m.qualifiers),
        ],
        m.propagated ? 'propagated' : '',
      ),
    ),
  );
}

async function openClass(name) {
  const view = $('class-view');
  try {
    const { object, mof, revision } = await unary('GetClass', {
      namespace: state.namespace,
      className: name,
      asMof: true,
    });
    state.selected = object.className;
    for (const link of document.querySelectorAll('.class-link.selected'))
      link.classList.remove('selected');
    for (const item of document.querySelectorAll('li[data-class]'))
      if (item.dataset.class === object.className)
        item.querySelector('.class-link').classList.add('selected');
    view.replaceChildren(
      el('h2', { id: 'class-name' }, object.className),
      el('p', { className: 'hint' }, `revision ${revision ?? 0} · ${state.namespace}`),
      el('h3', {}, 'System properties'),
      systemTable(object.system),
      el('h3', {}, `Qualifiers (${(object.qualifiers ?? []).length})`),
      qualifierTable(object.qualifiers),
      el('h3', {}, `Properties (${(object.properties ?? []).length})`),
      propertyTable(object.properties),
      el('h3', {}, `Methods (${(object.methods ?? []).length})`),
      methodTable(object.methods),
      el('h3', {}, 'MOF (local definition, written by the server)'),
      el('pre', { className: 'mof' }, mof),
    );
    view.dataset.class = object.className;
    showStatus(`${object.className} (${state.namespace})`);
  } catch (error) {
    showError(error);
  }
}

// --- create or update from MOF ---------------------------------------------------------------

function flagsChosen() {
  const checked = (name) => Number(document.querySelector(`input[name="${name}"]:checked`).value);
  return checked('put-mode') | checked('update-mode') | ($('send-status').checked ? 0x80 : 0);
}

function sinkEventItem(event) {
  if (event.progress !== undefined) {
    const { current = 0, total = 0, message = '' } = event.progress;
    return el('li', { className: 'progress' }, `progress ${current}/${total} ${message}`);
  }
  const status = event.status ?? {};
  const hresult = status.hresult ?? 'WBEM_S_NO_ERROR';
  const ok = !String(hresult).startsWith('WBEM_E_');
  // The description often repeats param (the path, or the error's words): shown only when it adds.
  const description = status.extendedStatus?.description ?? '';
  const detail = (status.param ?? '').includes(description) ? '' : description;
  return el(
    'li',
    { className: ok ? 'ok' : 'error' },
    `SetStatus ${hresult} ${status.param ?? ''} ${detail}`.trim(),
  );
}

async function compileMof() {
  const events = $('sink-events');
  events.replaceChildren();
  $('compile').disabled = true;
  try {
    await serverStream(
      'CompileMof',
      {
        namespace: state.namespace,
        sources: [{ name: 'browser.mof', text: $('mof').value }],
        flags: flagsChosen(),
      },
      (event) => events.append(sinkEventItem(event)),
    );
    events.append(el('li', { className: 'ok' }, 'stream ended: OK'));
    showStatus('MOF compiled and put');
  } catch (error) {
    events.append(el('li', { className: 'error' }, `stream ended: ${error.describe?.() ?? error}`));
    showError(error);
  } finally {
    $('compile').disabled = false;
  }
}

// --- class events -----------------------------------------------------------------------------

function stopWatch() {
  state.watch?.abort();
  state.watch = undefined;
  $('watch-toggle').textContent = 'Watch';
}

function startWatch() {
  const controller = new AbortController();
  state.watch = controller;
  $('watch-toggle').textContent = 'Stop';
  const list = $('class-events');
  list.append(el('li', { className: 'progress' }, `watching ${state.namespace}…`));
  serverStream(
    'WatchClassEvents',
    { namespace: state.namespace },
    (event) => {
      const name = event.targetClass?.className ?? '';
      const link = el('button', { className: 'class-link', type: 'button' }, name);
      link.addEventListener('click', () => openClass(name));
      list.append(el('li', {}, `${event.eventClass} `, link, ` revision ${event.revision ?? 0}`));
    },
    controller.signal,
  ).catch((error) => {
    if (controller.signal.aborted) return;
    list.append(el('li', { className: 'error' }, `watch ended: ${error.describe?.() ?? error}`));
    stopWatch();
  });
}

// --- wiring -----------------------------------------------------------------------------------

async function selectNamespace(namespace) {
  state.namespace = namespace;
  if (state.watch !== undefined) {
    stopWatch();
    startWatch();
  }
  await loadTree();
}

function wire() {
  const tokenInput = $('token');
  tokenInput.value = sessionStorage.getItem('wbemd-token') ?? '';
  setToken(tokenInput.value);
  tokenInput.addEventListener('change', () => {
    sessionStorage.setItem('wbemd-token', tokenInput.value);
    setToken(tokenInput.value);
    void start();
  });
  $('namespace').addEventListener('change', (e) => void selectNamespace(e.target.value));
  $('reload').addEventListener('click', () => void loadTree());
  $('show-system').addEventListener('change', () => void loadTree());
  $('goto').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('goto-name').value.trim();
    if (name !== '') void openClass(name);
  });
  $('compile').addEventListener('click', () => void compileMof());
  $('watch-toggle').addEventListener('click', () =>
    state.watch === undefined ? startWatch() : stopWatch(),
  );
}

async function start() {
  await loadNamespaces();
  await loadTree();
}

wire();
void start();
