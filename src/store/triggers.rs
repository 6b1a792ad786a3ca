//! The append-only guards: the triggers that make the database itself
//! refuse to rewrite a ledger table. Someone with the database's password
//! can drop or disable them, edit history and put them back; the audit
//! checks what they guard, and this module checks that they are there and
//! unaltered, and puts back any that are not.
//!
//! The expected triggers are read out of the migrations' own SQL, so a
//! later migration's guard is checked without being listed twice.

use std::collections::BTreeMap;

use sqlx::{Executor, Row};

use super::{Engine, Result, Store, POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};

/// The PostgreSQL function every guard trigger calls.
const PG_GUARD_FUNCTION: &str = "trustfund_append_only";

/// One trigger as a migration creates it.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Guard {
    name: String,
    table: String,
    /// The `CREATE TRIGGER` statement, without its final `;`.
    sql: String,
}

/// A guard that is missing or not what the migration made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GuardProblem {
    /// The trigger's name, or the guard function's on PostgreSQL.
    pub name: String,
    pub table: String,
    pub what: &'static str,
}

impl std::fmt::Display for GuardProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "append-only trigger {} on {} {}",
            self.name, self.table, self.what
        )
    }
}

/// Whitespace-insensitive form, for comparing stored SQL with the migration's.
fn normal(sql: &str) -> String {
    sql.trim()
        .trim_end_matches(';')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The migrations' SQL with comment lines removed, in order.
fn migration_sql(engine: Engine) -> Vec<String> {
    let migrator = match engine {
        Engine::Sqlite => &SQLITE_MIGRATIONS,
        Engine::Postgres => &POSTGRES_MIGRATIONS,
    };
    migrator
        .migrations
        .iter()
        .map(|m| {
            m.sql
                .lines()
                .filter(|l| !l.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect()
}

/// Every guard trigger the migrations leave in place, by name.
fn expected(engine: Engine) -> BTreeMap<String, Guard> {
    // A SQLite trigger body ends with END; a PostgreSQL trigger statement
    // with its first semicolon.
    let end = match engine {
        Engine::Sqlite => "END;",
        Engine::Postgres => ";",
    };
    let mut guards = BTreeMap::new();
    for sql in migration_sql(engine) {
        let mut rest = sql.as_str();
        while let Some(at) = rest.find("TRIGGER ") {
            let before = &rest[..at];
            let stmt_start = before
                .rfind("CREATE ")
                .filter(|c| before[*c..].trim() == "CREATE");
            let drop = before.trim_end().ends_with("DROP");
            let after = &rest[at + "TRIGGER ".len()..];
            let name: String = after
                .split_whitespace()
                .find(|w| !matches!(*w, "IF" | "EXISTS"))
                .unwrap_or("")
                .trim_end_matches(';')
                .to_string();
            if let Some(start) = stmt_start {
                let Some(len) = rest[start..].find(end) else {
                    break;
                };
                let stmt = &rest[start..start + len + end.len()];
                let table = stmt
                    .split(" ON ")
                    .nth(1)
                    .and_then(|t| t.split_whitespace().next())
                    .unwrap_or("")
                    .to_string();
                guards.insert(
                    name.clone(),
                    Guard {
                        name,
                        table,
                        sql: stmt.trim_end_matches(';').to_string(),
                    },
                );
                rest = &rest[start + len + end.len()..];
            } else {
                if drop {
                    guards.remove(&name);
                }
                rest = after;
            }
        }
    }
    guards
}

/// The `CREATE FUNCTION` statement of the PostgreSQL guard function and
/// its body (between the `$$`s).
fn pg_function() -> Option<(String, String)> {
    let head = format!("CREATE FUNCTION {PG_GUARD_FUNCTION}()");
    let mut found = None;
    for sql in migration_sql(Engine::Postgres) {
        if let Some(start) = sql.find(&head) {
            let from = &sql[start..];
            let open = from.find("$$")?;
            let close = open + 2 + from[open + 2..].find("$$")?;
            let body = from[open + 2..close].to_string();
            let stmt = from[..close + 2].to_string();
            found = Some((stmt, body));
        }
    }
    found
}

/// PostgreSQL's `tgtype` bits for a trigger statement (pg_trigger.h).
fn pg_tgtype(sql: &str) -> i64 {
    let upper = sql.to_ascii_uppercase();
    let mut t = 0;
    if upper.contains("FOR EACH ROW") {
        t |= 1;
    }
    let timing = upper.split(" ON ").next().unwrap_or("");
    if timing.contains(" BEFORE ") {
        t |= 2;
    }
    for (word, bit) in [
        ("INSERT", 4),
        ("DELETE", 8),
        ("UPDATE", 16),
        ("TRUNCATE", 32),
    ] {
        if timing.split_whitespace().any(|w| w == word) {
            t |= bit;
        }
    }
    t
}

impl Store {
    /// Every append-only guard that is missing, disabled or altered.
    pub async fn check_guards(&self) -> Result<Vec<GuardProblem>> {
        let mut problems = Vec::new();
        let problem = |g: &Guard, what| GuardProblem {
            name: g.name.clone(),
            table: g.table.clone(),
            what,
        };
        match self.engine {
            Engine::Sqlite => {
                let rows =
                    sqlx::query("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
                        .fetch_all(&self.pool)
                        .await?;
                let mut stored = BTreeMap::new();
                for r in rows {
                    let name: String = r.try_get(0)?;
                    let sql: Option<String> = r.try_get(1)?;
                    stored.insert(name, sql.unwrap_or_default());
                }
                for g in expected(Engine::Sqlite).values() {
                    match stored.get(&g.name) {
                        None => problems.push(problem(g, "is missing")),
                        Some(sql) if normal(sql) != normal(&g.sql) => {
                            problems.push(problem(g, "differs from the migration's"))
                        }
                        Some(_) => {}
                    }
                }
            }
            Engine::Postgres => {
                let function = sqlx::query(
                    "SELECT p.prosrc FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                     WHERE p.proname = $1 AND n.nspname = current_schema()",
                )
                .bind(PG_GUARD_FUNCTION)
                .fetch_optional(&self.pool)
                .await?;
                let want_body = pg_function().map(|(_, body)| normal(&body));
                let body_ok = match &function {
                    Some(r) => Some(normal(&r.try_get::<String, _>(0)?)) == want_body,
                    None => false,
                };
                if !body_ok {
                    problems.push(GuardProblem {
                        name: format!("function {PG_GUARD_FUNCTION}()"),
                        table: "every append-only table".into(),
                        what: if function.is_none() {
                            "is missing"
                        } else {
                            "differs from the migration's"
                        },
                    });
                }
                let mut by_table: BTreeMap<String, Vec<PgTriggerRow>> = BTreeMap::new();
                let guards = expected(Engine::Postgres);
                for g in guards.values() {
                    if by_table.contains_key(&g.table) {
                        continue;
                    }
                    by_table.insert(g.table.clone(), rows_for(&self.pool, &g.table).await?);
                }
                for g in guards.values() {
                    let found = by_table
                        .get(&g.table)
                        .and_then(|v| v.iter().find(|t| t.0 == g.name));
                    match found {
                        None => problems.push(problem(g, "is missing")),
                        Some((_, enabled, _, _, _, _)) if enabled == "D" => {
                            problems.push(problem(g, "is disabled"))
                        }
                        Some((_, _, tgtype, func, no_when, nargs))
                            if *tgtype != pg_tgtype(&g.sql)
                                || func != PG_GUARD_FUNCTION
                                || !no_when
                                || *nargs != 0 =>
                        {
                            problems.push(problem(g, "differs from the migration's"))
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        Ok(problems)
    }

    /// Puts back every guard [`Store::check_guards`] finds wrong, exactly as
    /// the migrations create it, in one transaction. Returns what was wrong.
    pub async fn restore_guards(&self) -> Result<Vec<GuardProblem>> {
        let problems = self.check_guards().await?;
        if problems.is_empty() {
            return Ok(problems);
        }
        let guards = expected(self.engine);
        let mut tx = self.pool.begin().await?;
        if self.engine == Engine::Postgres {
            if let Some((stmt, _)) = pg_function() {
                let replace = stmt.replacen("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1);
                (&mut *tx).execute(replace.as_str()).await?;
            }
        }
        for p in &problems {
            let Some(g) = guards.get(&p.name) else {
                continue;
            };
            let drop = match self.engine {
                Engine::Sqlite => format!("DROP TRIGGER IF EXISTS {}", g.name),
                Engine::Postgres => format!("DROP TRIGGER IF EXISTS {} ON {}", g.name, g.table),
            };
            (&mut *tx).execute(drop.as_str()).await?;
            (&mut *tx).execute(g.sql.as_str()).await?;
        }
        tx.commit().await?;
        let left = self.check_guards().await?;
        if let Some(p) = left.first() {
            return Err(super::StoreError::Integrity(format!(
                "{p} after restoring the append-only triggers"
            )));
        }
        Ok(problems)
    }
}

/// A trigger as pg_trigger has it: name, tgenabled, tgtype, function,
/// whether it has no WHEN clause, and its argument count.
type PgTriggerRow = (String, String, i64, String, bool, i64);

async fn rows_for(pool: &sqlx::AnyPool, table: &str) -> Result<Vec<PgTriggerRow>> {
    let rows = sqlx::query(
        "SELECT t.tgname::text, t.tgenabled::text, t.tgtype::int8, p.proname::text, \
         (t.tgqual IS NULL), t.tgnargs::int8 \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid \
         JOIN pg_namespace n ON n.oid = c.relnamespace \
         JOIN pg_proc p ON p.oid = t.tgfoid \
         WHERE NOT t.tgisinternal AND n.nspname = current_schema() AND c.relname = $1",
    )
    .bind(table)
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|r| {
            Ok((
                r.try_get(0)?,
                r.try_get(1)?,
                r.try_get(2)?,
                r.try_get(3)?,
                r.try_get(4)?,
                r.try_get(5)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_guard_of_the_migrations_is_found() {
        let sqlite = expected(Engine::Sqlite);
        let postgres = expected(Engine::Postgres);
        for table in [
            "estates",
            "entries",
            "postings",
            "tree_nodes",
            "checkpoints",
            "units",
            "cosignatures",
            "bank_refs",
            "idempotency",
        ] {
            for kind in ["no_update", "no_delete", "no_replace"] {
                let g = &sqlite[&format!("{table}_{kind}")];
                assert_eq!(g.table, table);
                assert!(g.sql.starts_with("CREATE TRIGGER"), "{}", g.sql);
                assert!(g.sql.ends_with("END"), "{}", g.sql);
            }
            let row = &postgres[&format!("{table}_append_only")];
            assert_eq!(row.table, table);
            assert_eq!(pg_tgtype(&row.sql), 1 | 2 | 8 | 16);
            let trunc = &postgres[&format!("{table}_no_truncate")];
            assert_eq!(pg_tgtype(&trunc.sql), 2 | 32);
        }
        let (stmt, body) = pg_function().unwrap();
        assert!(stmt.ends_with("$$"), "{stmt}");
        assert!(body.contains("RAISE EXCEPTION"), "{body}");
    }
}
