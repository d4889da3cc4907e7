// Hand-written consent banner shared by the home-made test sites (no consent library). Each site's
// markup is its own (language, controls, where the reopen control sits); the script element says
// where the choice is kept and how the banner behaves:
//   data-key        name of the record (cookie or localStorage key)
//   data-store      "cookie" (a first-party cookie) or "local" (localStorage)
//   data-reopen     "first" (the reopen control shows the first layer) or "settings" (the settings layer)
//   data-preticked  a category switched on before any choice (a dark pattern some banners have)
// The trackers (_ga for analytics, _fbp for marketing) are written only when allowed, and deleted
// when refused.
(function () {
  var cfg = document.currentScript.dataset;
  var KEY = cfg.key;
  function read() {
    if (cfg.store === 'local') {
      try { return JSON.parse(localStorage.getItem(KEY)); } catch (e) { return null; }
    }
    var m = document.cookie.match(new RegExp('(?:^|; )' + KEY + '=([^;]*)'));
    try { return m ? JSON.parse(decodeURIComponent(m[1])) : null; } catch (e) { return null; }
  }
  function write(choice) {
    if (cfg.store === 'local') localStorage.setItem(KEY, JSON.stringify(choice));
    else document.cookie = KEY + '=' + encodeURIComponent(JSON.stringify(choice)) + '; max-age=15552000; path=/; SameSite=Lax';
  }
  function trackers(choice) {
    if (!choice) return;
    if (choice.analytics) document.cookie = '_ga=GA1.1.4242.4242; max-age=33696000; path=/';
    else document.cookie = '_ga=; max-age=0; path=/';
    if (choice.marketing) document.cookie = '_fbp=fb.1.4242.4242; max-age=7776000; path=/';
    else document.cookie = '_fbp=; max-age=0; path=/';
  }
  var banner = document.getElementById('cb');
  var first = document.getElementById('cb-first');
  var layer = document.getElementById('cb-layer');
  function control(id) { return document.getElementById(id); }
  function isOn(el) { return el.getAttribute('role') === 'switch' ? el.getAttribute('aria-checked') === 'true' : el.checked; }
  function setOn(el, on) { if (el.getAttribute('role') === 'switch') el.setAttribute('aria-checked', on ? 'true' : 'false'); else el.checked = on; }
  function choose(choice) { write(choice); trackers(choice); banner.hidden = true; }
  function show(settings) {
    var saved = read();
    var c = saved || {analytics: false, marketing: false};
    setOn(control('cb-analytics'), !!c.analytics || (!saved && cfg.preticked === 'analytics'));
    setOn(control('cb-marketing'), !!c.marketing || (!saved && cfg.preticked === 'marketing'));
    banner.hidden = false;
    first.hidden = !!settings;
    layer.hidden = !settings;
  }
  document.querySelectorAll('[role=switch]:not([aria-disabled=true])').forEach(function (sw) {
    sw.addEventListener('click', function () { setOn(sw, !isOn(sw)); });
  });
  control('cb-accept').onclick = function () { choose({analytics: true, marketing: true}); };
  var reject = control('cb-reject');
  if (reject) reject.onclick = function () { choose({analytics: false, marketing: false}); };
  control('cb-settings').onclick = function () { show(true); };
  control('cb-save').onclick = function () {
    choose({analytics: isOn(control('cb-analytics')), marketing: isOn(control('cb-marketing'))});
  };
  control('cb-reopen').onclick = function (e) { e.preventDefault(); show(cfg.reopen === 'settings'); };
  var saved = read();
  if (saved) trackers(saved); else show(false);
})();
