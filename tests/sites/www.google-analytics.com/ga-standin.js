/* Local stand-in for a Google Analytics tag: the _ga cookie written by script on the visited
   site's domain (no Secure, as gtag.js writes it), and a collect beacon to Google.
   data-lifetime on the script element sets the cookie's max-age (default two years). */
(function () {
  var me = document.currentScript;
  var lifetime = (me && me.dataset.lifetime) || '63072000';
  var host = location.hostname.split('.');
  var domain = host.length > 2 ? host.slice(-2).join('.') : location.hostname;
  var m = document.cookie.match(/(?:^|; )_ga=([^;]*)/);
  var ga = m ? m[1] : 'GA1.1.' + Math.floor(Math.random() * 2147483647) + '.' + Math.floor(Date.now() / 1000);
  document.cookie = '_ga=' + ga + '; max-age=' + lifetime + '; path=/; domain=' + domain + '; SameSite=Lax';
  new Image().src = 'https://www.google-analytics.com/g/collect?v=2&tid=G-TEST&cid=' + ga.split('.').slice(2).join('.') +
    '&en=page_view&dl=' + encodeURIComponent(location.href);
})();
