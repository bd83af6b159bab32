"""The app factory and the Flask routes around the Dash pages: login/logout, language,
the JSON API, file upload, and `serve()` (waitress, several threads, one process that is the
store's single writer)."""

from __future__ import annotations

import hmac
import importlib
import secrets
import signal
import sys
import threading
from pathlib import Path
from urllib.parse import quote, urlsplit

import dash
import flask
from dash import dcc, html

from pbxlens.config import get_settings
from pbxlens.dashboards import access, i18n, service
from pbxlens.dashboards import context as ctx
from pbxlens.store import Stores, ops, priority, server_link, users, writer

PAGES = ("home", "report", "widgets", "admin_users", "admin_ingest", "admin_quarantine",
         "admin_directory", "admin_settings", "tickets_list", "tickets_new", "tickets_edit",
         "trace_records", "tickets_companies", "missed_calls", "missed_manage",
         "billing_home", "billing_tariffs", "billing_profiles", "billing_multiservice",
         "billing_explain",
         "definitions", "journeys", "journey", "staffing", "saved_views", "live",
         "alerts", "not_found_404")
# where each role lands after logging in (when no page was asked for)
START_PAGES = {"operator": "/missed", "finance": "/billing"}
_OPEN_PREFIXES = ("/login", "/_dash-component-suites/", "/assets/", "/_favicon.ico", "/health",
                  "/kiosk/")  # a kiosk link is its own credential (live_web.py)
_app_lock = threading.Lock()
_app_made = False


def create_app(store: Stores, *, https: bool | None = None) -> dash.Dash:
    """The Dash app over `store`. Dash keeps page and callback registries per process, so
    one process builds one app."""
    global _app_made
    with _app_lock:
        if _app_made:
            raise RuntimeError("create_app() runs once per process (Dash registries are global)")
        _app_made = True
    https = get_settings().https if https is None else https
    app = dash.Dash(__name__, use_pages=True, pages_folder="", title="pbxlens",
                    assets_folder=str(Path(__file__).with_name("assets")),
                    suppress_callback_exceptions=True, update_title=None)
    server = app.server
    settings = get_settings()
    server.config.update(
        SECRET_KEY=users.secret_key(store, settings.secret_key),
        SESSION_COOKIE_NAME="pbxlens_session", SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=https,
        MAX_CONTENT_LENGTH=settings.max_upload_bytes,
    )
    server.extensions["pbxlens"] = store
    _install_live(server, store)  # before the pages: /live reads its snapshot
    from pbxlens.dashboards.components.localize import localized

    for name in PAGES:  # what Dash does for a pages folder: import, then attach the layout
        module = importlib.import_module(f"pbxlens.dashboards.pages.{name}")
        dash.page_registry[module.__name__]["layout"] = localized(module.layout, ctx.lang)
    app.layout = shell
    # the policy hashes every inline script, known once all modules registered their
    # clientside callbacks: computed at the first answer
    server.extensions["pbxlens_csp"] = lambda: content_security_policy(app.csp_hashes())
    server.config["PBXLENS_HSTS"] = https
    _routes(server, store)
    from pbxlens.dashboards import webhooks

    webhooks.install(server, store)
    from pbxlens.dashboards import tickets_web

    tickets_web.install(server, store)
    from pbxlens.dashboards import missed_api

    missed_api.install(server, store)
    from pbxlens.views import web as views_web

    views_web.install(server, store)  # /views/<id>, /api/views, /exports/<id>/<token>
    from pbxlens.dashboards import billing_api

    billing_api.install(server, store)  # /api/billing/explain/<unique id>
    return app


def _install_live(server: flask.Flask, store: Stores) -> None:
    from pbxlens.dashboards import live_web

    live_web.install(server, store)  # the shared snapshot, /api/live (the page: pages/live.py)
    from pbxlens.dashboards import alerts_web

    alerts_web.install(server, store)  # /api/alerts/... (the page: pages/alerts.py)


def start_page(user) -> str:
    """The page a user lands on: the operator's callbacks, finance's billing, else the reports."""
    return START_PAGES.get(user.role, "/") if user is not None else "/"


def shell():
    """The app shell around every page: top bar with navigation, the page, a URL tracker."""
    u = ctx.user()
    lang = ctx.lang()
    links = [dcc.Link(i18n.t("reports", lang), href="/", className="pbx-nav-link")] \
        if access.visible_reports(u) else []
    if u and access.can_use_widgets(u):
        links.append(dcc.Link(i18n.t("widgets", lang), href="/widgets", className="pbx-nav-link"))
        links.append(dcc.Link(i18n.t("views_page", lang), href="/views", className="pbx-nav-link"))
    if u and not u.disabled and u.role in ("operator", "supervisor", "admin"):  # missed-call users
        links.append(dcc.Link(i18n.t("missed_calls", lang), href="/missed", className="pbx-nav-link"))
    if u and not u.disabled and u.role in ("supervisor", "admin"):
        links.append(dcc.Link(i18n.t("mc_manage", lang), href="/missed/manage",
                              className="pbx-nav-link"))
    if access.can_use_tickets(u):
        links += [dcc.Link(i18n.t("tickets", lang), href="/tickets", className="pbx-nav-link"),
                  dcc.Link(i18n.t("trace", lang), href="/trace", className="pbx-nav-link")]
    if access.can_manage_billing(u):
        links.append(dcc.Link(i18n.t("billing", lang), href="/billing", className="pbx-nav-link"))
    if access.is_manager(u):  # definitions, journeys, staffing
        links += [dcc.Link(i18n.t(k, lang), href=f"/{k}", className="pbx-nav-link")
                  for k in ("live", "alerts", "journeys", "staffing", "definitions")]
    if access.is_admin(u):
        links += [dcc.Link(i18n.t("users", lang), href="/admin/users", className="pbx-nav-link"),
                  dcc.Link(i18n.t("ingest", lang), href="/admin/ingest", className="pbx-nav-link"),
                  dcc.Link(i18n.t("settings", lang), href="/admin/settings",
                           className="pbx-nav-link")]
    other = "en" if lang == "it" else "it"
    right = [html.Span([html.Span(u.username, className="pbx-data"),
                        f" · {i18n.role_name(u.role, lang)}"] if u else "", className="pbx-user"),
             _post_button(f"/lang/{other}", other.upper(), className="pbx-nav-link pbx-lang"),
             _post_button("/logout", i18n.t("logout", lang), className="pbx-nav-link",
                          id="pbx-logout")]
    return html.Div([
        html.Header([html.A([html.Span("pbx", className="pbx-logo-a"),
                             html.Span("lens", className="pbx-logo-b")], href=start_page(u),
                            className="pbx-logo"),
                     html.Nav(links, className="pbx-nav"),
                     html.Div(right, className="pbx-nav-right")], className="pbx-topbar"),
        html.Main(dash.page_container, className="pbx-main"),
        # catalog texts for library widgets that take none as a property (assets/i18n.js)
        html.Div(id="pbx-i18n", hidden=True, **{"data-no-results": i18n.t("no_results", lang)}),
    ])


def content_security_policy(script_hashes: list[str]) -> str:
    """Everything from this origin; inline scripts only by their hash (Dash's renderer start
    and the clientside callbacks); inline styles allowed, as plotly and the grid insert them."""
    return "; ".join([
        "default-src 'self'", "script-src 'self' " + " ".join(script_hashes),
        "style-src 'self' 'unsafe-inline'", "img-src 'self' data: blob:",
        "font-src 'self' data:", "connect-src 'self'", "object-src 'none'",
        "base-uri 'self'", "form-action 'self'", "frame-ancestors 'self'",
    ])


def _post_button(action: str, label: str, **kw) -> html.Form:
    """A link-looking button that changes state by POST with the CSRF token (never a GET)."""
    return html.Form([dcc.Input(type="hidden", name="csrf_token", value=_csrf_token()),
                      html.Button(label, type="submit", **kw)],
                     method="post", action=action, className="pbx-nav-form")


# ----------------------------------------------------------------------------- routes

_LOGIN_HTML = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<title>pbxlens · {{ t.login }}</title><link rel="stylesheet" href="/assets/style.css"></head>
<body class="pbx-login-body"><form method="post" class="pbx-login" autocomplete="on">
<div class="pbx-logo pbx-logo-big"><span class="pbx-logo-a">pbx</span><span
 class="pbx-logo-b">lens</span></div>
<p class="pbx-login-sub">{{ t.login_sub }}</p>
{% if error %}<div class="pbx-alert" id="login-error">{{ error }}</div>{% endif %}
<label>{{ t.username }}<input name="username" id="username" value="{{ username }}" required autofocus></label>
<label>{{ t.password }}<input name="password" id="password" type="password" required></label>
<input type="hidden" name="next" value="{{ next }}">
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit" class="pbx-btn pbx-btn-primary" id="login-btn">{{ t.login }}</button>
<p class="pbx-login-sub"><a href="?lang={{ other }}&amp;next={{ next }}">{{ other|upper }}</a></p>
</form></body></html>"""


_UPLOAD_HTML = """<!doctype html><html><head><meta charset="utf-8">
{% if running %}<meta http-equiv="refresh" content="1">{% endif %}
<link rel="stylesheet" href="/assets/style.css"></head><body class="pbx-frame-body">
<form method="post" enctype="multipart/form-data" class="pbx-upload">
<input type="file" name="files" id="files" multiple required>
<input type="hidden" name="csrf_token" value="{{ csrf }}">
<button type="submit" class="pbx-btn pbx-btn-primary" id="upload-btn">{{ button }}</button>
</form>{% if msg %}<div class="pbx-msg" id="upload-msg">{{ msg }}</div>{% endif %}
</body></html>"""


def _job_json(row: dict) -> dict:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


_UNAVAILABLE_HTML = """<!doctype html><html lang="{{ lang }}"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5"><title>pbxlens · {{ title }}</title>
<link rel="stylesheet" href="/assets/style.css"></head><body class="pbx-login-body">
<div class="pbx-login"><div class="pbx-logo pbx-logo-big"><span class="pbx-logo-a">pbx</span><span
 class="pbx-logo-b">lens</span></div><div class="pbx-alert" id="ops-unavailable">{{ text }}</div>
</div></body></html>"""


CSRF_COOKIE = "_csrf_token"  # the name dash-renderer reads to send X-CSRFToken
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _csrf_token() -> str:
    token = flask.session.get("csrf")
    if not token:
        token = flask.session["csrf"] = secrets.token_urlsafe(32)
    return token


def _csrf_ok() -> bool:
    want = flask.session.get("csrf")
    given = flask.request.headers.get("X-CSRFToken") or flask.request.form.get("csrf_token")
    return bool(want and given) and hmac.compare_digest(want.encode(), given.encode())


def _safe_next(target: str | None) -> str:
    """A same-origin path, else "/". Browsers drop tabs and line breaks from a URL and read
    a backslash as a slash, so `/\t/evil.example` would be `//evil.example`: any control
    character, white space or backslash makes the target unsafe.

    Example:
        >>> _safe_next("/reports/cdr.queues?x=1"), _safe_next("/\t/evil.example")
        ('/reports/cdr.queues?x=1', '/')
    """
    if not target or "\\" in target or any(c.isspace() or ord(c) < 32 or ord(c) == 127
                                            for c in target):
        return "/"
    parts = urlsplit(target)
    if not target.startswith("/") or target.startswith("//") or parts.scheme or parts.netloc:
        return "/"
    return target


def _client_ip() -> str:
    return flask.request.remote_addr or "?"


def _routes(server: flask.Flask, store: Stores) -> None:
    _request_guards(server, store)
    _session_routes(server, store)
    _api_routes(server, store)
    _upload_routes(server, store)
    _cli_and_job_routes(server, store)
    _error_handlers(server)


def _request_guards(server: flask.Flask, store: Stores) -> None:
    """Who is asking (session or Bearer token), CSRF on state changes, security headers."""

    @server.before_request
    def _guard():
        path = flask.request.path
        if path == server_link.PATH:
            return None  # the local CLI: its own token, checked by the route
        flask.g.user = users.session_user(store, flask.session.get("sid"))
        by_token = False
        if path.startswith("/api/") and flask.g.user is None:
            flask.g.user = users.token_user(store, users.bearer_token(
                flask.request.headers.get("Authorization")))
            by_token = flask.g.user is not None
        if path == "/" and flask.g.user is not None and start_page(flask.g.user) != "/" \
                and not access.visible_reports(flask.g.user):
            return flask.redirect(start_page(flask.g.user))  # the operator has no reports
        if flask.g.user is not None or path.startswith(_OPEN_PREFIXES):
            if flask.request.method not in _SAFE_METHODS and not by_token and not _csrf_ok():
                return flask.jsonify({"error": "csrf", "status": 403,
                                      "message": "missing or wrong CSRF token: reload the page"}), 403
            return None
        if path.startswith(("/api/", "/_dash-", "/_reload-hash")) or flask.request.method != "GET":
            return flask.jsonify({"error": "unauthenticated", "message": "log in first",
                                  "status": 401}), 401
        nxt = flask.request.full_path.rstrip("?")
        return flask.redirect("/login?next=" + quote(nxt, safe="/"))

    @server.after_request
    def _headers(resp):
        # Double-submit CSRF token: the session (signed cookie) holds it, a readable cookie
        # carries it to the page; dash-renderer sends that cookie back as X-CSRFToken on every
        # callback, and the HTML forms post it as a hidden field.
        token = _csrf_token()
        if flask.request.cookies.get(CSRF_COOKIE) != token:
            resp.set_cookie(CSRF_COOKIE, token, httponly=False, samesite="Strict",
                            secure=bool(server.config.get("SESSION_COOKIE_SECURE")))
        resp.headers.setdefault("X-Content-Type-Options", "nosniff")
        resp.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        resp.headers.setdefault("Referrer-Policy", "same-origin")
        if "PBXLENS_CSP" not in server.config:
            server.config["PBXLENS_CSP"] = server.extensions["pbxlens_csp"]()
        resp.headers.setdefault("Content-Security-Policy", server.config["PBXLENS_CSP"])
        if server.config.get("PBXLENS_HSTS"):
            resp.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return resp


def _session_routes(server: flask.Flask, store: Stores) -> None:
    """Login, logout and the language switch."""
    def _login_page(**kw):
        # No user yet: ?lang= or the browser's Accept-Language picks the language.
        lang = flask.request.values.get("lang") or flask.request.accept_languages.best_match(
            ["en", "it"], default="en")
        lang = lang if lang in ("en", "it") else "en"
        t = {k: i18n.t(k, lang) for k in ("login", "login_sub", "username", "password")}
        return flask.render_template_string(_LOGIN_HTML, lang=lang, t=t, csrf=_csrf_token(),
                                            other="it" if lang == "en" else "en", **kw)

    @server.route("/login", methods=["GET", "POST"])
    def login():
        nxt = _safe_next(flask.request.values.get("next"))
        if flask.request.method == "GET":
            return _login_page(error=None, username="", next=nxt)
        username = flask.request.form.get("username", "")
        try:
            user = users.authenticate(store, username, flask.request.form.get("password", ""),
                                     _client_ip())
        except users.AuthError as exc:
            status = 429 if "too many" in str(exc) else 401
            return _login_page(error=str(exc), username=username, next=nxt), status
        flask.session.clear()
        flask.session["sid"] = users.open_session(store, user)
        return flask.redirect(start_page(user) if nxt == "/" else nxt)

    @server.route("/logout", methods=["POST"])
    def logout():
        users.close_session(store, flask.session.get("sid"))
        flask.session.clear()
        return flask.redirect("/login")

    @server.route("/lang/<code>", methods=["POST"])
    def set_lang(code: str):
        if code in ("en", "it") and flask.g.user is not None:
            users.update_user(store, flask.g.user.id, lang=code)
        return flask.redirect(_safe_next(flask.request.referrer and
                                         "/" + flask.request.referrer.split("/", 3)[-1]))


def _api_routes(server: flask.Flask, store: Stores) -> None:
    """Health, the report API, the backup endpoint, the local CLI and the writer's jobs."""
    from pbxlens.scale import http as scale_http  # POST /api/admin/backup

    scale_http.register(server, store)

    @server.route("/health")
    def health():
        return {"ok": True}

    @server.route("/api/reports")
    def api_reports():
        return {"reports": [{"id": d.id, "en": d.en, "it": d.it, "filters": list(d.filter_keys)}
                            for d in access.visible_reports(flask.g.user)]}

    @server.route("/api/reports/<path:report_id>")
    def api_report(report_id: str):
        from pbxlens.reports import export

        try:
            params = service.params_from_query(report_id, flask.request.args)
            result = service.run_report(store, flask.g.user, report_id, params)
        except service.WebError as exc:
            return flask.jsonify(exc.public()), exc.status
        return flask.jsonify(export.to_dict(result))


def _upload_routes(server: flask.Flask, store: Stores) -> None:
    """The admin's upload form, queued as an ingest job of the writer."""
    @server.route("/admin/upload", methods=["GET", "POST"])
    def upload():
        from pbxlens.dashboards.uploads import queue_uploads

        if not access.is_admin(flask.g.user):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        lang = flask.g.user.lang
        if flask.request.method == "POST":
            job = queue_uploads(store, flask.request.files.getlist("files"),
                                flask.g.user.username)
            if job is None:
                return _upload_page(lang, msg=i18n.t("upload_none", lang))
            return flask.redirect(f"/admin/upload?job={job.id}")
        job_id = flask.request.args.get("job", type=int)
        if job_id is None:
            return _upload_page(lang)
        row = writer.job(store, job_id)
        if row is None:
            return _upload_page(lang, msg=i18n.t("upload_none", lang))
        return _upload_page(lang, msg=_job_text(row, lang), running=row["state"] in
                            ("queued", "running"))

    def _upload_page(lang: str, msg: str | None = None, running: bool = False):
        return flask.render_template_string(_UPLOAD_HTML, msg=msg, csrf=_csrf_token(),
                                            button=i18n.t("upload_btn", lang), running=running)

    def _job_text(row: dict, lang: str) -> str:
        from pbxlens.ingest.job import summary_of

        state = i18n.t(f"job_{row['state']}", lang)
        if row["state"] == "running":
            return f"{state}: {row['stage'] or ''} ({round(100 * row['progress'])}%)"
        if row["state"] == "failed":
            return f"{state}: {row['error']}"
        if row["state"] == "done":
            return f"{state}: {summary_of(row['result'], strip=3)}"
        return state


def _cli_and_job_routes(server: flask.Flask, store: Stores) -> None:
    """The forwarded local CLI and the writer's jobs (admin)."""
    @server.route(server_link.PATH, methods=["POST"])
    def local_cli():
        """A CLI command of this machine's user, forwarded because this server holds the
        store (pbxlens.store.server_link)."""
        expected = server.config.get("PBXLENS_LOCAL_TOKEN")
        remote = flask.request.remote_addr or ""
        if not expected or remote not in ("127.0.0.1", "::1") or not server_link.token_ok(
                expected, flask.request.headers.get(server_link.TOKEN_HEADER)):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        body = flask.request.get_json(silent=True)
        if not isinstance(body, dict):
            return flask.jsonify({"error": "bad-request", "status": 400}), 400
        return flask.jsonify(server_link.execute(store, body))

    @server.route("/api/jobs")
    def api_jobs():
        if not access.is_admin(flask.g.user):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        return {"jobs": [_job_json(r) for r in writer.jobs(store)]}

    @server.route("/api/jobs/<int:job_id>")
    def api_job(job_id: int):
        if not access.is_admin(flask.g.user):
            return flask.jsonify({"error": "forbidden", "status": 403}), 403
        row = writer.job(store, job_id)
        if row is None:
            return flask.jsonify({"error": "not-found", "status": 404}), 404
        return _job_json(row)


def _error_handlers(server: flask.Flask) -> None:
    """Refusals and outages as answers with their status, never a 500."""
    @server.errorhandler(ops.OpsUnavailable)
    def ops_unavailable(exc: ops.OpsUnavailable):
        """The operations store is down (PostgreSQL unreachable): say so on every page and
        API answer, and come back by itself when it returns (the page retries)."""
        lang = flask.request.accept_languages.best_match(["en", "it"], default="en")
        wants_html = (flask.request.method == "GET" and not flask.request.path.startswith(
            ("/api/", "/_dash-")) and "text/html" in flask.request.headers.get("Accept", ""))
        if not wants_html:
            resp = flask.jsonify({"error": "ops-unavailable", "status": 503,
                                  "message": i18n.t("ops_unavailable", lang)})
        else:
            resp = flask.make_response(flask.render_template_string(
                _UNAVAILABLE_HTML, lang=lang, title=i18n.t("ops_unavailable_title", lang),
                text=i18n.t("ops_unavailable", lang)))
        resp.status_code = 503
        resp.headers["Retry-After"] = "5"
        return resp

    @server.errorhandler(service.WebError)
    def web_error(exc: service.WebError):
        """A service refusal raised anywhere (a route, a page callback, an export) keeps its
        status and stable id (403 for a forbidden report), never a 500."""
        return flask.jsonify(exc.public()), exc.status

    @server.errorhandler(413)
    def too_large(_exc):
        limit = get_settings().max_upload_bytes
        return flask.jsonify({"error": "too-large", "status": 413,
                              "message": f"uploads are limited to {limit} bytes"}), 413


def serve(db: str | Path | None = None, host: str = "127.0.0.1", port: int = 8050,
          threads: int = 8, before=None, ops_url: str | None = None,
          intake_port: int | None = None, intake_workers: int = 2,
          intake_threads: int | None = None) -> None:
    """Run the app with waitress: UI, HTTP endpoints, the analytics writer and background
    jobs, one process that owns both stores. `before(store)` runs once the stores are open
    (e.g. to create demo users). With `intake_port`, `intake_workers` child processes serve
    the webhooks and the operators' callback API on that port too
    (pbxlens.dashboards.intake)."""
    import waitress

    from pbxlens.dashboards import intake, jobs

    sys.setswitchinterval(get_settings().server_switch_interval_ms / 1000)
    store = Stores(db, ops_url, threaded_writer=True)
    store.writer.start()
    priority.lower_engine_threads()  # DuckDB's workers yield the CPU to requests
    stop = None
    announced = None
    app = None
    intakes = []
    try:
        if intake_port:  # first: a port it cannot bind stops the server before it says so
            intakes = intake.start(store.ops_url, host, intake_port, intake_workers,
                                   intake_threads or intake.THREADS)
            # they answer the operators and the PBX: the ingests leave them a core
            store.writer.reserve_cores(get_settings().writer_reserved_cores)
        if before is not None:
            before(store)
        app = create_app(store)
        stop = jobs.start(store)
        if intake_port:  # their operators' actions: the analytics copies follow
            from pbxlens.missed_calls import sync

            sync.watch(store, stop)
        http = waitress.create_server(
            app.server, host=host, port=port, threads=threads, ident="pbxlens",
            max_request_body_size=get_settings().max_upload_bytes + 1024 * 1024)
        announced = server_link.announce(store.path, http.effective_port, host)
        if threading.current_thread() is threading.main_thread():  # stop cleanly on SIGTERM
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        app.server.config["PBXLENS_LOCAL_TOKEN"] = announced[1]
        http.run()
    finally:
        if announced is not None:
            server_link.withdraw(*announced)
        if stop is not None:
            stop.set()
        hub = app.server.extensions.get("pbxlens_live") if app is not None else None
        if hub is not None:  # waiting long-polls answer 503 at once
            hub.stop()
        intake.stop(intakes)
        mover = app.server.extensions.get("pbxlens_mover") if app is not None else None
        if mover is not None:  # no move job after the writer stops (the rows wait in the inbox)
            mover.stop()
        store.close()
