-- Tickets and call trace (issue 10; nexus_modules.md B). Operational tables people edit: read
-- and written through SQLAlchemy Core (pbxlens/tickets/schema.py mirrors them), so a deployment
-- with many editors can move them to PostgreSQL. No foreign keys, like the rest of the store:
-- the modules keep the links.

-- Customer master data: companies, their contacts, and the phone numbers of both.
CREATE SEQUENCE IF NOT EXISTS ticket_company_seq START 1;
CREATE TABLE ticket_companies (
    id           BIGINT PRIMARY KEY DEFAULT nextval('ticket_company_seq'),
    tenant       TEXT NOT NULL DEFAULT 'default',
    name         TEXT NOT NULL,
    code         TEXT,
    vat          TEXT,
    email        TEXT,                 -- the "Azienda" row of the notification matrix
    score        TEXT,                 -- financial panel of the trace mask (B.11)
    outlook      TEXT,
    bad_debts    DECIMAL(14, 2),
    exposure     DECIMAL(14, 2),
    credit_line  DECIMAL(14, 2),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    UNIQUE (tenant, name)
);
CREATE SEQUENCE IF NOT EXISTS ticket_contact_seq START 1;
CREATE TABLE ticket_contacts (
    id          BIGINT PRIMARY KEY DEFAULT nextval('ticket_contact_seq'),
    company_id  BIGINT NOT NULL,
    name        TEXT NOT NULL,
    email       TEXT,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    UNIQUE (company_id, name)
);
-- A number belongs to a company (contact_id NULL) or to a contact (and so to its company).
CREATE SEQUENCE IF NOT EXISTS ticket_phone_seq START 1;
CREATE TABLE ticket_phones (
    id          BIGINT PRIMARY KEY DEFAULT nextval('ticket_phone_seq'),
    tenant      TEXT NOT NULL DEFAULT 'default',
    company_id  BIGINT NOT NULL,
    contact_id  BIGINT,
    raw         TEXT NOT NULL,          -- as typed or imported
    national    TEXT NOT NULL,          -- pbxlens.models.phone.national(raw): the matching key
    e164        TEXT,
    added_at    TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

-- Configuration: areas, types (with their area and "default type" flag), types by company,
-- priorities (description + colour), numbering counters.
CREATE TABLE ticket_areas (name TEXT PRIMARY KEY);
CREATE TABLE ticket_types (
    code              TEXT PRIMARY KEY,
    is_default        BOOLEAN NOT NULL DEFAULT true,   -- "Tipologie di default" (B.4)
    area              TEXT,                            -- "Tipologia per area" (B.5)
    project_required  BOOLEAN NOT NULL DEFAULT false,
    position          INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE ticket_types_by_company (
    company_id  BIGINT NOT NULL,
    type        TEXT NOT NULL,
    PRIMARY KEY (company_id, type)
);
CREATE TABLE ticket_priorities (
    code         TEXT PRIMARY KEY,
    description  TEXT NOT NULL,
    color        TEXT NOT NULL,
    rank         INTEGER NOT NULL
);
-- TICK, CHM-IN, CHM-OUT: taken by `UPDATE ... RETURNING` in the transaction that inserts the
-- record (a row lock on PostgreSQL, a write conflict on DuckDB), and the numbers are UNIQUE.
CREATE TABLE ticket_counters (
    name   TEXT PRIMARY KEY,
    value  BIGINT NOT NULL DEFAULT 0
);

-- Per-user data of the module: notification address and the areas a user works in.
CREATE TABLE ticket_users (
    user_id  BIGINT PRIMARY KEY,            -- web_users.id
    email    TEXT
);
CREATE TABLE ticket_user_areas (
    user_id  BIGINT NOT NULL,
    area     TEXT NOT NULL,
    PRIMARY KEY (user_id, area)
);

CREATE SEQUENCE IF NOT EXISTS ticket_seq START 1;
CREATE TABLE tickets (
    id                         BIGINT PRIMARY KEY DEFAULT nextval('ticket_seq'),
    tenant                     TEXT NOT NULL DEFAULT 'default',
    number                     TEXT NOT NULL UNIQUE,     -- TICK-0126
    title                      TEXT NOT NULL,
    description                TEXT,
    account_id                 BIGINT NOT NULL,
    final_customer_id          BIGINT NOT NULL,
    account_contact_id         BIGINT,
    final_customer_contact_id  BIGINT,
    status                     TEXT NOT NULL DEFAULT 'nuovo',
    priority                   TEXT NOT NULL,
    type                       TEXT NOT NULL,
    area                       TEXT,
    external                   BOOLEAN NOT NULL DEFAULT false,
    notify                     BOOLEAN NOT NULL DEFAULT true,
    creation_mode              TEXT NOT NULL DEFAULT 'manual',
    created_at                 TIMESTAMPTZ NOT NULL,
    updated_at                 TIMESTAMPTZ NOT NULL,
    estimated_start            TIMESTAMPTZ,
    due_date                   TIMESTAMPTZ,
    sla_start                  TIMESTAMPTZ,
    estimate_hours             DECIMAL(10, 2),
    owner_user_id              BIGINT,
    owner_email                TEXT,         -- the creator's address (sender of an email ticket)
    in_charge_user_id          BIGINT,
    assigned_user_id           BIGINT,
    extra_notify_emails        TEXT,         -- comma-separated
    last_reply_at              TIMESTAMPTZ,
    CHECK (status IN ('nuovo', 'in_lavorazione', 'sospeso', 'chiuso', 'annullato')),
    CHECK (creation_mode IN ('manual', 'email', 'web-form', 'call', 'monitoring', 'import'))
);
CREATE TABLE ticket_tags (ticket_id BIGINT NOT NULL, tag TEXT NOT NULL, PRIMARY KEY (ticket_id, tag));
CREATE TABLE ticket_links (ticket_id BIGINT NOT NULL, related_id BIGINT NOT NULL,
                           PRIMARY KEY (ticket_id, related_id));
-- Calls linked to a ticket by the CDR's unique_id (text).
CREATE TABLE ticket_calls (ticket_id BIGINT NOT NULL, unique_id TEXT NOT NULL,
                           PRIMARY KEY (ticket_id, unique_id));
CREATE TABLE ticket_shares (ticket_id BIGINT NOT NULL, user_id BIGINT, area TEXT);
-- The bell: a row per (ticket, user) with an unread note or reply.
CREATE TABLE ticket_unread (ticket_id BIGINT NOT NULL, user_id BIGINT NOT NULL,
                            PRIMARY KEY (ticket_id, user_id));

CREATE SEQUENCE IF NOT EXISTS ticket_attachment_seq START 1;
CREATE TABLE ticket_attachments (
    id            BIGINT PRIMARY KEY DEFAULT nextval('ticket_attachment_seq'),
    ticket_id     BIGINT NOT NULL,
    filename      TEXT NOT NULL,          -- the sanitized original name
    content_type  TEXT NOT NULL,
    size_bytes    BIGINT NOT NULL,
    sha256        TEXT NOT NULL,
    stored_name   TEXT NOT NULL,          -- file name under the attachments folder
    uploaded_by   BIGINT,
    uploaded_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
);

CREATE SEQUENCE IF NOT EXISTS ticket_tracking_seq START 1;
CREATE TABLE ticket_tracking (
    id           BIGINT PRIMARY KEY DEFAULT nextval('ticket_tracking_seq'),
    ticket_id    BIGINT NOT NULL,
    tracked_at   TIMESTAMPTZ NOT NULL,     -- "Data del tracking"
    duration_s   INTEGER NOT NULL,
    type         TEXT NOT NULL,
    billable     BOOLEAN NOT NULL DEFAULT true,
    description  TEXT,                     -- blank = the ticket's description
    user_id      BIGINT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    CHECK (duration_s > 0)
);

CREATE SEQUENCE IF NOT EXISTS ticket_message_seq START 1;
CREATE TABLE ticket_messages (
    id              BIGINT PRIMARY KEY DEFAULT nextval('ticket_message_seq'),
    ticket_id       BIGINT NOT NULL,
    written_at      TIMESTAMPTZ NOT NULL,
    author_user_id  BIGINT,
    author_email    TEXT,
    kind            TEXT NOT NULL,          -- internal | public
    body            TEXT NOT NULL,
    status_at       TEXT NOT NULL,          -- the ticket's status when written
    CHECK (kind IN ('internal', 'public'))
);

-- Notifications (B.6). Channel: ticket | support | email; event: insert | reply. A row in
-- ticket_subscriptions = that recipient role is notified for that column.
CREATE TABLE ticket_subscriptions (
    channel    TEXT NOT NULL,
    event      TEXT NOT NULL,
    recipient  TEXT NOT NULL,   -- owner in_charge assigned company contact cc shared_users shared_areas
    PRIMARY KEY (channel, event, recipient)
);
CREATE TABLE ticket_notify_options (
    channel                TEXT NOT NULL,
    event                  TEXT NOT NULL,
    only_absent            BOOLEAN NOT NULL DEFAULT false,  -- "Notifica solo gli indirizzi non presenti"
    bcc_users              BOOLEAN NOT NULL DEFAULT false,  -- users of the app in BCC
    skip_sender            BOOLEAN NOT NULL DEFAULT false,  -- "Non notificare il mittente"
    notify_sender_on_open  BOOLEAN NOT NULL DEFAULT false,  -- "Notifica mittente per apertura"
    PRIMARY KEY (channel, event)
);
CREATE TABLE ticket_notify_blacklist (
    kind   TEXT NOT NULL,     -- opening_sender | out | in
    entry  TEXT NOT NULL,     -- an address, or a domain (acme.it / @acme.it)
    PRIMARY KEY (kind, entry),
    CHECK (kind IN ('opening_sender', 'out', 'in'))
);
CREATE SEQUENCE IF NOT EXISTS ticket_outbox_seq START 1;
CREATE TABLE ticket_outbox (
    id          BIGINT PRIMARY KEY DEFAULT nextval('ticket_outbox_seq'),
    ticket_id   BIGINT NOT NULL,
    message_id  BIGINT,                   -- the reply, NULL for a creation
    channel     TEXT NOT NULL,
    event       TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    header      TEXT NOT NULL,            -- to | bcc
    subject     TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    sent_at     TIMESTAMPTZ,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT,
    CHECK (header IN ('to', 'bcc'))
);

-- Trace: inbound / outbound call records (B.11).
CREATE SEQUENCE IF NOT EXISTS trace_record_seq START 1;
CREATE TABLE trace_records (
    id                 BIGINT PRIMARY KEY DEFAULT nextval('trace_record_seq'),
    tenant             TEXT NOT NULL DEFAULT 'default',
    number             TEXT NOT NULL UNIQUE,   -- CHM-IN-0001 / CHM-OUT-0001
    direction          TEXT NOT NULL,          -- in | out
    unique_id          TEXT,                   -- the CDR call, when opened from the CTI
    caller             TEXT,
    called             TEXT,
    caller_national    TEXT,
    called_national    TEXT,
    caller_company_id  BIGINT,
    caller_contact_id  BIGINT,
    called_company_id  BIGINT,
    called_contact_id  BIGINT,
    note               TEXT,
    description        TEXT,
    type               TEXT NOT NULL,
    priority           TEXT NOT NULL,
    start_at           TIMESTAMPTZ NOT NULL,
    end_at             TIMESTAMPTZ,
    ticket_id          BIGINT,
    owner_user_id      BIGINT,
    created_at         TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    CHECK (direction IN ('in', 'out'))
);
-- "aggiungi in blacklist": no popup for the number (and no Missed Calls request, TK-6).
CREATE TABLE trace_blacklist (
    tenant    TEXT NOT NULL DEFAULT 'default',
    national  TEXT NOT NULL,
    raw       TEXT NOT NULL,
    added_by  BIGINT,
    added_at  TIMESTAMPTZ NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (tenant, national)
);

-- Seed configuration (nexus_modules.md B.2, B.5; priorities 1=high 2=medium 3=low, TK-2).
INSERT INTO ticket_counters VALUES ('TICK', 0), ('CHM-IN', 0), ('CHM-OUT', 0);
INSERT INTO ticket_areas VALUES ('Amministrazione'), ('Assistenza'), ('Centro Analisi');
INSERT INTO ticket_priorities VALUES
    ('priorita 1', 'alta', '#d9534f', 1),
    ('priorita 2', 'media', '#f0ad4e', 2),
    ('priorita 3', 'bassa', '#5cb85c', 3);
INSERT INTO ticket_types (code, is_default, area, position) VALUES
    ('amministrazione', true, 'Amministrazione', 1),
    ('analisi', true, 'Centro Analisi', 2),
    ('assistenza', true, 'Assistenza', 3),
    ('commerciale', true, NULL, 4),
    ('prevendita', true, 'Amministrazione', 5),
    ('problematiche', true, NULL, 6),
    ('sviluppi e implementazioni', true, NULL, 7);
INSERT INTO ticket_subscriptions
SELECT c.channel, e.event, r.recipient
FROM (VALUES ('ticket'), ('support'), ('email')) c(channel)
CROSS JOIN (VALUES ('insert'), ('reply')) e(event)
CROSS JOIN (VALUES ('owner'), ('in_charge'), ('assigned'), ('contact'), ('cc')) r(recipient)
WHERE e.event = 'insert' OR r.recipient IN ('owner', 'assigned');
INSERT INTO ticket_notify_options (channel, event, notify_sender_on_open)
SELECT c.channel, e.event, c.channel = 'email' AND e.event = 'insert'
FROM (VALUES ('ticket'), ('support'), ('email')) c(channel)
CROSS JOIN (VALUES ('insert'), ('reply')) e(event);
