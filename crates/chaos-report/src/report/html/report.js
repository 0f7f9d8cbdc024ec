// Draws report.html's charts from the JSON in #chart-data with uPlot: every chart is data made
// by the harness (charts.rs beside it); this script only stacks, shades the phases, draws
// reference lines, and formats axes. It exposes what it drew as window.chaosReport for the
// browser test.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("chart-data").textContent);
  var drawn = [];

  function clock(seconds) {
    var s = Math.round(seconds);
    var m = Math.floor(s / 60);
    return m + ":" + String(s % 60).padStart(2, "0");
  }

  function number(value) {
    if (value == null) return "–";
    var abs = Math.abs(value);
    if (abs !== 0 && abs < 0.01) return value.toPrecision(3);
    if (abs >= 100) return value.toFixed(0);
    return value.toFixed(2);
  }

  var QUANTILE_TICKS = [[0, "min"], [0.301, "p50"], [1, "p90"], [2, "p99"], [3, "p99.9"], [4, "p99.99"], [4.5, "max"]];

  function quantileLabel(x) {
    for (var i = 0; i < QUANTILE_TICKS.length; i++) {
      if (Math.abs(QUANTILE_TICKS[i][0] - x) < 0.01) return QUANTILE_TICKS[i][1];
    }
    return "p" + (100 * (1 - Math.pow(10, -x))).toPrecision(4);
  }

  // Phase windows behind the series: faulted phases red, the others alternating grey.
  function phasePlugin(phases) {
    return {
      hooks: {
        drawClear: [function (u) {
          var ctx = u.ctx, dpr = devicePixelRatio || 1;
          ctx.save();
          phases.forEach(function (phase, i) {
            var x0 = u.valToPos(phase.start_s, "x", true);
            var x1 = u.valToPos(phase.end_s, "x", true);
            var left = Math.max(x0, u.bbox.left), right = Math.min(x1, u.bbox.left + u.bbox.width);
            if (right <= left) return;
            ctx.fillStyle = phase.faulted ? "rgba(220, 50, 47, 0.08)" : (i % 2 ? "rgba(0, 0, 0, 0.03)" : "rgba(0, 0, 0, 0)");
            ctx.fillRect(left, u.bbox.top, right - left, u.bbox.height);
            ctx.fillStyle = "rgba(60, 60, 60, 0.6)";
            ctx.font = 11 * dpr + "px system-ui, sans-serif";
            ctx.fillText(phase.name, left + 4 * dpr, u.bbox.top + 13 * dpr);
          });
          ctx.restore();
        }]
      }
    };
  }

  // Horizontal reference lines, drawn faint so they never pass for data.
  function thresholdPlugin(thresholds) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, dpr = devicePixelRatio || 1;
          ctx.save();
          thresholds.forEach(function (t) {
            var y = u.valToPos(t.value, "y", true);
            if (y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
            ctx.strokeStyle = "rgba(200, 0, 0, 0.5)";
            ctx.setLineDash([6 * dpr, 4 * dpr]);
            ctx.lineWidth = dpr;
            ctx.beginPath();
            ctx.moveTo(u.bbox.left, y);
            ctx.lineTo(u.bbox.left + u.bbox.width, y);
            ctx.stroke();
            ctx.fillStyle = "rgba(200, 0, 0, 0.6)";
            ctx.font = 11 * dpr + "px system-ui, sans-serif";
            ctx.fillText(t.label, u.bbox.left + u.bbox.width - ctx.measureText(t.label).width - 4 * dpr, y - 4 * dpr);
          });
          ctx.restore();
        }]
      }
    };
  }

  // Stacked series are drawn top band first, each filled down to zero, so every band shows
  // above the ones below it; the legend still shows each series' own value.
  function stack(series) {
    var sums = series[0] ? series[0].values.map(function () { return 0; }) : [];
    var stacked = series.map(function (s) {
      var values = s.values.map(function (v, i) { sums[i] += v || 0; return sums[i]; });
      return { label: s.label, color: s.color, dashed: s.dashed, raw: s.values, values: values };
    });
    return stacked.reverse();
  }

  function options(chart, width) {
    var series = chart.stacked ? stack(chart.series) : chart.series.map(function (s) {
      return { label: s.label, color: s.color, dashed: s.dashed, raw: s.values, values: s.values };
    });
    var positive = chart.scale === "log";
    var uSeries = [{ label: chart.x_axis === "seconds" ? "time" : "percentile",
      value: function (u, x) { return x == null ? "–" : chart.x_axis === "seconds" ? clock(x) : quantileLabel(x); } }];
    series.forEach(function (s) {
      uSeries.push({
        label: s.label,
        stroke: s.color,
        width: 1.5,
        dash: s.dashed ? [6, 4] : undefined,
        fill: chart.stacked ? s.color + "d9" : undefined,
        points: { show: chart.x_axis === "quantile" },
        spanGaps: false,
        value: function (u, v, si, i) { return i == null ? "–" : number(s.raw[i]); }
      });
    });
    var values = [chart.x].concat(series.map(function (s) {
      return s.values.map(function (v) { return positive && v != null && v <= 0 ? null : v; });
    }));
    var y = { auto: true };
    if (chart.scale === "log") y.distr = 3;
    if (chart.scale === "asinh") { y.distr = 4; y.asinh = 1; }
    if (chart.thresholds.length) {
      // Reference lines stay in view even when the data never comes near them.
      var top = Math.max.apply(null, chart.thresholds.map(function (t) { return t.value; })) * 1.4;
      // A little below zero, so a clean run's flat zero line shows above the axis.
      y.range = function (u, min, max) { return [-top * 0.02, Math.max(max || 0, top)]; };
    }
    var xAxis = chart.x_axis === "seconds"
      ? { incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200],
          values: function (u, splits) { return splits.map(clock); } }
      : { splits: function () { return QUANTILE_TICKS.map(function (t) { return t[0]; }); },
          values: function (u, splits) { return splits.map(quantileLabel); } };
    return {
      opts: {
        title: chart.title,
        width: width,
        height: 260,
        scales: { x: { time: false }, y: y },
        series: uSeries,
        axes: [xAxis, { label: chart.unit, size: 60, values: function (u, splits) { return splits.map(number); } }],
        plugins: [phasePlugin(chart.x_axis === "seconds" ? data.phases : []), thresholdPlugin(chart.thresholds)]
      },
      values: values
    };
  }

  data.charts.forEach(function (chart) {
    var target = document.getElementById("chart-" + chart.id);
    if (!target) return;
    var width = Math.max(480, target.clientWidth || 900);
    var made = options(chart, width);
    var plot = new uPlot(made.opts, made.values, target);
    drawn.push({ id: chart.id, title: chart.title, plot: plot });
  });

  window.chaosReport = { charts: drawn, ready: true };
})();
