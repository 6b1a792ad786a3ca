-- The owners' unit page finds a unit by the secret printed on its bill.
-- Keyed by estate first, like every other index (docs/SCALING.md).
CREATE INDEX units_by_secret ON units (estate, secret);
