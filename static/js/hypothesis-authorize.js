// The Hypothesis client's sign-in popup (annotations/hypothesis/views.py `authorize`): hand
// the authorization code to the sidebar that opened this window, on this site's own origin
// only, then close. Without an opener (the page opened by hand) nothing is sent.
const read = (id) => JSON.parse(document.getElementById(id).textContent);
const message = read("hypothesis-authorization");
const origin = read("hypothesis-origin");
if (window.opener) {
  window.opener.postMessage(message, origin);
  window.close();
}
