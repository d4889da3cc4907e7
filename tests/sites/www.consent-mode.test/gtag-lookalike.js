// A hand-written stand-in for Google's gtag.js, sending GA4 hits as the real tag does: a
// navigator.sendBeacon to https://region1.google-analytics.com/g/collect with the measurement
// protocol parameters, among them the Consent Mode signal: gcs ("G1" + ad_storage +
// analytics_storage, 1 granted / 0 denied) and gcd (Consent Mode v2: a letter per signal for
// ad_storage, analytics_storage, ad_user_data, ad_personalization at positions 2, 4, 6, 8;
// p = denied by default, t = granted by default, r = denied by default then granted by update).
// The page sets data-gcs / data-gcd on the script element, as a site's consent defaults would.
(function () {
  var cfg = document.currentScript.dataset;
  var params = ['v=2', 'tid=G-LOOKALIKE', 'cid=555.666', 'en=page_view', 'dl=' + encodeURIComponent(location.href)];
  if (cfg.gcs) params.push('gcs=' + cfg.gcs);
  if (cfg.gcd) params.push('gcd=' + cfg.gcd);
  navigator.sendBeacon('https://region1.google-analytics.com/g/collect?' + params.join('&'));
})();
