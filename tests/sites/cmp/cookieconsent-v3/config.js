// CookieConsent v3 (npm vanilla-cookieconsent 3.1.0) configuration for the fixture site.
// Categories: necessary (read-only), analytics, marketing. Scripts are gated by the
// library's own script-tag manager: <script type="text/plain" data-category="...">.
// autoClear removes the trackers' cookies when a category is rejected after having been accepted.
// Served as /cmp/cookieconsent-v3-localstorage/ (a symlink to this folder) it keeps the choice in
// localStorage instead of the cc_cookie cookie (cookie.useLocalStorage).
window.addEventListener('load', function () {
    CookieConsent.run({
        cookie: { name: 'cc_cookie', expiresAfterDays: 182, useLocalStorage: location.pathname.indexOf('-localstorage/') !== -1 },
        guiOptions: {
            consentModal: { layout: 'box', position: 'bottom right', equalWeightButtons: true, flipButtons: false },
            preferencesModal: { layout: 'box', equalWeightButtons: true, flipButtons: false },
        },
        categories: {
            necessary: { enabled: true, readOnly: true },
            analytics: { enabled: false, autoClear: { cookies: [{ name: /^_ga/ }] } },
            marketing: { enabled: false, autoClear: { cookies: [{ name: '_fbp' }] } },
        },
        language: {
            default: 'en',
            translations: {
                en: {
                    consentModal: {
                        title: 'We use cookies',
                        description: 'We use cookies for analytics and marketing. You can accept all, reject all, or choose.',
                        acceptAllBtn: 'Accept all',
                        acceptNecessaryBtn: 'Reject all',
                        showPreferencesBtn: 'Manage preferences',
                    },
                    preferencesModal: {
                        title: 'Cookie preferences',
                        acceptAllBtn: 'Accept all',
                        acceptNecessaryBtn: 'Reject all',
                        savePreferencesBtn: 'Save preferences',
                        closeIconLabel: 'Close',
                        sections: [
                            { title: 'Strictly necessary', description: 'Required for the site to work.', linkedCategory: 'necessary' },
                            { title: 'Analytics', description: 'Audience measurement (sets _ga).', linkedCategory: 'analytics' },
                            { title: 'Marketing', description: 'Advertising pixel (sets _fbp).', linkedCategory: 'marketing' },
                        ],
                    },
                },
            },
        },
    });
});
