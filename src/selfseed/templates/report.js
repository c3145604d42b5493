document.querySelectorAll("table.sortable").forEach(function (table) {
  var body = table.tBodies[0];
  table.querySelectorAll("th").forEach(function (th, i) {
    th.addEventListener("click", function () {
      var asc = th.dataset.order !== "asc";
      th.dataset.order = asc ? "asc" : "desc";
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.cells[i].dataset.v || a.cells[i].textContent;
        var y = b.cells[i].dataset.v || b.cells[i].textContent;
        var nx = parseFloat(x), ny = parseFloat(y);
        var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
        return asc ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
var filter = document.getElementById("filter");
if (filter) {
  filter.addEventListener("input", function () {
    var query = filter.value.toLowerCase();
    document.querySelectorAll("table.sortable tbody tr").forEach(function (row) {
      row.style.display = row.textContent.toLowerCase().indexOf(query) >= 0 ? "" : "none";
    });
  });
}
