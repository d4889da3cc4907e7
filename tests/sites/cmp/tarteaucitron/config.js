// tarteaucitron (npm tarteaucitronjs 1.34.0) configuration for the fixture site, French UI.
// tarteaucitron's categories are its fixed service "types": the fixture registers one
// custom service of type "analytic" and one of type "ads" (marketing), each gated by
// tarteaucitron's own job mechanism: the service's js() only runs once it is allowed.
// groupServices: true renders one allow/deny pair per category in the settings panel.
tarteaucitron.init({
    privacyUrl: '',
    bodyPosition: 'bottom',
    hashtag: '#tarteaucitron',
    cookieName: 'tarteaucitron',
    orientation: 'middle',
    groupServices: true,
    showDetailsOnClick: true,
    serviceDefaultState: 'wait',
    showAlertSmall: false,
    cookieslist: false,
    closePopup: false,
    showIcon: true,
    iconPosition: 'BottomRight',
    adblocker: false,
    DenyAllCta: true,
    AcceptAllCta: true,
    highPrivacy: true,
    alwaysNeedConsent: false,
    handleBrowserDNTRequest: false,
    removeCredit: true,
    moreInfoLink: true,
    useExternalCss: false,
    useExternalJs: false,
    readmoreLink: '',
    mandatory: true,
    mandatoryCta: true,
    googleConsentMode: false,
    bingConsentMode: false,
    pianoConsentMode: false,
    partnersList: false,
});

tarteaucitron.services.fixture_analytics = {
    key: 'fixture_analytics',
    type: 'analytic',
    name: 'Mesure d\'audience (fixture)',
    uri: '/cmp/tarteaucitron/page2.html',
    needConsent: true,
    cookies: ['_ga'],            // purged by tarteaucitron when the service is denied
    js: function () {
        'use strict';
        document.cookie = "_ga=GA1.1.123.456; max-age=63072000; path=/";
    },
    fallback: function () {},
};

tarteaucitron.services.fixture_marketing = {
    key: 'fixture_marketing',
    type: 'ads',
    name: 'Pixel publicitaire (fixture)',
    uri: '/cmp/tarteaucitron/page2.html',
    needConsent: true,
    cookies: ['_fbp'],
    js: function () {
        'use strict';
        document.cookie = "_fbp=fb.1.123.456; max-age=7776000; path=/";
    },
    fallback: function () {},
};

(tarteaucitron.job = tarteaucitron.job || []).push('fixture_analytics');
(tarteaucitron.job = tarteaucitron.job || []).push('fixture_marketing');
