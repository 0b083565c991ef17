// Passkeys for wristband's pages: the only script they load (CSP `script-src 'self'`).
// A page that offers a passkey carries a form `#passkey-form` whose `data-mode` says what
// for (`sign-in`, `second-factor`, `register`) and whose `data-options` names where the
// ceremony's options come from. The script asks for them with the form's own fields (its
// CSRF token among them), runs the ceremony in the browser, puts the authenticator's answer
// in the form's `credential` field and submits it: the server decides everything else.
// Without this script, or without WebAuthn's JSON methods, the passkey button stays hidden
// and every page still works with its other forms.
"use strict";

(function () {
  const form = document.getElementById("passkey-form");
  const button = document.getElementById("passkey-button");
  const pkc = window.PublicKeyCredential;
  if (!form || !button || !pkc || !pkc.parseRequestOptionsFromJSON || !pkc.parseCreationOptionsFromJSON) {
    return;
  }
  const mode = form.dataset.mode;
  const errorBox = document.getElementById("passkey-error");

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  // The ceremony's options, asked for with the form's fields. A refusal is one of
  // wristband's error pages: its message is what the person reads.
  async function options() {
    const response = await fetch(form.dataset.options, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
    });
    if (!response.ok) {
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const message = page.querySelector("main p");
      throw new Error(message ? message.textContent : "Passkeys are not available right now.");
    }
    return response.json();
  }

  function submit(ceremony, credential) {
    form.elements.ceremony.value = ceremony;
    form.elements.credential.value = JSON.stringify(credential.toJSON());
    form.submit();
  }

  async function assert(mediation, signal) {
    const { ceremony, publicKey } = await options();
    const request = { publicKey: pkc.parseRequestOptionsFromJSON(publicKey), signal };
    if (mediation) {
      request.mediation = mediation;
    }
    submit(ceremony, await navigator.credentials.get(request));
  }

  async function register() {
    if (!form.reportValidity()) {
      return;
    }
    const { ceremony, publicKey } = await options();
    const created = await navigator.credentials.create({ publicKey: pkc.parseCreationOptionsFromJSON(publicKey) });
    submit(ceremony, created);
  }

  // The person cancelled, or the authenticator refused: say so, keep the page usable.
  function failed(error) {
    if (error && error.name === "AbortError") {
      return;
    }
    const cancelled = error && error.name === "NotAllowedError";
    showError(cancelled ? "The passkey request was cancelled or timed out. Try again." : error.message);
  }

  let autofill = null;
  button.hidden = false;
  button.addEventListener("click", () => {
    errorBox.hidden = true;
    if (autofill) {
      autofill.abort();
      autofill = null;
    }
    (mode === "register" ? register() : assert(null, undefined)).catch(failed);
  });

  // Sign-in: offer the account's passkeys in the username field's autofill too, where the
  // browser supports conditional mediation; not on a page that reports a failed attempt,
  // where the person chooses how to try again.
  if (mode === "sign-in" && form.dataset.autofill === "on" && pkc.isConditionalMediationAvailable) {
    pkc.isConditionalMediationAvailable().then((available) => {
      if (available) {
        autofill = new AbortController();
        // Autofill is offered, not asked for: its failures stay quiet.
        assert("conditional", autofill.signal).catch(() => {});
      }
    });
  }
})();
