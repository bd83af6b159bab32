// AG Grid cell renderers of pbxlens (dash-ag-grid looks them up by name).
var dagcomponentfuncs = (window.dashAgGridComponentFunctions =
    window.dashAgGridComponentFunctions || {});

// The row name with a mini pie of answered (green) vs unanswered (red) before it (spec §0.5:
// queue, billing-code, group, organization and OU tables). Data: row._pa, row._pu (counts),
// row._pt (the tooltip text). Colours: the palette's answered / unanswered
// (pbxlens/dashboards/components/palette.py).
var GREEN = "#2e7d32", RED = "#c62828";
dagcomponentfuncs.MiniPie = function (props) {
    var e = React.createElement;
    var d = props.data || {};
    var a = Number(d._pa) || 0, u = Number(d._pu) || 0, n = a + u;
    if (d._cls === "total" || n === 0) {
        return e("span", null, props.value);
    }
    var r = 8, c = 9, f = a / n, slice;
    if (f >= 1 || f <= 0) {
        slice = e("circle", {cx: c, cy: c, r: r, fill: f >= 1 ? GREEN : RED});
    } else {
        var ang = 2 * Math.PI * f;
        var x = c + r * Math.sin(ang), y = c - r * Math.cos(ang);
        var path = "M" + c + "," + c + " L" + c + "," + (c - r) + " A" + r + "," + r + " 0 " +
            (f > 0.5 ? 1 : 0) + ",1 " + x.toFixed(2) + "," + y.toFixed(2) + " Z";
        slice = e("g", null, e("circle", {cx: c, cy: c, r: r, fill: RED}),
                  e("path", {d: path, fill: GREEN}));
    }
    var tip = d._pt || "";  // formatted server-side in the user's language
    return e("span", {className: "pbx-pie-cell", title: tip},
             e("svg", {width: 18, height: 18, className: "pbx-mini-pie", role: "img",
                       "aria-label": tip}, slice),
             e("span", null, props.value));
};
