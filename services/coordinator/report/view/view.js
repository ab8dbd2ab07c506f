// Live progress: every element inside a [data-run] block that names a [data-field] shows that field of the run,
// as /api/runs reports it now. The page polls while it is open; a run the page does not list shows a note.
(function () {
  "use strict";
  const period = Number(document.body.dataset.pollMs || 0);
  const blocks = document.querySelectorAll("[data-run]");
  if (!period || !blocks.length) return;
  const fresh = document.getElementById("new-runs");

  function show(run) {
    let found = false;
    blocks.forEach((block) => {
      if (block.dataset.run !== run.run_id) return;
      found = true;
      block.dataset.status = run.status;
      block.querySelectorAll("[data-field]").forEach((node) => {
        const value = run[node.dataset.field];
        if (value !== undefined) node.textContent = value === null ? "?" : String(value);
      });
    });
    return found;
  }

  async function refresh() {
    try {
      const response = await fetch("/api/runs", { headers: { Accept: "application/json" } });
      if (response.ok) {
        const runs = await response.json();
        const unlisted = runs.filter((run) => !show(run));
        if (fresh && unlisted.length) fresh.hidden = false;
      }
    } catch (error) {
      console.warn("collabgap view: could not refresh the runs:", error);
    } finally {
      window.setTimeout(refresh, period);
    }
  }

  window.setTimeout(refresh, period);
})();
