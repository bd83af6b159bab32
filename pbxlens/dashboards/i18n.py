"""UI strings in English and Italian (report labels come from the report definitions)."""

from __future__ import annotations

STRINGS: dict[str, tuple[str, str]] = {
    "app": ("pbxlens", "pbxlens"),
    "reports": ("Reports", "Report"),
    "home": ("Home", "Home"),
    "widgets": ("Dashboard", "Dashboard"),
    "users": ("Users", "Utenti"),
    "ingest": ("Ingest", "Importazione"),
    "logout": ("Log out", "Esci"),
    "login": ("Log in", "Accedi"),
    "login_sub": ("Call-center analytics for KalliopePBX", "Analisi del call center per KalliopePBX"),
    "username": ("Username", "Nome utente"),
    "password": ("Password", "Password"),
    "search": ("Search", "Cerca"),
    "reset": ("Reset", "Reset"),
    "print": ("Print", "Stampa"),
    "export_xls": ("Export XLS", "Export XLS"),
    "widget": ("Widget", "Widget"),
    "date_from": ("Date >=", "Data >="),
    "date_to": ("Date <=", "Data <="),
    "date_range": ("Date range", "Intervallo date"),
    "any": ("any", "tutti"),
    "yes": ("Yes", "Sì"),
    "no": ("No", "No"),
    "no_reports": ("No reports are available to your role.",
                   "Nessun report disponibile per il tuo ruolo."),
    "forbidden": ("You may not see this page.", "Non puoi vedere questa pagina."),
    "not_found": ("Page not found.", "Pagina non trovata."),
    "no_rows": ("No data in the chosen range.", "Nessun dato nel periodo scelto."),
    "widget_title": ("Widget title", "Titolo del widget"),
    "widget_from_report": ("Widget from a report", "Widget da un report"),
    "size": ("Size", "Dimensioni"),
    "colour": ("Colour", "Colore"),
    "auto_refresh": ("Refresh automatically every 5 minutes",
                     "Refresh automatico ogni 5 minuti"),
    "save": ("Save", "Salva"),
    "close": ("Close", "Chiudi"),
    "delete": ("Delete", "Elimina"),
    "saved": ("Saved.", "Salvato."),
    "no_widgets": ("No widgets yet: open a report and press Widget.",
                   "Nessun widget: apri un report e premi Widget."),
    "small": ("small", "piccolo"),
    "medium": ("medium", "medio"),
    "large": ("large", "grande"),
    "role": ("Role", "Ruolo"),
    "privacy": ("Privacy right (full numbers)", "Diritto privacy (numeri completi)"),
    "tenant": ("Tenant", "Tenant"),
    "extension": ("Extension", "Interno"),
    "disabled": ("Disabled", "Disabilitato"),
    "create_user": ("Create user", "Crea utente"),
    "toggle_disabled": ("Enable / disable", "Abilita / disabilita"),
    "new_token": ("New API token", "Nuovo token API"),
    "batches": ("Ingest batches", "Lotti importati"),
    "quarantine": ("Quarantined rows", "Righe in quarantena"),
    "upload": ("Upload export files", "Carica file di esportazione"),
    "upload_btn": ("Upload and ingest", "Carica e importa"),
    "max_size": ("Largest file", "File massimo"),
    "language": ("Language", "Lingua"),
    # widgets board (spec §0.6)
    "source_report": ("Report", "Report"),
    "source_url": ("or URL", "oppure URL"),
    "choose_report": ("Choose a report", "Seleziona un report"),
    "icon": ("Icon", "Icona"),
    "background": ("Background", "Background"),
    "widget_colour": ("Widget colour", "Colore widget"),
    "add_widget": ("Add a widget", "Aggiungi un widget"),
    "layout_mode": ("Arrange widgets (drag them, or use the arrows)",
                    "Disponi i widget (trascinali o usa le frecce)"),
    "lock": ("Lock the layout", "Blocca la disposizione"),
    "unlock": ("Unlock to arrange", "Sblocca per disporre"),
    "move_earlier": ("Move earlier", "Sposta prima"),
    "move_later": ("Move later", "Sposta dopo"),
    "open_link": ("Open", "Apri"),
    # admin
    "settings": ("Settings", "Impostazioni"),
    "directory": ("Directory", "Rubrica"),
    "setting": ("Setting", "Impostazione"),
    "value": ("Value", "Valore"),
    "origin": ("Comes from", "Proviene da"),
    "origin_default": ("default", "predefinito"),
    "origin_env": ("environment", "ambiente"),
    "origin_toml": ("TOML file", "file TOML"),
    "origin_stored": ("this page", "questa pagina"),
    "settings_readonly": ("These settings come from the defaults, the TOML file (pbxlens.toml or "
                          "PBXLENS_CONFIG) and PBXLENS_* environment variables. They are read-only "
                          "here: change them there and restart the server.",
                          "Queste impostazioni vengono dai valori predefiniti, dal file TOML "
                          "(pbxlens.toml o PBXLENS_CONFIG) e dalle variabili d'ambiente PBXLENS_*. "
                          "Qui sono in sola lettura: modificale lì e riavvia il server."),
    "settings_editable": ("Web app settings (stored in the database, effective at once)",
                          "Impostazioni dell'app web (salvate nel database, attive subito)"),
    "default_lang": ("Language of new users", "Lingua dei nuovi utenti"),
    "widget_refresh_min": ("Widget auto-refresh interval (minutes)",
                           "Intervallo di refresh automatico dei widget (minuti)"),
    "quarantine_page_size": ("Quarantine rows per page", "Righe di quarantena per pagina"),
    "directory_import": ("Import a directory.json", "Importa un directory.json"),
    "directory_help": ("The PBX directory (extensions, accounts, queues, groups). Loading it "
                       "replaces the directory of the tenants it names.",
                       "La rubrica del PBX (interni, account, code, gruppi). Il caricamento "
                       "sostituisce la rubrica dei tenant che nomina."),
    "drop_file": ("Drag a file here or click to choose it",
                  "Trascina qui un file o fai clic per sceglierlo"),
    "directory_now": ("Directory now", "Rubrica attuale"),
    "not_directory": ("This file is not a pbxlens directory.json.",
                      "Questo file non è un directory.json di pbxlens."),
    "batch": ("Batch", "Lotto"),
    "file": ("File", "File"),
    "line": ("Line", "Riga"),
    "record": ("Record", "Record"),
    "reason": ("Reason", "Motivo"),
    "raw": ("Raw row", "Riga originale"),
    "previous": ("Previous", "Precedente"),
    "next": ("Next", "Successiva"),
    "page_of": ("Page {page} of {pages} · {rows} rows", "Pagina {page} di {pages} · {rows} righe"),
    "created_user": ("Created {name}.", "Creato {name}."),
    "select_user": ("Select a user first.", "Seleziona prima un utente."),
    "token_once": ("API token for {name} (shown once): {token}",
                   "Token API per {name} (mostrato una volta): {token}"),
    # chart series
    "total": ("Total", "Totale"),
    "answered": ("Answered", "Risposte"),
    "unanswered": ("Unanswered", "Non risposte"),
    "quantity": ("Quantity", "Quantità"),
}


def t(key: str, lang: str = "en", **fmt) -> str:
    """The label `key` in `lang`; `fmt` fills its {placeholders}.

    Example:
        >>> t("page_of", "it", page=1, pages=3, rows=120)
        'Pagina 1 di 3 · 120 righe'
    """
    en, it = STRINGS.get(key, (key, key))
    s = it if lang == "it" else en
    return s.format(**fmt) if fmt else s
