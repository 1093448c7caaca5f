// The tracking site's only script: show every <time datetime> in the viewer's time zone, with the offset.
(function () {
  function pad(n) { return (n < 10 ? '0' : '') + n; }
  function offset(d) {
    var m = -d.getTimezoneOffset(), sign = m < 0 ? '-' : '+';
    m = Math.abs(m);
    return 'UTC' + sign + pad(Math.floor(m / 60)) + ':' + pad(m % 60);
  }
  var shown = null;
  document.querySelectorAll('time[datetime]').forEach(function (el) {
    var d = new Date(el.getAttribute('datetime'));
    if (isNaN(d.getTime())) return;
    el.title = el.textContent;
    el.textContent = d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + ' (' + offset(d) + ')';
    shown = d;
  });
  var note = document.getElementById('tz-note');
  if (note) {
    var zone = '';
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { zone = ''; }
    note.textContent = 'Times are shown in your time zone' + (zone ? ' (' + zone + ', ' + offset(shown || new Date()) + ')' : '') + '.';
  }
}());
