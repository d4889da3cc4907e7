// A home-made IAB TCF v2.2 consent manager (test site www.tcf-banner.test), built on the IAB's own
// libraries loaded as ES modules: @iabtcf/core encodes the choice as a TC string, @iabtcf/cmpapi
// answers __tcfapi. The vendor list is the site's own copy (/tcf/vendor-list.json).
//
// The choice lives in the first-party cookie euconsent-v2 (the TC string, 13 months) and nowhere
// else: on every page the trackers follow what that string says.
//   Accept all       every purpose and vendor on the list, with legitimate interests
//   Reject all       nothing (no consent, no legitimate interest)
//   Save my choices  purpose 1 (storage) if any category is on, plus each category's purposes
//                    and vendors: Analytics -> 7, 8, 9 and vendor 8; Advertising -> 2, 3, 4 and
//                    vendors 28, 755, 793
// Trackers, as the other fixtures write them: _ga (analytics), _fbp (advertising); deleted when refused.
import { GVL, TCModel, TCString } from '@iabtcf/core';
import { CmpApi } from '@iabtcf/cmpapi';

const CMP_ID = 300;
const CMP_VERSION = 2;
const COOKIE = 'euconsent-v2';
const MAX_AGE = 395 * 24 * 3600;          // 13 months
const CATEGORIES = {
  analytics: { purposes: [7, 8, 9], vendors: [8] },
  advertising: { purposes: [2, 3, 4], vendors: [28, 755, 793] },
};

GVL.baseUrl = location.origin + '/tcf/';
const gvl = new GVL();                    // GET /tcf/vendor-list.json
const cmpApi = new CmpApi(CMP_ID, CMP_VERSION, true);   // service-specific, as TCF v2.2 requires

const $ = (id) => document.getElementById(id);
const banner = $('tcf-banner');
const SLOPPY = document.querySelector('[data-reject-keeps]');   // a page that exhibits a CMP bug

function savedString() {
  const match = document.cookie.match(/(?:^|; )euconsent-v2=([^;]*)/);
  if (!match) return null;
  try {
    const model = TCString.decode(match[1]);
    return model.version === 2 ? match[1] : null;
  } catch (e) {
    return null;                          // unreadable: ask again
  }
}

function categoriesOf(tcString) {
  const model = TCString.decode(tcString);
  const allowed = {};
  for (const [name, { purposes, vendors }] of Object.entries(CATEGORIES)) {
    allowed[name] = purposes.every((p) => model.purposeConsents.has(p))
      && vendors.every((v) => model.vendorConsents.has(v));
  }
  return allowed;
}

function trackers(allowed) {
  if (allowed.analytics) document.cookie = '_ga=GA1.1.4242.4242; max-age=33696000; path=/';
  else document.cookie = '_ga=; max-age=0; path=/';
  if (allowed.advertising) document.cookie = '_fbp=fb.1.4242.4242; max-age=7776000; path=/';
  else document.cookie = '_fbp=; max-age=0; path=/';
}

async function encode(kind, screen, chosen) {
  await gvl.readyPromise;
  const model = new TCModel(gvl);
  model.cmpId = CMP_ID;
  model.cmpVersion = CMP_VERSION;
  model.isServiceSpecific = true;
  model.consentScreen = screen;
  model.publisherCountryCode = 'FR';
  if (kind === 'accept') {
    model.setAllPurposeConsents();
    model.setAllVendorConsents();
    model.setAllPurposeLegitimateInterests();
    model.setAllVendorLegitimateInterests();
  } else if (kind === 'custom') {
    const on = Object.keys(CATEGORIES).filter((name) => chosen[name]);
    if (on.length) model.purposeConsents.set(1);
    for (const name of on) {
      model.purposeConsents.set(CATEGORIES[name].purposes);
      model.vendorConsents.set(CATEGORIES[name].vendors);
    }
  }
  if (kind === 'reject' && SLOPPY) {       // the bug of /sloppy.html: "Reject all" still consents to storage
    model.purposeConsents.set(1);
    model.vendorConsents.set(755);
  }
  model.purposeConsents.forEach((set, id) => { if (set) model.publisherConsents.set(id); });
  return TCString.encode(model);
}

async function choose(kind, screen, chosen) {
  const tcString = await encode(kind, screen, chosen);
  document.cookie = `${COOKIE}=${tcString}; max-age=${MAX_AGE}; path=/; SameSite=Lax; Secure`;
  trackers(categoriesOf(tcString));
  banner.hidden = true;
  cmpApi.update(tcString, false);
}

function show(settings) {
  const current = savedString();
  const allowed = current ? categoriesOf(current) : {};
  $('tcf-analytics').checked = !!allowed.analytics;
  $('tcf-advertising').checked = !!allowed.advertising;
  $('tcf-first').hidden = !!settings;
  $('tcf-settings').hidden = !settings;
  banner.hidden = false;
  cmpApi.update(current || '', true);     // the UI is showing: TC data says so
}

function describe() {                      // the settings layer names purposes and vendors from the list
  $('tcf-partner-count').textContent = String(Object.keys(gvl.vendors).length);
  document.querySelectorAll('.tcf-purposes').forEach((el) => {
    const { purposes, vendors } = CATEGORIES[el.dataset.category];
    el.textContent = purposes.map((p) => gvl.purposes[p].name).join('; ')
      + '. Partners: ' + vendors.map((v) => gvl.vendors[v].name).join(', ') + '.';
  });
}

function failed(err) { console.error('tcf-banner:', err); }

$('tcf-accept').addEventListener('click', () => choose('accept', 1).catch(failed));
$('tcf-reject').addEventListener('click', () => choose('reject', 1).catch(failed));
$('tcf-reject-all').addEventListener('click', () => choose('reject', 2).catch(failed));
$('tcf-manage').addEventListener('click', () => show(true));
$('tcf-save').addEventListener('click', () => choose('custom', 2, {
  analytics: $('tcf-analytics').checked, advertising: $('tcf-advertising').checked,
}).catch(failed));
$('tcf-reopen').addEventListener('click', (event) => { event.preventDefault(); show(true); });
gvl.readyPromise.then(describe, failed);

const saved = savedString();
if (saved) {
  trackers(categoriesOf(saved));
  cmpApi.update(saved, false);
} else {
  show(false);
}
