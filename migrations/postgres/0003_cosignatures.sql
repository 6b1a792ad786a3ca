-- Witness cosignatures (C2SP tlog-cosignature) on signed checkpoints, one
-- per witness per checkpoint. Append-only like every ledger table.
CREATE TABLE cosignatures (
    estate     TEXT    NOT NULL,
    tree_size  BIGINT  NOT NULL,
    witness    TEXT    NOT NULL,
    line       TEXT    NOT NULL,
    signed_at  TEXT    NOT NULL,
    PRIMARY KEY (estate, tree_size, witness),
    FOREIGN KEY (estate, tree_size) REFERENCES checkpoints (estate, tree_size)
);
CREATE INDEX cosignatures_by_witness ON cosignatures (estate, witness, tree_size);

CREATE TRIGGER cosignatures_append_only BEFORE UPDATE OR DELETE ON cosignatures
    FOR EACH ROW EXECUTE FUNCTION trustfund_append_only();
CREATE TRIGGER cosignatures_no_truncate BEFORE TRUNCATE ON cosignatures
    FOR EACH STATEMENT EXECUTE FUNCTION trustfund_append_only();
