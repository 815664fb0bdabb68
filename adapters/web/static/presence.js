// Who is viewing (issue 16): while a request is open in a visible tab, the console reports it
// ("viewing") every third of the server's viewing TTL, "typing" while a message to the customer
// is written (at most every third of the typing TTL), and "left" when the tab is hidden or
// closed. The event stream (app.js, shared by the browser's tabs) brings the "presence" of
// every request of the technician's companies: the open request's line says who else has it
// open and who types, and the lists mark the requests someone else has open. Without this
// script the page still shows what the server knew when it rendered it.
(function () {
  'use strict';

  var box = document.getElementById('presence');
  var me = box ? box.getAttribute('data-me') : '';
  var current = box ? box.getAttribute('data-request-id') : '';
  var token = document.querySelector('#availability input[name=csrf_token]');
  var known = {}; // request id -> viewers but me

  function others(viewers) {
    return (viewers || []).filter(function (v) {
      return v && typeof v.name === 'string' && v.id !== me;
    });
  }

  function setLine(id, text) {
    var p = document.getElementById(id);
    if (!text) {
      if (p) {
        p.remove();
      }
      return;
    }
    if (!p) {
      p = document.createElement('p');
      p.id = id;
      if (id === 'presence-viewing') {
        box.insertBefore(p, box.firstChild);
      } else {
        box.appendChild(p);
      }
    }
    if (p.textContent !== text) {
      p.textContent = text; // only news is announced: the region is polite and unchanged text is left alone
    }
  }

  function showLine(viewers) {
    if (!box) {
      return;
    }
    var names = viewers.map(function (v) { return v.name; });
    var typing = viewers.filter(function (v) { return v.typing; }).map(function (v) { return v.name; });
    setLine('presence-viewing', names.length ? 'Also viewing: ' + names.join(', ') : '');
    setLine('presence-typing', typing.length === 0 ? '' : typing.join(', ') + (typing.length === 1 ? ' is typing…' : ' are typing…'));
  }

  function markRows(requestId, viewers) {
    var names = viewers.map(function (v) { return v.name; }).join(', ');
    document.querySelectorAll('[data-request-id="' + requestId + '"]').forEach(function (row) {
      if (row === box || !(row.tagName === 'TR' || row.tagName === 'LI')) {
        return;
      }
      var marker = row.querySelector('.viewing-marker');
      if (!names) {
        if (marker) {
          marker.remove();
        }
        return;
      }
      if (!marker) {
        marker = document.createElement('span');
        marker.className = 'viewing-marker';
        marker.setAttribute('data-viewing', '');
        var link = row.querySelector('a');
        var anchor = row.querySelector('.unread') || link;
        if (!anchor) {
          return;
        }
        anchor.insertAdjacentElement('afterend', marker);
        anchor.insertAdjacentText('afterend', ' ');
      }
      if (marker.textContent !== 'open by ' + names) {
        marker.textContent = 'open by ' + names;
      }
    });
  }

  function apply(data) {
    if (!data || typeof data.request_id !== 'string' || !Array.isArray(data.viewers)) {
      return;
    }
    var viewers = others(data.viewers);
    known[data.request_id] = viewers;
    if (data.request_id === current) {
      showLine(viewers);
    }
    markRows(data.request_id, viewers);
  }

  document.addEventListener('helpstream:presence', function (e) {
    apply(e.detail);
  });

  // A list re-rendered by app.js carries the server's view; newer presence stays ours.
  new MutationObserver(function () {
    Object.keys(known).forEach(function (id) {
      markRows(id, known[id]);
    });
  }).observe(document.body, { childList: true, subtree: true });

  if (!box || !token || !window.fetch || !current) {
    return;
  }

  var reportEvery = parseInt(box.getAttribute('data-report-every'), 10) || 10000;
  var typingEvery = parseInt(box.getAttribute('data-typing-every'), 10) || 1600;
  var lastTyping = 0;

  function form(state) {
    var data = new URLSearchParams();
    data.set('csrf_token', token.value);
    data.set('request_id', current);
    data.set('state', state);
    return data;
  }

  function report(state) {
    return fetch('/console/presence', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-Requested-With': 'fetch' },
      body: form(state)
    }).then(function (res) {
      return res.ok ? res.json() : null;
    }).then(function (answer) {
      if (answer) {
        apply(answer);
      }
    }).catch(function () {
      // The next report tries again; presence is a courtesy, never in the way.
    });
  }

  function leave() {
    if (navigator.sendBeacon) {
      navigator.sendBeacon('/console/presence', form('left'));
    } else {
      report('left');
    }
  }

  var beat = null;
  function visible() {
    if (beat === null) {
      report('viewing');
      beat = setInterval(function () {
        report('viewing');
      }, reportEvery);
    }
  }
  function hidden() {
    if (beat !== null) {
      clearInterval(beat);
      beat = null;
      leave();
    }
  }

  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible') {
      visible();
    } else {
      hidden();
    }
  });
  window.addEventListener('pagehide', hidden);
  window.addEventListener('pageshow', function () {
    if (document.visibilityState === 'visible') {
      visible();
    }
  });
  document.addEventListener('input', function (e) {
    var t = e.target;
    if (!t || t.id !== 'message-body' || document.visibilityState !== 'visible') {
      return;
    }
    var now = Date.now();
    if (now - lastTyping >= typingEvery) {
      lastTyping = now;
      report('typing');
    }
  });
  if (document.visibilityState === 'visible') {
    visible();
  }
})();
