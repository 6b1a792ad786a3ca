//! People who sign in: users, their estate roles, sessions and API tokens.
//! Only digests of secrets reach these tables (see [`crate::auth`]).

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::domain::{Slug, Timestamp};
use crate::ledger::Role;

/// A user as the store knows them (never the password hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub is_admin: bool,
}

/// One estate a user works for, and as what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Membership {
    pub estate: String,
    pub role: Role,
    /// The ledger member id they sign as, once enrolled with a key.
    pub member: Option<String>,
}

/// An API token's public facts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub id: i64,
    pub estate: String,
    pub label: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

/// Login names: 3 to 64 lowercase ASCII letters, digits, `.`, `-`, `_`.
pub fn check_login(login: &str) -> std::result::Result<(), String> {
    let ok = (3..=64).contains(&login.len())
        && login.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'_')
        });
    if ok {
        Ok(())
    } else {
        Err("login must be 3 to 64 lowercase letters, digits, '.', '-' or '_'".into())
    }
}

fn parse_role(s: &str) -> Result<Role> {
    Role::ALL
        .into_iter()
        .find(|r| r.as_str() == s)
        .ok_or_else(|| StoreError::Integrity(format!("unknown role {s:?} in memberships")))
}

impl Store {
    /// Creates a user; the login must be new.
    pub async fn create_user(
        &self,
        login: &str,
        name: &str,
        password_hash: &str,
        is_admin: bool,
        now: Timestamp,
    ) -> Result<i64> {
        check_login(login).map_err(StoreError::BadRequest)?;
        let taken = sqlx::query("SELECT id FROM users WHERE login = $1")
            .bind(login)
            .fetch_optional(&self.pool)
            .await?;
        if taken.is_some() {
            return Err(StoreError::Conflict(format!("login {login} is taken")));
        }
        let row = sqlx::query(
            "INSERT INTO users (login, name, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(login)
        .bind(name)
        .bind(password_hash)
        .bind(i64::from(is_admin))
        .bind(now.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// The user and stored password hash for a login, if it exists.
    pub async fn user_credentials(&self, login: &str) -> Result<Option<(UserRow, String)>> {
        let row = sqlx::query(
            "SELECT id, login, name, is_admin, password_hash FROM users WHERE login = $1",
        )
        .bind(login)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_row(&r)?, r.try_get(4)?))).transpose()
    }

    pub async fn user(&self, id: i64) -> Result<Option<UserRow>> {
        let row = sqlx::query("SELECT id, login, name, is_admin FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| user_row(&r)).transpose()
    }

    /// Gives a user a role in an estate (idempotent).
    pub async fn grant(
        &self,
        user_id: i64,
        estate: &Slug,
        role: Role,
        member: Option<&str>,
    ) -> Result<()> {
        let exists = sqlx::query(
            "SELECT 1 FROM memberships WHERE user_id = $1 AND estate = $2 AND role = $3",
        )
        .bind(user_id)
        .bind(estate.as_str())
        .bind(role.as_str())
        .fetch_optional(&self.pool)
        .await?;
        if exists.is_none() {
            sqlx::query(
                "INSERT INTO memberships (user_id, estate, role, member) VALUES ($1, $2, $3, $4)",
            )
            .bind(user_id)
            .bind(estate.as_str())
            .bind(role.as_str())
            .bind(member)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    pub async fn memberships(&self, user_id: i64) -> Result<Vec<Membership>> {
        let rows = sqlx::query(
            "SELECT estate, role, member FROM memberships WHERE user_id = $1 ORDER BY estate, role",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Membership {
                    estate: r.try_get(0)?,
                    role: parse_role(&r.try_get::<String, _>(1)?)?,
                    member: r.try_get(2)?,
                })
            })
            .collect()
    }

    /// Records a new session (by the digest of its id).
    pub async fn create_session(
        &self,
        id_hash: &str,
        user_id: i64,
        now: Timestamp,
        expires: Timestamp,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO sessions (id_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(id_hash)
        .bind(user_id)
        .bind(now.to_string())
        .bind(expires.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user behind a live session. Timestamps are fixed-width RFC 3339
    /// UTC, so text order is time order.
    pub async fn session_user(&self, id_hash: &str, now: Timestamp) -> Result<Option<UserRow>> {
        let row = sqlx::query(
            "SELECT u.id, u.login, u.name, u.is_admin FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.id_hash = $1 AND s.expires_at > $2",
        )
        .bind(id_hash)
        .bind(now.to_string())
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| user_row(&r)).transpose()
    }

    /// Ends a session; ending one that does not exist is not an error.
    pub async fn delete_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records an API token for one estate.
    pub async fn create_api_token(
        &self,
        token_hash: &str,
        user_id: i64,
        estate: &Slug,
        label: &str,
        now: Timestamp,
    ) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, estate, label, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(estate.as_str())
        .bind(label)
        .bind(now.to_string())
        .fetch_one(&self.pool)
        .await?;
        Ok(row.try_get(0)?)
    }

    /// The user and estate behind a token that has not been revoked.
    pub async fn token_user(&self, token_hash: &str) -> Result<Option<(UserRow, String)>> {
        let row = sqlx::query(
            "SELECT u.id, u.login, u.name, u.is_admin, t.estate FROM api_tokens t JOIN users u ON u.id = t.user_id \
             WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
        )
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| Ok((user_row(&r)?, r.try_get(4)?))).transpose()
    }

    pub async fn api_tokens(&self, user_id: i64) -> Result<Vec<TokenRow>> {
        let rows = sqlx::query(
            "SELECT id, estate, label, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(TokenRow {
                    id: r.try_get(0)?,
                    estate: r.try_get(1)?,
                    label: r.try_get(2)?,
                    created_at: r.try_get(3)?,
                    revoked_at: r.try_get(4)?,
                })
            })
            .collect()
    }

    /// Revokes one of the user's own tokens; false if there was none to revoke.
    pub async fn revoke_api_token(&self, user_id: i64, id: i64, now: Timestamp) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(now.to_string())
        .bind(id)
        .bind(user_id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

fn user_row(r: &sqlx::any::AnyRow) -> Result<UserRow> {
    Ok(UserRow {
        id: r.try_get(0)?,
        login: r.try_get(1)?,
        name: r.try_get(2)?,
        is_admin: r.try_get::<i64, _>(3)? != 0,
    })
}
