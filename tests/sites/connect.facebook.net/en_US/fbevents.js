/* Local stand-in for Meta's pixel: the _fbp cookie on the visited site's domain and a PageView beacon. */
(function () {
  var host = location.hostname.split('.');
  var domain = host.length > 2 ? host.slice(-2).join('.') : location.hostname;
  if (!/(?:^|; )_fbp=/.test(document.cookie)) {
    document.cookie = '_fbp=fb.1.' + Date.now() + '.' + Math.floor(Math.random() * 1e9) +
      '; max-age=7776000; path=/; domain=' + domain + '; Secure; SameSite=Lax';
  }
  new Image().src = 'https://www.facebook.com/tr/?id=1234&ev=PageView&noscript=1';
})();
