"""Explainable numbers: the rule that produced a report column, in words, from its definition
(the metric's kind, the summed fields and the blocks the column adds up). The engine writes it
on every column (`ColumnOut.rule`, in the JSON and the page's cell tooltips); a metric's own
`doc` follows it."""

from __future__ import annotations

from collections.abc import Sequence

from pbxlens.reports.catalog import Metric

# summed field -> (English, Italian) in a rule
FIELDS = {
    "n": ("count", "quantità"),
    "tot": ("total seconds (exit − enter)", "secondi totali (uscita − ingresso)"),
    "talk": ("talk seconds", "secondi di conversazione"),
    "dur": ("duration seconds", "secondi di durata"),
    "queuing": ("queuing seconds", "secondi di accodamento"),
    "resp": ("response seconds", "secondi di risposta"),
    "wait": ("wait seconds", "secondi di attesa"),
    "notalk": ("total − talk seconds", "secondi totali − conversazione"),
    "asa": ("seconds to answer (answer − queue entry)", "secondi alla risposta (risposta − "
                                                        "ingresso in coda)"),
    "sl_hit": ("visits answered within T s", "visite risposte entro T s"),
    "sl_den": ("visits of the queue's service-level denominator",
               "visite del denominatore del livello di servizio della coda"),
    "ab": ("visits abandoned after at least S s", "visite abbandonate dopo almeno S s"),
    "ab_den": ("visits − never queued − short abandons", "visite − mai accodate − abbandoni "
                                                          "brevi"),
    "short": ("visits abandoned in less than S s", "visite abbandonate in meno di S s"),
    "worked": ("seconds worked", "secondi lavorati"),
    "ring": ("ring seconds", "secondi di squillo"),
    "bill": ("billing seconds", "secondi di fatturazione"),
    "welcome": ("welcome-message seconds", "secondi di messaggio di benvenuto"),
    "qwait": ("seconds waiting in queue", "secondi di attesa in coda"),
    "hold": ("seconds before answer or exit", "secondi prima della risposta o uscita"),
    "cost": ("cost", "costo"),
    "s": ("seconds", "secondi"),
}

_TEXT = {
    "sum_n": ("number of {grain} in {blocks}", "numero di {grain} in {blocks}"),
    "sum": ("Σ {field} of {blocks}", "Σ {field} di {blocks}"),
    "avg": ("Σ {field} ÷ Σ {den} of {blocks}, floored to whole seconds; blank when Σ {den} = 0",
            "Σ {field} ÷ Σ {den} di {blocks}, troncato al secondo; vuoto se Σ {den} = 0"),
    "pct": ("100 × Σ {field} ÷ Σ {den} of {blocks}, 2 decimals half-up; blank when 0 ÷ 0",
            "100 × Σ {field} ÷ Σ {den} di {blocks}, 2 decimali arrotondati; vuoto se 0 ÷ 0"),
    "pct_int": ("100 × Σ {field} ÷ Σ {den} of {blocks}, whole percent half-up",
                "100 × Σ {field} ÷ Σ {den} di {blocks}, percento intero arrotondato"),
    "ratio": ("Σ {field} ÷ Σ {den} of {blocks}, 2 decimals half-up",
              "Σ {field} ÷ Σ {den} di {blocks}, 2 decimali arrotondati"),
    "share": ("Σ {field} of {blocks} as a % of the same sum over the whole table",
              "Σ {field} di {blocks} in % della stessa somma su tutta la tabella"),
    "all": ("every block", "tutti i blocchi"),
    "none": ("no block (none in this result)", "nessun blocco (nessuno in questo risultato)"),
}


def _t(key: str, lang: str) -> str:
    en, it = _TEXT[key]
    return it if lang == "it" else en


def field_name(f: str, lang: str) -> str:
    """A summed field in words.

    Example:
        >>> field_name("talk", "it")
        'secondi di conversazione'
    """
    en, it = FIELDS.get(f, (f, f))
    return it if lang == "it" else en


def block_list(blocks: Sequence[str], every: bool, lang: str) -> str:
    """The blocks a column adds up: "every block" when it is all of them.

    Example:
        >>> block_list(["NCC", "TRASFERIMENTO"], False, "en")
        'NCC, TRASFERIMENTO'
    """
    if every:
        return _t("all", lang)
    return ", ".join(b if b != "?" else "?" for b in blocks) or _t("none", lang)


def rule(metric: Metric, blocks: Sequence[str], every: bool, grain: str, lang: str) -> str:
    """The rule of a column.

    Example:
        >>> from pbxlens.reports.common import M
        >>> rule(M("avg_talk", "avg talk", "", "duration", "avg", "talk"), ["NCC"], False,
        ...      "CDR queue visit", "en")
        'Σ talk seconds ÷ Σ count of NCC, floored to whole seconds; blank when Σ count = 0'
        >>> rule(M("n", "quantity", ""), ["NCC", "CANCELED"], True, "CDR queue visit", "en")
        'number of CDR queue visit rows in every block'
    """
    b = block_list(blocks, every, lang)
    den = " + ".join(field_name(f, lang) for f in metric.den)
    if metric.kind == "sum" and metric.field == "n":
        grain_rows = f"{grain} rows" if lang != "it" else f"righe {grain}"
        text = _t("sum_n", lang).format(grain=grain_rows, blocks=b)
    else:
        text = _t(metric.kind, lang).format(field=field_name(metric.field, lang), den=den,
                                             blocks=b)
    return f"{text}. {metric.doc}" if metric.doc else text
