// The page side of a banner served from another origin (banner.js with data-store="parent"):
// the banner's iframe posts the visitor's choice here; this page keeps it in a first-party cookie
// and writes the trackers it allows.
//   data-key    name of the record cookie
//   data-frame  URL of the banner page (another origin)
(function () {
  var cfg = document.currentScript.dataset;
  var frameOrigin = new URL(cfg.frame).origin;
  function read() {
    var m = document.cookie.match(new RegExp('(?:^|; )' + cfg.key + '=([^;]*)'));
    try { return m ? JSON.parse(decodeURIComponent(m[1])) : null; } catch (e) { return null; }
  }
  function trackers(choice) {
    if (choice.analytics) document.cookie = '_ga=GA1.1.4242.4242; max-age=33696000; path=/';
    else document.cookie = '_ga=; max-age=0; path=/';
    if (choice.marketing) document.cookie = '_fbp=fb.1.4242.4242; max-age=7776000; path=/';
    else document.cookie = '_fbp=; max-age=0; path=/';
  }
  function open(settings) {
    var old = document.getElementById('cb-frame');
    if (old) old.remove();
    var f = document.createElement('iframe');
    f.id = 'cb-frame';
    f.title = 'Cookie consent';
    f.src = cfg.frame + '#' + encodeURIComponent(JSON.stringify({saved: read(), settings: !!settings}));
    f.style.cssText = 'position:fixed;bottom:0;left:0;width:100%;height:260px;border:0;background:#f4f4f4';
    document.body.appendChild(f);
  }
  window.addEventListener('message', function (e) {
    if (e.origin !== frameOrigin || !e.data || typeof e.data.consentChoice !== 'object') return;
    var choice = {analytics: !!e.data.consentChoice.analytics, marketing: !!e.data.consentChoice.marketing};
    document.cookie = cfg.key + '=' + encodeURIComponent(JSON.stringify(choice)) + '; max-age=15552000; path=/; SameSite=Lax';
    trackers(choice);
    var f = document.getElementById('cb-frame');
    if (f) f.remove();
  });
  var reopen = document.getElementById('cb-reopen');
  if (reopen) reopen.onclick = function (e) { e.preventDefault(); open(true); };
  var saved = read();
  if (saved) trackers(saved); else open(false);
})();
