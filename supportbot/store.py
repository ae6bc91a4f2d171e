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
        """The ``top_k`` FAQ entries that best match ``query`` by BM25 (may be fewer, or none)."""
        terms = [
            w for w in map(str.lower, _WORD.findall(query)) if len(w) > 1 and w not in _STOPWORDS
        ]
        if not terms:
            return []
        match = " OR ".join(f'"{term}"' for term in dict.fromkeys(terms))
        rows = self._db.execute(
            "SELECT id, question, answer, category, bm25(faq, 0.0, 2.0, 1.0, 0.0) AS rank "
            "FROM faq WHERE faq MATCH ? ORDER BY rank LIMIT ?",
            (match, top_k),
        ).fetchall()
        return [
            FaqHit(r["id"], r["question"], r["answer"], r["category"], round(-r["rank"], 4))
            for r in rows
        ]

    def faq_entries(self) -> list[dict[str, Any]]:
        return [dict(r) for r in self._db.execute("SELECT id, question, answer, category FROM faq")]


def _read_json(path: Path) -> list[dict[str, Any]]:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise RuntimeError(f"Cannot load SupportBot data file {path}: {exc}") from exc
