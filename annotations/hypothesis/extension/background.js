// Marginalia's browser extension (Manifest V3), for pages whose Content-Security-Policy
// refuses the bookmarklets. As hypothesis/browser-extension does it: the toolbar button puts
// the client's config in the page, then runs the client's own boot script, bundled here in
// client/ (unmodified), with chrome.scripting. The boot script adds the client's files from
// this extension (chrome-extension: URLs, which a page's script-src does not govern) and the
// sidebar, which is Marginalia's own /hypothesis/app.html (MARGINALIA_ORIGIN, in config.js,
// written when Marginalia serves the extension).
importScripts("config.js");

// Run in the page (an isolated world sharing its DOM): the client's config, read by boot,
// which, run by an extension, starts only beside a config naming that extension's id.
function setClientConfig(config, extensionId) {
  if (document.querySelector("script.js-hypothesis-config[data-marginalia-extension]")) return false;
  const script = document.createElement("script");
  script.type = "application/json";
  script.className = "js-hypothesis-config";
  script.dataset.marginaliaExtension = "";
  script.setAttribute("data-extension-id", extensionId);
  script.setAttribute("data-remove-on-unload", "");
  script.textContent = JSON.stringify(config);
  (document.head || document.documentElement).appendChild(script);
  return true;
}

async function annotate(tabId) {
  const app = `${MARGINALIA_ORIGIN}/hypothesis/app.html`;
  const config = {
    openSidebar: true,
    assetRoot: chrome.runtime.getURL("client/"),
    sidebarAppUrl: app,
    notebookAppUrl: app,
    profileAppUrl: app,
  };
  const [first] = await chrome.scripting.executeScript({
    target: { tabId },
    func: setClientConfig,
    args: [config, chrome.runtime.id],
  });
  if (!first || !first.result) return "already";  // the client is on this page already
  await chrome.scripting.executeScript({ target: { tabId }, files: ["client/build/boot.js"] });
  return "loaded";
}

// Run in the page: what Save to Marginalia keeps of it.
function readPage() {
  return { url: location.href, title: document.title, html: document.documentElement.outerHTML };
}

// Run in Marginalia's Save window: the page, into its form (as the bookmarklet's message does).
function fillCapture(page) {
  const form = document.querySelector("[data-role=form]");
  if (!form) return false;
  form.elements.url.value = page.url;
  form.elements.html.value = page.html;
  form.querySelector("[data-role=title]").textContent = page.title;
  form.querySelector("[data-role=shown-url]").textContent = page.url;
  form.querySelector("[data-role=save]").disabled = false;
  const waiting = document.querySelector("[data-role=waiting]");
  if (waiting) waiting.hidden = true;
  return true;
}

async function save(tabId) {
  const [read] = await chrome.scripting.executeScript({ target: { tabId }, func: readPage });
  const tab = await chrome.tabs.create({ url: `${MARGINALIA_ORIGIN}/capture/` });
  await new Promise((resolve) => {
    chrome.tabs.onUpdated.addListener(function done(id, change) {
      if (id === tab.id && change.status === "complete") {
        chrome.tabs.onUpdated.removeListener(done);
        resolve();
      }
    });
  });
  const [filled] = await chrome.scripting.executeScript({
    target: { tabId: tab.id },
    func: fillCapture,
    args: [read.result],
  });
  return filled && filled.result ? "ready" : "sign-in";  // not signed in: the login page
}

chrome.action.onClicked.addListener((tab) => annotate(tab.id));
chrome.runtime.onInstalled.addListener(() => {
  chrome.contextMenus.create({ id: "annotate", title: "Annotate with Marginalia", contexts: ["page", "selection"] });
  chrome.contextMenus.create({ id: "save", title: "Save to Marginalia", contexts: ["page", "selection"] });
});
chrome.contextMenus.onClicked.addListener((info, tab) => {
  if (info.menuItemId === "annotate") annotate(tab.id);
  if (info.menuItemId === "save") save(tab.id);
});
