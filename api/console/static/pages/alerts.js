// Alerts: the open ones and the latest others, live from the stream; acknowledge and close with a
// note for those who may act (the API refuses everyone else anyway).

const STATUS_RANK = {active: 0, acknowledged: 1, cleared: 2, closed: 3};
const OPEN = new Set(['active', 'acknowledged']);
const RECENT_LIMIT = 50;

const strings = {
  id: {
    'heading': 'Peringatan',
    'open': 'Terbuka',
    'recent': 'Terbaru selesai',
    'none.open': 'Tidak ada peringatan terbuka.',
    'none.recent': 'Belum ada peringatan yang selesai.',
    'count.open': '{n} terbuka',
    'status.active': 'Aktif',
    'status.acknowledged': 'Ditanggapi',
    'status.cleared': 'Reda',
    'status.closed': 'Ditutup',
    'type.siaga': 'Siaga',
    'type.rate_of_rise': 'Kenaikan cepat',
    'type.offline': 'Stasiun diam',
    'type.forecast': 'Perkiraan banjir kiriman',
    'type.gateway_health': 'Gangguan gateway',
    'type.sos': 'SOS',
    'type.overdue': 'Kapal terlambat',
    'type.marine': 'Cuaca laut',
    'opened': 'Dibuka',
    'level': 'Tinggi muka air',
    'rate': 'Laju naik',
    'last_arrival': 'Data terakhir',
    'acknowledged': 'Ditanggapi',
    'cleared': 'Reda',
    'closed': 'Ditutup',
    'by': '{when} oleh {who}',
    'forecast.window': 'Perkiraan tiba di {station}: {from} – {until}',
    'forecast.cause': 'Dari {upstream} (Siaga {level}{cm})',
    'ack': 'Tanggapi',
    'close': 'Tutup',
    'ack.title': 'Tanggapi peringatan',
    'close.title': 'Tutup peringatan',
    'note': 'Catatan',
    'note.hint': 'Tidak wajib; disimpan dalam riwayat peringatan.',
    'cancel': 'Batal',
    'failed': 'Gagal: {detail}',
  },
  en: {
    'heading': 'Alerts',
    'open': 'Open',
    'recent': 'Recently ended',
    'none.open': 'No open alerts.',
    'none.recent': 'No ended alerts yet.',
    'count.open': '{n} open',
    'status.active': 'Active',
    'status.acknowledged': 'Acknowledged',
    'status.cleared': 'Cleared',
    'status.closed': 'Closed',
    'type.siaga': 'Siaga',
    'type.rate_of_rise': 'Fast rise',
    'type.offline': 'Station silent',
    'type.forecast': 'Flood expected from upstream',
    'type.gateway_health': 'Gateway trouble',
    'type.sos': 'SOS',
    'type.overdue': 'Vessel overdue',
    'type.marine': 'Marine weather',
    'opened': 'Opened',
    'level': 'Water level',
    'rate': 'Rise rate',
    'last_arrival': 'Last data',
    'acknowledged': 'Acknowledged',
    'cleared': 'Cleared',
    'closed': 'Closed',
    'by': '{when} by {who}',
    'forecast.window': 'Expected at {station}: {from} – {until}',
    'forecast.cause': 'From {upstream} (Siaga {level}{cm})',
    'ack': 'Acknowledge',
    'close': 'Close',
    'ack.title': 'Acknowledge alert',
    'close.title': 'Close alert',
    'note': 'Note',
    'note.hint': 'Optional; kept in the alert’s history.',
    'cancel': 'Cancel',
    'failed': 'Failed: {detail}',
  },
};

/**
 * Whether `next` should replace `shown`. Both from the live stream (they carry its `seq`): the
 * later event. Otherwise (a list, an acknowledgement's answer) the later `updated_at`, and at the
 * same one the status further along, since acknowledging and closing leave `updated_at` as it
 * was. Never status alone: an acknowledged alert that got worse is active again.
 */
export function isNewer(next, shown) {
  if (!shown) return true;
  if (next.seq != null && shown.seq != null) return next.seq > shown.seq;
  const later = Date.parse(next.updated_at) - Date.parse(shown.updated_at);
  if (later !== 0) return later > 0;
  return STATUS_RANK[next.status] >= STATUS_RANK[shown.status];
}

function openOrder(a, b) {
  return (
    STATUS_RANK[a.status] - STATUS_RANK[b.status] ||
    (a.siaga ?? 9) - (b.siaga ?? 9) ||
    Date.parse(b.opened_at) - Date.parse(a.opened_at)
  );
}

function endedOrder(a, b) {
  const ended = (x) => Date.parse(x.closed_at ?? x.cleared_at ?? x.updated_at);
  return ended(b) - ended(a);
}

// ---- names of what alerts are about ------------------------------------------------------
// An alert names its subject by id ("depok", a vessel's or a sea area's id); people read names.
// Each source's names come from the list its own pages read, asked once and only when an alert
// needs it and the user may read that list; an id not listed (or a list refused) stays the id.

const NAME_SOURCES = {
  station: {roles: 'STATION_READERS', load: (ctx) => everyPage(ctx, '/stations')},
  vessel: {roles: 'VESSEL_READERS', load: (ctx) => everyPage(ctx, '/vessels')},
  area: {
    roles: 'MARINE_READERS',
    load: async (ctx) => (await ctx.api('/marine-conditions')).features
      .filter((f) => f.properties.kind === 'forecast_area').map((f) => f.properties),
  },
};
const MAX_NAME_PAGES = 10;

async function everyPage(ctx, path) {
  const items = [];
  for (let page = 0; page < MAX_NAME_PAGES; page++) {
    const answer = await ctx.api(path, {query: {limit: 500, offset: items.length}});
    items.push(...answer.data);
    if (!answer.data.length || items.length >= answer.count) break;
  }
  return items;
}

/** The [source, id] pairs an alert shows: its subject (a station, a vessel, a sea area) and a forecast's upstream station. */
export function subjectsOf(alert) {
  const found = [];
  if (alert.station) found.push(['station', alert.station]);
  else if (alert.subject && alert.kind === 'fishfinder') found.push(['vessel', alert.subject]);
  else if (alert.subject && alert.kind === 'wavebuoy') found.push(['area', alert.subject]);
  if (alert.forecast?.upstream_station) found.push(['station', alert.forecast.upstream_station]);
  return found;
}

function subjectNames(ctx) {
  const names = new Map(); // 'source:id' -> name
  const asked = new Set();
  const nameOf = (source, id) => names.get(`${source}:${id}`) ?? id;
  return {
    nameOf,
    /** What the alert is about, by name where known. */
    subject(alert) {
      const [first] = subjectsOf(alert);
      return first ? nameOf(...first) : alert.subject ?? '';
    },
    /** Ask for the lists these alerts need and that were not asked yet; true when a name was learnt. */
    async learn(alerts) {
      const wanted = new Set(alerts.flatMap(subjectsOf).map(([source]) => source));
      const sources = [...wanted].filter((s) => !asked.has(s) && ctx.can(NAME_SOURCES[s].roles));
      sources.forEach((s) => asked.add(s));
      const lists = await Promise.all(sources.map((s) => NAME_SOURCES[s].load(ctx).then((items) => [s, items], (err) => {
        if (!(err instanceof ctx.ApiError)) throw err;
        return [s, []]; // not this user's, or not this deployment's kind: the ids stay
      })));
      let learnt = false;
      for (const [source, items] of lists) {
        for (const item of items) {
          if (item.id && item.name) names.set(`${source}:${item.id}`, item.name);
          learnt ||= Boolean(item.name);
        }
      }
      return learnt;
    },
  };
}

function row(alert, ctx, openDialog, names) {
  const {h, t} = ctx;
  const facts = [[t('opened'), ctx.fmtTime(alert.opened_at)]];
  if (alert.last_level_cm !== null && alert.last_level_cm !== undefined) {
    const at = alert.last_level_at ? ` (${ctx.fmtTime(alert.last_level_at)})` : '';
    facts.push([t('level'), `${alert.last_level_cm} cm${at}`]);
  }
  if (alert.rate_cm_per_h !== null && alert.rate_cm_per_h !== undefined) facts.push([t('rate'), `${alert.rate_cm_per_h} cm/h`]);
  if (alert.last_arrival_at) facts.push([t('last_arrival'), ctx.fmtTime(alert.last_arrival_at)]);
  for (const step of ['acknowledged', 'cleared', 'closed']) {
    const when = alert[`${step}_at`];
    if (!when) continue;
    const who = alert[`${step}_by`];
    facts.push([t(step), who ? t('by', {when: ctx.fmtTime(when), who}) : ctx.fmtTime(when)]);
  }
  const forecast = alert.forecast;
  const canAct = ctx.can('ALERT_ACTORS');
  return h(
    'li',
    {
      class: 'card alert-row',
      'data-testid': 'alert-row',
      'data-alert-id': alert.id,
      'data-status': alert.status,
      'data-type': alert.type,
    },
    h(
      'div',
      {class: 'head'},
      h('h3', {class: 'title'}, `${t(`type.${alert.type}`)} · ${names.subject(alert)}`),
      h('span', {class: `status status-${alert.status}`}, t(`status.${alert.status}`)),
      alert.siaga ? ctx.siagaBadge(alert.siaga) : null,
    ),
    forecast
      ? h(
          'p',
          {class: 'forecast', 'data-testid': 'forecast-window'},
          t('forecast.window', {
            station: names.subject(alert),
            from: ctx.fmtTime(forecast.expected_from),
            until: ctx.fmtTime(forecast.expected_until),
          }),
          h('br'),
          t('forecast.cause', {
            upstream: names.nameOf('station', forecast.upstream_station),
            level: ['', 'I', 'II', 'III'][forecast.upstream_siaga] ?? forecast.upstream_siaga,
            cm: forecast.upstream_level_cm === null ? '' : `, ${forecast.upstream_level_cm} cm`,
          }),
        )
      : null,
    h('dl', {class: 'facts'}, facts.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    canAct && alert.status === 'active'
      ? h('div', {class: 'actions'}, h('button', {type: 'button', 'data-testid': 'alert-ack', 'on:click': () => openDialog(alert, 'ack')}, t('ack')))
      : null,
    canAct && alert.status === 'cleared'
      ? h('div', {class: 'actions'}, h('button', {type: 'button', class: 'secondary', 'data-testid': 'alert-close', 'on:click': () => openDialog(alert, 'close')}, t('close')))
      : null,
  );
}

function noteDialog(ctx, names, onDone) {
  const {h, t} = ctx;
  const title = h('h2', {id: 'alert-dialog-title'});
  const note = h('textarea', {id: 'alert-note', 'data-testid': 'alert-note', maxlength: 1000, 'aria-describedby': 'alert-note-hint'});
  const error = h('p', {class: 'error', role: 'alert', hidden: true});
  const submit = h('button', {type: 'submit', 'data-testid': 'alert-note-submit'});
  const cancel = h('button', {type: 'button', class: 'secondary', 'on:click': () => dialog.close()}, t('cancel'));
  let target = null;
  const form = h(
    'form',
    {method: 'dialog', 'on:submit': (e) => send(e)},
    title,
    h('label', {for: 'alert-note'}, t('note')),
    note,
    h('p', {id: 'alert-note-hint', class: 'muted'}, t('note.hint')),
    error,
    h('div', {class: 'actions'}, submit, cancel),
  );
  const dialog = h('dialog', {'aria-labelledby': 'alert-dialog-title'}, form);

  async function send(event) {
    event.preventDefault();
    const {alert, action} = target;
    submit.disabled = true;
    error.hidden = true;
    try {
      const text = note.value.trim();
      const updated = await ctx.api(`/alerts/${alert.id}/${action}`, {method: 'POST', body: {note: text || null}});
      dialog.close();
      onDone(updated);
    } catch (err) {
      error.textContent = t('failed', {detail: err.message});
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  }

  return {
    element: dialog,
    open(alert, action) {
      target = {alert, action};
      title.textContent = t(`${action}.title`) + ` · ${names.subject(alert)}`;
      submit.textContent = t(action);
      note.value = '';
      error.hidden = true;
      dialog.showModal();
      note.focus();
    },
  };
}

async function render(el, ctx) {
  const {h, t} = ctx;
  const alerts = new Map(); // id -> alert as shown
  let loaded = false;
  const pending = [];
  ctx.onAlertEvent((event) => (loaded ? apply(event) : pending.push(event)));

  const summary = h('p', {class: 'muted', 'data-testid': 'alert-summary'});
  const openList = h('ul', {class: 'alert-list', 'data-testid': 'open-alerts'});
  const recentList = h('ul', {class: 'alert-list', 'data-testid': 'recent-alerts'});
  const names = subjectNames(ctx);
  const dialog = noteDialog(ctx, names, (updated) => upsert(updated));
  el.append(
    h('h1', {}, t('heading')),
    summary,
    h('h2', {id: 'alerts-open'}, t('open')),
    openList,
    h('h2', {id: 'alerts-recent'}, t('recent')),
    recentList,
    dialog.element,
  );

  function remember(alert) {
    if (!isNewer(alert, alerts.get(alert.id))) return false;
    alerts.set(alert.id, alert);
    return true;
  }

  function upsert(alert) {
    const changed = remember(alert);
    if (changed) draw();
    return changed;
  }

  function apply(event) {
    if (!event.alert || !upsert({...event.alert, seq: event.seq})) return;
    ctx.mark(`alert-shown:${event.seq}`);
    learnNames([event.alert]).catch((err) => console.error(err)); // e.g. the first vessel's alert
  }

  async function learnNames(some) {
    if (await names.learn(some)) draw();
  }

  function draw() {
    const all = [...alerts.values()];
    const open = all.filter((a) => OPEN.has(a.status)).sort(openOrder);
    const ended = all.filter((a) => !OPEN.has(a.status)).sort(endedOrder).slice(0, RECENT_LIMIT);
    openList.replaceChildren(...(open.length ? open.map((a) => row(a, ctx, dialog.open, names)) : [h('li', {class: 'empty'}, t('none.open'))]));
    recentList.replaceChildren(...(ended.length ? ended.map((a) => row(a, ctx, dialog.open, names)) : [h('li', {class: 'empty'}, t('none.recent'))]));
    summary.textContent = t('count.open', {n: open.length});
  }

  const [open, recent] = await Promise.all([
    ctx.api('/alerts', {query: {status: 'open', limit: 500}}),
    ctx.api('/alerts', {query: {limit: RECENT_LIMIT}}),
  ]);
  for (const alert of [...open.data, ...recent.data]) remember(alert);
  loaded = true;
  draw(); // at once, by ids; by name as soon as the lists answer (the page is ready then)
  pending.splice(0).forEach(apply);
  await learnNames([...alerts.values()]);
}

export default [
  {
    id: 'alerts',
    nav: true,
    order: 20,
    title: {id: 'Peringatan', en: 'Alerts'},
    roles: 'ALERT_READERS',
    strings,
    render,
  },
];
