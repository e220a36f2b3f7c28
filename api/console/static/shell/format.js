// Times in the tenant's zone (WIB, WITA, WIT) and Siaga levels as colour and words.

export const DEFAULT_TZ = 'Asia/Jakarta';
const TZ_LABELS = {'Asia/Jakarta': 'WIB', 'Asia/Makassar': 'WITA', 'Asia/Jayapura': 'WIT'};

export function tzLabel(tz) {
  return TZ_LABELS[tz] || tz;
}

const formatters = new Map();

function formatter(tz, date, seconds, year) {
  const key = `${tz}|${date}|${seconds}|${year}`;
  if (!formatters.has(key)) {
    const opts = {timeZone: tz, hour: '2-digit', minute: '2-digit', hourCycle: 'h23'};
    if (seconds) opts.second = '2-digit';
    if (date) Object.assign(opts, {day: '2-digit', month: '2-digit'});
    if (date && year) opts.year = 'numeric';
    formatters.set(key, new Intl.DateTimeFormat('en-GB', opts));
  }
  return formatters.get(key);
}

/** '2025-01-20T07:05:00Z' -> '20/01 14:05 WIB' in Asia/Jakarta; '–' for no time. */
export function fmtTime(iso, {date = true, seconds = false, year = false, tz = DEFAULT_TZ} = {}) {
  if (!iso) return '–';
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '–';
  const part = Object.fromEntries(formatter(tz, date, seconds, year).formatToParts(when).map((p) => [p.type, p.value]));
  const day = date ? `${part.day}/${part.month}${year ? '/' + part.year : ''} ` : '';
  const clock = `${part.hour}:${part.minute}${seconds ? ':' + part.second : ''}`;
  return `${day}${clock} ${tzLabel(tz)}`;
}

// Siaga levels as kinds/awlr/siaga.py names them: 4 normal .. 1 awas; "SIAGA III" is BPBD's label.
const SIAGA = {
  4: {colour: '#2e7d32', roman: 'IV', id: 'Normal', en: 'Normal'},
  3: {colour: '#f9c80e', roman: 'III', id: 'Waspada', en: 'Watch'},
  2: {colour: '#f57c00', roman: 'II', id: 'Siaga', en: 'Warning'},
  1: {colour: '#c62828', roman: 'I', id: 'Awas', en: 'Danger'},
};
const NO_LEVEL = {colour: '#9e9e9e', id: 'Tanpa data', en: 'No data'};

export function siagaColour(level) {
  return (SIAGA[level] || NO_LEVEL).colour;
}

/** 'Siaga III (Waspada)'; the level's words in English are in brackets: 'Siaga III (Watch)'. */
export function siagaLabel(level, lang = 'id') {
  const s = SIAGA[level];
  if (!s) return NO_LEVEL[lang] || NO_LEVEL.id;
  return `Siaga ${s.roman} (${s[lang] || s.id})`;
}
