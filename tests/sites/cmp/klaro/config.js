// Klaro configuration for the fixture site (Klaro's own config format, see
// tests/node_modules/klaro/dist/config.js for the annotated reference).
// Two optional purposes, "analytics" and "marketing", each with one service;
// one required service under Klaro's "functional" purpose (strictly necessary).
window.klaroConfig = {
    version: 1,
    elementID: 'klaro',
    storageMethod: 'cookie',
    storageName: 'klaro',
    cookieExpiresAfterDays: 365,
    htmlTexts: false,
    groupByPurpose: true,
    default: false,          // nothing is pre-ticked
    mustConsent: false,      // first layer is the notice (not a blocking modal)
    acceptAll: true,         // notice's OK button is "Accept all"
    hideDeclineAll: false,   // first layer shows "I decline"
    hideLearnMore: false,    // first layer links to the settings modal
    noticeAsModal: false,
    lang: 'en',
    translations: {
        en: {
            privacyPolicyUrl: '/cmp/klaro/page2.html',
            purposes: {
                analytics: { title: 'Analytics' },
                marketing: { title: 'Marketing' },
                functional: { title: 'Strictly necessary' },
            },
            'fixture-analytics': { description: 'Fixture analytics tag (sets _ga).' },
            'fixture-marketing': { description: 'Fixture marketing pixel (sets _fbp).' },
            'fixture-session': { description: 'Session handling (always on).' },
        },
    },
    services: [
        {
            name: 'fixture-session',
            title: 'Session',
            purposes: ['functional'],
            required: true,
        },
        {
            name: 'fixture-analytics',
            title: 'Fixture Analytics',
            purposes: ['analytics'],
            cookies: [/^_ga(_.*)?$/],   // Klaro deletes these when consent is withdrawn
            required: false,
            optOut: false,
            onlyOnce: true,
        },
        {
            name: 'fixture-marketing',
            title: 'Fixture Marketing',
            purposes: ['marketing'],
            cookies: ['_fbp'],
            required: false,
            optOut: false,
            onlyOnce: true,
        },
    ],
};
