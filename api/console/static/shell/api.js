// The API client of every page: JSON in and out, the session cookie same-origin, the CSRF header
// on unsafe methods (a cookie session's; bearer-key callers have none), errors as ApiError.

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export class ApiError extends Error {
  constructor(status, detail, code = null) {
    super(typeof detail === 'string' ? detail : JSON.stringify(detail));
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.code = code;
  }
}

/** `/alerts` + {status: 'open', type: ['a', 'b']} -> `/api/v1/alerts?status=open&type=a&type=b`. */
export function apiUrl(path, query) {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query || {})) {
    if (value === undefined || value === null || value === '') continue;
    for (const v of Array.isArray(value) ? value : [value]) params.append(name, String(v));
  }
  const search = params.toString();
  return `/api/v1${path}${search ? (path.includes('?') ? '&' : '?') + search : ''}`;
}

/**
 * api(path, {method, body, query}) -> parsed JSON (null for 204). `session.csrf` is read at each
 * call; `onUnauthorized(error)` is told of every 401 before it is thrown.
 */
export function makeApi(session, onUnauthorized) {
  return async function api(path, {method = 'GET', body, query, signal} = {}) {
    method = method.toUpperCase();
    const headers = {Accept: 'application/json'};
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (!SAFE.has(method) && session.csrf) headers['X-CSRF-Token'] = session.csrf;
    let response;
    try {
      response = await fetch(apiUrl(path, query), {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        signal,
      });
    } catch (err) {
      if (err.name === 'AbortError') throw err;
      throw new ApiError(0, 'network error');
    }
    const text = response.status === 204 ? '' : await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!response.ok) {
      const error = new ApiError(response.status, data?.detail ?? response.statusText, data?.code ?? null);
      if (response.status === 401) onUnauthorized(error);
      throw error;
    }
    return data;
  };
}
