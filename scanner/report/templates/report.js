(function () {
  "use strict";
  // Sorts and filters the tables already in the page. Reads textContent only; never writes HTML.
  function value(row, index) {
    var cell = row.cells[index];
    if (!cell) return "";
    var key = cell.getAttribute("data-sort");
    return key !== null ? key : cell.textContent.trim().toLowerCase();
  }
  function compare(numeric) {
    return function (a, b) {
      if (numeric) {
        var x = parseFloat(a), y = parseFloat(b);
        if (isNaN(x)) x = -Infinity;
        if (isNaN(y)) y = -Infinity;
        return x - y;
      }
      return a < b ? -1 : a > b ? 1 : 0;
    };
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    var head = table.tHead && table.tHead.rows[0];
    if (!head) return;
    Array.prototype.forEach.call(head.cells, function (th, index) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      function sort() {
        var ascending = th.getAttribute("aria-sort") !== "ascending";
        Array.prototype.forEach.call(head.cells, function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
        var cmp = compare(th.hasAttribute("data-numeric"));
        var body = table.tBodies[0];
        var rows = Array.prototype.slice.call(body.rows);
        rows.sort(function (a, b) {
          var r = cmp(value(a, index), value(b, index));
          return ascending ? r : -r;
        });
        rows.forEach(function (row) { body.appendChild(row); });
      }
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[data-filter]"), function (input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    var shown = input.parentNode.querySelector(".shown");
    if (!table) return;
    var rows = table.tBodies[0].rows;
    function update() {
      var query = input.value.trim().toLowerCase();
      var visible = 0;
      Array.prototype.forEach.call(rows, function (row) {
        var match = !query || row.textContent.toLowerCase().indexOf(query) !== -1;
        row.hidden = !match;
        if (match) visible += 1;
      });
      if (shown) shown.textContent = (shown.getAttribute("data-rows") || "{shown} / {total}")
        .replace("{shown}", String(visible)).replace("{total}", String(rows.length));
    }
    input.addEventListener("input", update);
    update();
  });
  document.documentElement.setAttribute("data-js", "ready");
})();
