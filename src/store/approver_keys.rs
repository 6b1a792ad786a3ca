//! Approver key files kept on the server (table `approver_keys`): only the
//! sealed text. Unlocking happens in the caller ([`crate::approver_key`]),
//! so no passphrase ever passes through here.

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::approver_key::KeyFile;
use crate::domain::{MemberId, Slug, Timestamp};

impl Store {
    /// Stores a member's key file, replacing the one they had: a rotated
    /// key supersedes the old one in one transaction. The text must parse
    /// as a key file, so nothing else can be kept under that name.
    pub async fn put_approver_key(
        &self,
        slug: &Slug,
        member: &MemberId,
        key_file: &str,
        now: Timestamp,
    ) -> Result<()> {
        let file = KeyFile::parse(key_file)
            .map_err(|e| StoreError::BadRequest(format!("key_file: {e}")))?;
        let mut tx = self.pool.begin().await?;
        let estate = sqlx::query("SELECT slug FROM estates WHERE slug = $1")
            .bind(slug.as_str())
            .fetch_optional(&mut *tx)
            .await?;
        if estate.is_none() {
            return Err(StoreError::NotFound(format!("estate {slug}")));
        }
        sqlx::query("DELETE FROM approver_keys WHERE estate = $1 AND member = $2")
            .bind(slug.as_str())
            .bind(member.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO approver_keys (estate, member, key_file, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(slug.as_str())
        .bind(member.as_str())
        .bind(file.format())
        .bind(now.to_string())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The member's stored key file text, if they have one.
    pub async fn approver_key(&self, slug: &Slug, member: &MemberId) -> Result<Option<String>> {
        let row =
            sqlx::query("SELECT key_file FROM approver_keys WHERE estate = $1 AND member = $2")
                .bind(slug.as_str())
                .bind(member.as_str())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
            .transpose()
    }
}
