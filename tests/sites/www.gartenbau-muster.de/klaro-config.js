// Klaro configuration of the Gartenbau Muster fixture (German, real Klaro 0.7.22 from npm).
// Purposes: functional (required), statistik, marketing, video. The site's cookie policy
// (datenschutz.html) and its declaration describe the first three only: the "Videos" purpose is
// offered by the banner but documented nowhere.
window.klaroConfig = {
    version: 1,
    elementID: 'klaro',
    storageMethod: 'cookie',
    storageName: 'klaro',
    cookieExpiresAfterDays: 180,
    htmlTexts: false,
    groupByPurpose: true,
    default: false,
    mustConsent: false,
    acceptAll: true,
    hideDeclineAll: false,
    hideLearnMore: false,
    noticeAsModal: false,
    lang: 'de',
    translations: {
        de: {
            privacyPolicyUrl: '/datenschutz',
            purposes: {
                functional: { title: 'Technisch notwendig' },
                statistik: { title: 'Statistik' },
                marketing: { title: 'Marketing' },
                video: { title: 'Videos' },
            },
        },
    },
    services: [
        { name: 'sitzung', title: 'Sitzung', purposes: ['functional'], required: true },
        { name: 'statistik-dienst', title: 'Reichweitenmessung', purposes: ['statistik'], required: false, onlyOnce: true },
        { name: 'meta-pixel', title: 'Meta Pixel', purposes: ['marketing'], cookies: ['_fbp'], required: false, onlyOnce: true },
        { name: 'youtube', title: 'YouTube', purposes: ['video'], required: false },
    ],
};
