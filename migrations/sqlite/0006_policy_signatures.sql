-- Committee members' signatures on a proposed policy change, gathered
-- until there are enough; then the server appends the `policy_set` entry
-- that carries them. Not part of the log: the entry is. One signature per
-- member for each proposal (version + the exact rules bytes).
CREATE TABLE policy_signatures (
    estate      TEXT    NOT NULL REFERENCES estates (slug),
    version     BIGINT  NOT NULL CHECK (version > 1),
    rules       TEXT    NOT NULL,
    member      TEXT    NOT NULL,
    key         TEXT    NOT NULL,
    signature   TEXT    NOT NULL,
    created_at  TEXT    NOT NULL,
    PRIMARY KEY (estate, version, rules, member)
);
