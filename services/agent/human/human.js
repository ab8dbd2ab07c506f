// The game page: asks the server for changes (long polling), shows them, and sends the person's messages.
// Everything the server sends is written with textContent: no text from a game ever becomes markup.
"use strict";

(function () {
  const game = document.getElementById("game");
  if (!game) return;
  const key = game.dataset.key;
  const status = document.getElementById("status");
  const conversation = document.getElementById("conversation");
  const form = document.getElementById("reply");
  const text = document.getElementById("text");
  const send = document.getElementById("send");
  const problem = document.getElementById("problem");
  let version = -1;  // the first look answers at once
  let deadline = null;
  let state = null;

  function showStatus() {
    status.className = "";
    if (state.over) {
      status.textContent = state.over;
      status.className = "over";
    } else if (state.your_turn) {
      const left = deadline === null ? "" : ` (${Math.max(0, Math.round((deadline - Date.now()) / 1000))} s left)`;
      status.textContent = `Your turn: write your message${left}.`;
      status.className = "your-turn";
    } else {
      status.textContent = "Waiting for your partner…";
    }
    const open = state.your_turn && !state.over;
    send.disabled = !open;
    for (const button of document.querySelectorAll("button.move")) button.disabled = !open;
  }

  function render() {
    conversation.replaceChildren(...state.lines.map((line) => {
      const item = document.createElement("li");
      item.className = `line ${line.who}`;
      const who = document.createElement("span");
      who.className = "who";
      who.textContent = line.label;
      const body = document.createElement("pre");
      body.textContent = line.text;
      item.append(who, body);
      return item;
    }));
    game.dataset.version = String(state.version);
    deadline = state.seconds_left === null ? null : Date.now() + state.seconds_left * 1000;
    showStatus();
  }

  async function poll() {
    for (;;) {
      try {
        const answer = await fetch(`/play/${encodeURIComponent(key)}/state?version=${version}`,
                                   {headers: {Accept: "application/json"}, cache: "no-store"});
        if (!answer.ok) {
          status.textContent = "This page lost its game; go back to the games waiting.";
          return;
        }
        state = await answer.json();
        version = state.version;
        render();
        if (state.over) return;
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    }
  }

  // A move button puts its MOVE: line in the message, replacing an earlier one (only the first line counts).
  for (const button of document.querySelectorAll("button.move")) {
    button.addEventListener("click", () => {
      const kept = text.value.split("\n").filter((line) => !/^\s*MOVE:/i.test(line)).join("\n").trimEnd();
      text.value = `${kept}${kept ? "\n" : ""}MOVE: ${button.dataset.move}`;
      text.focus();
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    problem.textContent = "";
    send.disabled = true;
    const answer = await fetch(form.action, {
      method: "POST", body: new URLSearchParams({text: text.value}),
      headers: {Accept: "application/json"},
    });
    const result = await answer.json();
    if (result.ok) {
      text.value = "";
    } else {
      problem.textContent = result.problem;
      send.disabled = false;
    }
  });

  setInterval(() => { if (state) showStatus(); }, 1000);
  poll();
})();
