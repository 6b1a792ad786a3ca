-- trustfund ledger schema, SQLite.
--
-- Every ledger table is keyed by estate first, so a city-scale deployment can
-- distribute rows by estate (docs/SCALING.md); no index leads with a random
-- hash column.
--
-- Append-only tables: estates, entries, postings, tree_nodes, checkpoints,
-- units. The database itself refuses UPDATE, DELETE and replacing inserts (INSERT OR REPLACE, upserts) on them, so no
-- code path (and no stray SQL session) can rewrite history.
-- Derived, mutable tables: balances and monthly_totals, kept in the same
-- transaction as each append and re-checked by `trustfund audit`.

CREATE TABLE estates (
    slug        TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL,
    origin      TEXT    NOT NULL UNIQUE,
    created_at  TEXT    NOT NULL
);

-- One row per entry; body holds the exact canonical bytes that are hashed.
CREATE TABLE entries (
    estate  TEXT    NOT NULL REFERENCES estates (slug),
    seq     INTEGER  NOT NULL CHECK (seq >= 0),
    kind    TEXT    NOT NULL,
    time    TEXT    NOT NULL,
    period  TEXT    NOT NULL,
    hash    BLOB   NOT NULL CHECK (length(hash) = 32),
    prev    BLOB   NOT NULL CHECK (length(prev) = 32),
    body    TEXT    NOT NULL,
    PRIMARY KEY (estate, seq)
);
CREATE INDEX entries_by_kind ON entries (estate, kind, seq);
CREATE INDEX entries_by_period ON entries (estate, period, seq);

-- The postings of each money entry, exactly as in its bytes.
CREATE TABLE postings (
    estate      TEXT    NOT NULL,
    seq         INTEGER  NOT NULL,
    n           INTEGER  NOT NULL CHECK (n >= 0),
    account     TEXT    NOT NULL,
    debit_fen   INTEGER  NOT NULL CHECK (debit_fen >= 0),
    credit_fen  INTEGER  NOT NULL CHECK (credit_fen >= 0),
    PRIMARY KEY (estate, seq, n),
    FOREIGN KEY (estate, seq) REFERENCES entries (estate, seq),
    CHECK ((debit_fen = 0) <> (credit_fen = 0))
);
CREATE INDEX postings_by_account ON postings (estate, account, seq);

-- Complete RFC 9162 subtrees: level L, index i covers leaves [i*2^L, (i+1)*2^L).
CREATE TABLE tree_nodes (
    estate  TEXT    NOT NULL,
    level   INTEGER  NOT NULL CHECK (level >= 0 AND level < 64),
    idx     INTEGER  NOT NULL CHECK (idx >= 0),
    hash    BLOB   NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (estate, level, idx)
);

-- Every checkpoint the log key signed, as the signed note text.
CREATE TABLE checkpoints (
    estate     TEXT    NOT NULL REFERENCES estates (slug),
    tree_size  INTEGER  NOT NULL CHECK (tree_size > 0),
    root       BLOB   NOT NULL CHECK (length(root) = 32),
    note       TEXT    NOT NULL,
    signed_at  TEXT    NOT NULL,
    PRIMARY KEY (estate, tree_size)
);

-- Private to staff and the unit's owner: which unit a commitment stands for.
CREATE TABLE units (
    estate      TEXT    NOT NULL REFERENCES estates (slug),
    unit_id     TEXT    NOT NULL,
    commitment  TEXT    NOT NULL,
    secret      TEXT    NOT NULL,
    area        TEXT    NOT NULL,
    seq         INTEGER  NOT NULL,
    PRIMARY KEY (estate, unit_id),
    UNIQUE (estate, commitment)
);

-- Balance per account as debit minus credit, in fen. The trust fund's own
-- accounts can never go negative: the ledger refuses it, and so does this.
CREATE TABLE balances (
    estate       TEXT    NOT NULL REFERENCES estates (slug),
    account      TEXT    NOT NULL,
    balance_fen  INTEGER  NOT NULL,
    last_seq     INTEGER  NOT NULL,
    PRIMARY KEY (estate, account),
    CHECK (account NOT LIKE 'fund:%' OR balance_fen >= 0)
);

-- Debits and credits per account per month (estate time zone), for pages
-- that must not scan the ledger.
CREATE TABLE monthly_totals (
    estate      TEXT    NOT NULL REFERENCES estates (slug),
    period      TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    debit_fen   INTEGER  NOT NULL CHECK (debit_fen >= 0),
    credit_fen  INTEGER  NOT NULL CHECK (credit_fen >= 0),
    PRIMARY KEY (estate, period, account)
);

-- Append-only guards. The BEFORE INSERT guard catches INSERT OR REPLACE and
-- upserts, whose implicit delete fires no DELETE trigger unless
-- recursive_triggers is on.
CREATE TRIGGER estates_no_update BEFORE UPDATE ON estates
BEGIN SELECT RAISE(ABORT, 'trustfund: estates is append-only; UPDATE refused'); END;
CREATE TRIGGER estates_no_delete BEFORE DELETE ON estates
BEGIN SELECT RAISE(ABORT, 'trustfund: estates is append-only; DELETE refused'); END;
CREATE TRIGGER estates_no_replace BEFORE INSERT ON estates
WHEN EXISTS (SELECT 1 FROM estates WHERE slug = NEW.slug)
BEGIN SELECT RAISE(ABORT, 'trustfund: estates is append-only; replacing a row refused'); END;
CREATE TRIGGER entries_no_update BEFORE UPDATE ON entries
BEGIN SELECT RAISE(ABORT, 'trustfund: entries is append-only; UPDATE refused'); END;
CREATE TRIGGER entries_no_delete BEFORE DELETE ON entries
BEGIN SELECT RAISE(ABORT, 'trustfund: entries is append-only; DELETE refused'); END;
CREATE TRIGGER entries_no_replace BEFORE INSERT ON entries
WHEN EXISTS (SELECT 1 FROM entries WHERE estate = NEW.estate AND seq = NEW.seq)
BEGIN SELECT RAISE(ABORT, 'trustfund: entries is append-only; replacing a row refused'); END;
CREATE TRIGGER postings_no_update BEFORE UPDATE ON postings
BEGIN SELECT RAISE(ABORT, 'trustfund: postings is append-only; UPDATE refused'); END;
CREATE TRIGGER postings_no_delete BEFORE DELETE ON postings
BEGIN SELECT RAISE(ABORT, 'trustfund: postings is append-only; DELETE refused'); END;
CREATE TRIGGER postings_no_replace BEFORE INSERT ON postings
WHEN EXISTS (SELECT 1 FROM postings WHERE estate = NEW.estate AND seq = NEW.seq AND n = NEW.n)
BEGIN SELECT RAISE(ABORT, 'trustfund: postings is append-only; replacing a row refused'); END;
CREATE TRIGGER tree_nodes_no_update BEFORE UPDATE ON tree_nodes
BEGIN SELECT RAISE(ABORT, 'trustfund: tree_nodes is append-only; UPDATE refused'); END;
CREATE TRIGGER tree_nodes_no_delete BEFORE DELETE ON tree_nodes
BEGIN SELECT RAISE(ABORT, 'trustfund: tree_nodes is append-only; DELETE refused'); END;
CREATE TRIGGER tree_nodes_no_replace BEFORE INSERT ON tree_nodes
WHEN EXISTS (SELECT 1 FROM tree_nodes WHERE estate = NEW.estate AND level = NEW.level AND idx = NEW.idx)
BEGIN SELECT RAISE(ABORT, 'trustfund: tree_nodes is append-only; replacing a row refused'); END;
CREATE TRIGGER checkpoints_no_update BEFORE UPDATE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'trustfund: checkpoints is append-only; UPDATE refused'); END;
CREATE TRIGGER checkpoints_no_delete BEFORE DELETE ON checkpoints
BEGIN SELECT RAISE(ABORT, 'trustfund: checkpoints is append-only; DELETE refused'); END;
CREATE TRIGGER checkpoints_no_replace BEFORE INSERT ON checkpoints
WHEN EXISTS (SELECT 1 FROM checkpoints WHERE estate = NEW.estate AND tree_size = NEW.tree_size)
BEGIN SELECT RAISE(ABORT, 'trustfund: checkpoints is append-only; replacing a row refused'); END;
CREATE TRIGGER units_no_update BEFORE UPDATE ON units
BEGIN SELECT RAISE(ABORT, 'trustfund: units is append-only; UPDATE refused'); END;
CREATE TRIGGER units_no_delete BEFORE DELETE ON units
BEGIN SELECT RAISE(ABORT, 'trustfund: units is append-only; DELETE refused'); END;
CREATE TRIGGER units_no_replace BEFORE INSERT ON units
WHEN EXISTS (SELECT 1 FROM units WHERE estate = NEW.estate AND unit_id = NEW.unit_id)
BEGIN SELECT RAISE(ABORT, 'trustfund: units is append-only; replacing a row refused'); END;
