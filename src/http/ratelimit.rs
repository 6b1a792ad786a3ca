//! A small token bucket per client address, for the unit look-up: a unit
//! secret has 100 random bits, and the limit keeps anyone from even
//! starting to guess.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;

/// Unit look-ups one client may make per window.
pub const UNIT_LOOKUPS: u64 = 10;
/// The window the bucket refills over.
pub const UNIT_WINDOW: Duration = Duration::from_secs(60);
/// Clients tracked at once; beyond this, idle buckets are dropped first.
const MAX_CLIENTS: usize = 10_000;
const MILLI: u64 = 1_000;

struct Bucket {
    /// Thousandths of a token, so refilling needs no fractions.
    milli_tokens: u64,
    last: Instant,
}

/// Token buckets keyed by client (IPv4 address, or IPv6 /64 network,
/// since one subscriber usually holds a whole /64).
/// The key type is generic so sign-in can also limit per account name.
pub struct RateLimiter<K = Option<IpAddr>> {
    capacity: u64,
    window: Duration,
    buckets: Mutex<HashMap<K, Bucket>>,
}

impl RateLimiter {
    fn key(ip: Option<IpAddr>) -> Option<IpAddr> {
        ip.map(|ip| match ip {
            IpAddr::V6(v6) => {
                let s = v6.segments();
                IpAddr::from([s[0], s[1], s[2], s[3], 0, 0, 0, 0])
            }
            v4 => v4,
        })
    }

    /// Takes one token for `ip` if it has one. Clients whose address is
    /// unknown share one bucket.
    pub fn try_take(&self, ip: Option<IpAddr>, now: Instant) -> bool {
        self.take(Self::key(ip), now)
    }
}

impl<K: Eq + std::hash::Hash> RateLimiter<K> {
    pub fn new(capacity: u64, window: Duration) -> RateLimiter<K> {
        RateLimiter {
            capacity: capacity.max(1),
            window,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token from `key`'s bucket if it has one.
    pub fn take(&self, key: K, now: Instant) -> bool {
        let full = self.capacity * MILLI;
        let window_ms = u64::try_from(self.window.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if !buckets.contains_key(&key) && buckets.len() >= MAX_CLIENTS {
            let window = self.window;
            buckets.retain(|_, b| now.saturating_duration_since(b.last) < window);
            if buckets.len() >= MAX_CLIENTS {
                // Under a flood from many addresses, refuse rather than
                // grow without bound.
                return false;
            }
        }
        let b = buckets.entry(key).or_insert(Bucket {
            milli_tokens: full,
            last: now,
        });
        let elapsed =
            u64::try_from(now.saturating_duration_since(b.last).as_millis()).unwrap_or(u64::MAX);
        let refill = elapsed.saturating_mul(full) / window_ms;
        b.milli_tokens = b.milli_tokens.saturating_add(refill).min(full);
        b.last = now;
        if b.milli_tokens >= MILLI {
            b.milli_tokens -= MILLI;
            true
        } else {
            false
        }
    }
}

/// The client's address from the connection, when the server was started
/// with connect info (`into_make_service_with_connect_info`); `None`
/// otherwise, which shares one bucket among all such clients.
pub struct ClientIp(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientIp {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<ClientIp, Infallible> {
        Ok(ClientIp(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_empties_and_refills() {
        let rl = RateLimiter::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        let ip = Some(IpAddr::from([192, 0, 2, 1]));
        let other = Some(IpAddr::from([192, 0, 2, 2]));
        assert!((0..3).all(|_| rl.try_take(ip, t0)));
        assert!(!rl.try_take(ip, t0));
        assert!(rl.try_take(other, t0), "buckets are per client");
        // One token comes back every 20 seconds.
        assert!(!rl.try_take(ip, t0 + Duration::from_secs(19)));
        assert!(rl.try_take(ip, t0 + Duration::from_secs(40)));
    }

    #[test]
    fn ipv6_clients_share_their_slash_64() {
        let rl = RateLimiter::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2::ffff".parse().unwrap();
        assert!(rl.try_take(Some(a), t0));
        assert!(!rl.try_take(Some(b), t0));
    }
}
