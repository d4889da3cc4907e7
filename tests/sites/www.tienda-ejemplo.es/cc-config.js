// CookieConsent v3 (npm vanilla-cookieconsent) configuration of the Tienda Ejemplo fixture, in Spanish.
// Categories: necessary (read-only), analytics ("Analíticas"), ads ("Publicidad").
window.addEventListener('load', function () {
    CookieConsent.run({
        cookie: { name: 'cc_cookie', expiresAfterDays: 182 },
        guiOptions: {
            consentModal: { layout: 'box', position: 'bottom right', equalWeightButtons: true, flipButtons: false },
            preferencesModal: { layout: 'box', equalWeightButtons: true, flipButtons: false },
        },
        categories: {
            necessary: { enabled: true, readOnly: true },
            analytics: { enabled: false, autoClear: { cookies: [{ name: /^_ga/ }] } },
            ads: { enabled: false, autoClear: { cookies: [{ name: '_fbp' }] } },
        },
        language: {
            default: 'es',
            translations: {
                es: {
                    consentModal: {
                        title: 'Usamos cookies',
                        description: 'Usamos cookies analíticas y de publicidad. Puede aceptarlas todas, rechazarlas o elegir.',
                        acceptAllBtn: 'Aceptar todo',
                        acceptNecessaryBtn: 'Rechazar todo',
                        showPreferencesBtn: 'Gestionar preferencias',
                    },
                    preferencesModal: {
                        title: 'Preferencias de cookies',
                        acceptAllBtn: 'Aceptar todo',
                        acceptNecessaryBtn: 'Rechazar todo',
                        savePreferencesBtn: 'Guardar preferencias',
                        closeIconLabel: 'Cerrar',
                        sections: [
                            { title: 'Estrictamente necesarias', description: 'Imprescindibles para la tienda.', linkedCategory: 'necessary' },
                            { title: 'Analíticas', description: 'Medición de audiencia.', linkedCategory: 'analytics' },
                            { title: 'Publicidad', description: 'Publicidad personalizada.', linkedCategory: 'ads' },
                        ],
                    },
                },
            },
        },
    });
});
