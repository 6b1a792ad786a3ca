-- Witness cosignatures (C2SP tlog-cosignature) on signed checkpoints, one
-- per witness per checkpoint. Append-only like every ledger table.
CREATE TABLE cosignatures (
    estate     TEXT    NOT NULL,
    tree_size  INTEGER NOT NULL,
    witness    TEXT    NOT NULL,
    line       TEXT    NOT NULL,
    signed_at  TEXT    NOT NULL,
    PRIMARY KEY (estate, tree_size, witness),
    FOREIGN KEY (estate, tree_size) REFERENCES checkpoints (estate, tree_size)
);
CREATE INDEX cosignatures_by_witness ON cosignatures (estate, witness, tree_size);

CREATE TRIGGER cosignatures_no_update BEFORE UPDATE ON cosignatures
BEGIN SELECT RAISE(ABORT, 'trustfund: cosignatures is append-only; UPDATE refused'); END;
CREATE TRIGGER cosignatures_no_delete BEFORE DELETE ON cosignatures
BEGIN SELECT RAISE(ABORT, 'trustfund: cosignatures is append-only; DELETE refused'); END;
CREATE TRIGGER cosignatures_no_replace BEFORE INSERT ON cosignatures
WHEN EXISTS (SELECT 1 FROM cosignatures WHERE estate = NEW.estate AND tree_size = NEW.tree_size AND witness = NEW.witness)
BEGIN SELECT RAISE(ABORT, 'trustfund: cosignatures is append-only; replacing a row refused'); END;
