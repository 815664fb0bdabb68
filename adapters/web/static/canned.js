// Canned responses (issue 16): beside the message box, a form picks one of the company's canned
// responses, filled in for the request by the server, and puts its text in the box (without
// this script it reloads the page with the text in the box). With it, the text goes in at the
// caret without leaving the page, and Ctrl+/ (⌘/ on a Mac) in the message box opens a picker:
// type to filter by title, Up and Down to move, Enter to insert, Escape to go back to the box.
// Nothing is ever sent by itself: the technician reviews the text and sends it.
(function () {
  'use strict';

  function box() {
    return document.getElementById('message-body');
  }

  function options() {
    var select = document.getElementById('canned-select');
    if (!select) {
      return [];
    }
    return Array.prototype.map.call(select.options, function (o) {
      return { id: o.value, title: o.textContent, text: o.getAttribute('data-text') || '' };
    });
  }

  function insert(text) {
    var b = box();
    if (!b) {
      return;
    }
    b.focus();
    var start = b.selectionStart, end = b.selectionEnd;
    if (typeof start !== 'number') {
      start = end = b.value.length;
    }
    b.setRangeText(text, start, end, 'end');
    b.dispatchEvent(new Event('input', { bubbles: true }));
  }

  // ---- the picker ----

  var picker = null, filter = null, list = null, shown = [], active = 0, enterDown = false;

  function build() {
    picker = document.createElement('div');
    picker.id = 'canned-picker';
    picker.className = 'canned-picker';
    picker.setAttribute('role', 'dialog');
    picker.setAttribute('aria-label', 'Canned responses');
    var label = document.createElement('label');
    label.setAttribute('for', 'canned-filter');
    label.textContent = 'Canned response (type to filter, Enter inserts, Escape goes back)';
    filter = document.createElement('input');
    filter.id = 'canned-filter';
    filter.type = 'text';
    filter.autocomplete = 'off';
    filter.setAttribute('role', 'combobox');
    filter.setAttribute('aria-expanded', 'true');
    filter.setAttribute('aria-controls', 'canned-options');
    filter.setAttribute('aria-autocomplete', 'list');
    list = document.createElement('ul');
    list.id = 'canned-options';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'Canned responses');
    picker.appendChild(label);
    picker.appendChild(filter);
    picker.appendChild(list);
    filter.addEventListener('input', render);
    filter.addEventListener('keydown', onKey);
    filter.addEventListener('keypress', function (e) {
      if (e.key === 'Enter') {
        e.preventDefault();
      }
    });
    filter.addEventListener('keyup', function (e) {
      if (e.key === 'Enter' && enterDown) {
        enterDown = false;
        choose(active);
      }
    });
    list.addEventListener('mousedown', function (e) {
      e.preventDefault(); // keep the focus in the filter
    });
    list.addEventListener('click', function (e) {
      var li = e.target.closest('li[role=option]');
      if (li) {
        choose(parseInt(li.getAttribute('data-index'), 10));
      }
    });
  }

  function render() {
    var q = filter.value.trim().toLowerCase();
    shown = options().filter(function (o) {
      return !q || o.title.toLowerCase().indexOf(q) >= 0;
    });
    active = Math.min(active, Math.max(shown.length - 1, 0));
    list.replaceChildren();
    if (!shown.length) {
      var none = document.createElement('li');
      none.className = 'canned-none';
      none.textContent = 'No canned response has that in its title.';
      list.appendChild(none);
      filter.removeAttribute('aria-activedescendant');
      return;
    }
    shown.forEach(function (o, i) {
      var li = document.createElement('li');
      li.id = 'canned-option-' + i;
      li.setAttribute('role', 'option');
      li.setAttribute('data-index', String(i));
      li.setAttribute('aria-selected', i === active ? 'true' : 'false');
      var title = document.createElement('strong');
      title.textContent = o.title;
      var preview = document.createElement('span');
      preview.className = 'canned-preview';
      preview.textContent = o.text.length > 120 ? o.text.slice(0, 119) + '…' : o.text;
      li.appendChild(title);
      li.appendChild(document.createTextNode(' '));
      li.appendChild(preview);
      list.appendChild(li);
    });
    filter.setAttribute('aria-activedescendant', 'canned-option-' + active);
    var current = document.getElementById('canned-option-' + active);
    if (current && current.scrollIntoView) {
      current.scrollIntoView({ block: 'nearest' });
    }
  }

  function open() {
    var b = box();
    if (!b || !options().length) {
      return;
    }
    if (!picker) {
      build();
    }
    // After the message's form, not in it: an Enter in the filter must not submit the form.
    var form = b.closest('form') || b;
    form.insertAdjacentElement('afterend', picker);
    picker.hidden = false;
    filter.value = '';
    active = 0;
    render();
    filter.focus();
  }

  function close(refocus) {
    if (picker && !picker.hidden) {
      picker.hidden = true;
      if (refocus && box()) {
        box().focus();
      }
    }
  }

  function choose(i) {
    var o = shown[i];
    close(false);
    if (o) {
      insert(o.text);
    }
  }

  function onKey(e) {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (shown.length) {
        active = (active + (e.key === 'ArrowDown' ? 1 : shown.length - 1)) % shown.length;
        render();
      }
    } else if (e.key === 'Enter') {
      // Chosen when the key comes up: the box then gets the focus after the whole key press,
      // so the Enter cannot also reach it (as a line break, or as "send").
      e.preventDefault();
      enterDown = !e.isComposing;
    } else if (e.key === 'Escape') {
      e.preventDefault();
      close(true);
    } else if (e.key === 'Tab') {
      close(false);
    }
  }

  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && (e.ctrlKey || e.metaKey) && !e.altKey && e.target && e.target.id === 'message-body') {
      e.preventDefault();
      open();
    }
  });

  // The form inserts without leaving the page.
  document.addEventListener('submit', function (e) {
    if (!e.target || e.target.id !== 'canned-form') {
      return;
    }
    var select = document.getElementById('canned-select');
    var chosen = select && select.options[select.selectedIndex];
    if (!chosen || !box()) {
      return; // no box: the page's own answer
    }
    e.preventDefault();
    e.stopPropagation();
    insert(chosen.getAttribute('data-text') || '');
  }, true);

  document.addEventListener('focusout', function (e) {
    if (picker && !picker.hidden && e.target === filter && !picker.contains(e.relatedTarget)) {
      close(false);
    }
  });

  // The form's button says the shortcut to those who look for it.
  function describe() {
    var b = box();
    if (b && document.getElementById('canned-select')) {
      b.setAttribute('aria-keyshortcuts', 'Control+/');
    }
  }
  describe();
  new MutationObserver(describe).observe(document.body, { childList: true, subtree: true });
})();
