// Hand-written consent banner shared by the home-made test sites (no consent library). Each site's
// markup is its own (language, controls, where the reopen control sits); the script element says
// where the choice is kept and how the banner behaves:
//   data-key        name of the record (cookie or localStorage key)
//   data-store      "cookie" (a first-party cookie), "local" (localStorage), or "parent": the banner
//                   runs inside a (cross-origin) iframe and posts the choice to the page that
//                   embeds it (see /cmp/homemade/host.js), which keeps it and writes the trackers
//   data-reopen     "first" (the reopen control shows the first layer) or "settings" (the settings layer)
//   data-preticked  a category switched on before any choice (a dark pattern some banners have)
//   data-mount      "shadow": the banner is moved into an open shadow root; "dialog": #cb is a
//                   <dialog> opened with showModal()
//   data-show-after milliseconds to wait before the banner appears (late-injected banners)
//   data-show-on    "scroll": the banner appears on the visitor's first scroll
//   data-hide-from-bots  no banner at all for navigator.webdriver or a headless user agent
// The trackers (_ga for analytics, _fbp for marketing) are written only when allowed, and deleted
// when refused.
(function () {
  var cfg = document.currentScript.dataset;
  var KEY = cfg.key;
  var banner = document.getElementById('cb');
  if (cfg.mount === 'shadow') {
    var host = document.createElement('div');
    host.id = 'cb-host';
    var root = host.attachShadow({mode: 'open'});
    var style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = '/cmp/homemade/banner.css';
    root.appendChild(style);
    root.appendChild(banner);
    document.body.appendChild(host);
  }
  var first = banner.querySelector('#cb-first');
  var layer = banner.querySelector('#cb-layer');
  function control(id) { return banner.querySelector('#' + id) || document.getElementById(id); }

  function fromHash() {
    try { return JSON.parse(decodeURIComponent(location.hash.slice(1)) || '{}'); } catch (e) { return {}; }
  }
  function read() {
    if (cfg.store === 'parent') return fromHash().saved || null;
    if (cfg.store === 'local') {
      try { return JSON.parse(localStorage.getItem(KEY)); } catch (e) { return null; }
    }
    var m = document.cookie.match(new RegExp('(?:^|; )' + KEY + '=([^;]*)'));
    try { return m ? JSON.parse(decodeURIComponent(m[1])) : null; } catch (e) { return null; }
  }
  function write(choice) {
    if (cfg.store === 'parent') parent.postMessage({consentChoice: choice}, cfg.parentOrigin);
    else if (cfg.store === 'local') localStorage.setItem(KEY, JSON.stringify(choice));
    else document.cookie = KEY + '=' + encodeURIComponent(JSON.stringify(choice)) + '; max-age=15552000; path=/; SameSite=Lax';
  }
  function trackers(choice) {
    if (!choice || cfg.store === 'parent') return;
    if (choice.analytics) document.cookie = '_ga=GA1.1.4242.4242; max-age=33696000; path=/';
    else document.cookie = '_ga=; max-age=0; path=/';
    if (choice.marketing) document.cookie = '_fbp=fb.1.4242.4242; max-age=7776000; path=/';
    else document.cookie = '_fbp=; max-age=0; path=/';
  }
  function isOn(el) { return el.getAttribute('role') === 'switch' ? el.getAttribute('aria-checked') === 'true' : el.checked; }
  function setOn(el, on) { if (el.getAttribute('role') === 'switch') el.setAttribute('aria-checked', on ? 'true' : 'false'); else el.checked = on; }
  function hide() {
    if (banner.tagName === 'DIALOG') banner.close();
    banner.hidden = true;
  }
  function choose(choice) { write(choice); trackers(choice); hide(); }
  function show(settings) {
    var saved = read();
    var c = saved || {analytics: false, marketing: false};
    setOn(control('cb-analytics'), !!c.analytics || (!saved && cfg.preticked === 'analytics'));
    setOn(control('cb-marketing'), !!c.marketing || (!saved && cfg.preticked === 'marketing'));
    banner.hidden = false;
    if (banner.tagName === 'DIALOG' && !banner.open) banner.showModal();
    first.hidden = !!settings;
    layer.hidden = !settings;
  }
  banner.querySelectorAll('[role=switch]:not([aria-disabled=true])').forEach(function (sw) {
    sw.addEventListener('click', function () { setOn(sw, !isOn(sw)); });
  });
  control('cb-accept').onclick = function () { choose({analytics: true, marketing: true}); };
  var reject = control('cb-reject');
  if (reject) reject.onclick = function () { choose({analytics: false, marketing: false}); };
  control('cb-settings').onclick = function () { show(true); };
  control('cb-save').onclick = function () {
    choose({analytics: isOn(control('cb-analytics')), marketing: isOn(control('cb-marketing'))});
  };
  if (banner.tagName === 'DIALOG') banner.addEventListener('cancel', function (e) { e.preventDefault(); });
  var reopen = control('cb-reopen');
  if (reopen) reopen.onclick = function (e) { e.preventDefault(); show(cfg.reopen === 'settings'); };

  var bot = navigator.webdriver || /Headless/i.test(navigator.userAgent) ||
    !!(navigator.userAgentData && navigator.userAgentData.brands.some(function (b) { return /Headless/i.test(b.brand); }));
  if (cfg.store === 'parent' && fromHash().settings) { show(true); return; }  // reopened by the page
  var saved = read();
  if (saved) { trackers(saved); return; }
  if (cfg.hideFromBots !== undefined && bot) return;
  if (cfg.showOn === 'scroll') {
    window.addEventListener('scroll', function once() { window.removeEventListener('scroll', once); show(false); });
  } else if (cfg.showAfter) {
    setTimeout(function () { show(false); }, Number(cfg.showAfter));
  } else {
    show(false);
  }
})();
