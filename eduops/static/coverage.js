// Trend charts of the coverage pages, drawn with uPlot (served by the hub, like everything else).
// No inline scripts: the page passes the data's URL and its texts in data- attributes.
(function () {
  "use strict";
  var COLORS = ["#0f3d66", "#0b6bcb", "#15803d", "#b45309", "#7c3aed", "#be123c", "#0e7490", "#a16207",
                "#4d7c0f", "#9333ea", "#c2410c", "#1d4ed8"];

  function seconds(day) {
    return Date.parse(day + "T12:00:00Z") / 1000; // noon UTC keeps the date the same in any time zone
  }

  function percentages(series, measure, basis) {
    var whole = series.counts[measure.indexOf("class_") === 0 ? "classes" : "schools"];
    return series.counts[measure + "_" + basis].map(function (part, i) {
      return part === null || !whole[i] ? null : Math.round(1000 * part / whole[i]) / 10;
    });
  }

  function chart(box, data, measure, basis, texts) {
    var names = data.series.map(function (s) {
      if (s.level === "county") return texts.county;
      return texts.lang.indexOf("zh") === 0 ? s.name : s.name_en;
    });
    var options = {
      title: texts.labels.measures[measure] + " · " + texts.labels.bases[basis],
      width: Math.max(box.clientWidth - 16, 260), height: 260,
      scales: { y: { range: [0, 100] } },
      axes: [{}, { values: function (u, ticks) { return ticks.map(function (t) { return t + "%"; }); } }],
      series: [{}].concat(data.series.map(function (s, i) {
        return { label: names[i], stroke: COLORS[i % COLORS.length], width: i === 0 && data.series.length > 1 ? 3 : 1.5,
                 spanGaps: true, points: { show: data.days.length < 60 },
                 value: function (u, v) { return v === null ? "–" : v + "%"; } };
      }))
    };
    var columns = [data.days.map(seconds)].concat(data.series.map(function (s) {
      return percentages(s, measure, basis);
    }));
    return new uPlot(options, columns, box);
  }

  function trend(el) {
    var texts = { labels: JSON.parse(el.dataset.labels), lang: el.dataset.lang, county: el.dataset.county };
    var measures = JSON.parse(el.dataset.measures);
    var holder = el.querySelector(".charts");
    var buttons = el.querySelectorAll("[data-basis]");
    var basis = "inventory";
    var data = null;

    function draw() {
      holder.textContent = "";
      if (!data.days.length) {
        holder.textContent = texts.labels.empty;
        return;
      }
      // Lay out every box before drawing, so each chart takes its own column's width.
      var boxes = measures.map(function (measure) {
        var box = document.createElement("div");
        box.className = "chart";
        box.dataset.measure = measure;
        holder.appendChild(box);
        return box;
      });
      boxes.forEach(function (box) { chart(box, data, box.dataset.measure, basis, texts); });
    }

    buttons.forEach(function (button) {
      button.addEventListener("click", function () {
        basis = button.dataset.basis;
        buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
        if (data) draw();
      });
    });
    var resizing = null;
    window.addEventListener("resize", function () {
      clearTimeout(resizing);
      resizing = setTimeout(function () { if (data) draw(); }, 200);
    });
    fetch(el.dataset.trendUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.status + " " + answer.statusText);
        return answer.json();
      })
      .then(function (body) { data = body; draw(); el.dataset.ready = "true"; })
      .catch(function (error) { holder.textContent = texts.labels.error + " (" + error.message + ")"; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-trend-url]").forEach(trend);
  });
})();
