// Texts of dcc.Dropdown that Dash does not expose as properties ("No results found"): replaced
// by the catalog's text in the user's language, which the app shell carries in #pbx-i18n.
(function () {
    var TEXTS = {"Select-noresults": "noResults"};
    function fix(root) {
        var box = document.getElementById("pbx-i18n");
        if (!box || !root.querySelectorAll) { return; }
        Object.keys(TEXTS).forEach(function (cls) {
            var text = box.dataset[TEXTS[cls]];
            root.querySelectorAll("." + cls).forEach(function (el) {
                if (text && el.textContent !== text) { el.textContent = text; }
            });
        });
    }
    new MutationObserver(function (changes) {
        changes.forEach(function (ch) {
            ch.addedNodes.forEach(function (n) { if (n.nodeType === 1) { fix(n.parentNode || n); } });
        });
    }).observe(document.documentElement, {childList: true, subtree: true});
})();
