"""The packaged data files and the SQLite/FTS5 store built from them."""

import json

import pytest
from supportbot.store import DATA_DIR, FaqHit, Store

ALL_STATUSES = {
    "processing",
    "shipped",
    "out_for_delivery",
    "delivered",
    "cancelled",
    "returned",
    "on_hold",
}
#: The tutorial's three orders and their statuses.
TUTORIAL_ORDERS = {"ORD-12345": "shipped", "ORD-67890": "processing", "ORD-11111": "delivered"}
#: The tutorial's five FAQ entries: id and a word its question must contain.
TUTORIAL_FAQ = {
    "faq-001": "password",
    "faq-002": "refund",
    "faq-003": "subscription",
    "faq-004": "payment",
    "faq-005": "profile",
}


@pytest.fixture(scope="module")
def store():
    return Store()


@pytest.fixture(scope="module")
def orders():
    return json.loads((DATA_DIR / "orders.json").read_text(encoding="utf-8"))


def test_orders_file_has_at_least_15_orders_covering_every_status(orders):
    assert len(orders) >= 15
    assert {o["status"] for o in orders} == ALL_STATUSES
    ids = [o["order_id"] for o in orders]
    assert len(ids) == len(set(ids))


def test_faq_has_at_least_20_entries_with_unique_ids(store):
    entries = store.faq_entries()
    assert len(entries) >= 20
    ids = [e["id"] for e in entries]
    assert len(ids) == len(set(ids))
    assert all(e["question"] and e["answer"] and e["category"] for e in entries)


@pytest.mark.parametrize(("order_id", "status"), sorted(TUTORIAL_ORDERS.items()))
def test_tutorial_orders_are_present(store, order_id, status):
    order = store.lookup_order(order_id)
    assert order is not None
    assert order["order_id"] == order_id
    assert order["status"] == status
    assert set(order) == {"order_id", "status", "carrier", "tracking_number", "eta"}


def test_tutorial_faq_entries_are_present(store):
    entries = {e["id"]: e for e in store.faq_entries()}
    for faq_id, word in TUTORIAL_FAQ.items():
        assert faq_id in entries
        assert word in entries[faq_id]["question"].lower()


def test_tutorial_missing_order_is_absent(store):
    assert store.lookup_order("ORD-99999") is None


@pytest.mark.parametrize("spelling", ["ORD-12345", "ord-12345", "Ord-12345", "oRd-12345"])
def test_lookup_is_case_insensitive(store, spelling):
    order = store.lookup_order(spelling)
    assert order is not None
    assert order["order_id"] == "ORD-12345"


def test_lookup_of_unknown_or_malformed_id_is_none(store):
    assert store.lookup_order("ORD-00000") is None
    assert store.lookup_order("") is None
    assert store.lookup_order("12345") is None


def test_every_order_in_the_data_file_can_be_looked_up(store, orders):
    for order in orders:
        assert store.lookup_order(order["order_id"].lower()) == order


@pytest.mark.parametrize("top_k", [1, 2, 3, 5])
def test_search_respects_top_k(store, top_k):
    # "shipping" and "order" are in many entries, so there are more hits than any top_k here.
    hits = store.search_faq("shipping order return refund payment", top_k=top_k)
    assert len(hits) == top_k
    assert all(isinstance(h, FaqHit) for h in hits)


def test_search_hits_are_ranked_best_first(store):
    hits = store.search_faq("shipping order return refund payment", top_k=10)
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)
    assert len({h.id for h in hits}) == len(hits)


@pytest.mark.parametrize(
    ("query", "faq_id"),
    [("How can I get a refund?", "faq-002"), ("I forgot my password", "faq-001")],
)
def test_tutorial_queries_retrieve_their_entry_in_top_2(store, query, faq_id):
    hits = store.search_faq(query, top_k=2)
    assert faq_id in [h.id for h in hits]


def test_upgrade_to_premium_retrieves_nothing_relevant(store):
    # The knowledge base has no entry about plans or upgrades at all...
    for entry in store.faq_entries():
        text = f"{entry['question']} {entry['answer']}".lower()
        assert "premium" not in text
        assert "upgrade" not in text
    # ... so nothing retrieved can be about them.
    hits = store.search_faq("How do I upgrade to premium?", top_k=2)
    for hit in hits:
        assert "premium" not in hit.content.lower()
        assert "upgrade" not in hit.content.lower()


@pytest.mark.parametrize("query", ["how do I", "Can you help me with something?", "?!", "a I"])
def test_any_query_retrieves_its_top_entries(store, query):
    # As the tutorial's embedding search: an off-topic or vague question retrieves the closest
    # entries (wrong ones), never nothing; they share no word with it, so they score 0.
    hits = store.search_faq(query, top_k=2)
    assert len(hits) == 2 and all(h.score == 0.0 for h in hits)
    assert hits == store.search_faq(query, top_k=2)  # deterministic


def test_a_word_match_comes_before_the_filled_in_entries(store):
    first, second = store.search_faq("I forgot my password", top_k=2)
    assert first.id == "faq-001" and first.score > 0 and second.score == 0.0


def test_hit_content_has_question_and_answer(store):
    (hit,) = store.search_faq("I forgot my password", top_k=1)
    assert hit.content == f"Q: {hit.question}\nA: {hit.answer}"
    assert hit.score > 0


def test_query_with_fts_syntax_is_taken_literally(store):
    # Quotes, operators and column filters must not break the MATCH expression.
    hits = store.search_faq('password" OR question:refund NEAR(* -', top_k=2)
    assert hits
    assert hits[0].id == "faq-001"


def test_missing_data_file_is_a_clear_error(tmp_path):
    with pytest.raises(RuntimeError, match=r"orders\.json"):
        Store(data_dir=tmp_path)
