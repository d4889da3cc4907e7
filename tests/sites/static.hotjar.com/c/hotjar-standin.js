/* Local stand-in for Hotjar's tracking code: its user id kept in localStorage (not a cookie) and
   a visit beacon to in.hotjar.com. */
(function () {
  var key = '_hjSessionUser_3141';
  if (!localStorage.getItem(key)) localStorage.setItem(key, JSON.stringify({id: String(Math.random()).slice(2), created: Date.now()}));
  new Image().src = 'https://in.hotjar.com/api/v2/client/sites/3141/visit-data?sv=7';
})();
