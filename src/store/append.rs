//! The one write path for ledger tables.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::{from_db, to_db, Engine, Result, State, Store, StoreError};
use crate::domain::{BankRef, BankRefCommitment, Slug, Timestamp, UnitId, UnitSecret};
use crate::keys::{LogKey, MarkGuard, Marked};
use crate::ledger::jcs::MAX_ENTRY_BYTES;
use crate::ledger::{Body, Entry, SealedEntry, Side};
use crate::tlog::checkpoint::{sign_checkpoint, Checkpoint};
use crate::tlog::tree::{self, NodeId};
use crate::tlog::Hash;

/// Something to append, with whatever private data goes with it.
#[derive(Clone, Debug)]
pub struct Draft {
    pub body: Body,
    /// For `unit_registered`: the unit's name and secret, kept off the log.
    pub unit: Option<(UnitId, UnitSecret)>,
    /// When it happened, for loading history (the demo); live paths leave
    /// it `None` and the entry gets the append's time. Never earlier than
    /// the previous entry either way.
    pub at: Option<Timestamp>,
    /// For `fee_paid`: the bank's reference, kept off the log and recorded
    /// at most once per estate.
    pub bank_ref: Option<BankRef>,
}

impl From<Body> for Draft {
    fn from(body: Body) -> Draft {
        Draft {
            body,
            unit: None,
            at: None,
            bank_ref: None,
        }
    }
}

/// An `Idempotency-Key` and the digest of the request it came with: the
/// same key and digest get the first result again; the same key with
/// another digest is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Idempotency {
    pub key: String,
    pub request: Hash,
}

/// Longest idempotency key accepted (Stripe's limit, which clients know).
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

impl Idempotency {
    /// A key as a client sent it: 1 to 255 printable ASCII characters.
    pub fn new(key: &str, request: Hash) -> Result<Idempotency> {
        if key.is_empty()
            || key.len() > MAX_IDEMPOTENCY_KEY
            || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(StoreError::BadRequest(format!(
                "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
            )));
        }
        Ok(Idempotency {
            key: key.to_string(),
            request,
        })
    }
}

impl Idempotency {
    /// A key the server itself uses (e.g. one per import commit). It
    /// contains a space, which a client's key never can, so no
    /// `Idempotency-Key` header can collide with it.
    pub fn internal(name: &str, request: Hash) -> Idempotency {
        Idempotency {
            key: format!("internal {name}"),
            request,
        }
    }
}

/// The stored form of an append's result, for idempotent replays.
fn encode_result(appended: &[Appended]) -> String {
    let rows: Vec<serde_json::Value> = appended
        .iter()
        .map(|a| serde_json::json!({ "seq": a.seq, "hash": a.hash.to_hex(), "kind": a.kind }))
        .collect();
    serde_json::Value::Array(rows).to_string()
}

fn decode_result(text: &str) -> Result<Vec<Appended>> {
    let bad = || StoreError::Integrity("stored idempotency result is malformed".into());
    let rows: Vec<serde_json::Value> = serde_json::from_str(text).map_err(|_| bad())?;
    rows.iter()
        .map(|r| {
            let seq = r["seq"].as_u64().ok_or_else(bad)?;
            let hash = Hash::from_hex(r["hash"].as_str().ok_or_else(bad)?).map_err(|_| bad())?;
            let kind = r["kind"].as_str().ok_or_else(bad)?;
            let kind = Body::KINDS.iter().find(|k| **k == kind).ok_or_else(bad)?;
            Ok(Appended { seq, hash, kind })
        })
        .collect()
}

/// What an append wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    pub hash: Hash,
    pub kind: &'static str,
}

/// Tree nodes fetched per query (two parameters each).
const MAX_NODES_PER_QUERY: usize = 128;

/// Entries loaded per query when replaying a log into memory.
const REPLAY_PAGE: i64 = 5_000;

impl Store {
    /// Creates an estate: registers its slug and appends its first entries
    /// (the first must be `estate_created`), all or nothing.
    pub async fn create_estate(
        &self,
        slug: &Slug,
        name: &str,
        origin: &str,
        drafts: Vec<Draft>,
        now: Timestamp,
        log: &LogKey,
    ) -> Result<Vec<Appended>> {
        self.append_inner(slug, Some((name, origin)), None, drafts, now, log)
            .await
            .map(|(appended, _)| appended)
    }

    /// Appends entries to an estate's log in one transaction, then signs a
    /// checkpoint covering them. Either everything is written or nothing.
    ///
    /// An approval that completes a claim's policy is followed, in the same
    /// transaction, by the entry that executes the claim; if that would
    /// overdraw the fund, the approval is refused too.
    pub async fn append(
        &self,
        slug: &Slug,
        drafts: Vec<Draft>,
        now: Timestamp,
        log: &LogKey,
    ) -> Result<Vec<Appended>> {
        self.append_inner(slug, None, None, drafts, now, log)
            .await
            .map(|(appended, _)| appended)
    }

    /// [`Store::append`] under an idempotency key: the key is looked up and
    /// recorded inside the append's transaction, under the estate's lock, so
    /// any number of racing requests with one key append once. Returns the
    /// entries and whether they are a replay of an earlier request's.
    pub async fn append_idempotent(
        &self,
        slug: &Slug,
        idem: Option<&Idempotency>,
        drafts: Vec<Draft>,
        now: Timestamp,
        log: &LogKey,
    ) -> Result<(Vec<Appended>, bool)> {
        self.append_inner(slug, None, idem, drafts, now, log).await
    }

    async fn append_inner(
        &self,
        slug: &Slug,
        create: Option<(&str, &str)>,
        idem: Option<&Idempotency>,
        drafts: Vec<Draft>,
        now: Timestamp,
        log: &LogKey,
    ) -> Result<(Vec<Appended>, bool)> {
        if drafts.is_empty() {
            return Err(StoreError::BadRequest("nothing to append".into()));
        }
        if let Some(why) = self.frozen_reason(slug.as_str()) {
            return Err(StoreError::Integrity(format!(
                "estate {slug} is frozen: {why}"
            )));
        }
        // In-process appends to one estate queue here; the database lock
        // below serialises them across processes too.
        let slot = self.slot(slug.as_str());
        let mut cached = slot.lock().await;
        let mut tx = match self.engine {
            // IMMEDIATE takes SQLite's write lock now, not at the first write,
            // so two appenders can never both read the same head.
            Engine::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Engine::Postgres => self.pool.begin().await?,
        };
        if let Some((name, origin)) = create {
            let exists = sqlx::query("SELECT slug FROM estates WHERE slug = $1 OR origin = $2")
                .bind(slug.as_str())
                .bind(origin)
                .fetch_optional(&mut *tx)
                .await?;
            if exists.is_some() {
                return Err(StoreError::Conflict(format!(
                    "an estate with slug {slug} or origin {origin} already exists"
                )));
            }
            sqlx::query(
                "INSERT INTO estates (slug, name, origin, created_at) VALUES ($1, $2, $3, $4)",
            )
            .bind(slug.as_str())
            .bind(name)
            .bind(origin)
            .bind(now.to_string())
            .execute(&mut *tx)
            .await?;
        }
        self.lock_estate(&mut tx, slug).await?;
        if let Some(idem) = idem {
            let row = sqlx::query(
                "SELECT request_hash, result FROM idempotency WHERE estate = $1 AND key = $2",
            )
            .bind(slug.as_str())
            .bind(&idem.key)
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                let request: String = row.try_get(0)?;
                if request != idem.request.to_hex() {
                    return Err(StoreError::IdempotencyMismatch(idem.key.clone()));
                }
                let result: String = row.try_get(1)?;
                return Ok((decode_result(&result)?, true));
            }
        }

        let mut state = cached.take().unwrap_or_default();
        if let Err(e) = catch_up(&mut tx, slug, &mut state).await {
            if let StoreError::Integrity(why) = &e {
                self.freeze(slug.as_str(), why.clone());
            }
            return Err(e);
        }
        let size_before = state.size();
        match append_all(&mut tx, slug, &mut state, drafts, now, log).await {
            Ok((appended, mut mark)) => {
                if let Some(idem) = idem {
                    sqlx::query("INSERT INTO idempotency (estate, key, request_hash, result, created_at) VALUES ($1, $2, $3, $4, $5)")
                        .bind(slug.as_str())
                        .bind(&idem.key)
                        .bind(idem.request.to_hex())
                        .bind(encode_result(&appended))
                        .bind(now.to_string())
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                *cached = Some(state);
                // Committed, so the checkpoint is released: it becomes the
                // key's mark. If this write fails, the pending checkpoint is
                // settled against the database at the next signing.
                if let Err(e) = mark.confirm() {
                    tracing::error!(estate = %slug, error = %e, "could not confirm the log mark");
                }
                Ok((appended, false))
            }
            Err(e) => {
                if let StoreError::Integrity(why) = &e {
                    self.freeze(slug.as_str(), why.clone());
                }
                // `apply` changes nothing when it refuses an entry, so a state
                // that did not grow is still exactly the database's.
                if state.size() == size_before {
                    *cached = Some(state);
                }
                Err(e)
            }
        }
    }

    /// Takes the per-estate append lock for the rest of the transaction.
    async fn lock_estate(&self, conn: &mut AnyConnection, slug: &Slug) -> Result<()> {
        let sql = match self.engine {
            // SQLite already holds the database write lock (BEGIN IMMEDIATE).
            Engine::Sqlite => "SELECT slug FROM estates WHERE slug = $1",
            Engine::Postgres => "SELECT slug FROM estates WHERE slug = $1 FOR UPDATE",
        };
        let row = sqlx::query(sql)
            .bind(slug.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        match row {
            Some(_) => Ok(()),
            None => Err(StoreError::NotFound(format!("estate {slug}"))),
        }
    }
}

/// Brings a cached state up to the stored log, checking every stored hash
/// on the way (a mismatch means someone edited the database).
pub(super) async fn catch_up(
    conn: &mut AnyConnection,
    slug: &Slug,
    state: &mut State,
) -> Result<()> {
    let head: Option<i64> = sqlx::query("SELECT MAX(seq) FROM entries WHERE estate = $1")
        .bind(slug.as_str())
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    let stored_size = match head {
        Some(s) => from_db(s)? + 1,
        None => 0,
    };
    if state.size() > stored_size {
        *state = State::new();
    }
    while state.size() < stored_size {
        let rows = sqlx::query("SELECT seq, hash, body FROM entries WHERE estate = $1 AND seq >= $2 ORDER BY seq LIMIT $3")
            .bind(slug.as_str())
            .bind(to_db(state.size())?)
            .bind(REPLAY_PAGE)
            .fetch_all(&mut *conn)
            .await?;
        if rows.is_empty() {
            return Err(StoreError::Integrity(format!(
                "entry {} is missing",
                state.size()
            )));
        }
        for row in rows {
            let seq = from_db(row.try_get(0)?)?;
            let stored_hash: Vec<u8> = row.try_get(1)?;
            let body: String = row.try_get(2)?;
            let bad = |why: String| StoreError::Integrity(format!("seq {seq}: {why}"));
            if seq != state.size() {
                return Err(bad(format!("expected entry {} next", state.size())));
            }
            let sealed = SealedEntry::from_bytes(&body).map_err(|e| bad(e.to_string()))?;
            if sealed.hash.0.as_slice() != stored_hash.as_slice() {
                return Err(bad("stored bytes do not match the stored hash".into()));
            }
            state.apply(&sealed).map_err(|e| bad(e.to_string()))?;
        }
    }
    Ok(())
}

async fn append_all(
    conn: &mut AnyConnection,
    slug: &Slug,
    state: &mut State,
    drafts: Vec<Draft>,
    now: Timestamp,
    log: &LogKey,
) -> Result<(Vec<Appended>, MarkGuard)> {
    let mut nodes: HashMap<NodeId, Hash> = HashMap::new();
    let mut out = Vec::with_capacity(drafts.len());
    for draft in drafts {
        let approved = match &draft.body {
            Body::ClaimApproved { claim, .. } => Some(*claim),
            _ => None,
        };
        out.push(append_one(conn, slug, state, draft, now, &mut nodes).await?);
        if let Some(exec) = approved.and_then(|claim| state.execution_for(claim)) {
            out.push(append_one(conn, slug, state, exec.into(), now, &mut nodes).await?);
        }
    }
    let mark = sign_new_checkpoint(conn, slug, state, log, now, &mut nodes).await?;
    Ok((out, mark))
}

async fn append_one(
    conn: &mut AnyConnection,
    slug: &Slug,
    state: &mut State,
    draft: Draft,
    now: Timestamp,
    nodes: &mut HashMap<NodeId, Hash>,
) -> Result<Appended> {
    let Draft {
        mut body,
        unit,
        at,
        bank_ref,
    } = draft;
    let seq = state.size();
    if let Some(reference) = &bank_ref {
        let taken = sqlx::query("SELECT seq FROM bank_refs WHERE estate = $1 AND reference = $2")
            .bind(slug.as_str())
            .bind(reference.as_str())
            .fetch_optional(&mut *conn)
            .await?;
        if let Some(row) = taken {
            let at_seq: i64 = row.try_get(0)?;
            return Err(StoreError::DuplicateBankRef {
                reference: reference.to_string(),
                seq: from_db(at_seq)?,
            });
        }
    }
    // The payment carries the commitment to its bank reference, so the
    // ledger's own rule (and every verifier's) refuses a second credit of
    // it even if the bank_refs row were gone; a commitment without its
    // reference would leave the two out of step.
    match (&mut body, &bank_ref) {
        (Body::FeePaid { bank_ref: slot, .. }, Some(reference)) => {
            let c = BankRefCommitment::compute(slug, reference);
            if slot.is_some_and(|given| given != c) {
                return Err(StoreError::BadRequest(
                    "fee_paid carries a bank_ref commitment to another reference".into(),
                ));
            }
            *slot = Some(c);
        }
        (
            Body::FeePaid {
                bank_ref: Some(_), ..
            },
            None,
        ) => {
            return Err(StoreError::BadRequest(
                "fee_paid carries a bank_ref commitment without its reference".into(),
            ));
        }
        (Body::FeePaid { .. }, None) => {}
        (_, Some(_)) => {
            return Err(StoreError::BadRequest(
                "only a fee_paid entry records a bank reference".into(),
            ));
        }
        (_, None) => {}
    }
    let now = at.unwrap_or(now);
    // Entry times never go backwards, even if the clock does.
    let time = state.last_time().map_or(now, |last| last.max(now));
    state.prepare(seq, time, &mut body)?;
    let sealed = Entry {
        estate: slug.clone(),
        seq,
        prev: state.head(),
        time,
        body,
    }
    .seal();
    if sealed.bytes.len() > MAX_ENTRY_BYTES {
        return Err(StoreError::BadRequest(format!(
            "entry is larger than {MAX_ENTRY_BYTES} bytes"
        )));
    }
    state.apply(&sealed)?;
    let period = state
        .period_of(time)
        .ok_or_else(|| StoreError::Integrity("estate has no time zone".into()))?
        .to_string();
    let kind = sealed.entry.body.kind();
    let seq_db = to_db(seq)?;

    sqlx::query("INSERT INTO entries (estate, seq, kind, time, period, hash, prev, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(slug.as_str())
        .bind(seq_db)
        .bind(kind)
        .bind(time.to_string())
        .bind(&period)
        .bind(sealed.hash.0.to_vec())
        .bind(sealed.entry.prev.0.to_vec())
        .bind(&sealed.bytes)
        .execute(&mut *conn)
        .await?;

    for (n, p) in sealed.entry.body.postings().iter().enumerate() {
        let account = p.account.to_string();
        let (debit, credit) = match p.side {
            Side::Debit => (p.amount.fen(), 0),
            Side::Credit => (0, p.amount.fen()),
        };
        sqlx::query("INSERT INTO postings (estate, seq, n, account, debit_fen, credit_fen) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(slug.as_str())
            .bind(seq_db)
            .bind(to_db(n as u64)?)
            .bind(&account)
            .bind(debit)
            .bind(credit)
            .execute(&mut *conn)
            .await?;
        // Update first: both engines check CHECK constraints against an
        // upsert's proposed row (here the bare delta), which would refuse a
        // legitimate spend from an existing balance.
        let updated = sqlx::query("UPDATE balances SET balance_fen = balance_fen + $1, last_seq = $2 WHERE estate = $3 AND account = $4")
            .bind(debit - credit)
            .bind(seq_db)
            .bind(slug.as_str())
            .bind(&account)
            .execute(&mut *conn)
            .await?;
        if updated.rows_affected() == 0 {
            sqlx::query("INSERT INTO balances (estate, account, balance_fen, last_seq) VALUES ($1, $2, $3, $4)")
                .bind(slug.as_str())
                .bind(&account)
                .bind(debit - credit)
                .bind(seq_db)
                .execute(&mut *conn)
                .await?;
        }
        sqlx::query(
            "INSERT INTO monthly_totals (estate, period, account, debit_fen, credit_fen) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (estate, period, account) DO UPDATE SET debit_fen = monthly_totals.debit_fen + excluded.debit_fen, \
             credit_fen = monthly_totals.credit_fen + excluded.credit_fen",
        )
        .bind(slug.as_str())
        .bind(&period)
        .bind(&account)
        .bind(debit)
        .bind(credit)
        .execute(&mut *conn)
        .await?;
    }

    if let (
        Body::UnitRegistered {
            unit: commitment,
            area,
        },
        Some((unit_id, secret)),
    ) = (&sealed.entry.body, &unit)
    {
        sqlx::query("INSERT INTO units (estate, unit_id, commitment, secret, area, seq) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(slug.as_str())
            .bind(unit_id.to_string())
            .bind(commitment.to_string())
            .bind(secret.to_string())
            .bind(area.to_string())
            .bind(seq_db)
            .execute(&mut *conn)
            .await?;
    }

    if let Some(reference) = &bank_ref {
        sqlx::query("INSERT INTO bank_refs (estate, reference, seq) VALUES ($1, $2, $3)")
            .bind(slug.as_str())
            .bind(reference.as_str())
            .bind(seq_db)
            .execute(&mut *conn)
            .await?;
    }

    read_nodes(conn, slug, &tree::nodes_for_append(seq), nodes).await?;
    for (id, hash) in tree::append(seq, sealed.hash, nodes)? {
        sqlx::query("INSERT INTO tree_nodes (estate, level, idx, hash) VALUES ($1, $2, $3, $4)")
            .bind(slug.as_str())
            .bind(i64::from(id.level))
            .bind(to_db(id.index)?)
            .bind(hash.0.to_vec())
            .execute(&mut *conn)
            .await?;
        nodes.insert(id, hash);
    }
    Ok(Appended {
        seq,
        hash: sealed.hash,
        kind,
    })
}

/// Loads the tree nodes not already in `cache`.
pub(super) async fn read_nodes(
    conn: &mut AnyConnection,
    slug: &Slug,
    ids: &[NodeId],
    cache: &mut HashMap<NodeId, Hash>,
) -> Result<()> {
    let mut missing: Vec<NodeId> = ids
        .iter()
        .filter(|id| !cache.contains_key(id))
        .copied()
        .collect();
    missing.sort_unstable();
    missing.dedup();
    // One query for all of them (a proof needs about log2(n) nodes), in
    // chunks so the parameter count stays far below either engine's limit.
    for chunk in missing.chunks(MAX_NODES_PER_QUERY) {
        let mut sql =
            String::from("SELECT level, idx, hash FROM tree_nodes WHERE estate = $1 AND (");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(" OR ");
            }
            sql.push_str(&format!(
                "(level = ${} AND idx = ${})",
                2 * i + 2,
                2 * i + 3
            ));
        }
        sql.push(')');
        let mut query = sqlx::query(&sql).bind(slug.as_str());
        for id in chunk {
            query = query.bind(i64::from(id.level)).bind(to_db(id.index)?);
        }
        for row in query.fetch_all(&mut *conn).await? {
            let level: i64 = row.try_get(0)?;
            let index = from_db(row.try_get(1)?)?;
            let bytes: Vec<u8> = row.try_get(2)?;
            let level = u8::try_from(level).map_err(|_| {
                StoreError::Integrity(format!("tree node level {level} is out of range"))
            })?;
            let hash = <[u8; 32]>::try_from(bytes.as_slice()).map_err(|_| {
                StoreError::Integrity(format!(
                    "tree node level {level} index {index} is not 32 bytes"
                ))
            })?;
            cache.insert(NodeId { level, index }, Hash(hash));
        }
    }
    if let Some(id) = ids.iter().find(|id| !cache.contains_key(id)) {
        return Err(StoreError::Integrity(format!(
            "tree node level {} index {} is missing",
            id.level, id.index
        )));
    }
    Ok(())
}

/// Signs a checkpoint for the current tree, but only after proving it
/// consistent with the last checkpoint the log key signed, as its mark
/// beside the key remembers it, not as this database says: the log must
/// never sign two views of history (C2SP tlog-checkpoint, "Signatures").
/// The new checkpoint is recorded as pending in the mark before the caller
/// commits; the caller confirms it after.
async fn sign_new_checkpoint(
    conn: &mut AnyConnection,
    slug: &Slug,
    state: &State,
    log: &LogKey,
    now: Timestamp,
    nodes: &mut HashMap<NodeId, Hash>,
) -> Result<MarkGuard> {
    let info = state
        .estate()
        .ok_or_else(|| StoreError::Integrity("estate has no estate_created entry".into()))?;
    if log.verifier_key() != info.log_key {
        return Err(StoreError::Integrity(format!(
            "the log key on this server is not the one estate {slug} enrolled"
        )));
    }
    let size = state.size();
    read_nodes(conn, slug, &tree::nodes_for_tree_hash(size), nodes).await?;
    let root = tree::tree_hash(size, nodes)?;
    let mut mark = super::mark::open_mark(conn, slug, log).await?;
    super::mark::check_extends(conn, slug, &mark, size, &root, nodes).await?;
    if mark.signed().is_some_and(|last| last.tree_size == size) {
        return Err(StoreError::Integrity(format!(
            "the log key already signed a tree of {size} entries"
        )));
    }
    let cp = Checkpoint {
        origin: info.origin.clone(),
        tree_size: size,
        root,
        extensions: vec![],
    };
    let note = sign_checkpoint(&cp, log.signer())?.format();
    mark.reserve(Marked {
        tree_size: size,
        root,
        note: note.clone(),
    })?;
    sqlx::query("INSERT INTO checkpoints (estate, tree_size, root, note, signed_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(slug.as_str())
        .bind(to_db(size)?)
        .bind(root.0.to_vec())
        .bind(&note)
        .bind(now.to_string())
        .execute(&mut *conn)
        .await?;
    Ok(mark)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_keys_can_never_name_an_internal_key() {
        let h = crate::tlog::record_hash(b"request");
        let internal = Idempotency::internal("import:abc", h);
        assert!(Idempotency::new(&internal.key, h).is_err());
        assert!(Idempotency::new("import:abc", h).is_ok());
        assert_ne!(Idempotency::new("import:abc", h).unwrap().key, internal.key);
        assert!(Idempotency::new("", h).is_err());
        assert!(Idempotency::new(&"k".repeat(MAX_IDEMPOTENCY_KEY + 1), h).is_err());
    }
}
