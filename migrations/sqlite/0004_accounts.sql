-- Sign-in, sessions, API tokens, and the private records that go with
-- money-moving writes (bank references, idempotency keys, CSV previews).
--
-- None of these tables is part of the public log. `users`, `memberships`,
-- `sessions`, `api_tokens` and `imports` change (sign-out, revocation,
-- confirming an import); `bank_refs` and `idempotency` are append-only like
-- the ledger, because they are what stops money being recorded twice.

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    login          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    password_hash  TEXT    NOT NULL,
    -- Platform admin: creates estates, enrols members. Moves no money.
    is_admin       INTEGER NOT NULL DEFAULT 0 CHECK (is_admin IN (0, 1)),
    created_at     TEXT    NOT NULL
);

-- Which estates a person works for, and as what (the ledger's roles).
CREATE TABLE memberships (
    user_id  INTEGER NOT NULL REFERENCES users (id),
    estate   TEXT    NOT NULL REFERENCES estates (slug),
    role     TEXT    NOT NULL CHECK (role IN ('company', 'committee', 'community')),
    -- The ledger member id this person signs as, once enrolled with a key.
    member   TEXT,
    PRIMARY KEY (user_id, estate, role)
);

-- Server-side sessions; the cookie holds the id, the table its SHA-256.
CREATE TABLE sessions (
    id_hash     TEXT    NOT NULL PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    created_at  TEXT    NOT NULL,
    expires_at  TEXT    NOT NULL
);
CREATE INDEX sessions_by_user ON sessions (user_id);

-- Tokens for a property company's own systems: one estate, one user's
-- rights, stored as SHA-256, revocable.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    token_hash  TEXT    NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users (id),
    estate      TEXT    NOT NULL REFERENCES estates (slug),
    label       TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    revoked_at  TEXT
);

-- A bank reference is recorded once per estate, ever; written in the same
-- transaction as the fee_paid entry it belongs to.
CREATE TABLE bank_refs (
    estate     TEXT    NOT NULL REFERENCES estates (slug),
    reference  TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    PRIMARY KEY (estate, reference),
    FOREIGN KEY (estate, seq) REFERENCES entries (estate, seq)
);

-- The first result of each Idempotency-Key, written in the same
-- transaction as the entries it created.
CREATE TABLE idempotency (
    estate        TEXT    NOT NULL REFERENCES estates (slug),
    key           TEXT    NOT NULL,
    request_hash  TEXT    NOT NULL,
    result        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    PRIMARY KEY (estate, key)
);

-- A bank CSV between preview and confirmation: the rows as parsed and their
-- verdicts. Confirming sets committed_at once.
CREATE TABLE imports (
    id            TEXT    NOT NULL PRIMARY KEY,
    estate        TEXT    NOT NULL REFERENCES estates (slug),
    user_id       INTEGER NOT NULL REFERENCES users (id),
    file_sha256   TEXT    NOT NULL,
    report        TEXT    NOT NULL,
    created_at    TEXT    NOT NULL,
    committed_at  TEXT,
    result        TEXT
);

CREATE TRIGGER bank_refs_no_update BEFORE UPDATE ON bank_refs
BEGIN SELECT RAISE(ABORT, 'trustfund: bank_refs is append-only; UPDATE refused'); END;
CREATE TRIGGER bank_refs_no_delete BEFORE DELETE ON bank_refs
BEGIN SELECT RAISE(ABORT, 'trustfund: bank_refs is append-only; DELETE refused'); END;
CREATE TRIGGER bank_refs_no_replace BEFORE INSERT ON bank_refs
WHEN EXISTS (SELECT 1 FROM bank_refs WHERE estate = NEW.estate AND reference = NEW.reference)
BEGIN SELECT RAISE(ABORT, 'trustfund: bank_refs is append-only; replacing a row refused'); END;
CREATE TRIGGER idempotency_no_update BEFORE UPDATE ON idempotency
BEGIN SELECT RAISE(ABORT, 'trustfund: idempotency is append-only; UPDATE refused'); END;
CREATE TRIGGER idempotency_no_delete BEFORE DELETE ON idempotency
BEGIN SELECT RAISE(ABORT, 'trustfund: idempotency is append-only; DELETE refused'); END;
CREATE TRIGGER idempotency_no_replace BEFORE INSERT ON idempotency
WHEN EXISTS (SELECT 1 FROM idempotency WHERE estate = NEW.estate AND key = NEW.key)
BEGIN SELECT RAISE(ABORT, 'trustfund: idempotency is append-only; replacing a row refused'); END;
