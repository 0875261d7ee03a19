// The console's only script (plain JavaScript, nothing vendored; served from /console/static, as the
// Content-Security-Policy's `script-src 'self'` requires). It turns a few full-page round trips into partial
// updates; without it every form and link works the same way, as a full page (post/redirect/get).
//
//   form[data-fragment="ID"] (GET: filters, pickers)  -> fetch the page, swap the element #ID only
//   [data-fragment-links="ID"] a (sort, pages, [data-swap]) -> the same for those links inside it
//   form[data-partial] (POST: triage, rollback)        -> post with fetch, follow the redirect, swap <main>
//
// The server renders the same page either way; the script takes the part it needs from it, keeps the URL
// in the address bar (history), and moves focus to the flash message so a screen reader hears the result.
"use strict";
(function () {
  const root = document.documentElement;

  function swap(html, targetId) {
    const next = new DOMParser().parseFromString(html, "text/html");
    let fresh = next.getElementById(targetId);
    let here = document.getElementById(targetId);
    if (!fresh || !here) {
      // The answer is another page (a problem, say): show all of it.
      [fresh, here, targetId] = [next.getElementById("main"), document.getElementById("main"), "main"];
    }
    if (!fresh || !here) return false;
    here.replaceWith(document.importNode(fresh, true));
    if (targetId !== "main") {
      // A fragment swap still shows the page's message (a refused filter, say) where every page shows it.
      const old = document.querySelector("main > [data-testid=flash]");
      if (old) old.remove();
      const flash = next.querySelector("main > [data-testid=flash]");
      if (flash) document.getElementById("main").prepend(document.importNode(flash, true));
    }
    document.title = next.title;
    const message = document.querySelector("main > [data-testid=flash]");
    if (message) {
      message.tabIndex = -1;
      message.focus();
    }
    return true;
  }

  async function load(url, targetId, init, push, plainly) {
    root.dataset.loading = "1";
    try {
      const response = await fetch(url, { credentials: "same-origin", ...init });
      const type = response.headers.get("content-type") || "";
      // Signed out: the sign-in page, as a page.
      if (new URL(response.url).pathname === "/console/sign-in") {
        window.location.assign(response.url);
        return;
      }
      // A file or anything but a page (a refusal in JSON, say): the browser does it the plain way.
      if (!type.startsWith("text/html")) {
        if (init.method) plainly();
        else window.location.assign(response.url);
        return;
      }
      if (!swap(await response.text(), targetId)) {
        window.location.assign(response.url);
        return;
      }
      // After a post, the address is the page it redirected to; a refusal answered in place keeps the old one.
      if (push && (!init.method || response.redirected)) history.pushState({ targetId }, "", response.url);
    } catch (error) {
      plainly(); // the fetch failed: do it the plain way, and the full page says what happened
    } finally {
      delete root.dataset.loading;
    }
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!(form instanceof HTMLFormElement) || form.dataset.plain) return;
    // Attributes, not properties: a field named "action" (the triage buttons) shadows form.action.
    const action = new URL(form.getAttribute("action") || "", window.location.href).href;
    const method = (form.getAttribute("method") || "get").toLowerCase();
    if (method === "get" && form.dataset.fragment) {
      event.preventDefault();
      const query = new URLSearchParams(new FormData(form));
      for (const [name, value] of [...query]) if (value === "") query.delete(name);
      const url = action + (query.toString() ? "?" + query : "");
      load(url, form.dataset.fragment, {}, true, () => window.location.assign(url));
    } else if (method === "post" && form.hasAttribute("data-partial")) {
      event.preventDefault();
      const submitter = event.submitter;
      const body = new URLSearchParams(new FormData(form, submitter));
      load(action, "main", { method: "POST", body }, true, () => {
        form.dataset.plain = "1"; // the same post as a full page (the form's idempotency key, sent once)
        form.requestSubmit(submitter);
      });
    }
  });

  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element && event.target.closest("a[href]");
    const swaps = link && link.matches("[data-sort], [data-swap], .pages a");
    const area = swaps && link.closest("[data-fragment-links]");
    if (!area || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    event.preventDefault();
    load(link.href, area.dataset.fragmentLinks, {}, true, () => window.location.assign(link.href));
  });

  window.addEventListener("popstate", () =>
    load(window.location.href, "main", {}, false, () => window.location.reload()),
  );
})();
