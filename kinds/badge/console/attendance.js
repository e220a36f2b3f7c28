// Attendance: the office's board of a day and the monthly recap (with the CSV export the
// performance allowance is computed from) for staff administration; an employee's own days and
// month for everyone else linked to an employee. Times in the tenant's zone (ctx.fmtTime).
// Attendance is personal data (UU 27/2022): nothing is kept in localStorage or between pages,
// and each read is one the API writes to its view audit.

const STYLESHEET = new URL('./pages.css?v={{build}}', import.meta.url).href;
const PAGE = 100;

function ensureStyles() {
  if (document.querySelector('link[data-kind-css="badge"]')) return;
  const link = document.createElement('link');
  link.rel = 'stylesheet';
  link.href = STYLESHEET;
  link.dataset.kindCss = 'badge';
  document.head.append(link);
}

const locale = (ctx) => (ctx.lang === 'en' ? 'en-GB' : 'id-ID');

/** A count or hours in the reader's number format (7,5 in Indonesian, 7.5 in English). */
function number(ctx, value, maxDigits = 0) {
  return new Intl.NumberFormat(locale(ctx), {maximumFractionDigits: maxDigits}).format(value);
}

/** A local day of the API ('2026-03-03', already the tenant's day: no zone to convert) as the
 * console writes dates (day/month, as ctx.fmtTime's '03/03 07:52 WIB'): 'Selasa, 03/03/2026'. */
export function dayText(ctx, day, {weekday = true} = {}) {
  const [y, m, d] = String(day).split('-');
  if (!y || !m || !d) return '–';
  const name = new Intl.DateTimeFormat(locale(ctx), {weekday: 'long', timeZone: 'UTC'}).format(Date.UTC(+y, +m - 1, +d));
  return `${weekday ? `${name}, ` : ''}${d}/${m}/${y}`;
}

/** A month of the API ('2026-03') in words: 'Maret 2026', 'March 2026'. */
function monthText(ctx, month) {
  const [y, m] = String(month).split('-');
  return new Intl.DateTimeFormat(locale(ctx), {month: 'long', year: 'numeric', timeZone: 'UTC'}).format(Date.UTC(+y, +m - 1, 1));
}

/** A 403 the API explains by code: the user is linked to no employee, or their employee left. */
const LINK_PROBLEMS = new Set(['not_linked', 'left_staff']);

/** What to do when the user's account is not (or no longer) linked to an employee record, in
 * the reader's language, instead of the API's English words on an error page. */
function linkProblem(ctx, code) {
  const user = ctx.user || {};
  return ctx.h('div', {class: 'notice att-notice', role: 'status', 'data-testid': 'attendance-not-linked', 'data-code': code},
    ctx.h('p', {}, ctx.h('strong', {}, ctx.t(`att.${code}.title`))),
    ctx.h('p', {}, ctx.t(`att.${code}.text`)),
    ...(code === 'not_linked' ? [ctx.h('pre', {class: 'att-command'},
      `tepi admin employee link --tenant ${user.tenant ?? '<tenant>'} --user "${user.name ?? '<nama>'}" --nip <NIP>`)] : []));
}

function statusChip(ctx, status) {
  return ctx.h('span', {class: `att-chip att-${status}`, 'data-testid': 'attendance-status'}, ctx.t(`status.${status}`));
}

/** Minutes with their TL/PSW band ("22 mnt (TL1)"), or a dash for none. */
function minutes(ctx, n, band, prefix) {
  return n > 0 ? `${ctx.t('att.minutes', {n})}${band ? ` (${prefix}${band})` : ''}` : '–';
}

function clock(ctx, iso) {
  return iso ? ctx.fmtTime(iso, {date: false}) : '–';
}

/** A day's remarks: a correction with who and why, no check-out, a dispute. */
function notes(ctx, record) {
  const out = [];
  if (record.corrected) out.push(ctx.t('att.corrected', {by: record.corrected_by || '?', reason: record.correction_reason || ''}));
  if (record.unclosed) out.push(ctx.t('att.unclosed'));
  if (record.disputed) out.push(ctx.t('att.disputed'));
  return out.join(' · ');
}

function lastOut(ctx, record) {
  if (record.last_out) return clock(ctx, record.last_out);
  return record.first_in && !record.unclosed ? ctx.t('att.still_in') : '–';
}

/** A table in the shell's scrolling frame; the frame takes the keyboard focus (wide tables scroll
 * sideways on a phone, and a keyboard user must be able to scroll them too). */
function table(ctx, columns, rows, label) {
  const head = ctx.h('tr', {}, ...columns.map((key) => ctx.h('th', {scope: 'col'}, ctx.t(key))));
  return ctx.h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': ctx.t('att.table', {what: label})},
    ctx.h('table', {class: 'att-table'}, ctx.h('thead', {}, head), ctx.h('tbody', {}, ...rows)));
}

function labelled(ctx, id, label, control) {
  return ctx.h('div', {class: 'att-control'}, ctx.h('label', {for: id}, label), control);
}

/** A person's row header: the name, and the NIP under it (one column: the status stays in view on a phone). */
function person(ctx, r) {
  return ctx.h('th', {scope: 'row'}, r.name, ctx.h('br', {}), ctx.h('small', {class: 'att-nip'}, r.nip));
}

function boardRow(ctx, r, withOffice) {
  return ctx.h('tr', {'data-testid': 'attendance-row', 'data-nip': r.nip, 'data-status': r.status},
    person(ctx, r),
    ...(withOffice ? [ctx.h('td', {}, r.office)] : []),
    ctx.h('td', {}, statusChip(ctx, r.status)),
    ctx.h('td', {}, clock(ctx, r.first_in)), ctx.h('td', {}, lastOut(ctx, r)),
    ctx.h('td', {}, minutes(ctx, r.late_min, r.late_band, 'TL')),
    ctx.h('td', {}, minutes(ctx, r.early_leave_min, r.early_leave_band, 'PSW')),
    ctx.h('td', {}, notes(ctx, r)));
}

function bands(r, prefix) {
  return [1, 2, 3, 4].map((n) => r[`${prefix}${n}`]).join('/');
}

function recapCells(ctx, r) {
  return [r.working_days, r.on_time, r.late, r.absent, r.leave, r.sick, r.duty_travel]
    .map((n) => ctx.h('td', {}, number(ctx, n)))
    .concat([ctx.h('td', {}, number(ctx, r.worked_hours, 2)), ctx.h('td', {}, bands(r, 'tl')), ctx.h('td', {}, bands(r, 'psw'))]);
}

const RECAP_COLUMNS = ['att.working_days', 'att.on_time', 'status.late', 'status.absent', 'status.leave', 'status.sick',
  'status.duty_travel', 'att.hours', 'att.tl', 'att.psw'];

/** Pages of a list endpoint: the first, then "load more" appending the next until all are shown. */
function paged(ctx, load, drawRows, note) {
  const more = ctx.h('button', {type: 'button', class: 'secondary', 'data-testid': 'attendance-more'}, ctx.t('att.more'));
  let shown = 0;
  async function next(first) {
    const answer = await load(first ? 0 : shown);
    shown = (first ? 0 : shown) + answer.data.length;
    drawRows(answer, first);
    note.textContent = ctx.t('att.shown', {shown, count: answer.count});
    more.hidden = shown >= answer.count;
    return answer;
  }
  more.addEventListener('click', () => next(false));
  return {more, next};
}

/** Nobody has come in today and work has not started (the API says both): an empty board is no
 * absence; say so, and offer the last working day's board with one click. */
function beforeStart(ctx, answer, show) {
  const arrived = (answer.totals.present || 0) + (answer.totals.late || 0);
  if (!answer.before_start || arrived > 0) return [];
  const previous = answer.previous_working_day;
  return [ctx.h('p', {}, ctx.t('att.before_start', {time: ctx.fmtTime(answer.work_starts, {date: false})})),
    ...(previous ? [ctx.h('button', {type: 'button', class: 'secondary', 'data-testid': 'attendance-previous-day', 'on:click': () => show(previous)},
      ctx.t('att.show_previous', {date: dayText(ctx, previous)}))] : [])];
}

async function officeView(el, ctx) {
  const boardHeading = ctx.h('h2', {id: 'att-board'}, ctx.t('att.board'));
  const date = ctx.h('input', {id: 'attendance-date', type: 'date'});
  const early = ctx.h('div', {class: 'notice att-notice', 'data-testid': 'attendance-before-start', 'aria-live': 'polite', hidden: true});
  const totals = ctx.h('p', {class: 'att-totals', 'data-testid': 'attendance-totals', 'aria-live': 'polite'});
  const boardBody = ctx.h('div', {});
  const boardNote = ctx.h('p', {class: 'muted'});
  const month = ctx.h('input', {id: 'attendance-month', type: 'month'});
  const csv = ctx.h('a', {class: 'button', 'data-testid': 'recap-csv', download: ''}, ctx.t('att.csv'));
  const recapBody = ctx.h('div', {});
  const recapNote = ctx.h('p', {class: 'muted'});
  let today = null;

  let boardRows = null;
  const board = paged(ctx, (offset) => ctx.api('/attendance/daily', {query: {...(date.value ? {date: date.value} : {}), limit: PAGE, offset}}), (answer, first) => {
    if (first) {
      today = today || answer.date;
      date.value = answer.date;
      boardHeading.textContent = ctx.t(answer.date === today ? 'att.board' : 'att.board_of', {date: dayText(ctx, answer.date)});
      early.replaceChildren(...beforeStart(ctx, answer, (day) => { date.value = day; board.next(true); }));
      early.hidden = !early.childElementCount;
      totals.replaceChildren(...Object.entries(answer.totals).map(([status, n]) => ctx.h('span', {class: 'att-total', 'data-status': status},
        statusChip(ctx, status), ` ${n}`)));
      const columns = ['att.name', ...(answer.office === null ? ['att.office'] : []), 'att.status', 'att.in', 'att.out',
        'att.late', 'att.early', 'att.notes'];
      const wrap = table(ctx, columns, [], boardHeading.textContent);
      boardRows = wrap.querySelector('tbody');
      boardBody.replaceChildren(answer.count ? wrap : ctx.h('p', {class: 'empty'}, ctx.t('att.none')));
    }
    boardRows.append(...answer.data.map((r) => boardRow(ctx, r, answer.office === null)));
  }, boardNote);

  let recapRows = null;
  const recap = paged(ctx, (offset) => ctx.api('/attendance/monthly', {query: {month: month.value, limit: PAGE, offset}}), (answer, first) => {
    if (first) {
      const query = new URLSearchParams({month: answer.month, format: 'csv'});
      if (answer.office) query.set('office', answer.office);
      csv.href = `/api/v1/attendance/monthly?${query}`;
      const wrap = table(ctx, ['att.name', ...RECAP_COLUMNS], [], ctx.t('att.recap'));
      recapRows = wrap.querySelector('tbody');
      recapBody.replaceChildren(
        ctx.h('p', {}, answer.counted_until ? ctx.t('att.recap_until', {date: dayText(ctx, answer.counted_until)}) : ctx.t('att.recap_none')),
        ...(answer.count ? [wrap] : []));
    }
    recapRows.append(...answer.data.map((r) => ctx.h('tr', {'data-testid': 'recap-row', 'data-nip': r.nip},
      person(ctx, r), ...recapCells(ctx, r))));
  }, recapNote);

  let first;
  try {
    first = await board.next(true); // today in the tenant's zone is the server's to say
  } catch (e) {
    if (!(e instanceof ctx.ApiError) || e.status !== 403 || !LINK_PROBLEMS.has(e.code)) throw e;
    el.append(linkProblem(ctx, e.code)); // a staff_admin manages the office of their employee record
    return;
  }
  el.append(
    ctx.h('section', {'aria-labelledby': 'att-board'}, boardHeading,
      ctx.h('div', {class: 'att-controls'}, labelled(ctx, 'attendance-date', ctx.t('att.date'), date)),
      ctx.h('p', {class: 'muted'}, ctx.t('att.zone', {zone: ctx.tzLabel || ctx.tz})),
      early, totals, boardBody, boardNote, board.more),
    ctx.h('section', {'aria-labelledby': 'att-recap'}, ctx.h('h2', {id: 'att-recap'}, ctx.t('att.recap')),
      ctx.h('div', {class: 'att-controls'}, labelled(ctx, 'attendance-month', ctx.t('att.month'), month), csv),
      recapBody, recapNote, recap.more));
  month.value = first.date.slice(0, 7);
  await recap.next(true);
  date.addEventListener('change', () => board.next(true));
  month.addEventListener('change', () => { if (month.value) recap.next(true); });
}

function dayRows(ctx, days) {
  return days.map((d) => ctx.h('tr', {'data-testid': 'attendance-day', 'data-date': d.date, 'data-status': d.status},
    ctx.h('th', {scope: 'row'}, dayText(ctx, d.date)), ctx.h('td', {}, statusChip(ctx, d.status)),
    ctx.h('td', {}, clock(ctx, d.first_in)), ctx.h('td', {}, lastOut(ctx, d)),
    ctx.h('td', {}, minutes(ctx, d.late_min, d.late_band, 'TL')),
    ctx.h('td', {}, minutes(ctx, d.early_leave_min, d.early_leave_band, 'PSW')),
    ctx.h('td', {}, notes(ctx, d))));
}

async function ownView(el, ctx) {
  let me;
  try {
    me = await ctx.api('/employees/me');
  } catch (e) {
    if (!(e instanceof ctx.ApiError) || e.status !== 403) throw e;
    el.append(linkProblem(ctx, LINK_PROBLEMS.has(e.code) ? e.code : 'not_linked'));
    return;
  }
  const nip = encodeURIComponent(me.nip);
  const todayEl = ctx.h('div', {});
  const month = ctx.h('input', {id: 'attendance-month', type: 'month'});
  const recapEl = ctx.h('div', {});
  el.append(ctx.h('h2', {}, `${ctx.t('att.mine')}: ${me.name} (${me.nip})`), ctx.h('p', {class: 'muted'}, ctx.t('att.zone', {zone: ctx.tzLabel || ctx.tz})),
    ctx.h('section', {'aria-labelledby': 'att-today'}, ctx.h('h3', {id: 'att-today'}, ctx.t('att.today')), todayEl),
    ctx.h('section', {'aria-labelledby': 'att-recap'}, ctx.h('h3', {id: 'att-recap'}, ctx.t('att.recap')),
      ctx.h('div', {class: 'att-controls'}, labelled(ctx, 'attendance-month', ctx.t('att.month'), month)), recapEl));
  const dayColumns = ['att.day', 'att.status', 'att.in', 'att.out', 'att.late', 'att.early', 'att.notes'];

  async function showMonth() {
    const answer = await ctx.api(`/attendance/employees/${nip}/monthly`, {query: {month: month.value}});
    const head = ctx.h('tr', {}, ...RECAP_COLUMNS.map((key) => ctx.h('th', {scope: 'col'}, ctx.t(key))));
    recapEl.replaceChildren(
      ctx.h('div', {class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': ctx.t('att.table', {what: monthText(ctx, answer.month)})},
        ctx.h('table', {class: 'att-table', 'data-testid': 'recap-own'}, ctx.h('thead', {}, head),
        ctx.h('tbody', {}, ctx.h('tr', {}, ...recapCells(ctx, answer.recap))))),
      table(ctx, dayColumns, dayRows(ctx, [...answer.days].reverse()), `${ctx.t('att.recap')} ${monthText(ctx, answer.month)}`));
  }

  // This month's days up to today (the API's default span): the last one is today, in the tenant's zone.
  const days = await ctx.api(`/attendance/employees/${nip}/days`);
  const today = days.data.filter((d) => d.date === days.last_day);
  todayEl.replaceChildren(today.length ? table(ctx, dayColumns, dayRows(ctx, today), ctx.t('att.today')) : ctx.h('p', {}, '–'));
  month.value = days.last_day.slice(0, 7);
  await showMonth();
  month.addEventListener('change', () => { if (month.value) showMonth(); });
}

async function render(el, ctx) {
  ensureStyles();
  ctx.setTitle(ctx.t('att.title'));
  el.append(ctx.h('h1', {}, ctx.t('att.title')));
  if (ctx.can('ATTENDANCE_ADMINS')) await officeView(el, ctx);
  else await ownView(el, ctx);
}

export default {
  id: 'attendance',
  nav: true,
  order: 60,
  title: {id: 'Kehadiran', en: 'Attendance'},
  roles: 'ATTENDANCE_READERS',
  render,
};
