-- trustfund ledger schema, PostgreSQL.
--
-- Every ledger table is keyed by estate first, so a city-scale deployment can
-- distribute rows by estate (docs/SCALING.md); no index leads with a random
-- hash column.
--
-- Append-only tables: estates, entries, postings, tree_nodes, checkpoints,
-- units. The database itself refuses UPDATE, DELETE and TRUNCATE on them, so no
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
    seq     BIGINT  NOT NULL CHECK (seq >= 0),
    kind    TEXT    NOT NULL,
    time    TEXT    NOT NULL,
    period  TEXT    NOT NULL,
    hash    BYTEA   NOT NULL CHECK (octet_length(hash) = 32),
    prev    BYTEA   NOT NULL CHECK (octet_length(prev) = 32),
    body    TEXT    NOT NULL,
    PRIMARY KEY (estate, seq)
);
CREATE INDEX entries_by_kind ON entries (estate, kind, seq);
CREATE INDEX entries_by_period ON entries (estate, period, seq);

-- The postings of each money entry, exactly as in its bytes.
CREATE TABLE postings (
    estate      TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    n           BIGINT  NOT NULL CHECK (n >= 0),
    account     TEXT    NOT NULL,
    debit_fen   BIGINT  NOT NULL CHECK (debit_fen >= 0),
    credit_fen  BIGINT  NOT NULL CHECK (credit_fen >= 0),
    PRIMARY KEY (estate, seq, n),
    FOREIGN KEY (estate, seq) REFERENCES entries (estate, seq),
    CHECK ((debit_fen = 0) <> (credit_fen = 0))
);
CREATE INDEX postings_by_account ON postings (estate, account, seq);

-- Complete RFC 9162 subtrees: level L, index i covers leaves [i*2^L, (i+1)*2^L).
CREATE TABLE tree_nodes (
    estate  TEXT    NOT NULL,
    level   BIGINT  NOT NULL CHECK (level >= 0 AND level < 64),
    idx     BIGINT  NOT NULL CHECK (idx >= 0),
    hash    BYTEA   NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (estate, level, idx)
);

-- Every checkpoint the log key signed, as the signed note text.
CREATE TABLE checkpoints (
    estate     TEXT    NOT NULL REFERENCES estates (slug),
    tree_size  BIGINT  NOT NULL CHECK (tree_size > 0),
    root       BYTEA   NOT NULL CHECK (octet_length(root) = 32),
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
    seq         BIGINT  NOT NULL,
    PRIMARY KEY (estate, unit_id),
    UNIQUE (estate, commitment)
);

-- Balance per account as debit minus credit, in fen. The trust fund's own
-- accounts can never go negative: the ledger refuses it, and so does this.
CREATE TABLE balances (
    estate       TEXT    NOT NULL REFERENCES estates (slug),
    account      TEXT    NOT NULL,
    balance_fen  BIGINT  NOT NULL,
    last_seq     BIGINT  NOT NULL,
    PRIMARY KEY (estate, account),
    CHECK (account NOT LIKE 'fund:%' OR balance_fen >= 0)
);

-- Debits and credits per account per month (estate time zone), for pages
-- that must not scan the ledger.
CREATE TABLE monthly_totals (
    estate      TEXT    NOT NULL REFERENCES estates (slug),
    period      TEXT    NOT NULL,
    account     TEXT    NOT NULL,
    debit_fen   BIGINT  NOT NULL CHECK (debit_fen >= 0),
    credit_fen  BIGINT  NOT NULL CHECK (credit_fen >= 0),
    PRIMARY KEY (estate, period, account)
);

-- Append-only guards.
CREATE FUNCTION trustfund_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'trustfund: % is append-only; % refused', TG_TABLE_NAME, TG_OP;
END;
$$;
CREATE TRIGGER estates_append_only BEFORE UPDATE OR DELETE ON estates
    FOR EACH ROW EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER estates_no_truncate BEFORE TRUNCATE ON estates
    FOR EACH STATEMENT EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER entries_append_only BEFORE UPDATE OR DELETE ON entries
    FOR EACH ROW EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER entries_no_truncate BEFORE TRUNCATE ON entries
    FOR EACH STATEMENT EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER postings_append_only BEFORE UPDATE OR DELETE ON postings
    FOR EACH ROW EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER postings_no_truncate BEFORE TRUNCATE ON postings
    FOR EACH STATEMENT EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER tree_nodes_append_only BEFORE UPDATE OR DELETE ON tree_nodes
    FOR EACH ROW EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER tree_nodes_no_truncate BEFORE TRUNCATE ON tree_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER units_append_only BEFORE UPDATE OR DELETE ON units
    FOR EACH ROW EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER units_no_truncate BEFORE TRUNCATE ON units
    FOR EACH STATEMENT EXECUTE FUNCTION trustfund_append_only();
