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
  const MAX_CHARS = 2000000;   // of payload per frame: large writes in a loop stop early (recorder.py caps again)
  const stringify = JSON.stringify;
  const now = Date.now;
  let sent = 0;
  let chars = 0;
  let capped = false;
  // A stack line ends with "URL:line:col" or "(URL:line:col)"; URLs may contain parentheses.
  const LINE_URL_RE = /(https?:\/\/\S+?):\d+:\d+\)?$/;
  const ANY_URL_RE = /(https?:\/\/[^\s()<>"']+?):\d+:\d+/;

  function callers() {
    if (capped) return [];   // nothing more is sent: no stack walk either
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

  // Past either cap this frame sends only small `capped` events with how many it left out (at the
  // first and every 1,000th), so the page record counts them (pages[].dropped.events).
  let skipped = 0;
  function send(event) {
    if (capped) {
      skipped += 1;
      if (skipped % 1000 === 0) {
        try { binding(SECRET + stringify({type: 'capped', skipped, frame_url: String(location.href).slice(0, 2048)})); }
        catch (e) { /* ignore */ }
      }
      return;
    }
    try {
      if (typeof binding === 'function') {
        event.frame_url = String(location.href).slice(0, 2048);
        event.t = now();
        const text = stringify(event);
        sent += 1;
        chars += text.length;
        if (sent > MAX_EVENTS || chars > MAX_CHARS) {
          capped = true;
          skipped = 1;
          binding(SECRET + stringify({type: 'capped', skipped, frame_url: event.frame_url}));
          return;
        }
        binding(SECRET + text);
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

  // ---- device-property reads that fingerprinting scripts rely on (EDPB Guidelines 2/2023) --------
  // Reported once per script and API, with the script on top of the stack; scanner/classify/
  // fingerprint.py decides from the combination (rules/fingerprinting.yaml). Canvas: only a
  // read-back (toDataURL, toBlob, getImageData) of a canvas of at least 16x16 on which text of at
  // least 10 distinct characters or in 2 colours was drawn, and that never used save()/restore()
  // (what drawing libraries do): a chart, a signature pad or a badge is not reported.
  const reported = new Set();
  const calls = new Map();   // api -> calls seen: a getter read in a loop costs a stack walk 64 times, no more
  function fp(api, detail) {
    try {
      const seen = (calls.get(api) || 0) + 1;
      calls.set(api, seen);
      if (seen > 64) return;
      const stack = callers();
      const key = api + ' ' + (stack[0] || location.href);
      if (reported.has(key) || reported.size > 500) return;
      reported.add(key);
      send({type: 'fp', api, detail: detail ? String(detail).slice(0, 200) : null, stack});
    } catch (e) { /* never break the page */ }
  }
  const canvasText = new WeakMap();   // canvas -> {chars: Set, colors: Set, saved: bool}
  function textOf(ctx) {
    const canvas = ctx && ctx.canvas;
    if (!canvas) return null;
    let t = canvasText.get(canvas);
    if (!t) { t = {chars: new Set(), colors: new Set(), saved: false}; canvasText.set(canvas, t); }
    return t;
  }
  function wrap(proto, name, before) {
    if (!proto || typeof proto[name] !== 'function') return;
    const orig = proto[name];
    proto[name] = function () {
      try { before(this, arguments); } catch (e) { /* ignore */ }
      return orig.apply(this, arguments);
    };
  }
  const C2D = window.CanvasRenderingContext2D && CanvasRenderingContext2D.prototype;
  for (const name of ['fillText', 'strokeText']) {
    wrap(C2D, name, (ctx, args) => {
      const t = textOf(ctx);
      if (!t || t.chars.size > 64) return;
      for (const ch of String(args[0]).slice(0, 64)) t.chars.add(ch);
      t.colors.add(String(name === 'fillText' ? ctx.fillStyle : ctx.strokeStyle));
    });
  }
  for (const name of ['save', 'restore']) wrap(C2D, name, (ctx) => { const t = textOf(ctx); if (t) t.saved = true; });
  function readBack(canvas, how) {
    const t = canvasText.get(canvas);
    if (!t || t.saved || canvas.width < 16 || canvas.height < 16) return;
    if (t.chars.size >= 10 || t.colors.size >= 2) fp('canvas-readback', how + ' ' + canvas.width + 'x' + canvas.height);
  }
  const CANVAS = window.HTMLCanvasElement && HTMLCanvasElement.prototype;
  wrap(CANVAS, 'toDataURL', (canvas, args) => {
    if (!/jpe?g|webp/i.test(String(args[0] || ''))) readBack(canvas, 'toDataURL');   // lossy: not a stable hash
  });
  wrap(CANVAS, 'toBlob', (canvas) => readBack(canvas, 'toBlob'));
  wrap(C2D, 'getImageData', (ctx, args) => { if (ctx.canvas && args[2] >= 16 && args[3] >= 16) readBack(ctx.canvas, 'getImageData'); });
  const fontsMeasured = new Set();
  wrap(C2D, 'measureText', (ctx) => {
    if (fontsMeasured.size <= 64) fontsMeasured.add(String(ctx.font));
    if (fontsMeasured.size === 20) fp('font-probe', 'measureText with 20 fonts');
  });
  const fontsSet = new Set();
  const fontDesc = window.CSSStyleDeclaration && Object.getOwnPropertyDescriptor(CSSStyleDeclaration.prototype, 'fontFamily');
  if (fontDesc && fontDesc.set) {
    Object.defineProperty(CSSStyleDeclaration.prototype, 'fontFamily', {
      configurable: true, enumerable: fontDesc.enumerable,
      get() { return fontDesc.get.call(this); },
      set(value) {
        if (fontsSet.size <= 64) {
          fontsSet.add(String(value));
          if (fontsSet.size === 20) fp('font-probe', 'style.fontFamily with 20 fonts');
        }
        return fontDesc.set.call(this, value);
      },
    });
  }
  for (const GL of [window.WebGLRenderingContext, window.WebGL2RenderingContext]) {
    // UNMASKED_VENDOR_WEBGL, UNMASKED_RENDERER_WEBGL (WEBGL_debug_renderer_info)
    wrap(GL && GL.prototype, 'getParameter', (gl, args) => { if (args[0] === 37445 || args[0] === 37446) fp('webgl-debug-info'); });
  }
  const OAC = window.OfflineAudioContext && OfflineAudioContext.prototype;
  const oscillating = new WeakSet();
  wrap(OAC, 'createOscillator', (ctx) => oscillating.add(ctx));
  wrap(OAC, 'startRendering', (ctx) => { if (oscillating.has(ctx)) fp('audio-render', 'OfflineAudioContext with an oscillator'); });
  const NAV = window.Navigator && Navigator.prototype;
  for (const [prop, api] of [['plugins', 'plugins'], ['mimeTypes', 'plugins']]) {
    const d = NAV && Object.getOwnPropertyDescriptor(NAV, prop);
    if (d && d.get) {
      Object.defineProperty(NAV, prop, {configurable: true, enumerable: d.enumerable,
        get() { fp(api); return d.get.call(this); }});
    }
  }
  wrap(NAV, 'getBattery', () => fp('battery'));
  wrap(window.MediaDevices && MediaDevices.prototype, 'enumerateDevices', () => fp('media-devices'));
  wrap(window.NavigatorUAData && NavigatorUAData.prototype, 'getHighEntropyValues', () => fp('high-entropy-ua'));

  if (window.IDBFactory && IDBFactory.prototype.open) {
    const origOpen = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (name) {
      try { send({type: 'storage', kind: 'indexeddb', key: String(name).slice(0, 1024), stack: callers()}); } catch (e) { /* ignore */ }
      return origOpen.apply(this, arguments);
    };
  }
})();
