// Osano cookieconsent 3.1.1 (npm "cookieconsent") configuration for the fixture site.
// The product has a single yes/no choice (no categories): type "opt-in" shows
// "Decline" (.cc-deny) and "Allow cookies" (.cc-allow); the status is stored in the
// cookie "cookieconsent_status" (allow | deny | dismiss). Both fixture trackers are
// gated on that one status through the library's callbacks (onInitialise on a
// returning visit, onStatusChange on a fresh choice); on deny/revoke the fixture
// deletes the trackers' cookies itself (the library has no cookie clearing).
(function () {
    function runTrackers() {
        // "analytics" tag
        document.cookie = "_ga=GA1.1.123.456; max-age=63072000; path=/";
        // "marketing" pixel
        document.cookie = "_fbp=fb.1.123.456; max-age=7776000; path=/";
    }
    function clearTrackers() {
        document.cookie = "_ga=; max-age=0; path=/";
        document.cookie = "_fbp=; max-age=0; path=/";
    }
    function apply(status) {
        if (status === 'allow') runTrackers(); else clearTrackers();
    }
    window.addEventListener('load', function () {
        window.cookieconsent.initialise({
            type: 'opt-in',
            position: 'bottom',
            revokable: true,
            law: { regionalLaw: false },
            location: false,
            cookie: { name: 'cookieconsent_status', path: '/', expiryDays: 365 },
            palette: {
                popup: { background: '#252e39' },
                button: { background: '#14a7d0' },
            },
            content: {
                message: 'This fixture site uses cookies for analytics and marketing.',
                allow: 'Allow cookies',
                deny: 'Decline',
                link: 'Learn more',
                href: '/cmp/osano-cookieconsent/page2.html',
                policy: 'Cookie Policy',
            },
            onInitialise: function (status) {
                if (this.hasConsented()) runTrackers();
            },
            onStatusChange: function (status, chosenBefore) {
                apply(status);
            },
            onRevokeChoice: function () {
                clearTrackers();
            },
        }, function (popup) {
            window.fixtureCookiePopup = popup;   // fixture convenience only; real sites rarely expose it
        });
    });
})();
