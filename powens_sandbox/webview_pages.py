"""Server-rendered HTML of the webview steps: plain forms, minimal CSS, no JavaScript needed."""

from html import escape

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;background:#f4f5f7;color:#1d2433;margin:0}
main{max-width:34rem;margin:2rem auto;background:#fff;border-radius:12px;padding:1.5rem 2rem;
box-shadow:0 2px 12px rgba(0,0,0,.08)}
h1{font-size:1.35rem;margin-top:0}.banner{background:#fff4d6;font-size:.8rem;padding:.4rem 1rem;text-align:center}
label{display:block;margin:.8rem 0 .3rem}input[type=text],input[type=password],input[type=search],select{
width:100%;box-sizing:border-box;padding:.55rem;border:1px solid #c8ccd4;border-radius:6px;font-size:1rem}
button{padding:.55rem 1.1rem;border-radius:6px;border:1px solid #3546c8;background:#3546c8;color:#fff;
font-size:.95rem;cursor:pointer;margin:.8rem .4rem 0 0}button.secondary{background:#fff;color:#3546c8}
ul.banks{list-style:none;padding:0}ul.banks button{width:100%;text-align:left;background:#fff;color:#1d2433;
border-color:#dde0e6}.error{color:#b00020}.note{font-size:.8rem;color:#5c6370}.ok{color:#1b7f3b}
.check{display:flex;gap:.6rem;align-items:flex-start;margin:.6rem 0}.check label{margin:0}
section{border-top:1px solid #eceef2;padding-top:.8rem;margin-top:.8rem}
"""


def layout(t: dict, lang: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{escape(lang)}"><head><meta charset="utf-8">'
        f'<meta name="viewport" content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
        f'<style>{STYLE}</style></head><body><div class="banner">{escape(t["sandbox_banner"])}</div>'
        f'<main><h1>{escape(title)}</h1>{body}</main></body></html>'
    )


def form(action_url: str, session_id: str, inner: str) -> str:
    return (
        f'<form method="post" action="{escape(action_url)}">'
        f'<input type="hidden" name="session" value="{escape(session_id)}">{inner}</form>'
    )


def button(action: str, label: str, secondary: bool = False, name: str = "action") -> str:
    css = ' class="secondary"' if secondary else ""
    return f'<button type="submit" name="{name}" value="{escape(action)}"{css}>{escape(label)}</button>'


def message(text: str | None, css: str = "error") -> str:
    return f'<p class="{css}">{escape(text)}</p>' if text else ""


def cancel_form(t: dict, action_url: str, session_id: str) -> str:
    return form(action_url, session_id, button("cancel", t["cancel"], secondary=True))


def bank_picker(t, lang, action_url, session_id, banks, search_text) -> str:
    search = (
        f'<label for="search">{escape(t["choose_bank"])}</label>'
        f'<input type="search" id="search" name="search" value="{escape(search_text)}" '
        f'placeholder="{escape(t["search_placeholder"])}">{button("search", t["search"], secondary=True)}'
    )
    items = "".join(
        f'<li><button type="submit" name="connector" value="{escape(bank.uuid)}">{escape(bank.name)}</button></li>'
        for bank in banks
    )
    listing = f'<ul class="banks">{items}</ul>' if banks else message(t["no_bank"], "note")
    body = (
        form(action_url, session_id, search)
        + form(action_url, session_id, f'<input type="hidden" name="action" value="pick">{listing}')
        + f'<p class="note">{escape(t["test_banks_note"])}</p>'
        + cancel_form(t, action_url, session_id)
    )
    return layout(t, lang, t["title"], body)


def credentials(t, lang, action_url, session_id, bank, ask_terms: bool, error: str | None, login: str) -> str:
    inputs = ""
    for field in bank.fields:
        name = escape(field["name"])
        if field["type"] == "list":
            options = "".join(
                f'<option value="{escape(item["value"])}">{escape(item["label"])}</option>' for item in field["values"]
            )
            control = f'<select id="{name}" name="{name}">{options}</select>'
        else:
            value = f' value="{escape(login)}"' if field["name"] == "login" else ""
            control = f'<input type="{escape(field["type"])}" id="{name}" name="{name}"{value} required>'
        inputs += f'<label for="{name}">{escape(field["label"])}</label>{control}'
    buttons = button("submit", t["continue"])
    if ask_terms:
        inputs += (
            f'<div class="check"><input type="checkbox" id="accept_terms" name="accept_terms" value="yes">'
            f'<label for="accept_terms">{escape(t["accept_terms"])}</label></div>'
        )
        buttons += button("decline_terms", t["decline_terms"], secondary=True)
    body = message(error) + form(action_url, session_id, inputs + buttons) + cancel_form(t, action_url, session_id)
    return layout(t, lang, t["credentials_for"].format(bank=bank.name), body)


def otp(t, lang, action_url, session_id, error: str | None) -> str:
    inner = (
        f'<p>{escape(t["otp_prompt"])}</p><label for="otp">{escape(t["otp_label"])}</label>'
        f'<input type="text" id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>'
        + button("submit", t["continue"])
    )
    return layout(
        t,
        lang,
        t["otp_title"],
        message(error) + form(action_url, session_id, inner) + cancel_form(t, action_url, session_id),
    )


def decoupled(t, lang, action_url, session_id) -> str:
    inner = f'<p>{escape(t["decoupled_prompt"])}</p>' + button("resume", t["decoupled_done"])
    return layout(
        t, lang, t["decoupled_title"], form(action_url, session_id, inner) + cancel_form(t, action_url, session_id)
    )


def account_choice(t, lang, action_url, session_id, accounts: list[tuple[int, object, bool]]) -> str:
    """accounts: (index, AccountSpec, allowed) triples; accounts the application may not see are greyed out."""
    rows = ""
    for index, spec, allowed in accounts:
        label = f"{spec.name} — {spec.iban or spec.number}"
        state = "checked" if allowed else 'disabled title="' + escape(t["not_allowed"]) + '"'
        note = "" if allowed else f' <span class="note">({escape(t["not_allowed"])})</span>'
        rows += (
            f'<div class="check"><input type="checkbox" id="account-{index}" name="account" value="{index}" '
            f'{state}><label for="account-{index}">{escape(label)}{note}</label></div>'
        )
    inner = f'<p>{escape(t["accounts_prompt"])}</p>{rows}' + button("submit", t["consent"])
    return layout(
        t, lang, t["accounts_title"], form(action_url, session_id, inner) + cancel_form(t, action_url, session_id)
    )


def another_bank(t, lang, action_url, session_id) -> str:
    inner = (
        f'<p>{escape(t["another_prompt"])}</p>'
        + button("another", t["add_another"], secondary=True)
        + button("finish", t["finish"])
    )
    return layout(t, lang, t["another_title"], form(action_url, session_id, inner))


def manage(
    t,
    lang,
    action_url,
    session_id,
    connections: list[tuple[dict, str, list[dict]]],
    notice: str | None,
    can_close: bool,
) -> str:
    """connections: (connection, bank name, accounts) triples."""
    sections = ""
    for conn, bank_name, accounts in connections:
        state = t["state_ok"] if conn["state"] is None else conn["state"]
        boxes = "".join(
            f'<div class="check"><input type="checkbox" id="acc-{item["id"]}" name="account" value="{item["id"]}"'
            f'{" checked" if item["disabled"] is None else ""}><label for="acc-{item["id"]}">'
            f'{escape(item["name"])} — {escape(item["iban"] or item["number"] or "")}</label></div>'
            for item in accounts
        )
        inner = (
            f'<input type="hidden" name="connection" value="{conn["id"]}">{boxes}'
            + button("save", t["save"])
            + button("delete", t["delete"], secondary=True)
        )
        sections += (
            f'<section><h2>{escape(bank_name)}</h2><p class="note">{escape(t["state"])}: '
            f'{escape(state)}</p>{form(action_url, session_id, inner)}</section>'
        )
    body = (
        message(notice, "ok")
        + f'<p>{escape(t["manage_prompt"])}</p>'
        + (sections or message(t["no_connection"], "note"))
    )
    if can_close:
        body += form(action_url, session_id, button("close", t["close"]))
    return layout(t, lang, t["manage_title"], body)


def error_page(t, lang, text: str) -> str:
    return layout(t, lang, t["error_title"], message(text))


def closed(t, lang) -> str:
    return layout(t, lang, t["manage_title"], message(t["closed"], "note"))
