// Injected before any page script, in every frame. Records who writes cookies and
// web storage: the URL of the script on top of the call stack at the time of the write.
//
// The page must not reach the recorder: the binding (a random name per context, filled in by
// recorder.py) is taken into this closure and deleted from the window before any page script
// runs, and every call carries the context's secret, also only in this closure. Python checks
// the secret and caps what it accepts whatever this script does (recorder.py).
(() => {
  'use strict';
  const BINDING = __BINDING__;
  const SECRET = __SECRET__;
  const binding = window[BINDING];
  try { delete window[BINDING]; } catch (e) { /* ignore */ }
  if (window.__cookieScannerInstalled) return;
  Object.defineProperty(window, '__cookieScannerInstalled', {value: true});
  const MAX_EVENTS = 5000;
  const stringify = JSON.stringify;
  const now = Date.now;
  let sent = 0;
  // A stack line ends with "URL:line:col" or "(URL:line:col)"; URLs may contain parentheses.
  const LINE_URL_RE = /(https?:\/\/\S+?):\d+:\d+\)?$/;
  const ANY_URL_RE = /(https?:\/\/[^\s()<>"']+?):\d+:\d+/;

  function callers() {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 40;
    const stack = String(new Error().stack || '');
    Error.stackTraceLimit = limit;
    const urls = [];
    for (const line of stack.split('\n').slice(1)) {
      const m = LINE_URL_RE.exec(line.trim()) || ANY_URL_RE.exec(line);
      if (m && urls[urls.length - 1] !== m[1]) urls.push(m[1].replace(/^\(/, '').slice(0, 2048));
    }
    return urls.slice(0, 8);
  }

  function send(event) {
    if (sent >= MAX_EVENTS) return;
    sent += 1;
    try {
      if (typeof binding === 'function') {
        event.frame_url = String(location.href).slice(0, 2048);
        event.t = now();
        binding(SECRET + stringify(event));
      }
    } catch (e) { /* never break the page */ }
  }

  const desc = Object.getOwnPropertyDescriptor(Document.prototype, 'cookie');
  if (desc && desc.set) {
    Object.defineProperty(Document.prototype, 'cookie', {
      configurable: true,
      enumerable: desc.enumerable,
      get() { return desc.get.call(this); },
      set(value) {
        send({type: 'cookie', api: 'document.cookie', raw: String(value).slice(0, 8192), stack: callers()});
        return desc.set.call(this, value);
      },
    });
  }

  if (window.CookieStore && CookieStore.prototype.set) {
    const origSet = CookieStore.prototype.set;
    CookieStore.prototype.set = function (nameOrOptions, maybeValue) {
      try {
        const o = typeof nameOrOptions === 'object' && nameOrOptions !== null
          ? nameOrOptions : {name: nameOrOptions, value: maybeValue};
        send({type: 'cookie', api: 'cookieStore.set', name: String(o.name), value_len: String(o.value || '').length,
              domain: o.domain || null, path: o.path || null, expires: o.expires || null, stack: callers()});
      } catch (e) { /* ignore */ }
      return origSet.apply(this, arguments);
    };
  }

  const origSetItem = Storage.prototype.setItem;
  Storage.prototype.setItem = function (key, value) {
    try {
      const kind = this === window.localStorage ? 'local' : (this === window.sessionStorage ? 'session' : 'other');
      send({type: 'storage', kind, key: String(key).slice(0, 1024), stack: callers()});
    } catch (e) { /* ignore */ }
    return origSetItem.apply(this, arguments);
  };

  if (window.IDBFactory && IDBFactory.prototype.open) {
    const origOpen = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (name) {
      try { send({type: 'storage', kind: 'indexeddb', key: String(name).slice(0, 1024), stack: callers()}); } catch (e) { /* ignore */ }
      return origOpen.apply(this, arguments);
    };
  }
})();
