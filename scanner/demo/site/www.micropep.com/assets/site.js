// Micropep site script: UI preference and consent-gated tags.
(function () {
  try { localStorage.setItem('mp-theme', 'light'); } catch (e) { /* storage disabled */ }

  function loadScript(src) {
    var s = document.createElement('script');
    s.async = true; s.src = src;
    document.head.appendChild(s);
  }
  var linkedInLoaded = false;
  function loadLinkedIn() {
    if (linkedInLoaded) return;
    linkedInLoaded = true;
    window._linkedin_partner_id = '5123456';
    loadScript('https://snap.licdn.com/li.lms-analytics/insight.min.js');
  }
  // Planted mistake: the job-board link carries the Google Analytics cookie's value (for
  // attribution of applications), whatever the visitor chose.
  window.addEventListener('load', function () {
    var m = document.cookie.match(/(?:^|; )_ga=([^;]*)/);
    var link = document.getElementById('job-board');
    if (m && link) link.href = link.href + (link.href.indexOf('?') < 0 ? '?' : '&') + 'mp_visitor=' + m[1];
  });
  var _hsp = window._hsp = window._hsp || [];
  _hsp.push(['addPrivacyConsentListener', function (consent) {
    // Planted mistake: LinkedIn (advertising) also loads when only analytics is allowed.
    if (consent.categories.advertisement || consent.categories.analytics) loadLinkedIn();
  }]);
})();
