"""SQLite databases for ``nl2sql``: a user's ``.sqlite`` files, or small ones made here from
a few schemas and seeded rows. Each becomes a :class:`Database`: its SQL dump (what a
sandbox job loads into an in-memory database) and the schema text shown to the model."""

from __future__ import annotations

import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from codesynth.errors import UserError
from codesynth.records import content_id

SUFFIXES = (".sqlite", ".sqlite3", ".db")
MAX_DUMP = 2_000_000  # characters of SQL: a database past this is not used


@dataclass(frozen=True)
class Database:
    id: str
    name: str
    dump: str  # the SQL script that rebuilds it
    schema: str  # CREATE statements and a few rows per table, for the prompt
    # table -> [(column, declared type, a value from the first row)], for template questions
    columns: tuple[tuple[str, tuple[tuple[str, str, object], ...]], ...] = ()


def database_files(path: Path) -> list[Path]:
    """The SQLite files a seeds path names (a file, or a folder's files, sorted), each
    checked now: a file that is not a readable database is an error naming it."""
    files = [path] if path.is_file() else sorted(
        p for p in path.iterdir() if p.suffix in SUFFIXES and p.is_file()) \
        if path.is_dir() else []
    for file in files:
        try:
            with sqlite3.connect(f"file:{file}?mode=ro", uri=True) as db:
                db.execute("SELECT name FROM sqlite_master").fetchall()
        except sqlite3.Error as exc:
            raise UserError(f"{file}: not a readable SQLite database ({exc})") from None
    return files


def describe(db: sqlite3.Connection, rows: int = 3) -> str:
    parts = []
    tables = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name "
                        "NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    for name, sql in tables:
        parts.append(sql.strip() + ";")
        quoted = '"' + name.replace('"', '""') + '"'
        sample = db.execute(f"SELECT * FROM {quoted} LIMIT {rows}").fetchall()
        parts += [f"-- {name} row: {tuple(r)!r}" for r in sample]
    return "\n".join(parts)


def columns_of(db: sqlite3.Connection) -> tuple[tuple[str, tuple[tuple[str, str, object],
                                                                   ...]], ...]:
    out = []
    for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name "
                              "NOT LIKE 'sqlite_%' ORDER BY name").fetchall():
        quoted = '"' + name.replace('"', '""') + '"'
        info = db.execute(f"PRAGMA table_info({quoted})").fetchall()
        first = db.execute(f"SELECT * FROM {quoted} LIMIT 1").fetchone() or ()
        values = list(first) + [None] * (len(info) - len(first))
        out.append((name, tuple((c[1], str(c[2]).upper(), v)
                                for c, v in zip(info, values, strict=True))))
    return tuple(out)


def template_questions(database: Database, rng: random.Random) -> str | None:
    """A question made from the schema; None for a database with no table."""
    made = template_question(database, rng)
    return made[0] if made is not None else None


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def template_question(database: Database, rng: random.Random) -> tuple[str, str] | None:
    """A question made from the schema (a count, an average, a maximum, a filter, a
    grouping), for models too small to ask good ones, with the query that answers it by
    construction (the reference a model's query is checked against); None for a database
    with no table."""
    if not database.columns:
        return None
    table, columns = rng.choice(database.columns)
    numbers = [(c, v) for c, kind, v in columns if kind in ("INTEGER", "REAL", "NUMERIC")
               and c != "id" and not c.endswith("_id") and isinstance(v, int | float)]
    texts = [c for c, kind, _ in columns if kind == "TEXT" and c not in ("name", "title")]
    t = _quoted(table)
    choices = [(f"How many rows does the {table} table have?", f"SELECT COUNT(*) FROM {t}")]
    if numbers:
        column, value = rng.choice(numbers)
        c = _quoted(column)
        choices += [(f"What is the average {column} in the {table} table?",
                     f"SELECT AVG({c}) FROM {t}"),
                    (f"What is the largest {column} in the {table} table?",
                     f"SELECT MAX({c}) FROM {t}"),
                    (f"How many rows of the {table} table have a {column} greater than "
                     f"{value}?", f"SELECT COUNT(*) FROM {t} WHERE {c} > {value!r}")]
    if texts:
        column = rng.choice(texts)
        c = _quoted(column)
        choices.append((f"How many rows of the {table} table are there for each {column}?",
                        f"SELECT {c}, COUNT(*) FROM {t} GROUP BY {c}"))
    return rng.choice(choices)


def tables(database: Database) -> str:
    """The schema in one line per table, ``name(column TYPE, ...)``: what a small model
    reads best (the CREATE statements invite it to write them back)."""
    return "\n".join(f"{table}({', '.join(f'{c} {kind}'.strip() for c, kind, _ in cols)})"
                     for table, cols in database.columns)


def from_file(path: Path) -> Database | None:
    """The database in ``path``, or None when its dump is too large."""
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        dump = "\n".join(db.iterdump())
        if len(dump) > MAX_DUMP:
            return None
        return Database(content_id("db", dump), path.name, dump, describe(db), columns_of(db))


FIRST = ("Ada", "Ben", "Cleo", "Dev", "Eva", "Finn", "Gus", "Hana", "Ivo", "Jun", "Kai", "Lea")
CITIES = ("Lyon", "Oslo", "Porto", "Quito", "Riga", "Turin")
CATEGORIES = ("books", "games", "tools", "toys")


def _company(db: sqlite3.Connection, rng: random.Random) -> None:
    db.execute("CREATE TABLE departments (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "city TEXT NOT NULL)")
    db.execute("CREATE TABLE employees (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "department_id INTEGER REFERENCES departments(id), salary INTEGER NOT NULL, "
               "hired INTEGER NOT NULL)")
    names = ("Sales", "Research", "Support", "Legal")
    for i, name in enumerate(names, 1):
        db.execute("INSERT INTO departments VALUES (?, ?, ?)", (i, name, rng.choice(CITIES)))
    for i in range(1, rng.randint(8, 14)):
        db.execute("INSERT INTO employees VALUES (?, ?, ?, ?, ?)",
                   (i, f"{rng.choice(FIRST)} {chr(65 + i)}.", rng.randint(1, len(names)),
                    rng.randrange(30_000, 120_000, 500), rng.randint(2010, 2024)))


def _shop(db: sqlite3.Connection, rng: random.Random) -> None:
    db.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "country TEXT NOT NULL)")
    db.execute("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "category TEXT NOT NULL, price REAL NOT NULL)")
    db.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES "
               "customers(id), product_id INTEGER REFERENCES products(id), quantity INTEGER "
               "NOT NULL, year INTEGER NOT NULL)")
    customers = rng.randint(4, 7)
    for i in range(1, customers + 1):
        db.execute("INSERT INTO customers VALUES (?, ?, ?)",
                   (i, rng.choice(FIRST), rng.choice(("FR", "NO", "PT", "EC"))))
    products = rng.randint(4, 8)
    for i in range(1, products + 1):
        db.execute("INSERT INTO products VALUES (?, ?, ?, ?)",
                   (i, f"item-{i}", rng.choice(CATEGORIES), round(rng.uniform(2, 90), 2)))
    for i in range(1, rng.randint(8, 16)):
        db.execute("INSERT INTO orders VALUES (?, ?, ?, ?, ?)",
                   (i, rng.randint(1, customers), rng.randint(1, products), rng.randint(1, 5),
                    rng.randint(2021, 2024)))


def _library(db: sqlite3.Connection, rng: random.Random) -> None:
    db.execute("CREATE TABLE authors (id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
               "born INTEGER NOT NULL)")
    db.execute("CREATE TABLE books (id INTEGER PRIMARY KEY, title TEXT NOT NULL, author_id "
               "INTEGER REFERENCES authors(id), year INTEGER NOT NULL, pages INTEGER NOT NULL)")
    authors = rng.randint(3, 5)
    for i in range(1, authors + 1):
        db.execute("INSERT INTO authors VALUES (?, ?, ?)",
                   (i, f"{rng.choice(FIRST)} {rng.choice(FIRST)}son", rng.randint(1900, 1990)))
    for i in range(1, rng.randint(6, 12)):
        db.execute("INSERT INTO books VALUES (?, ?, ?, ?, ?)",
                   (i, f"Book {i}", rng.randint(1, authors), rng.randint(1950, 2023),
                    rng.randint(90, 900)))


SCHEMAS = {"company": _company, "shop": _shop, "library": _library}


def generated(index: int, rng: random.Random) -> Database:
    """Database ``index``: the schemas in turn, rows from ``rng``."""
    name = list(SCHEMAS)[index % len(SCHEMAS)]
    db = sqlite3.connect(":memory:")
    try:
        SCHEMAS[name](db, rng)
        db.commit()
        dump = "\n".join(db.iterdump())
        return Database(content_id("db", dump), f"{name}-{index}", dump, describe(db),
                        columns_of(db))
    finally:
        db.close()
