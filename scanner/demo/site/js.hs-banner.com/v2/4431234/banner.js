/* Local stand-in for HubSpot's cookie banner (opt-in mode, with decline and settings),
   using the element ids, cookies and _hsp commands of the real banner. */
(function () {
  if (window.__hsBannerLoaded) return;
  window.__hsBannerLoaded = true;
  var PREF = '__hs_cookie_cat_pref';
  // HubSpot's category numbers in __hs_cookie_cat_pref.
  var NUM = {analytics: 1, advertisement: 2, functionality: 3};
  var SIX_MONTHS = 15552000;
  var host = location.hostname.split('.');
  var domain = host.length > 2 ? host.slice(-2).join('.') : location.hostname;
  var listeners = [];

  function cookie(name) { var m = document.cookie.match('(?:^|; )' + name + '=([^;]*)'); return m ? decodeURIComponent(m[1]) : null; }
  function setCookie(name, value, seconds) {
    document.cookie = name + '=' + encodeURIComponent(value) + '; max-age=' + seconds + '; path=/; domain=' + domain + '; SameSite=Lax; Secure';
  }
  function readPref() {
    var raw = cookie(PREF);
    if (!raw) return null;
    var out = {};
    raw.split(/[,_]/).forEach(function (pair) {
      var kv = pair.split(':');
      Object.keys(NUM).forEach(function (k) { if (String(NUM[k]) === kv[0]) out[k] = kv[1] === 'true'; });
    });
    return out;
  }
  function consent(pref) {
    return {allowed: !!(pref.analytics || pref.advertisement || pref.functionality),
            categories: {necessary: true, analytics: !!pref.analytics, advertisement: !!pref.advertisement, functionality: !!pref.functionality}};
  }
  function decide(pref) {
    setCookie(PREF, Object.keys(NUM).map(function (k) { return NUM[k] + ':' + (!!pref[k]); }).join('_'), SIX_MONTHS);
    var any = pref.analytics || pref.advertisement || pref.functionality;
    setCookie('__hs_opt_out', any ? 'no' : 'yes', SIX_MONTHS);
    if (any) setCookie('__hs_initial_opt_in', 'true', 604800);
    hide();
    var c = consent(pref);
    listeners.forEach(function (cb) { try { cb(c); } catch (e) { /* listener error */ } });
  }

  var css = '#hs-eu-cookie-confirmation{position:fixed;left:0;right:0;bottom:0;z-index:2147483000;background:#fff;border-top:1px solid #cbd6e2;box-shadow:0 -2px 12px rgba(0,0,0,.12);font:14px/1.5 system-ui,sans-serif;color:#33475b}' +
    '#hs-eu-cookie-confirmation-inner{max-width:1040px;margin:0 auto;padding:18px 24px;display:flex;gap:24px;align-items:center;flex-wrap:wrap}' +
    '#hs-eu-policy-wording{flex:1 1 420px}#hs-eu-cookie-confirmation-button-group{display:flex;gap:10px;align-items:center}' +
    '#hs-eu-cookie-confirmation a[role=button]{display:inline-block;padding:10px 18px;border-radius:4px;text-decoration:none;font-weight:600;border:2px solid #0f3d2e}' +
    '#hs-eu-confirmation-button,#hs-eu-decline-button{background:#0f3d2e;color:#fff!important}#hs-eu-cookie-settings-button{color:#0f3d2e!important;background:#fff}' +
    '#hs-modal{position:fixed;inset:0;background:rgba(0,0,0,.45);z-index:2147483001;display:flex;align-items:center;justify-content:center;font:14px/1.5 system-ui,sans-serif}' +
    '#hs-modal-content{background:#fff;border-radius:8px;padding:24px;width:min(560px,92vw)}.hs-category-row{display:flex;justify-content:space-between;align-items:center;padding:10px 0;border-bottom:1px solid #eaf0f6}' +
    '.hs-toggle-switch-input{width:22px;height:22px;accent-color:#0f3d2e;cursor:pointer}' +
    '#hs-modal-buttons{display:flex;gap:10px;margin-top:16px;justify-content:flex-end}#hs-modal-buttons button{padding:8px 14px;border-radius:4px;border:2px solid #0f3d2e;background:#fff;font-weight:600}';

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text) e.textContent = text;
    return e;
  }
  function hide() {
    ['hs-eu-cookie-confirmation', 'hs-modal'].forEach(function (id) { var n = document.getElementById(id); if (n) n.remove(); });
  }
  function showBanner() {
    hide();
    if (!document.getElementById('hs-banner-style')) { var st = el('style', {id: 'hs-banner-style'}); st.textContent = css; document.head.appendChild(st); }
    var root = el('div', {id: 'hs-eu-cookie-confirmation', role: 'region', 'aria-label': 'Cookie banner', 'data-hs-banner-version': '2'});
    var inner = el('div', {id: 'hs-eu-cookie-confirmation-inner'});
    var wording = el('div', {id: 'hs-eu-policy-wording'});
    var p = el('p', {}, 'This website stores cookies on your computer. They are used to analyse how you use our site and to show you relevant content. You can accept all cookies, decline them, or choose by category. ');
    var link = el('a', {href: '/cookie-policy'}, 'Cookie policy');
    p.appendChild(link); wording.appendChild(p);
    var group = el('div', {id: 'hs-eu-cookie-confirmation-button-group'});
    var settings = el('a', {id: 'hs-eu-cookie-settings-button', href: '#', role: 'button'}, 'Cookie settings');
    var accept = el('a', {id: 'hs-eu-confirmation-button', href: '#', role: 'button'}, 'Accept all');
    var decline = el('a', {id: 'hs-eu-decline-button', href: '#', role: 'button'}, 'Decline all');
    group.appendChild(settings); group.appendChild(decline); group.appendChild(accept);
    inner.appendChild(wording); inner.appendChild(group); root.appendChild(inner);
    document.body.appendChild(root);
    accept.addEventListener('click', function (e) { e.preventDefault(); decide({analytics: true, advertisement: true, functionality: true}); });
    decline.addEventListener('click', function (e) { e.preventDefault(); decide({}); });
    settings.addEventListener('click', function (e) { e.preventDefault(); showSettings(); });
  }
  function showSettings() {
    var current = readPref() || {};
    var modal = el('div', {id: 'hs-modal', role: 'dialog', 'aria-modal': 'true', 'aria-label': 'Cookie settings'});
    var box = el('div', {id: 'hs-modal-content'});
    box.appendChild(el('h2', {}, 'Cookie settings'));
    var rows = [['necessary', 'Necessary', true]].concat(Object.keys(NUM).map(function (k) { return [k, k.charAt(0).toUpperCase() + k.slice(1), !!current[k]]; }));
    rows.forEach(function (r) {
      var row = el('div', {'class': 'hs-category-row', 'data-category': r[0]});
      row.appendChild(el('span', {id: 'hs-category-label-' + r[0]}, r[1]));
      var t = el('input', {'class': 'hs-toggle-switch-input', id: 'hs-category-toggle-' + r[0], type: 'checkbox',
                           'aria-pressed': String(r[2]), 'aria-labelledby': 'hs-category-label-' + r[0]});
      t.checked = r[2];
      if (r[0] === 'necessary') t.setAttribute('disabled', 'disabled');
      else t.addEventListener('change', function () { t.setAttribute('aria-pressed', String(t.checked)); });
      row.appendChild(t); box.appendChild(row);
    });
    var buttons = el('div', {id: 'hs-modal-buttons'});
    var save = el('button', {id: 'hs-modal-save-settings', type: 'button'}, 'Save settings');
    var declineAll = el('button', {id: 'hs-modal-decline-all', type: 'button'}, 'Decline all');
    var acceptAll = el('button', {id: 'hs-modal-accept-all', type: 'button'}, 'Accept all');
    buttons.appendChild(declineAll); buttons.appendChild(save); buttons.appendChild(acceptAll); box.appendChild(buttons);
    modal.appendChild(box); document.body.appendChild(modal);
    save.addEventListener('click', function () {
      var pref = {};
      Object.keys(NUM).forEach(function (k) { pref[k] = document.getElementById('hs-category-toggle-' + k).checked; });
      decide(pref);
    });
    declineAll.addEventListener('click', function () { decide({}); });
    acceptAll.addEventListener('click', function () { decide({analytics: true, advertisement: true, functionality: true}); });
  }

  function run(cmd) {
    if (!cmd || !cmd.length) return;
    if (cmd[0] === 'addPrivacyConsentListener' && typeof cmd[1] === 'function') {
      listeners.push(cmd[1]);
      var pref = readPref();
      if (pref) { try { cmd[1](consent(pref)); } catch (e) { /* listener error */ } }
    } else if (cmd[0] === 'showBanner') {
      showBanner();
    } else if (cmd[0] === 'revokeCookieConsent') {
      ['__hs_cookie_cat_pref', '__hs_opt_out', '__hs_initial_opt_in'].forEach(function (n) { setCookie(n, '', 0); });
      showBanner();
    }
  }
  var queue = window._hsp = window._hsp || [];
  var pending = queue.splice(0, queue.length);
  queue.push = function () { for (var i = 0; i < arguments.length; i++) run(arguments[i]); return queue.length; };
  function start() {
    pending.forEach(run);
    if (!readPref()) showBanner();
  }
  if (document.body) start(); else document.addEventListener('DOMContentLoaded', start);
})();
