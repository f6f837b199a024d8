"""Transaction listing: required limit, filters, keyset paging over 10,000+ rows, last_update, pending and deletions."""

import base64
import json
import re

import requests


def listing(sandbox, user, path="/users/me/transactions", **params):
    response = requests.get(sandbox.api_url + path, params=params, headers=user["headers"])
    assert response.status_code == 200, response.text
    return response.json()


def follow_all(sandbox, user, first_url, between_pages=None):
    """Every row reached by following _links.next until it is null."""
    rows, url, page = [], first_url, 0
    while url:
        data = requests.get(url, headers=user["headers"]).json()
        rows += data["transactions"]
        url = data["_links"]["next"] and data["_links"]["next"]["href"]
        page += 1
        if between_pages:
            between_pages(page)
    return rows


def test_limit_is_required_and_bounded(sandbox, sandbox_user, sandbox_connection):
    url = sandbox.api_url + "/users/me/transactions"
    missing = requests.get(url, headers=sandbox_user["headers"])
    assert missing.status_code == 400 and missing.json()["code"] == "missingParameter"
    too_big = requests.get(url + "?limit=1001", headers=sandbox_user["headers"])
    assert too_big.status_code == 400 and too_big.json()["code"] == "invalidValue"


def test_list_shape_and_amount_format(sandbox, sandbox_user, sandbox_connection):
    response = requests.get(sandbox.api_url + "/users/me/transactions?limit=50", headers=sandbox_user["headers"])
    data = response.json()
    assert set(data) >= {
        "transactions",
        "first_date",
        "last_date",
        "result_min_date",
        "result_max_date",
        "total",
        "_links",
    }
    assert data["_links"]["prev"] is None and data["_links"]["self"]["href"].endswith("limit=50")
    assert re.search(r'"value": -?\d+\.\d\d[,}]', response.text), "amounts are numbers with two decimals"
    row = data["transactions"][0]
    for key in (
        "id",
        "id_account",
        "date",
        "rdate",
        "vdate",
        "application_date",
        "value",
        "type",
        "original_wording",
        "simplified_wording",
        "wording",
        "coming",
        "last_update",
        "deleted",
        "counterparty",
        "original_currency",
        "date_scraped",
    ):
        assert key in row, key


def test_paging_over_ten_thousand_rows_is_exact_while_rows_arrive(sandbox, sandbox_user, sandbox_connection):
    account_id = sandbox_connection["accounts"][0]["id"]
    sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 10000, "date": "2024-01-15"})
    expected = listing(sandbox, sandbox_user, limit=1)["total"]
    assert expected > 10000
    added = []

    def add_rows(page):
        added.extend(sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 3})["ids"])

    rows = follow_all(
        sandbox, sandbox_user, sandbox.api_url + "/users/me/transactions?limit=1000", between_pages=add_rows
    )
    ids = [row["id"] for row in rows]
    assert len(ids) == len(set(ids)) == expected
    assert not set(added) & set(ids), "rows dated after the cursor are not mixed into later pages"
    keys = [(row["date"], -row["id"]) for row in rows]
    assert keys == sorted(keys, reverse=True)


def test_cursor_is_base64_json_like_powens_example(sandbox, sandbox_user, sandbox_connection):
    data = listing(sandbox, sandbox_user, limit=5)
    cursor = re.search(r"cursor=([^&]+)", data["_links"]["next"]["href"]).group(1)
    decoded = json.loads(base64.urlsafe_b64decode(requests.utils.unquote(cursor)))
    last = data["transactions"][-1]
    assert decoded == [{"op": "lt", "value": last["date"]}, {"op": "gt", "value": last["id"]}]
    second = requests.get(data["_links"]["next"]["href"], headers=sandbox_user["headers"]).json()
    back = requests.get(second["_links"]["prev"]["href"], headers=sandbox_user["headers"]).json()
    assert [row["id"] for row in back["transactions"]] == [row["id"] for row in data["transactions"]]
    bad = requests.get(
        sandbox.api_url + "/users/me/transactions?limit=5&cursor=nonsense", headers=sandbox_user["headers"]
    )
    assert bad.status_code == 400


def test_date_filters_accept_day_month_year_inclusive(sandbox, sandbox_user, sandbox_connection):
    everything = follow_all(sandbox, sandbox_user, sandbox.api_url + "/users/me/transactions?limit=1000")
    month = everything[len(everything) // 2]["date"][:7]
    in_month = listing(sandbox, sandbox_user, limit=1000, filter="date", min_date=month, max_date=month)
    assert in_month["transactions"]
    assert {row["date"][:7] for row in in_month["transactions"]} == {month}
    assert in_month["total"] == sum(row["date"][:7] == month for row in everything)
    day = in_month["transactions"][0]["date"]
    same_day = listing(sandbox, sandbox_user, limit=1000, filter="date", min_date=day, max_date=day)
    assert {row["date"] for row in same_day["transactions"]} == {day}
    year = listing(sandbox, sandbox_user, limit=1, min_date=day[:4], max_date=day[:4])
    assert year["total"] >= in_month["total"]


def test_last_update_returns_only_rows_changed_strictly_after(sandbox, sandbox_user, sandbox_connection):
    account_id = sandbox_connection["accounts"][0]["id"]
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 60})
    cursor = sandbox.control("GET", "/_sandbox/clock")["now"]
    assert listing(sandbox, sandbox_user, limit=100, last_update=cursor, all="")["transactions"] == []
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 5})
    new_ids = sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 2})["ids"]
    changed = listing(sandbox, sandbox_user, limit=100, last_update=cursor, all="")["transactions"]
    assert sorted(row["id"] for row in changed) == sorted(new_ids)
    assert all(row["last_update"] > cursor for row in changed)


def test_pending_booked_in_place_keeps_the_id(sandbox, sandbox_user, sandbox_connection):
    account_id = sandbox_connection["accounts"][0]["id"]
    pending_id = sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 1, "coming": True})[
        "ids"
    ][0]
    row = requests.get(sandbox.api_url + f"/users/me/transactions/{pending_id}", headers=sandbox_user["headers"]).json()
    assert row["coming"] is True
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 2})
    booked = sandbox.control("POST", f"/_sandbox/transactions/{pending_id}/book", {"keep_id": True})
    assert booked["id"] == pending_id
    row = requests.get(sandbox.api_url + f"/users/me/transactions/{pending_id}", headers=sandbox_user["headers"]).json()
    assert row["coming"] is False and row["deleted"] is None and row["last_update"] > row["date_scraped"]


def test_pending_replaced_by_new_id_marks_old_one_deleted(sandbox, sandbox_user, sandbox_connection):
    account_id = sandbox_connection["accounts"][0]["id"]
    pending_id = sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 1, "coming": True})[
        "ids"
    ][0]
    new_id = sandbox.control("POST", f"/_sandbox/transactions/{pending_id}/book", {"keep_id": False})["id"]
    assert new_id != pending_id
    visible = {
        row["id"] for row in follow_all(sandbox, sandbox_user, sandbox.api_url + "/users/me/transactions?limit=1000")
    }
    assert new_id in visible and pending_id not in visible
    deleted = listing(sandbox, sandbox_user, limit=1000, deleted="true")["transactions"]
    assert [row["id"] for row in deleted] == [pending_id] and deleted[0]["deleted"]
    with_all = {
        row["id"]
        for row in follow_all(sandbox, sandbox_user, sandbox.api_url + "/users/me/transactions?limit=1000&all")
    }
    assert {new_id, pending_id} <= with_all


def test_bank_side_deletion_is_hidden_but_readable_with_all(sandbox, sandbox_user, sandbox_connection):
    victim = listing(sandbox, sandbox_user, limit=1)["transactions"][0]
    sandbox.control("POST", f"/_sandbox/transactions/{victim['id']}/delete")
    url = sandbox.api_url + f"/users/me/transactions/{victim['id']}"
    assert requests.get(url, headers=sandbox_user["headers"]).status_code == 404
    assert requests.get(url + "?all", headers=sandbox_user["headers"]).json()["deleted"] is not None


def test_sync_after_days_books_matured_pending_rows(sandbox, sandbox_user, sandbox_connection):
    account_id = sandbox_connection["accounts"][0]["id"]
    sandbox.control("POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 12, "coming": True})
    pending = [
        row
        for row in follow_all(sandbox, sandbox_user, sandbox.api_url + "/users/me/transactions?limit=1000")
        if row["coming"]
    ]
    assert len(pending) >= 12
    sandbox.control("POST", "/_sandbox/clock", {"advance_seconds": 5 * 86400})
    sandbox.control("POST", f"/_sandbox/connections/{sandbox_connection['id']}/sync")
    after = {
        row["id"]: row
        for row in follow_all(sandbox, sandbox_user, sandbox.api_url + "/users/me/transactions?limit=1000&all")
    }
    outcomes = set()
    for row in pending:
        now = after[row["id"]]
        assert now["coming"] is False or now["deleted"] is not None
        outcomes.add("replaced_or_cancelled" if now["deleted"] else "kept_id")
    assert outcomes == {"replaced_or_cancelled", "kept_id"}, "the bank books both ways"


def test_a_balance_the_listing_does_not_explain_leaves_the_rows_as_they_are(sandbox, sandbox_user, sandbox_connection):
    account = sandbox_connection["accounts"][0]
    before = listing(sandbox, sandbox_user, f"/users/me/accounts/{account['id']}/transactions", limit=1000)
    changed = sandbox.control("POST", f"/_sandbox/accounts/{account['id']}/balance", {"balance": "1234.56"})
    assert changed["balance"] == 1234.56
    read = requests.get(f"{sandbox.api_url}/users/me/accounts/{account['id']}", headers=sandbox_user["headers"])
    assert read.json()["balance"] == 1234.56
    after = listing(sandbox, sandbox_user, f"/users/me/accounts/{account['id']}/transactions", limit=1000)
    assert after["transactions"] == before["transactions"]


def test_a_bulk_history_is_spread_evenly_over_the_days_asked(sandbox, sandbox_user, sandbox_connection):
    account_id = sandbox_connection["accounts"][0]["id"]
    added = sandbox.control(
        "POST", f"/_sandbox/accounts/{account_id}/transactions", {"count": 10, "date": "2024-01-15", "days": 4}
    )["ids"]
    rows = listing(
        sandbox, sandbox_user, f"/users/me/accounts/{account_id}/transactions", limit=1000, max_date="2024-01-31"
    )["transactions"]
    per_day = {}
    for row in rows:
        per_day[row["date"]] = per_day.get(row["date"], 0) + 1
    assert sorted(added) == sorted(row["id"] for row in rows)
    assert per_day == {"2024-01-15": 3, "2024-01-14": 3, "2024-01-13": 2, "2024-01-12": 2}
    refused = requests.post(
        f"{sandbox.base_url}/_sandbox/accounts/{account_id}/transactions", json={"count": 1, "days": 0}, timeout=10
    )
    assert refused.status_code == 400
