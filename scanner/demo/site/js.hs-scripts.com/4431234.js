/* Local stand-in for HubSpot's embed loader: loads the cookie banner and the tracking code. */
(function () {
  function add(id, src) {
    if (document.getElementById(id)) return;
    var s = document.createElement('script'); s.id = id; s.async = true; s.src = src;
    document.head.appendChild(s);
  }
  add('cookieBanner-4431234', 'https://js.hs-banner.com/v2/4431234/banner.js');
  add('hs-analytics', 'https://js.hs-analytics.net/analytics/1732000000000/4431234.js');
})();
