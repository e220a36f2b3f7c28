// The console shell: loads the manifest and every page module, knows who is signed in, routes
// `#/<page>/<params>` to a page's render(el, ctx, params), keeps the header, the navigation and
// the live alert stream. The contract with the pages (`ctx`) is in README.md beside this file.

import {ApiError, makeApi} from './shell/api.js?v={{build}}';
import {h} from './shell/dom.js?v={{build}}';
import {DEFAULT_TZ, fmtTime, siagaColour, siagaLabel, tzLabel} from './shell/format.js?v={{build}}';
import {LANGS, SHELL_STRINGS, saveLang, savedLang, titleIn, translate} from './shell/i18n.js?v={{build}}';
import {AlertStream} from './shell/live.js?v={{build}}';
import {forgetBasemaps, makeChart, makeMap, warmBasemap} from './shell/visual.js?v={{build}}';

const state = {
  manifest: null,
  pages: new Map(), // id -> page
  lang: savedLang(),
  user: null,
  session: {csrf: null},
  current: null, // {page, params, cleanups, token}
  renderToken: 0,
};

const els = {
  main: document.getElementById('main'),
  nav: document.getElementById('nav'),
  navList: document.querySelector('#nav ul'),
  menu: document.querySelector('[data-testid=menu-button]'),
  lang: document.querySelector('[data-testid=lang-switch]'),
  signout: document.querySelector('[data-testid=signout]'),
  live: document.querySelector('[data-testid=live-status]'),
  who: document.querySelector('[data-testid=who]'),
  brand: document.querySelector('.brand'),
};

const shellT = (key, vars) => translate(state.lang, key, vars, SHELL_STRINGS);
const api = makeApi(state.session, onUnauthorized);
const stream = new AlertStream({onState: showLiveState, stillSignedIn: refreshUser});

function can(name) {
  if (name === 'public') return true;
  const roles = state.manifest?.roles?.[name];
  return Boolean(state.user && roles && roles.includes(state.user.role));
}

function isPublic(page) {
  return page?.roles === 'public';
}

// ---- who is signed in -------------------------------------------------------------------

function userFrom(me) {
  return {
    name: me.name,
    role: me.role,
    tenant: me.tenant,
    tenant_name: me.tenant_name ?? me.tenant,
    timezone: me.timezone ?? DEFAULT_TZ,
    email: me.email ?? null,
  };
}

/** Ask the API who we are (cookie or bearer header); sets the user, or null on 401. */
async function refreshUser() {
  try {
    const me = await api('/me');
    setUser(userFrom(me), me.csrf_token ?? null);
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) throw err;
    setUser(null, null);
  }
  return state.user !== null;
}

function setUser(user, csrf) {
  const changed = state.user?.name !== user?.name || state.user?.tenant !== user?.tenant;
  state.user = user;
  state.session.csrf = csrf;
  if (changed) forgetBasemaps();
  if (user) warmBasemap(api); // most pages draw a map: its land arrives while they fetch their data
  if (user && can('ALERT_READERS')) stream.start();
  else stream.stop();
  renderChrome();
}

function onUnauthorized() {
  if (state.user === null) return;
  setUser(null, null);
  if (!isPublic(state.current?.page)) goToLogin();
}

async function signIn({tenant, name, password}) {
  const answer = await api('/session', {method: 'POST', body: {tenant, name, password}});
  state.session.csrf = answer?.csrf_token ?? null;
  await refreshUser();
  const next = sessionStorage.getItem('tepi.next');
  sessionStorage.removeItem('tepi.next');
  navigate(next && next !== '#/login' ? next : '#/');
  return state.user;
}

async function signOut() {
  try {
    await api('/session', {method: 'DELETE'});
  } catch (err) {
    // Already gone (401) or no session endpoint (404): signed out anyway. Anything else (a refused
    // CSRF token or Origin, the server down) leaves the session valid: saying "signed out" then
    // would leave a shared computer signed in.
    if (!(err instanceof ApiError) || (err.status !== 401 && err.status !== 404)) {
      els.main.querySelector('[data-testid=signout-error]')?.remove();
      els.main.prepend(h('p', {class: 'error', role: 'alert', 'data-testid': 'signout-error'}, shellT('signout.failed', {detail: err.message})));
      return;
    }
  }
  setUser(null, null);
  navigate('#/');
}

function goToLogin() {
  if (location.hash !== '#/login') sessionStorage.setItem('tepi.next', location.hash || '#/');
  navigate('#/login');
}

// ---- header, navigation, live status ----------------------------------------------------

/** Listed for this user: `navRoles` (if any) narrows who sees the link; `roles` still decides who may open it. */
function visibleInNav(page) {
  if (!page.nav) return false;
  return state.user ? !isPublic(page) && can(page.roles) && can(page.navRoles ?? page.roles) : isPublic(page);
}

function renderChrome() {
  document.documentElement.lang = state.lang;
  els.brand.textContent = shellT('app.name');
  els.brand.title = shellT('app.tagline');
  els.menu.querySelector('.menu-label').textContent = shellT('nav.menu');
  els.nav.setAttribute('aria-label', shellT('nav.label'));
  els.lang.textContent = shellT('lang.switch');
  els.lang.setAttribute('aria-label', shellT('lang.switch.label'));
  els.signout.textContent = shellT('signout');
  els.signout.hidden = !state.user;
  els.who.textContent = state.user ? `${state.user.name} · ${state.user.tenant_name}` : '';
  els.who.hidden = !state.user;
  const links = [...state.pages.values()]
    .filter(visibleInNav)
    .sort((a, b) => (a.order ?? 100) - (b.order ?? 100))
    .map((page) => h('li', {}, h('a', {href: `#/${page.id}`, 'data-page': page.id}, titleIn(page.title, state.lang))));
  if (!state.user && state.current?.page?.id !== 'login' && state.pages.has('login')) {
    links.push(h('li', {}, h('a', {href: '#/login', 'data-page': 'login'}, shellT('signin'))));
  }
  els.navList.replaceChildren(...links);
  document.body.classList.toggle('no-nav', links.length === 0);
  els.menu.hidden = links.length === 0;
  markCurrentLink();
  showLiveState(els.live.dataset.state);
}

function markCurrentLink() {
  for (const a of els.navList.querySelectorAll('a')) {
    if (a.dataset.page === state.current?.page?.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

function showLiveState(liveState) {
  els.live.dataset.state = liveState;
  els.live.hidden = liveState === 'off';
  els.live.setAttribute('aria-label', shellT('live.label'));
  els.live.querySelector('.live-text').textContent = liveState === 'off' ? '' : shellT(`live.${liveState}`);
}

function setMenuOpen(open) {
  els.menu.setAttribute('aria-expanded', String(open));
  document.body.classList.toggle('menu-open', open);
}

// ---- routing ----------------------------------------------------------------------------

function decode(part) {
  try {
    return decodeURIComponent(part);
  } catch {
    return part; // a stray '%': the text as typed
  }
}

function parseHash(hash) {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decode);
  return {id: parts[0] || null, params: parts.slice(1)};
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function startPage() {
  const pages = [...state.pages.values()].filter(visibleInNav).sort((a, b) => (a.order ?? 100) - (b.order ?? 100));
  if (pages.length) return pages[0].id;
  return state.pages.has('public') && !state.user ? 'public' : 'login';
}

/** Run `fn` when the page rendered as `token` is left; at once if it has been left already
 * (a render still awaiting when the user moved on must not leave a map or a listener behind). */
function cleanupOn(token, cleanups, fn) {
  if (state.current?.token === token) cleanups.push(fn);
  else runCleanup(fn);
}

function makeCtx(page, token, cleanups) {
  const t = (key, vars) => translate(state.lang, key, vars, page.strings, SHELL_STRINGS);
  const onCleanup = (fn) => cleanupOn(token, cleanups, fn);
  const tz = () => state.user?.timezone ?? DEFAULT_TZ;
  return {
    api,
    ApiError,
    t,
    get lang() {
      return state.lang;
    },
    get user() {
      return state.user;
    },
    can,
    get tz() {
      return tz();
    },
    get tzLabel() {
      return tzLabel(tz());
    },
    fmtTime: (iso, opts = {}) => fmtTime(iso, {tz: tz(), ...opts}),
    h,
    map: (el, opts) => makeMap(el, opts, {api, t, onCleanup}),
    chart: (el, opts, data) => makeChart(el, opts, data, {onCleanup}),
    siagaColour,
    siagaLabel: (level) => siagaLabel(level, state.lang),
    siagaBadge: (level) =>
      h(
        'span',
        {class: 'siaga-badge', 'data-siaga': level ?? ''},
        h('span', {class: 'swatch', style: `background:${siagaColour(level)}`, 'aria-hidden': 'true'}),
        siagaLabel(level, state.lang),
      ),
    onAlertEvent(callback) {
      const off = stream.subscribe(callback);
      onCleanup(off);
      return off;
    },
    onCleanup,
    navigate,
    setTitle: (text) => {
      document.title = `${text} · ${shellT('app.name')}`;
    },
    mark: (name) => performance.mark(name),
    signIn,
    signOut,
  };
}

function message(titleKey, textKey, vars) {
  return [
    h('h1', {}, shellT(titleKey)),
    h('p', {}, shellT(textKey, vars)),
    h('p', {}, h('a', {href: '#/'}, shellT('page.start'))),
  ];
}

async function route() {
  setMenuOpen(false);
  let {id, params} = parseHash(location.hash);
  if (!id) {
    id = startPage();
    history.replaceState(null, '', `#/${id}`);
  }
  const page = state.pages.get(id);
  if (page && !isPublic(page) && !state.user) {
    goToLogin();
    return;
  }
  const previous = state.current;
  const token = ++state.renderToken;
  const cleanups = [];
  state.current = {page, params, cleanups, token};
  for (const fn of previous?.cleanups.reverse() ?? []) runCleanup(fn);
  els.main.removeAttribute('data-page-ready');
  els.main.removeAttribute('data-page-error');
  const section = h('section', {class: 'page', 'data-page': id});
  els.main.replaceChildren(section);
  if (previous && previous.page?.id !== id) els.main.focus({preventScroll: true}); // screen readers start at the new page
  markCurrentLink();
  renderChrome();
  if (!page) {
    section.append(...message('page.not_found', 'page.not_found.text'));
    return finish(token, id);
  }
  document.title = `${titleIn(page.title, state.lang)} · ${shellT('app.name')}`;
  if (!can(page.roles)) {
    const role = shellT(`role.${state.user.role}`);
    section.append(...message('page.forbidden', 'page.forbidden.text', {role}));
    return finish(token, id);
  }
  try {
    const cleanup = await page.render(section, makeCtx(page, token, cleanups), params);
    if (typeof cleanup === 'function') cleanupOn(token, cleanups, cleanup);
  } catch (err) {
    if (token !== state.renderToken) return;
    if (err instanceof ApiError && err.status === 401 && !isPublic(page)) return; // the sign-in page is shown
    console.error(`page ${id} failed`, err);
    const detail = err instanceof ApiError && err.status === 0 ? shellT('error.network') : err.message;
    section.replaceChildren(...message('page.error', 'page.error.text', {detail}));
    els.main.dataset.pageError = '1';
  }
  finish(token, id);
}

function finish(token, id) {
  if (token !== state.renderToken) return; // navigated away meanwhile: the newer page owns the screen
  els.main.dataset.pageReady = id;
  performance.mark(`page-ready:${id}`);
}

function runCleanup(fn) {
  try {
    fn();
  } catch (err) {
    console.error('page cleanup failed', err);
  }
}

// ---- start ------------------------------------------------------------------------------

function addPages(modulePages, source) {
  for (const page of modulePages || []) {
    if (!page?.id || typeof page.render !== 'function') {
      console.error(`${source}: a page needs an id and a render function`, page);
    } else if (state.pages.has(page.id)) {
      console.error(`${source}: page id ${page.id} is taken`);
    } else {
      state.pages.set(page.id, page);
    }
  }
}

async function loadPages(manifest) {
  const urls = [...(manifest.pages || []), ...manifest.kinds.map((k) => k.module)];
  const loaded = await Promise.allSettled(urls.map((url) => import(url)));
  loaded.forEach((result, i) => {
    if (result.status === 'fulfilled') addPages(result.value.default, urls[i]);
    else console.error(`${urls[i]} failed to load`, result.reason);
  });
}

/** Who is signed in (null: nobody), as index.html preloaded it: a fetch as plain as the preload
 * (cors mode, same-origin credentials, no headers of its own) takes the preloaded answer. */
async function preloadedMe() {
  const response = await fetch('/api/v1/me');
  if (response.status === 401) return null;
  if (!response.ok) throw new ApiError(response.status, response.statusText);
  return response.json();
}

async function start() {
  // Who is signed in and the manifest were asked for by index.html, beside the modules: the
  // page's first render waits for the three, which arrive together.
  const me = preloadedMe();
  const response = await fetch('/console/manifest.json'); // as preloaded
  state.manifest = await response.json();
  const signIn = me.then(
    (answer) => setUser(answer ? userFrom(answer) : null, answer?.csrf_token ?? null),
    (err) => console.error('who am I?', err),
  );
  await Promise.all([loadPages(state.manifest), signIn]);
  els.lang.addEventListener('click', () => {
    state.lang = LANGS[(LANGS.indexOf(state.lang) + 1) % LANGS.length];
    saveLang(state.lang);
    route();
  });
  els.signout.addEventListener('click', () => signOut());
  els.menu.addEventListener('click', () => setMenuOpen(els.menu.getAttribute('aria-expanded') !== 'true'));
  window.addEventListener('hashchange', route);
  await route();
}

start().catch((err) => {
  console.error('the console failed to start', err);
  els.main.replaceChildren(...message('page.error', 'page.error.text', {detail: err.message}));
});
