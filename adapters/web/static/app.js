// Helpstream's only script: live updates. Every action works without it (plain forms that POST
// and redirect); with it, the panels follow the event stream of the page (server-sent events)
// and re-fetch their server-rendered, escaped HTML when something changed.
(function () {
  'use strict';

  var body = document.body;
  var eventsURL = body.getAttribute('data-events');
  if (!eventsURL || !window.EventSource || !window.fetch) {
    return;
  }
  var liveStatus = document.getElementById('live-status');

  function say(text) {
    if (liveStatus && liveStatus.textContent !== text) {
      liveStatus.textContent = text;
    }
  }

  // ---- refreshing the panels ----

  var pending = {}; // section id -> true
  var minPosition = '';
  var timer = null;

  function schedule(sections, position) {
    sections.forEach(function (section) {
      pending[section.id] = true;
    });
    if (position) {
      minPosition = position;
    }
    if (timer === null) {
      timer = setTimeout(flush, 100);
    }
  }

  function flush() {
    timer = null;
    var ids = Object.keys(pending);
    pending = {};
    var position = minPosition;
    ids.forEach(function (id) {
      var section = document.getElementById(id);
      if (section) {
        refresh(section, position);
      }
    });
  }

  function refresh(section, position) {
    var url = section.getAttribute('data-fragment');
    if (!url) {
      return;
    }
    if (position) {
      url += (url.indexOf('?') < 0 ? '?' : '&') + 'min_position=' + encodeURIComponent(position);
    }
    section.setAttribute('aria-busy', 'true');
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (res) {
        if (res.status === 401) {
          throw new Error('Your session has ended. Reload the page to log in again.');
        }
        if (res.status === 404) {
          throw new Error('This request is no longer available to you.');
        }
        if (!res.ok) {
          throw new Error('A panel could not be refreshed (error ' + res.status + '). Reload the page.');
        }
        return res.text();
      })
      .then(function (html) {
        swap(section, html);
        say('Live updates are on. Last update at ' + new Date().toLocaleTimeString() + '.');
      })
      .catch(function (err) {
        say(err.message || 'A panel could not be refreshed. Reload the page.');
      })
      .then(function () {
        section.removeAttribute('aria-busy');
      });
  }

  function byId(root, id) {
    var found = null;
    root.querySelectorAll('[id]').forEach(function (el) {
      if (found === null && el.id === id) {
        found = el;
      }
    });
    return found;
  }

  // swap puts the fresh HTML in place. Parts marked data-live are replaced one by one, and a
  // part whose data-live-key did not change is kept, so that what someone is typing stays.
  function swap(section, html) {
    var tpl = document.createElement('template');
    tpl.innerHTML = html;
    var fresh = tpl.content.querySelectorAll('[data-live][id]');
    var current = section.querySelectorAll('[data-live][id]');
    var sameShape = fresh.length > 0 && fresh.length === current.length;
    fresh.forEach(function (el) {
      if (!byId(section, el.id)) {
        sameShape = false;
      }
    });
    if (!sameShape) {
      var focused = document.activeElement && document.activeElement.id;
      section.replaceChildren(document.importNode(tpl.content, true));
      if (focused) {
        var again = document.getElementById(focused);
        if (again) {
          again.focus();
        }
      }
      return;
    }
    fresh.forEach(function (el) {
      var old = byId(section, el.id);
      var key = el.getAttribute('data-live-key');
      if (key !== null && old.getAttribute('data-live-key') === key) {
        return;
      }
      old.replaceWith(document.importNode(el, true));
    });
  }

  // ---- notifications (R5) ----

  function notify(data) {
    var list = document.getElementById('notification-list');
    if (!list || typeof data.url !== 'string' || data.url.indexOf('/console/requests/') !== 0) {
      return;
    }
    var item = document.createElement('li');
    item.className = 'notification';
    var link = document.createElement('a');
    link.href = data.url;
    link.textContent = 'New support request' + (data.customer ? ' from ' + data.customer : '');
    item.appendChild(link);
    var dismiss = document.createElement('button');
    dismiss.type = 'button';
    dismiss.className = 'dismiss';
    dismiss.textContent = 'Dismiss';
    dismiss.setAttribute('aria-label', 'Dismiss: ' + link.textContent);
    dismiss.addEventListener('click', function () {
      item.remove();
      if (!list.children.length) {
        toggleEmpty(true);
      }
    });
    item.appendChild(dismiss);
    list.insertBefore(item, list.firstChild);
    toggleEmpty(false);
  }

  function toggleEmpty(empty) {
    var note = document.getElementById('notifications-empty');
    if (note) {
      note.hidden = !empty;
    }
  }

  // ---- the event stream ----

  function sectionsFor(data) {
    var out = [];
    document.querySelectorAll('[data-fragment]').forEach(function (section) {
      var only = section.getAttribute('data-request-id');
      if (!only || !data.request_id || only === data.request_id) {
        out.push(section);
      }
    });
    return out;
  }

  var since = body.getAttribute('data-since');
  var source = new EventSource(eventsURL + (since ? '?after=' + encodeURIComponent(since) : ''));
  source.addEventListener('open', function () {
    say('Live updates are on.');
  });
  source.addEventListener('error', function () {
    say('Live updates are interrupted; reconnecting…');
  });
  source.addEventListener('change', function (e) {
    var data = {};
    try {
      data = JSON.parse(e.data);
    } catch (err) {
      data = {};
    }
    schedule(sectionsFor(data), data.position || '');
  });
  source.addEventListener('notification', function (e) {
    try {
      notify(JSON.parse(e.data));
    } catch (err) {
      // a malformed notification is ignored
    }
  });
  window.addEventListener('pagehide', function () {
    source.close();
  });
})();
