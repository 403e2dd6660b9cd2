// The notes library (issue 14): "select all on this page", a count of the selected notes,
// and only the bulk fields the chosen action needs. Without JavaScript every field shows and
// the forms post as they are.
(function () {
  "use strict";
  // On a phone the filters start folded unless one is set: the notes come first.
  const panel = document.querySelector("[data-filter-panel]");
  if (panel && !("active" in panel.dataset) && window.matchMedia("(max-width: 600px)").matches) {
    panel.open = false;
  }

  const form = document.querySelector("[data-bulk]");
  if (!form) return;
  const picks = Array.from(document.querySelectorAll("[data-pick]"));
  const all = form.querySelector("[data-select-all]");
  const count = form.querySelector("[data-selected-count]");
  const submit = form.querySelector("[data-bulk-submit]");
  const action = form.querySelector("select[name=action]");
  const fields = Array.from(form.querySelectorAll("[data-for-action]"));

  function update() {
    const chosen = picks.filter((box) => box.checked).length;
    count.textContent = chosen ? "(" + chosen + " selected)" : "(none selected)";
    submit.disabled = chosen === 0;
    all.checked = chosen > 0 && chosen === picks.length;
    all.indeterminate = chosen > 0 && chosen < picks.length;
    form.classList.toggle("has-selection", chosen > 0);
    for (const box of picks) box.closest(".card").classList.toggle("picked", box.checked);
  }

  function showFields() {
    for (const field of fields) {
      const wanted = field.dataset.forAction.split(" ").includes(action.value);
      field.hidden = !wanted;
      for (const control of field.querySelectorAll("input, select")) control.disabled = !wanted;
    }
  }

  form.querySelector("[data-select-all-label]").hidden = false;
  form.classList.add("enhanced"); // library.css: on phones, the action fields wait for a selection
  all.addEventListener("change", () => {
    for (const box of picks) box.checked = all.checked;
    update();
  });
  for (const box of picks) box.addEventListener("change", update);
  action.addEventListener("change", showFields);
  showFields();
  update();
})();
