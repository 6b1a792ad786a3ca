-- Approver key files the server keeps for members who ask it to (issue 5):
-- the sealed text only. The passphrase never reaches the server's store;
-- the caller unlocks the file. Not part of the public log, and not
-- append-only: rotating a key replaces the member's row.
CREATE TABLE approver_keys (
    estate      TEXT NOT NULL REFERENCES estates (slug),
    member      TEXT NOT NULL,
    key_file    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (estate, member)
);
