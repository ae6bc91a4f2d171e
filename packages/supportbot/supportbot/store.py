"""The embedded SQLite store: orders and the FAQ knowledge base, built from packaged data files.

Retrieval is SQLite FTS5 with BM25 ranking: a real lexical retriever that needs no API call, so
retrieval is deterministic and free to replay. The tutorial embeds questions instead; any real
method serves, as long as the RETRIEVER span carries what was retrieved.
"""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
_WORD = re.compile(r"[A-Za-z0-9]+")
#: Words that say nothing about which FAQ entry is meant; kept out of the FTS query so that
#: "how do I ..." does not match every entry equally.
_STOPWORDS = frozenset(
    """a an and are can could do does for from have how i is it me my of on or our please the
    to what when where which who why will with would you your yes no hi hello get got any
    there some something help know want need tell""".split()
)


@dataclass(frozen=True)
class FaqHit:
    """One retrieved FAQ entry with its BM25 score (higher is better)."""

    id: str
    question: str
    answer: str
    category: str
    score: float

    @property
    def content(self) -> str:
        return f"Q: {self.question}\nA: {self.answer}"


class Store:
    """Orders and FAQ in one SQLite database (in memory unless a path is given)."""

    def __init__(
        self,
        path: str | Path = ":memory:",
        data_dir: Path = DATA_DIR,
        faq_file: Path | None = None,
        orders_file: Path | None = None,
    ) -> None:
        """``faq_file`` and ``orders_file`` replace the packaged knowledge base and orders (your
        own data, or an experiment)."""
        self._db = sqlite3.connect(str(path), check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._load(orders_file or data_dir / "orders.json", faq_file or data_dir / "faq.json")

    def _load(self, orders_file: Path, faq_file: Path) -> None:
        orders = _read_json(orders_file)
        faq = _read_json(faq_file)
        with self._db:
            self._db.executescript(
                """
                DROP TABLE IF EXISTS orders;
                DROP TABLE IF EXISTS faq;
                CREATE TABLE orders (order_id TEXT PRIMARY KEY, status TEXT NOT NULL,
                    carrier TEXT, tracking_number TEXT, eta TEXT);
                CREATE VIRTUAL TABLE faq USING fts5(id UNINDEXED, question, answer,
                    category UNINDEXED, tokenize='porter unicode61');
                """
            )
            self._db.executemany(
                "INSERT INTO orders VALUES (:order_id, :status, :carrier, :tracking_number, :eta)",
                orders,
            )
            self._db.executemany("INSERT INTO faq VALUES (:id, :question, :answer, :category)", faq)

    def lookup_order(self, order_id: str) -> dict[str, Any] | None:
        row = self._db.execute(
            "SELECT * FROM orders WHERE order_id = ?", (order_id.upper(),)
        ).fetchone()
        return dict(row) if row else None

    def search_faq(self, query: str, top_k: int = 2) -> list[FaqHit]:
        """The ``top_k`` FAQ entries that best match ``query``, for any query (as the tutorial's
        embedding search does): BM25 ranks the entries sharing words with it; when fewer than
        ``top_k`` do, the rest are filled in by character-trigram similarity (score 0: no
        shared word), so an off-topic question retrieves wrong entries rather than none."""
        terms = [
            w for w in map(str.lower, _WORD.findall(query)) if len(w) > 1 and w not in _STOPWORDS
        ]
        rows = []
        if terms:
            match = " OR ".join(f'"{term}"' for term in dict.fromkeys(terms))
            rows = self._db.execute(
                "SELECT id, question, answer, category, bm25(faq, 0.0, 2.0, 1.0, 0.0) AS rank "
                "FROM faq WHERE faq MATCH ? ORDER BY rank LIMIT ?",
                (match, top_k),
            ).fetchall()
        hits = [
            FaqHit(r["id"], r["question"], r["answer"], r["category"], round(-r["rank"], 4))
            for r in rows
        ]
        if len(hits) < top_k:
            found = {h.id for h in hits}
            rest = [e for e in self.faq_entries() if e["id"] not in found]
            rest.sort(key=lambda e: (-_trigram_similarity(query, e["question"]), e["id"]))
            hits += [
                FaqHit(e["id"], e["question"], e["answer"], e["category"], 0.0)
                for e in rest[: top_k - len(hits)]
            ]
        return hits

    def faq_entries(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.execute("SELECT id, question, answer, category FROM faq")]


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RuntimeError(f"Cannot load SupportBot data file {path}: {exc}") from exc


def _trigrams(text: str) -> set[str]:
    padded = f"  {' '.join(_WORD.findall(text.lower()))} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def _trigram_similarity(a: str, b: str) -> float:
    """Jaccard similarity of the character trigrams of two texts (0 to 1)."""
    x, y = _trigrams(a), _trigrams(b)
    return len(x & y) / len(x | y) if x | y else 0.0
