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

  // ---- holding swaps while someone acts ----
  // A swap that replaces a button between the press and the release of the mouse button (or of
  // Space) swallows the click, and one that replaces a form being submitted may drop it. So
  // while a pointer or an activation key is down, fresh HTML waits; once a form is submitted the
  // page is leaving, and nothing is swapped any more.

  var held = false;
  var leaving = false;
  var waiting = []; // [section, html], the newest per section
  var holdTimer = null;

  function hold() {
    held = true;
    clearTimeout(holdTimer);
    holdTimer = setTimeout(release, 10000); // a release that never came
  }

  function releaseSoon() {
    setTimeout(release, 0); // after the click that the release dispatches
  }

  function release() {
    clearTimeout(holdTimer);
    held = false;
    if (leaving) {
      return;
    }
    var todo = waiting;
    waiting = [];
    todo.forEach(function (w) {
      swap(w[0], w[1]);
    });
  }

  function activationKey(e) {
    return e.key === 'Enter' || e.key === ' ' || e.key === 'Spacebar';
  }

  document.addEventListener('pointerdown', hold, true);
  document.addEventListener('pointerup', releaseSoon, true);
  document.addEventListener('pointercancel', releaseSoon, true);
  document.addEventListener('keydown', function (e) {
    if (activationKey(e)) {
      hold();
    }
  }, true);
  document.addEventListener('keyup', function (e) {
    if (activationKey(e)) {
      releaseSoon();
    }
  }, true);
  document.addEventListener('submit', function (e) {
    if (!e.defaultPrevented) {
      leaving = true;
      waiting = [];
      setTimeout(function () {
        leaving = false; // still here: the submission did not leave the page
      }, 15000);
    }
  });

  // ---- swapping ----

  // meaningful drops the whitespace between elements, which differs between a page and its
  // fragment.
  function meaningful(nodes) {
    return Array.prototype.filter.call(nodes, function (n) {
      return n.nodeType !== Node.TEXT_NODE || n.textContent.trim() !== '';
    });
  }

  function sameContent(a, b) {
    var x = meaningful(a.childNodes);
    var y = meaningful(b.childNodes);
    if (x.length !== y.length) {
      return false;
    }
    for (var i = 0; i < x.length; i++) {
      if (!x[i].isEqualNode(y[i])) {
        return false;
      }
    }
    return true;
  }

  // focusKey is a selector that finds the focused element again in fresh HTML.
  function focusKey(el) {
    if (!el || el === document.body) {
      return null;
    }
    if (el.id) {
      return '#' + CSS.escape(el.id);
    }
    var action = el.getAttribute('data-action');
    if (action) {
      return '[data-action="' + CSS.escape(action) + '"]';
    }
    var href = el.getAttribute('href');
    if (el.tagName === 'A' && href) {
      return 'a[href="' + CSS.escape(href) + '"]';
    }
    var form = el.form;
    if (form && el.name && form.getAttribute('action')) {
      return 'form[action="' + CSS.escape(form.getAttribute('action')) + '"] [name="' + CSS.escape(el.name) + '"]';
    }
    return null;
  }

  // replacing runs fn, which replaces part of root, and gives the focus back to the element that
  // stands where the focused one stood.
  function replacing(root, fn) {
    var active = document.activeElement;
    var key = active && root.contains(active) ? focusKey(active) : null;
    fn();
    if (key && !root.contains(active)) {
      var again = root.querySelector(key);
      if (again) {
        again.focus({ preventScroll: true });
      }
    }
  }

  // swap puts fresh HTML in place, only where it differs from what is shown: a button that did
  // not change is never replaced. Parts marked data-live are compared one by one, and a part
  // whose data-live-key did not change is kept as it is, so that what someone is typing stays.
  function swap(section, html) {
    if (held || leaving) {
      waiting = waiting.filter(function (w) {
        return w[0] !== section;
      });
      if (!leaving) {
        waiting.push([section, html]);
      }
      return;
    }
    var tpl = document.createElement('template');
    tpl.innerHTML = html;
    if (sameContent(section, tpl.content)) {
      return;
    }
    var fresh = tpl.content.querySelectorAll('[data-live][id]');
    var current = section.querySelectorAll('[data-live][id]');
    var sameShape = fresh.length > 0 && fresh.length === current.length;
    fresh.forEach(function (el) {
      if (!byId(section, el.id)) {
        sameShape = false;
      }
    });
    if (!sameShape) {
      replacing(section, function () {
        section.replaceChildren(document.importNode(tpl.content, true));
      });
      return;
    }
    fresh.forEach(function (el) {
      var old = byId(section, el.id);
      var key = el.getAttribute('data-live-key');
      if (key !== null && old.getAttribute('data-live-key') === key) {
        return;
      }
      if (old.isEqualNode(el)) {
        return;
      }
      replacing(section, function () {
        old.replaceWith(document.importNode(el, true));
      });
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
    link.title = link.textContent;
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
