// First thing in <body> (a classic script, not deferred): GOV.UK Frontend 6.6.0 template.njk's body snippet, external because CSP forbids inline script.
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
