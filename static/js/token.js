// The profile page's Copy button (templates/accounts/profile.html): copies the text of the
// element whose id is in data-copy (the API token, shown only once) and says so through a
// toast. The button stays hidden without JavaScript or a clipboard; the token can be selected.
(function () {
  "use strict";
  for (const button of document.querySelectorAll("button[data-copy]")) {
    const source = document.getElementById(button.dataset.copy);
    if (!source || !navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", () => {
      navigator.clipboard.writeText(source.textContent.trim()).then(
        () => {
          button.textContent = "Copied";
          if (window.notesToast) window.notesToast("Token copied to the clipboard.", { timeout: 4000 });
        },
        () => {
          window.getSelection().selectAllChildren(source);
          if (window.notesToast) window.notesToast("Could not copy: the token is selected, press Ctrl+C.");
        });
    });
  }
})();
