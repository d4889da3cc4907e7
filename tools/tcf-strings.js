// Regenerates the TC strings pasted into tests/test_tcf_decode.py, with the IAB's own encoder
// (@iabtcf/core, installed by `npm install` in tests/):   node tools/tcf-strings.js
// Prints one JSON object per case: the string and what @iabtcf/core itself decodes from it.
'use strict';
const path = require('path');
const { createRequire } = require('module');
const req = createRequire(path.join(__dirname, '..', 'tests', 'package.json'));
const { GVL, TCModel, TCString, PurposeRestriction, RestrictionType } = req('@iabtcf/core');

// A synthetic vendor list: vendors 1..1000 (the encoder drops vendors that are not on the GVL),
// each declaring consent and legitimate-interest purposes (it also drops vendors without them).
function vendorList(policy, version) {
  const purposes = {};
  for (let i = 1; i <= 11; i++) purposes[i] = { id: i, name: `Purpose ${i}`, description: '', illustrations: [] };
  const vendors = {};
  for (let id = 1; id <= 1000; id++) {
    vendors[id] = { id, name: `Vendor ${id}`, purposes: [1, 3, 4, 7, 9, 10], legIntPurposes: [2, 8],
      flexiblePurposes: [2], specialPurposes: [1], features: [], specialFeatures: [1, 2],
      cookieMaxAgeSeconds: 31536000, usesCookies: true, usesNonCookieAccess: false,
      urls: [{ langId: 'en', privacy: 'https://example.test/privacy' }] };
  }
  return { gvlSpecificationVersion: 3, vendorListVersion: version, tcfPolicyVersion: policy,
    lastUpdated: '2026-11-27T16:00:00Z', purposes,
    specialPurposes: { 1: { id: 1, name: 'Security', description: '', illustrations: [] } },
    features: {}, specialFeatures: { 1: { id: 1, name: 'Geolocation', description: '', illustrations: [] },
      2: { id: 2, name: 'Device scan', description: '', illustrations: [] } },
    stacks: {}, dataCategories: {}, vendors };
}

function model(policy, version) {
  const m = new TCModel(new GVL(vendorList(policy, version)));
  m.cmpId = 300;
  m.cmpVersion = 2;
  m.consentScreen = 1;
  m.publisherCountryCode = 'FR';
  m.created = new Date(Date.UTC(2026, 11, 4, 7, 0, 0));
  m.lastUpdated = new Date(Date.UTC(2026, 11, 5, 0, 0, 0));
  return m;
}

const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const cases = {};

let m = model(4, 142);                                     // accept all: purposes 1-10, a few vendors
m.purposeConsents.set(range(1, 10));
m.vendorConsents.set([1, 2, 28, 755, 793]);
cases.accept_all = m;

cases.reject_all = model(4, 142);                          // nothing at all

m = model(4, 142);                                         // analytics only: purposes 7, 8, 9, one vendor
m.purposeConsents.set([7, 8, 9]);
m.vendorConsents.set([8]);
cases.analytics_only = m;

m = model(4, 142);                                         // many vendors: range encoding is shorter
m.purposeConsents.set(range(1, 11));
m.vendorConsents.set([...range(1, 400), ...range(600, 1000)]);
m.vendorConsents.unset(250);
m.vendorLegitimateInterests.set(range(1, 1000));
cases.many_vendors = m;

m = model(5, 150);                                         // LI, special features, a restriction, publisher TC
m.isServiceSpecific = true;
m.purposeOneTreatment = true;
m.publisherCountryCode = 'DE';
m.specialFeatureOptins.set([1, 2]);
m.purposeConsents.set([1, 3]);
m.purposeLegitimateInterests.set([1, 2, 7, 8, 9, 10]);     // the encoder removes purpose 1 (no LI for storage)
m.vendorConsents.set([2, 755]);
m.vendorLegitimateInterests.set([1, 2, 755]);
m.publisherRestrictions.add(755, new PurposeRestriction(2, RestrictionType.REQUIRE_CONSENT));
m.publisherRestrictions.add(3, new PurposeRestriction(2, RestrictionType.REQUIRE_CONSENT));
m.publisherRestrictions.add(4, new PurposeRestriction(2, RestrictionType.REQUIRE_CONSENT));
m.publisherRestrictions.add(10, new PurposeRestriction(7, RestrictionType.NOT_ALLOWED));
m.publisherConsents.set([1, 2]);
m.publisherLegitimateInterests.set([7]);
m.numCustomPurposes = 2;
m.publisherCustomConsents.set([1]);
cases.legitimate_interests = m;

const ids = (vector) => { const out = []; vector.forEach((v, id) => { if (v) out.push(id); }); return out; };
for (const [name, tcModel] of Object.entries(cases)) {
  const tcString = TCString.encode(tcModel);
  const back = TCString.decode(tcString);
  const vendors = ids(back.vendorConsents);
  console.log(JSON.stringify({ name, tcString, decoded: {
    purposeConsents: ids(back.purposeConsents), purposeLI: ids(back.purposeLegitimateInterests),
    vendorConsents: vendors.length > 20 ? `${vendors.length} vendors` : vendors,
    vendorLI: ids(back.vendorLegitimateInterests).length,
    restrictions: back.publisherRestrictions.getRestrictions().map((r) => [r.purposeId, r.restrictionType,
      back.publisherRestrictions.getVendors(r)]),
    created: back.created, lastUpdated: back.lastUpdated, policy: back.policyVersion,
    vlv: back.vendorListVersion, lang: back.consentLanguage } }));
}
