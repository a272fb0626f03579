(function () {
  var runs = JSON.parse(document.getElementById('runs-data').textContent);
  var questions = JSON.parse(document.getElementById('questions-data').textContent);
  var current = 'all';
  function esc(s) { var d = document.createElement('div'); d.textContent = String(s); return d.innerHTML; }
  function show(study) {
    current = study;
    document.querySelectorAll('.bar button').forEach(function (b) {
      b.classList.toggle('on', b.getAttribute('data-study') === study); });
    document.querySelectorAll('tr.run').forEach(function (r) {
      r.style.display = (study === 'all' || r.getAttribute('data-study') === study) ? '' : 'none'; });
    document.getElementById('question').textContent = study === 'all' ? '' : (questions[study] || '');
    compare();
  }
  function fmt(v, unit) {
    if (v === null || v === undefined) { return 'n/a'; }
    if (unit === '$') { return (v < 0 ? '-$' : '$') + Math.abs(v).toLocaleString('en-US',
      {maximumFractionDigits: Math.abs(v) < 100 ? 2 : 0, minimumFractionDigits: Math.abs(v) < 100 ? 2 : 0}); }
    if (unit === '%') { return (100 * v).toFixed(1) + '%'; }
    if (unit === 'pp') { return (100 * v >= 0 ? '+' : '') + (100 * v).toFixed(2) + ' pp'; }
    return Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
  }
  function compare() {
    var box = document.getElementById('compare');
    var picked = [];
    document.querySelectorAll('tr.run input:checked').forEach(function (c) {
      if (c.closest('tr').style.display !== 'none') { picked.push(runs[+c.getAttribute('data-index')]); } });
    if (picked.length < 2) {
      box.innerHTML = '<span class="muted">Tick two or more runs of one study to compare their headline ' +
        'figures side by side.</span>'; return; }
    var studies = {}; picked.forEach(function (r) { studies[r.study] = 1; });
    if (Object.keys(studies).length > 1) {
      box.innerHTML = '<span class="muted">Runs of different studies have different figures: tick runs of ' +
        'one study (use the buttons above to filter).</span>'; return; }
    var keys = [], labels = {}, units = {};
    picked.forEach(function (r) { r.figures.forEach(function (f) { var k = f.name + '|' + f.group;
      if (!(k in labels)) { keys.push(k); labels[k] = f.label; units[k] = f.unit; } }); });
    var h = '<table><thead><tr><th>figure</th>';
    picked.forEach(function (r) { h += '<th>' + esc(r.started) + '<br><span class="muted">' +
      esc(r.changed) + '</span></th>'; });
    h += '</tr></thead><tbody>';
    keys.forEach(function (k) {
      h += '<tr><td>' + esc(labels[k]) + '</td>';
      picked.forEach(function (r) {
        var f = r.figures.filter(function (x) { return x.name + '|' + x.group === k; })[0];
        if (!f) { h += '<td>-</td>'; return; }
        var ci = (f.ci_low !== null && f.ci_low !== undefined) ?
          ' <span class="muted">(' + esc(fmt(f.ci_low, f.unit)) + ' to ' + esc(fmt(f.ci_high, f.unit)) + ')</span>' : '';
        var truth = (f.truth !== null && f.truth !== undefined) ?
          '<br><span class="muted">truth ' + esc(fmt(f.truth, f.unit)) + '</span>' : '';
        h += '<td>' + esc(fmt(f.estimate, f.unit)) + ci + truth + '</td>'; });
      h += '</tr>'; });
    box.innerHTML = h + '</tbody></table>';
  }
  document.querySelectorAll('.bar button').forEach(function (b) {
    b.addEventListener('click', function () { show(b.getAttribute('data-study')); }); });
  document.querySelectorAll('tr.run input').forEach(function (c) { c.addEventListener('change', compare); });
  show('all');
})();
