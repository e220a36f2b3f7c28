// The shell's texts, Indonesian first; each page module brings its own (`strings`), looked up first.

export const LANGS = ['id', 'en'];
const STORAGE_KEY = 'tepi.lang';

export const SHELL_STRINGS = {
  id: {
    'app.name': 'Tepi',
    'app.tagline': 'Konsol operator',
    'nav.label': 'Navigasi utama',
    'nav.menu': 'Menu',
    'lang.switch': 'English',
    'lang.switch.label': 'Ganti bahasa ke English',
    'signout': 'Keluar',
    'signout.failed': 'Gagal keluar ({detail}): Anda masih masuk. Coba lagi.',
    'signin': 'Masuk',
    'live.live': 'Langsung',
    'live.reconnecting': 'Menyambung ulang…',
    'live.label': 'Status peringatan langsung',
    'page.loading': 'Memuat…',
    'page.not_found': 'Halaman tidak ditemukan',
    'page.not_found.text': 'Alamat ini tidak menunjuk ke halaman konsol.',
    'page.forbidden': 'Tidak diizinkan',
    'page.forbidden.text': 'Peran Anda ({role}) tidak boleh membuka halaman ini.',
    'page.error': 'Terjadi kesalahan',
    'page.error.text': 'Halaman ini tidak dapat dimuat: {detail}',
    'page.start': 'Ke halaman awal',
    'error.network': 'Server tidak dapat dihubungi.',
    'empty': 'Tidak ada data.',
    'close': 'Tutup',
    'cancel': 'Batal',
    'save': 'Simpan',
    'delete': 'Hapus',
    'yes': 'Ya',
    'no': 'Tidak',
    'all': 'Semua',
    'role.admin': 'Admin',
    'role.disaster_office': 'BPBD (Pusdalops)',
    'role.viewer': 'Pemantau',
    'role.fisher': 'Nelayan',
    'role.fisheries_office': 'Dinas Perikanan',
    'role.staff_admin': 'Admin kepegawaian',
    'role.employee': 'Pegawai',
    'map.attribution': 'Daratan: Natural Earth',
  },
  en: {
    'app.name': 'Tepi',
    'app.tagline': 'Operator console',
    'nav.label': 'Main navigation',
    'nav.menu': 'Menu',
    'lang.switch': 'Bahasa Indonesia',
    'lang.switch.label': 'Switch language to Bahasa Indonesia',
    'signout': 'Sign out',
    'signout.failed': 'Could not sign out ({detail}): you are still signed in. Try again.',
    'signin': 'Sign in',
    'live.live': 'Live',
    'live.reconnecting': 'Reconnecting…',
    'live.label': 'Live alert status',
    'page.loading': 'Loading…',
    'page.not_found': 'Page not found',
    'page.not_found.text': 'This address is no page of the console.',
    'page.forbidden': 'Not allowed',
    'page.forbidden.text': 'Your role ({role}) may not open this page.',
    'page.error': 'Something went wrong',
    'page.error.text': 'This page could not be loaded: {detail}',
    'page.start': 'Go to the start page',
    'error.network': 'The server cannot be reached.',
    'empty': 'No data.',
    'close': 'Close',
    'cancel': 'Cancel',
    'save': 'Save',
    'delete': 'Delete',
    'yes': 'Yes',
    'no': 'No',
    'all': 'All',
    'role.admin': 'Admin',
    'role.disaster_office': 'Disaster office',
    'role.viewer': 'Viewer',
    'role.fisher': 'Fisher',
    'role.fisheries_office': 'Fisheries office',
    'role.staff_admin': 'Staff administration',
    'role.employee': 'Employee',
    'map.attribution': 'Land: Natural Earth',
  },
};

export function savedLang() {
  try {
    const lang = localStorage.getItem(STORAGE_KEY);
    return LANGS.includes(lang) ? lang : 'id';
  } catch {
    return 'id';
  }
}

export function saveLang(lang) {
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // private mode: the choice lasts this page only
  }
}

/** The text of `key` in `lang` from the first dictionary set that has it (then Indonesian), `{name}`s filled. */
export function translate(lang, key, vars, ...sources) {
  let text;
  for (const strings of sources) {
    text = strings?.[lang]?.[key] ?? strings?.id?.[key];
    if (text !== undefined) break;
  }
  if (text === undefined) text = key;
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name) => (name in vars ? String(vars[name]) : whole));
}

/** A page's title ({id, en} or a string) in `lang`. */
export function titleIn(title, lang) {
  return typeof title === 'string' ? title : title?.[lang] ?? title?.id ?? '';
}
