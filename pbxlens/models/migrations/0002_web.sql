-- Web app: users, sessions, login throttling, per-user widgets, app settings (secret key).
-- Read and written through SQLAlchemy Core (pbxlens/dashboards/tables.py mirrors these).
CREATE SEQUENCE IF NOT EXISTS web_user_seq START 1;
CREATE TABLE web_users (
    id              INTEGER PRIMARY KEY DEFAULT nextval('web_user_seq'),
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,            -- scrypt$n$r$p$salt_hex$hash_hex
    role            TEXT NOT NULL,            -- admin | supervisor | finance | operator
    privacy         BOOLEAN NOT NULL DEFAULT false,  -- sees full external numbers
    tenant          TEXT NOT NULL DEFAULT 'default',
    extension       TEXT,                     -- an operator's own extension
    lang            TEXT NOT NULL DEFAULT 'it',
    disabled        BOOLEAN NOT NULL DEFAULT false,
    api_token_hash  TEXT,                     -- sha256 hex of the bearer token
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE web_sessions (
    sid_hash    TEXT PRIMARY KEY,             -- sha256 hex of the session id in the cookie
    user_id     INTEGER NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    expires_at  TIMESTAMPTZ NOT NULL
);
CREATE TABLE web_login_failures (
    username    TEXT NOT NULL,
    ip          TEXT NOT NULL,
    failed_at   TIMESTAMPTZ NOT NULL
);
CREATE SEQUENCE IF NOT EXISTS web_widget_seq START 1;
CREATE TABLE web_widgets (
    id              INTEGER PRIMARY KEY DEFAULT nextval('web_widget_seq'),
    owner           INTEGER NOT NULL,
    page            TEXT NOT NULL DEFAULT 'home',
    title           TEXT NOT NULL,
    report_id       TEXT,
    params          JSON,                     -- saved filters: {"from", "to", "filters"}
    url             TEXT,
    icon            TEXT,
    size            TEXT NOT NULL DEFAULT 'm', -- s | m | l
    color           TEXT,
    background      TEXT,
    widget_color    TEXT,
    auto_refresh    BOOLEAN NOT NULL DEFAULT false,
    position        INTEGER NOT NULL DEFAULT 0,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);
CREATE TABLE web_settings (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);
