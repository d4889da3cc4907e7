/* Local stand-in for HubSpot's tracking code: waits for analytics consent, then sets the
   visitor cookies (__hstc, hubspotutk, __hssc, __hssrc) and sends the page-view pixel. */
(function () {
  var host = location.hostname.split('.');
  var domain = host.length > 2 ? host.slice(-2).join('.') : location.hostname;
  var started = false;
  function cookie(name) { var m = document.cookie.match('(?:^|; )' + name + '=([^;]*)'); return m ? m[1] : null; }
  function set(name, value, seconds) {
    document.cookie = name + '=' + value + (seconds ? '; max-age=' + seconds : '') + '; path=/; domain=' + domain + '; SameSite=Lax';
  }
  function hex(n) { var s = ''; while (s.length < n) s += Math.floor(Math.random() * 16).toString(16); return s; }
  function track() {
    if (started) return;
    started = true;
    var now = Date.now();
    var utk = cookie('hubspotutk') || hex(32);
    var thirteenMonths = 33696000;
    set('hubspotutk', utk, thirteenMonths);
    set('__hstc', '4431234.' + utk + '.' + now + '.' + now + '.' + now + '.1', thirteenMonths);
    set('__hssc', '4431234.1.' + now, 1800);
    set('__hssrc', '1', 0);
    new Image().src = 'https://track.hubspot.com/__ptq.gif?k=1&a=4431234&vi=' + utk + '&r=' + encodeURIComponent(location.href) + '&t=' + encodeURIComponent(document.title);
  }
  var _hsp = window._hsp = window._hsp || [];
  _hsp.push(['addPrivacyConsentListener', function (consent) { if (consent.categories.analytics) track(); }]);
})();
