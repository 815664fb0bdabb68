// Helpstream's only script: live updates and the chat. Every action works without it (plain
// forms that POST and redirect); with it, the panels follow the event stream of the page
// (server-sent events, one connection per browser shared by its tabs) and re-fetch their
// server-rendered, escaped HTML when something changed, and the chat's composer sends without
// leaving the page.
(function () {
  'use strict';

  var body = document.body;
  var eventsURL = body.getAttribute('data-events');
  if (!eventsURL || !window.fetch) {
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
        // The read models had not reached the change yet (a busy server): show what they
        // have, and ask again a moment later, a few times, until they have it.
        var tries = parseInt(section.getAttribute('data-behind-tries') || '0', 10);
        if (res.headers.get('X-Projection-Behind') === 'true' && position && tries < 10) {
          section.setAttribute('data-behind-tries', String(tries + 1));
          setTimeout(function () {
            schedule([section], position);
          }, 500);
        } else {
          section.removeAttribute('data-behind-tries');
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
    var before = chatBefore(section);
    swapNow(section, html);
    chatAfter(section, before);
  }

  // swapNow replaces the section's parts; swap has checked that nothing holds it.
  function swapNow(section, html) {
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

  // One connection per browser (issue #15): a browser opens about six HTTP/1.1 connections per
  // host, and each tab's own stream held one for as long as the tab was open, so the seventh
  // tab never loaded. The tabs that follow the same stream (its URL: the technician's console
  // stream, or one request's stream in the portal) elect a leader with a Web Lock held for the
  // leader's life; the leader alone opens the EventSource and passes each message on over a
  // BroadcastChannel. When it closes, its lock is released, the next tab in line takes it and
  // opens the stream after the last message the tabs saw (?after=, which the server replays
  // from its ring), so nothing is lost in between. Every tab then re-fetches its own panels
  // through its own session, where the server applies R2 again: a tab sees only what it may.
  // Where BroadcastChannel or Web Locks are missing, each tab has its own stream as before.

  var lastId = body.getAttribute('data-since') || '';
  var streamState = 'starting';

  function onMessage(kind, data, id) {
    if (id) {
      lastId = id;
    }
    if (kind === 'change') {
      schedule(sectionsFor(data), data.position || '');
    } else if (kind === 'notification') {
      notify(data);
    } else if (kind === 'presence') {
      // Who has which request open (presence.js shows it); no ID: not a place in the log.
      document.dispatchEvent(new CustomEvent('helpstream:presence', { detail: data }));
    }
  }

  function onState(state) {
    streamState = state;
    if (state === 'open') {
      say('Live updates are on.');
    } else if (state === 'error') {
      say('Live updates are interrupted; reconnecting…');
    }
  }

  // openStream opens the page's EventSource after the last message seen, handing every message
  // to message(kind, data, id) and every change of its state to state('open' | 'error').
  function openStream(message, state) {
    var source = new EventSource(eventsURL + (lastId ? '?after=' + encodeURIComponent(lastId) : ''));
    source.addEventListener('open', function () {
      state('open');
    });
    source.addEventListener('error', function () {
      state('error');
    });
    ['change', 'notification', 'presence'].forEach(function (kind) {
      source.addEventListener(kind, function (e) {
        var data;
        try {
          data = JSON.parse(e.data);
        } catch (err) {
          return; // a malformed message is ignored
        }
        if (data && typeof data === 'object') {
          message(kind, data, e.lastEventId || '');
        }
      });
    });
    return source;
  }

  // refreshAll re-fetches every panel: a tab that joins a stream already open may have missed
  // what happened between its page being rendered and its joining.
  function refreshAll(position) {
    schedule(Array.prototype.slice.call(document.querySelectorAll('[data-fragment]')), position);
  }

  function startLive() {
    if (!window.EventSource) {
      return;
    }
    var shared = window.BroadcastChannel && navigator.locks && typeof navigator.locks.request === 'function';
    if (!shared) {
      var own = openStream(onMessage, onState);
      window.addEventListener('pagehide', function () {
        own.close();
      });
      return;
    }
    var name = 'helpstream-live ' + eventsURL;
    var me = Math.random().toString(36).slice(2) + Date.now().toString(36);
    var channel = new BroadcastChannel(name);
    var leader = false;
    var source = null;
    var stepDown = null;
    body.setAttribute('data-live-role', 'follower');
    channel.addEventListener('message', function (e) {
      var m = e.data;
      if (!m || typeof m !== 'object') {
        return;
      }
      if (m.t === 'msg' && !leader) {
        onMessage(m.kind, m.data || {}, m.id);
      } else if (m.t === 'state' && !leader) {
        onState(m.state);
      } else if (m.t === 'hello' && leader) {
        channel.postMessage({ t: 'welcome', to: m.from, id: lastId, state: streamState });
      } else if (m.t === 'welcome' && m.to === me && !leader) {
        onState(m.state);
        if (m.id && m.id !== lastId) {
          lastId = m.id;
          refreshAll(m.id);
        }
      }
    });
    channel.postMessage({ t: 'hello', from: me });

    // campaign waits in line for the lock; holding it, the tab follows the stream for all.
    var pending = null; // the AbortController of the request waiting in line
    function campaign() {
      pending = window.AbortController ? new AbortController() : null;
      navigator.locks.request(name, pending ? { signal: pending.signal } : {}, function () {
        pending = null;
        leader = true;
        body.setAttribute('data-live-role', 'leader');
        source = openStream(function (kind, data, id) {
          onMessage(kind, data, id);
          channel.postMessage({ t: 'msg', kind: kind, data: data, id: id });
        }, function (state) {
          onState(state);
          channel.postMessage({ t: 'state', state: state });
        });
        // The lock is held until the tab resigns: it goes away, or is frozen.
        return new Promise(function (resolve) {
          stepDown = resolve;
        });
      }).catch(function () {
        // Left the line (frozen), or the page is going away: nothing to follow now.
      });
    }

    function resign() {
      if (source) {
        source.close();
        source = null;
      }
      leader = false;
      body.setAttribute('data-live-role', 'follower');
      if (stepDown) {
        stepDown();
        stepDown = null;
      }
    }

    campaign();
    window.addEventListener('pagehide', function () {
      resign();
      channel.close();
    });
    // A tab the browser freezes (in the background, to save energy) runs no script: as the
    // leader it would leave every tab without updates, so it gives the stream to another and
    // waits in line again when it runs again.
    document.addEventListener('freeze', function () {
      if (leader) {
        resign();
      } else if (pending) {
        pending.abort(); // a frozen tab granted the lock would hold it and follow nothing
        pending = null;
      }
    });
    document.addEventListener('resume', function () {
      if (!leader && !pending) {
        campaign();
      }
      refreshAll(''); // what changed while frozen
    });
    // A page restored from the back/forward cache has let its stream and its place in line
    // go: it starts again from the server.
    window.addEventListener('pageshow', function (e) {
      if (e.persisted) {
        location.reload();
      }
    });
  }

  // ---- the chat ----
  // The chat opens at its newest message and stays there while messages arrive, unless the
  // reader scrolled up to read: then the new ones wait below a "New messages" button. The
  // composer sends with fetch (Enter sends, Shift+Enter starts a new line), and the chat shows
  // the message through the same refresh as the live updates.

  var composerForms = ['send-message', 'add-note'];
  var theirSide = body.classList.contains('portal') ? 'technician' : 'customer';
  var baseTitle = document.title;
  var unseen = 0;

  function chatOf(root) {
    return root.querySelector ? root.querySelector('ol#chat') : null;
  }

  function atBottom(chat) {
    return chat.scrollHeight - chat.scrollTop - chat.clientHeight < 24;
  }

  function toBottom(chat) {
    chat.scrollTop = chat.scrollHeight;
  }

  function theirs(chat) {
    return chat.querySelectorAll('li.entry.from-' + theirSide + '[data-kind=message], li.entry.from-' + theirSide + '[data-kind=file]');
  }

  function chatBefore(section) {
    var chat = chatOf(section);
    if (!chat) {
      return null;
    }
    return { chat: chat, bottom: atBottom(chat), top: chat.scrollTop, entries: chat.querySelectorAll('li.entry').length, theirs: theirs(chat).length };
  }

  function chatAfter(section, before) {
    decorateComposer();
    var chat = chatOf(section);
    if (!chat) {
      return;
    }
    ensureJumpButton(chat);
    if (!before) {
      toBottom(chat);
      return;
    }
    var entries = chat.querySelectorAll('li.entry').length;
    if (before.bottom) {
      toBottom(chat);
    } else if (chat.scrollTop !== before.top) {
      chat.scrollTop = before.top; // a replaced list starts at its top: the reader stays put
    }
    if (entries > before.entries && !atBottom(chat)) {
      showJump(chat, true);
    }
    var fresh = theirs(chat);
    if (fresh.length > before.theirs) {
      arrived(Array.prototype.slice.call(fresh, before.theirs));
    }
  }

  function ensureJumpButton(chat) {
    var wrap = chat.parentNode;
    if (!wrap || wrap.querySelector('#chat-new-messages')) {
      return;
    }
    var button = document.createElement('button');
    button.type = 'button';
    button.id = 'chat-new-messages';
    button.className = 'chat-new-messages';
    button.hidden = true;
    button.textContent = 'New messages ↓';
    button.setAttribute('aria-label', 'New messages: go to the newest message');
    button.addEventListener('click', function () {
      var c = document.getElementById('chat');
      if (c) {
        toBottom(c);
      }
      button.hidden = true;
      var box = document.getElementById('message-body') || document.getElementById('note-body') || c;
      if (box) {
        box.focus({ preventScroll: true });
      }
    });
    wrap.appendChild(button);
  }

  function showJump(chat, show) {
    var button = document.getElementById('chat-new-messages');
    if (button) {
      button.hidden = !show;
    }
  }

  // The reader scrolling back to the newest message has seen the new ones.
  document.addEventListener('scroll', function (e) {
    var chat = e.target;
    if (chat && chat.id === 'chat' && atBottom(chat)) {
      showJump(chat, false);
    }
  }, true);

  // ---- while the tab is hidden: a count in the title, and an alert when asked for ----

  var alertsKey = 'helpstream.chat-alerts';
  var audio = null;

  function alertsOn() {
    try {
      return window.localStorage.getItem(alertsKey) === 'on';
    } catch (err) {
      return false;
    }
  }

  function arrived(items) {
    if (!document.hidden || !items.length) {
      return;
    }
    unseen += items.length;
    document.title = '(' + unseen + ') ' + baseTitle;
    if (!alertsOn()) {
      return;
    }
    var last = items[items.length - 1];
    var who = last.querySelector('.who');
    var text = last.querySelector('.body');
    if (window.Notification && Notification.permission === 'granted') {
      try {
        var n = new Notification('New message in Helpstream', {
          body: ((who ? who.textContent + ' ' : '') + (text ? text.textContent : 'shared a file')).slice(0, 200),
          tag: 'helpstream-chat ' + location.pathname
        });
        n.onclick = function () {
          window.focus();
          n.close();
        };
      } catch (err) {
        // a browser that cannot show it here still counts in the title and beeps
      }
    }
    beep();
  }

  function beep() {
    if (!audio || audio.state === 'closed') {
      return;
    }
    try {
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      gain.gain.value = 0.08;
      osc.frequency.value = 880;
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.15);
    } catch (err) {
      // no sound, then
    }
  }

  document.addEventListener('visibilitychange', function () {
    if (!document.hidden && unseen) {
      unseen = 0;
      document.title = baseTitle;
    }
  });

  // The opt-in sits under the console's notifications; the browser's permission is asked
  // only when the technician ticks it.
  function alertsControl() {
    var area = document.getElementById('notifications');
    if (!area || !body.classList.contains('console')) {
      return;
    }
    var p = document.createElement('p');
    p.className = 'chat-alerts';
    var box = document.createElement('input');
    box.type = 'checkbox';
    box.id = 'chat-alerts';
    box.checked = alertsOn();
    var label = document.createElement('label');
    label.htmlFor = 'chat-alerts';
    label.textContent = 'Alert me with a desktop notification and a sound when a customer writes while this tab is hidden';
    var hint = document.createElement('span');
    hint.id = 'chat-alerts-hint';
    hint.className = 'hint';
    hint.setAttribute('role', 'status');
    p.appendChild(box);
    p.appendChild(label);
    p.appendChild(hint);
    // After the notifications, not in them: their area is a live region, read out on change.
    area.insertAdjacentElement('afterend', p);
    box.addEventListener('change', function () {
      try {
        window.localStorage.setItem(alertsKey, box.checked ? 'on' : 'off');
      } catch (err) {
        // private mode: the choice lasts as long as the page
      }
      if (!box.checked) {
        hint.textContent = '';
        return;
      }
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (Ctx && !audio) {
        audio = new Ctx(); // made on the click, so the browser lets it play later
      }
      if (!window.Notification) {
        hint.textContent = 'This browser shows no desktop notifications; you will hear a sound.';
      } else if (Notification.permission === 'default') {
        Promise.resolve(Notification.requestPermission()).then(function (perm) {
          hint.textContent = perm === 'granted' ? '' : 'Desktop notifications are blocked for this site; you will hear a sound.';
        });
      } else if (Notification.permission === 'denied') {
        hint.textContent = 'Desktop notifications are blocked for this site; you will hear a sound.';
      }
    });
    // The sound needs a click on this page to be allowed: the next click anywhere gives it.
    if (box.checked) {
      document.addEventListener('click', function first() {
        var Ctx = window.AudioContext || window.webkitAudioContext;
        if (Ctx && !audio) {
          audio = new Ctx();
        }
        document.removeEventListener('click', first);
      });
    }
  }

  // ---- sending without leaving the page ----

  function composerForm(el) {
    var form = el && el.closest ? el.closest('form') : null;
    return form && composerForms.indexOf(form.id) >= 0 ? form : null;
  }

  function formError(form, text) {
    var id = form.id + '-error';
    var box = form.querySelector('textarea');
    var p = document.getElementById(id);
    if (!text) {
      if (p) {
        p.remove();
      }
      if (box) {
        box.removeAttribute('aria-invalid');
        box.setAttribute('aria-describedby', form.id + '-keys');
      }
      return;
    }
    if (!p) {
      p = document.createElement('p');
      p.id = id;
      p.className = 'composer-error';
      p.setAttribute('role', 'alert');
      if (box) {
        box.insertAdjacentElement('afterend', p);
      } else {
        form.appendChild(p);
      }
    }
    p.textContent = text;
    if (box) {
      box.setAttribute('aria-invalid', 'true');
      box.setAttribute('aria-describedby', id + ' ' + form.id + '-keys');
    }
  }

  // decorateComposer tells how the keys work, in the forms the script sends.
  function decorateComposer() {
    composerForms.forEach(function (id) {
      var form = document.getElementById(id);
      var box = form && form.querySelector('textarea');
      if (!box || document.getElementById(id + '-keys')) {
        return;
      }
      var hint = document.createElement('p');
      hint.id = id + '-keys';
      hint.className = 'hint composer-keys';
      hint.textContent = 'Enter sends; Shift+Enter starts a new line.';
      box.insertAdjacentElement('afterend', hint);
      if (!box.getAttribute('aria-invalid')) {
        box.setAttribute('aria-describedby', hint.id);
      }
    });
  }

  function send(form) {
    if (form.getAttribute('aria-busy') === 'true') {
      return;
    }
    var box = form.querySelector('textarea');
    if (box && box.value.trim() === '') {
      formError(form, 'Write something first.');
      box.focus();
      return;
    }
    var data = new URLSearchParams(new FormData(form));
    form.setAttribute('aria-busy', 'true');
    var button = form.querySelector('button[type=submit]');
    if (button) {
      button.disabled = true;
    }
    fetch(form.action, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-Requested-With': 'fetch' },
      body: data
    })
      .then(function (res) {
        // A session that ended answers with the login page (a redirect), not JSON.
        if (res.redirected || res.status === 401 || (res.headers.get('Content-Type') || '').indexOf('application/json') !== 0) {
          throw new Error('The message was not sent: your session may have ended. Reload the page (your text is kept here until you do).');
        }
        return res.json().catch(function () {
          return {};
        }).then(function (answer) {
          if (!res.ok) {
            var msg = answer && answer.error && answer.error.message;
            throw new Error(msg || 'The message was not sent (error ' + res.status + '). Try again.');
          }
          return answer;
        });
      })
      .then(function (answer) {
        formError(form, '');
        if (box) {
          box.value = '';
        }
        var chat = document.getElementById('chat');
        if (chat) {
          toBottom(chat); // the writer wants to see what they sent
        }
        var section = form.closest('[data-fragment]');
        if (section) {
          schedule([section], answer.position || '');
        }
      })
      .catch(function (err) {
        formError(form, err && err.message && err.name !== 'TypeError' ? err.message : 'The message was not sent: the server could not be reached. Your text is kept; try again.');
      })
      .then(function () {
        form.removeAttribute('aria-busy');
        if (button) {
          button.disabled = false;
        }
      });
  }

  // Registered in the capture phase, before the listener that marks the page as leaving.
  document.addEventListener('submit', function (e) {
    var form = composerForm(e.target);
    if (form && window.URLSearchParams && window.FormData) {
      e.preventDefault();
      send(form);
    }
  }, true);

  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Enter' || e.shiftKey || e.ctrlKey || e.altKey || e.metaKey || e.isComposing) {
      return;
    }
    var form = composerForm(e.target);
    if (form && e.target.tagName === 'TEXTAREA') {
      e.preventDefault();
      send(form);
    }
  });

  function startChat() {
    var chat = document.getElementById('chat');
    if (chat) {
      ensureJumpButton(chat);
      toBottom(chat);
    }
    decorateComposer();
    alertsControl();
  }

  startChat();
  startLive();
})();
