// Marks the page as able to run GOV.UK Frontend's scripts, as its page
// template does inline (a file here, so the Content-Security-Policy needs
// no 'unsafe-inline').
document.body.className += ' js-enabled' + ('noModule' in HTMLScriptElement.prototype ? ' govuk-frontend-supported' : '');
