// The transcript viewer: pick an episode, read its maps and messages, replay its moves on the true maze.
// Everything agents wrote is untrusted: it is only ever set with textContent, never parsed as HTML.
(function () {
  "use strict";
  const episodes = JSON.parse(document.getElementById("episodes-data").textContent);
  const select = document.getElementById("episode-select");
  const info = document.getElementById("episode-info");
  const maps = document.getElementById("maps");
  const board = document.getElementById("maze-board");
  const label = document.getElementById("step-label");
  const note = document.getElementById("step-note");
  const prev = document.getElementById("step-prev");
  const next = document.getElementById("step-next");
  const messages = document.getElementById("messages");
  const KINDS = { "#": "wall", "?": "hidden", "@": "start", "*": "goal" };
  let episode = null;
  let step = 0;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function drawGrid(container, rows) {
    container.replaceChildren();
    const width = rows.reduce((most, row) => Math.max(most, row.length), 0);
    container.style.gridTemplateColumns = "repeat(" + width + ", auto)";
    rows.forEach((row, r) => {
      Array.from(row).forEach((symbol, c) => {
        const cell = element("div", "cell " + (KINDS[symbol] || "open"));
        cell.dataset.row = String(r);
        cell.dataset.col = String(c);
        if (symbol === "@" || symbol === "*" || symbol === "?") cell.textContent = symbol;
        container.appendChild(cell);
      });
    });
  }

  function cellAt(row, col) {
    return board.querySelector('.cell[data-row="' + row + '"][data-col="' + col + '"]');
  }

  function startCell() {
    if (episode.moves.length) return episode.moves[0].source;
    for (let r = 0; r < episode.maze.length; r++) {
      const c = episode.maze[r].indexOf("@");
      if (c >= 0) return [r, c];
    }
    return [0, 0];
  }

  function showStep() {
    const moves = episode.moves;
    board.querySelectorAll(".cell.current, .cell.visited, .cell.invalid").forEach((cell) => {
      cell.classList.remove("current", "visited", "invalid");
    });
    let position = startCell();
    let invalid = false;
    for (let i = 0; i < step; i++) {
      const move = moves[i];
      if (move.valid) {
        const visited = cellAt(move.source[0], move.source[1]);
        if (visited) visited.classList.add("visited");
        position = move.target;
      } else {
        invalid = true;
        // A step into a wall shows on the wall; a step off the grid stays on the cell it left.
        position = cellAt(move.target[0], move.target[1]) ? move.target : move.source;
      }
    }
    const current = cellAt(position[0], position[1]);
    if (current) current.classList.add("current");
    if (invalid && current) current.classList.add("invalid");
    label.textContent = "step " + step + " of " + moves.length;
    prev.disabled = step === 0;
    next.disabled = step >= moves.length;
    if (step === 0) {
      note.textContent = moves.length ? "At the start." : "No moves were made.";
    } else {
      const move = moves[step - 1];
      note.textContent = "Move " + step + ": " + move.direction +
        (move.valid ? "" : " (invalid: into a wall or off the grid; the game ends)");
    }
    note.className = invalid ? "invalid" : "";
    const active = step > 0 ? episode.move_messages[step - 1] : null;
    messages.querySelectorAll("li").forEach((item) => {
      item.classList.toggle("active", active !== null && item.dataset.index === String(active));
    });
  }

  function showInfo() {
    info.replaceChildren();
    const score = episode.score;
    const parts = [
      episode.condition + " (" + episode.mode + " mode)",
      "seats: " + episode.seats,
      "status: " + episode.status + " (" + episode.end_reason + ")",
    ];
    if (episode.relay) parts.push("relay: " + episode.relay);
    if (score) parts.push("weighted " + score.weighted.toFixed(3) + ", " + score.moves + " moves (optimal " +
      score.optimal_length + "), " + score.conflicts + " conflicts");
    if (episode.error) parts.push((score ? "flagged failure " : "platform error ") + episode.error.kind +
      " (blame " + episode.error.blame + ", seat " + episode.error.seat + "): " + episode.error.message);
    if (episode.route) parts.push("graded route: " + episode.route.join(", "));
    info.appendChild(element("p", null, parts.join(" · ")));
    if (episode.grading_input.length) info.appendChild(modelInput(episode.grading_input, "What the grader saw"));
  }

  function showMaps() {
    maps.replaceChildren();
    episode.maps.forEach((map) => {
      const figure = element("figure", "map");
      figure.appendChild(element("figcaption", null, map.title));
      const grid = element("div", "grid");
      drawGrid(grid, map.rows);
      figure.appendChild(grid);
      maps.appendChild(figure);
    });
  }

  function preformatted(text) {
    const node = element("pre", null, text);
    node.style.whiteSpace = "pre-wrap";
    node.style.margin = "0.2rem 0 0";
    return node;
  }

  function modelMessage(message) {
    const item = element("div", "model-message role-" + message.role);
    let who = message.role;
    if (message.tool_call_id) who += " · result of " + message.tool_call_id + (message.is_error ? " (an error)" : "");
    item.appendChild(element("span", "who", who));
    item.appendChild(preformatted(message.content));
    (message.tool_calls || []).forEach((call) => {
      item.appendChild(preformatted("tool call " + call.id + ": " + call.name + "(" + call.arguments + ")"));
    });
    return item;
  }

  function modelRequest(conversations, place, number, count) {
    const section = element("div", "model-request");
    const shown = conversations[place.conversation].slice(0, place.length);
    if (count > 1) {
      section.appendChild(element("p", "request-title",
        "Request " + (number + 1) + " of " + count + ": " + shown.length + " messages"));
    }
    if (place.missing) {
      section.appendChild(element("p", "note", "Not reported: the first " + place.missing + " messages."));
    }
    shown.forEach((message) => section.appendChild(modelMessage(message)));
    return section;
  }

  // What the model saw: the exact messages of each request, laid out only when first opened.
  function modelInput(places, title) {
    const block = element("details", "model-input");
    block.appendChild(element("summary", null, title + (places.length > 1 ? " (" + places.length + " requests)" : "")));
    const conversations = episode.conversations;
    block.addEventListener("toggle", () => {
      if (!block.open || block.dataset.filled) return;
      block.dataset.filled = "yes";
      places.forEach((place, i) => block.appendChild(modelRequest(conversations, place, i, places.length)));
    });
    return block;
  }

  function showMessages() {
    messages.replaceChildren();
    episode.messages.forEach((message) => {
      const item = element("li", "seat-" + message.seat);
      item.dataset.index = String(message.index);
      item.appendChild(element("span", "who", "Seat " + message.seat + (message.player ? " · " + message.player : "")));
      if (message.vote) item.appendChild(element("span", "vote", "vote: " + message.vote));
      if (message.vote_error) item.appendChild(element("span", "vote-error", message.vote_error));
      item.appendChild(element("pre", null, message.text));
      if (message.model_input.length) item.appendChild(modelInput(message.model_input, "What the model saw"));
      messages.appendChild(item);
    });
  }

  function choose(index) {
    episode = episodes[index];
    step = 0;
    if (!episode) return;
    showInfo();
    showMaps();
    drawGrid(board, episode.maze);
    showMessages();
    showStep();
  }

  select.addEventListener("change", () => choose(Number(select.value)));
  next.addEventListener("click", () => {
    if (episode && step < episode.moves.length) { step += 1; showStep(); }
  });
  prev.addEventListener("click", () => {
    if (episode && step > 0) { step -= 1; showStep(); }
  });
  if (episodes.length) {
    choose(Number(select.value || 0));
  } else {
    prev.disabled = true;
    next.disabled = true;
  }
})();
