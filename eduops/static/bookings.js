// The booking form: pick receivers by area, township, school and class, and see whether the booking fits
// while typing, by asking the hub's own check (/api/v1/sessions/check: the same rules, nothing written).
// No inline scripts (the hub's CSP): the page passes URLs and texts in data- attributes.
(function () {
  "use strict";

  function picker(form, texts) {
    var url = form.dataset.classesUrl;
    var chosen = form.querySelector(".chosen");
    var none = chosen.querySelector(".none");
    var picked = {};   // school code -> {name, classes: {code: {name, grade}}}
    var loads = {};    // school code -> Promise of its classes

    function classes(code) {
      if (!loads[code]) {
        loads[code] = fetch(url.replace("SCHOOL", encodeURIComponent(code)),
                            { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (answer) {
            if (!answer.ok) throw new Error(answer.status + " " + answer.statusText);
            return answer.json();
          })
          .then(function (body) { return body.classes; });
      }
      return loads[code];
    }

    function count(code) {
      return picked[code] ? Object.keys(picked[code].classes).length : 0;
    }

    function grade() {
      return form.elements.grade.value;
    }

    // The school's row in the tree shows what is picked: ticked (all), half (some) or empty.
    function mark(row) {
      var code = row.dataset.school, box = row.querySelector("input.whole");
      var n = count(code), all = row.dataset.classes ? Number(row.dataset.classes) : null;
      box.checked = n > 0 && (all === null || n >= all || grade() !== "");
      box.indeterminate = n > 0 && !box.checked;
      row.querySelectorAll(".list input").forEach(function (b) {
        b.checked = !!(picked[code] && picked[code].classes[b.value]);
      });
    }

    function rowOf(code) {
      return form.querySelector('li.school[data-school="' + code + '"]');
    }

    function render() {
      chosen.querySelectorAll(".chip").forEach(function (chip) { chip.remove(); });
      Object.keys(picked).forEach(function (code) {
        var school = picked[code], codes = Object.keys(school.classes);
        if (!codes.length) { delete picked[code]; return; }
        var chip = document.createElement("div");
        chip.className = "chip";
        chip.dataset.school = code;
        chip.appendChild(document.createTextNode(school.name + " · " + texts.classes.replace("%(n)d", codes.length)));
        codes.forEach(function (c) {
          var input = document.createElement("input");
          input.type = "hidden"; input.name = "class"; input.value = c;
          chip.appendChild(input);
        });
        var remove = document.createElement("button");
        remove.type = "button"; remove.textContent = "×"; remove.title = texts.remove;
        remove.setAttribute("aria-label", texts.remove + " " + school.name);
        remove.addEventListener("click", function () { pick(code, school.name, []); });
        chip.appendChild(remove);
        chosen.insertBefore(chip, none);
      });
      none.hidden = Object.keys(picked).length > 0;
      form.querySelectorAll("li.school").forEach(mark);
      // An area's or township's box is ticked when all its schools are, half when some are.
      form.querySelectorAll(".tree details.area, .tree details.township").forEach(function (d) {
        var group = d.querySelector(":scope > summary input.group");
        var boxes = Array.prototype.slice.call(d.querySelectorAll("li.school input.whole"));
        var all = boxes.length > 0 && boxes.every(function (b) { return b.checked; });
        group.checked = all;
        group.indeterminate = !all && boxes.some(function (b) { return b.checked || b.indeterminate; });
      });
      form.dispatchEvent(new Event("receivers"));
    }

    function pick(code, name, list) {
      picked[code] = { name: name, classes: {} };
      list.forEach(function (c) { picked[code].classes[c.code] = { name: c.name, grade: c.grade }; });
      render();
    }

    // Whole schools: every class, or only those of the chosen grade.
    function whole(row, on) {
      var code = row.dataset.school, name = row.dataset.name;
      if (!on) { pick(code, name, []); return Promise.resolve(); }
      return classes(code).then(function (list) {
        row.dataset.classes = list.length;
        var g = grade();
        pick(code, name, g === "" ? list : list.filter(function (c) { return String(c.grade) === g; }));
      });
    }

    function open(row) {
      var holder = row.querySelector(".list");
      if (holder.dataset.loaded) return;
      holder.textContent = texts.loading;
      classes(row.dataset.school).then(function (list) {
        row.dataset.classes = list.length;
        holder.textContent = "";
        holder.dataset.loaded = "true";
        list.forEach(function (c) {
          var label = document.createElement("label"), box = document.createElement("input");
          box.type = "checkbox"; box.value = c.code;
          box.addEventListener("change", function () {
            var code = row.dataset.school;
            if (!picked[code]) picked[code] = { name: row.dataset.name, classes: {} };
            if (box.checked) picked[code].classes[c.code] = { name: c.name, grade: c.grade };
            else delete picked[code].classes[c.code];
            render();
          });
          label.appendChild(box);
          label.appendChild(document.createTextNode(c.name));
          holder.appendChild(label);
        });
        mark(row);
      });
    }

    // The classes the server sent back (a refused form, or an edit) are picked already.
    chosen.querySelectorAll(".chip").forEach(function (chip) {
      var row = rowOf(chip.dataset.school);
      picked[chip.dataset.school] = { name: row ? row.dataset.name : chip.dataset.school, classes: {} };
      chip.querySelectorAll("input").forEach(function (i) {
        picked[chip.dataset.school].classes[i.value] = { name: i.dataset.name, grade: i.dataset.grade };
      });
    });
    render();

    form.querySelectorAll("li.school").forEach(function (row) {
      row.querySelector("input.whole").addEventListener("change", function (e) { whole(row, e.target.checked); });
      row.querySelector("details").addEventListener("toggle", function (e) { if (e.target.open) open(row); });
    });
    form.querySelectorAll("input.group").forEach(function (box) {
      box.addEventListener("click", function (e) { e.stopPropagation(); });  // ticking is not opening
      box.addEventListener("change", function () {
        var rows = box.closest("details").querySelectorAll("li.school");
        Promise.all(Array.prototype.map.call(rows, function (row) { return whole(row, box.checked); }));
      });
    });
    var filter = form.querySelector("input.filter");
    filter.addEventListener("input", function () {
      var words = filter.value.trim();
      form.querySelectorAll("li.school").forEach(function (row) {
        row.hidden = words !== "" && row.dataset.name.indexOf(words) < 0;
      });
      form.querySelectorAll(".tree details.area, .tree details.township").forEach(function (d) {
        d.open = words !== "" && d.querySelector("li.school:not([hidden])") !== null;
      });
    });
  }

  // Times: the form holds a county-local date and time; the API takes and gives ISO 8601 with a zone.
  function isoOf(day, time, offset) {
    return day + "T" + time + ":00" + offset;
  }

  function local(utc, offset) {
    var sign = offset[0] === "-" ? -1 : 1;
    var minutes = sign * (Number(offset.slice(1, 3)) * 60 + Number(offset.slice(4, 6)));
    var d = new Date(Date.parse(utc) + minutes * 60000);
    var iso = d.toISOString();
    return { day: iso.slice(0, 10), time: iso.slice(11, 16) };
  }

  function checker(form, texts) {
    var box = form.querySelector(".feedback");
    var offset = form.dataset.offset;
    var token = form.elements.csrf_token.value;
    var timer = null, asked = 0;

    function request() {
      var f = form.elements;
      if (!f.day.value || !f.start.value) return null;
      var starts = isoOf(f.day.value, f.start.value, offset);
      var end = new Date(Date.parse(starts) + Number(f.minutes.value) * 60000);
      var body = {
        kind: f.kind.value, title: f.title.value.trim() || "-", subject: f.subject.value.trim(),
        grade: f.grade.value === "" ? null : Number(f.grade.value), source_room: f.source_room.value,
        starts_at: starts, ends_at: end.toISOString(), recorded: f.recorded.checked, notes: f.notes.value,
        receiving_classes: Array.prototype.map.call(form.querySelectorAll('.chosen input[name="class"]'),
                                                    function (i) { return i.value; }),
        receiving_rooms: []
      };
      // No receivers yet: ask about the room and the teacher alone (a recording needs nothing else).
      if (!body.receiving_classes.length && body.kind !== "recording") {
        body.kind = "recording";
        body.recorded = true;
        body.probe = true;
      }
      var days = Array.prototype.filter.call(form.querySelectorAll('input[name="weekday"]'), function (b) {
        return b.checked;
      }).map(function (b) { return b.value; });
      if (days.length) {
        body.repeat = { weekdays: days, until: f.until.value };
        body.book = f.book_free.checked ? "free" : "all";
      }
      return body;
    }

    function el(tag, text, cls) {
      var node = document.createElement(tag);
      if (text) node.textContent = text;
      if (cls) node.className = cls;
      return node;
    }

    function hours(a, b) {
      var s = local(a, offset), e = local(b, offset);
      return s.day + " " + s.time + "–" + e.time;
    }

    function show(outcome, probe) {
      box.textContent = "";
      var problems = outcome.problems || [];
      if (outcome.ok) {
        box.dataset.state = "ok";
        box.appendChild(el("p", "✓ " + (probe ? texts.ok_time : texts.ok)));
        if (outcome.needs_approval) box.appendChild(el("p", texts.approval, "note"));
      } else {
        box.dataset.state = "problem";
        if (!problems.length && outcome.message) box.appendChild(el("p", outcome.message));
        var list = el("ul", "", "problems");
        problems.forEach(function (p) { list.appendChild(el("li", p.message || p.kind)); });
        if (problems.length) box.appendChild(list);
      }
      var suggestions = outcome.suggestions || [];
      if (suggestions.length) {
        var line = el("p", texts.free_at + " ", "suggest");
        suggestions.forEach(function (s) {
          var b = el("button", hours(s.starts_at, s.ends_at), "slot");
          b.type = "button";
          b.dataset.starts = s.starts_at;
          line.appendChild(b);
        });
        box.appendChild(line);
      }
      var preview = outcome.preview || [];
      if (preview.length > 1) {
        var table = el("table", "", "preview");
        preview.forEach(function (o) {
          var row = table.insertRow();
          row.className = o.status;
          row.insertCell().textContent = hours(o.starts_at, o.ends_at);
          row.insertCell().textContent = texts[o.status] || o.status;
          row.insertCell().textContent = (o.problems || []).map(function (p) { return p.message || p; }).join("; ");
        });
        box.appendChild(table);
      }
    }

    function check() {
      var body = request();
      if (!body) return;
      var mine = ++asked;
      box.dataset.state = "checking";
      box.setAttribute("aria-busy", "true");
      fetch(form.dataset.checkUrl, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRF-Token": token },
        body: JSON.stringify(body, function (key, value) { return key === "probe" ? undefined : value; })
      }).then(function (answer) {
        return answer.json().then(function (json) {
          if (answer.status >= 500 || answer.status === 401 || answer.status === 403) throw new Error(json.message);
          return json;
        });
      }).then(function (outcome) {
        if (mine === asked) { show(outcome, body.probe); box.removeAttribute("aria-busy"); }
      }).catch(function (error) {
        if (mine !== asked) return;
        box.dataset.state = "problem";
        box.textContent = texts.failed.replace("%(why)s", error.message);
        box.removeAttribute("aria-busy");
      });
    }

    function soon() {
      clearTimeout(timer);
      timer = setTimeout(check, 300);
    }

    form.addEventListener("input", function (e) { if (!e.target.matches(".filter")) soon(); });
    form.addEventListener("change", function (e) { if (!e.target.matches(".tree input")) soon(); });
    form.addEventListener("receivers", soon);
    return check;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("booking");
    if (!form) return;
    var texts = JSON.parse(form.dataset.texts);
    // A change of an existing session is checked when it is saved: a dry run would collide with itself.
    var check = form.dataset.session ? null : checker(form, texts);
    // Taking a suggested slot moves the session there (and checks again).
    form.querySelector(".feedback").addEventListener("click", function (e) {
      var slot = e.target.closest("button.slot");
      if (!slot) return;
      var t = local(slot.dataset.starts, form.dataset.offset);
      form.elements.day.value = t.day;
      form.elements.start.value = t.time;
      if (check) check();
    });
    picker(form, texts);  // its first render checks the defaults at once
  });
})();
