/* Local stand-in for HubSpot's form embed: fetches the form definition, renders it and sends the bind pixel. */
(function () {
  window.hbspt = window.hbspt || {};
  window.hbspt.forms = {
    create: function (opts) {
      var target = document.querySelector(opts.target);
      if (!target) return;
      fetch('https://forms.hsforms.com/embed/v3/form/' + opts.portalId + '/' + opts.formId + '/json')
        .then(function (r) { return r.json(); })
        .then(function (def) {
          (def.fields || []).forEach(function (f) {
            var label = document.createElement('label'); label.textContent = f.label + ' ';
            var input = document.createElement('input'); input.name = f.name; label.appendChild(input); target.appendChild(label);
          });
          new Image().src = 'https://forms.hsforms.com/embed/v3/counters.gif?key=collected-forms-embed-js-form-bind&portalId=' + opts.portalId;
        }).catch(function () { target.textContent = 'The application form could not be loaded.'; });
    }
  };
})();
