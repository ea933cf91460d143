//! Caching and refresh: a source hands out its token until shortly before it expires, then gets a
//! new one; `refresh()` forces a new one (the client calls it once after a 401).
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{AccessToken, AuthError, TokenFuture, TokenSource};

/// A token and when it expires (unknown for opaque tokens without `expires_in`).
#[derive(Clone, Debug)]
pub struct Acquired {
    pub token: AccessToken,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The future an [`Acquire`] returns.
pub type AcquireFuture<'a> = Pin<Box<dyn Future<Output = Result<Acquired, AuthError>> + Send + 'a>>;

/// Something that gets a new token every time it is asked (a sign-in flow, a file, a command).
pub trait Acquire: Send + Sync {
    fn acquire(&self) -> AcquireFuture<'_>;
    /// What this source is, for messages (never a secret).
    fn describe(&self) -> String;
}

/// Refresh this long before the expiry.
pub const DEFAULT_EARLY: Duration = Duration::from_secs(5 * 60);

/// Caches what an [`Acquire`] gets until `early` before its expiry.
pub struct Cached<A> {
    inner: A,
    early: Duration,
    slot: tokio::sync::Mutex<Option<Acquired>>,
}

impl<A: Acquire> Cached<A> {
    pub fn new(inner: A) -> Self {
        Cached::with_early(inner, DEFAULT_EARLY)
    }

    pub fn with_early(inner: A, early: Duration) -> Self {
        Cached {
            inner,
            early,
            slot: tokio::sync::Mutex::new(None),
        }
    }

    pub fn inner(&self) -> &A {
        &self.inner
    }

    /// When the cached token expires, if one is cached and its expiry known.
    pub async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.slot.lock().await.as_ref().and_then(|a| a.expires_at)
    }

    fn fresh(&self, a: &Acquired) -> bool {
        match a.expires_at {
            None => true,
            Some(exp) => {
                let early = chrono::Duration::from_std(self.early).unwrap_or_default();
                Utc::now() + early < exp
            }
        }
    }

    async fn get(&self, force: bool) -> Result<AccessToken, AuthError> {
        let mut slot = self.slot.lock().await;
        if !force
            && let Some(a) = slot.as_ref()
            && self.fresh(a)
        {
            return Ok(a.token.clone());
        }
        let a = self.inner.acquire().await?;
        let t = a.token.clone();
        *slot = Some(a);
        Ok(t)
    }
}

impl<A> std::fmt::Debug for Cached<A>
where
    A: Acquire,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cached({})", self.inner.describe())
    }
}

impl<A: Acquire> TokenSource for Cached<A> {
    fn token(&self) -> TokenFuture<'_> {
        Box::pin(self.get(false))
    }

    fn refresh(&self) -> TokenFuture<'_> {
        Box::pin(self.get(true))
    }
}

/// `expires_in` seconds from now.
pub fn expires_in(secs: Option<u64>) -> Option<DateTime<Utc>> {
    secs.map(|s| Utc::now() + chrono::Duration::seconds(s.min(i64::MAX as u64 / 2) as i64))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    struct Counter {
        n: AtomicU32,
        lifetime: i64,
    }

    impl Acquire for Counter {
        fn acquire(&self) -> AcquireFuture<'_> {
            let n = self.n.fetch_add(1, Ordering::SeqCst);
            let exp = Utc::now() + chrono::Duration::seconds(self.lifetime);
            Box::pin(async move {
                Ok(Acquired {
                    token: AccessToken::new(format!("t{n}")),
                    expires_at: Some(exp),
                })
            })
        }
        fn describe(&self) -> String {
            "counter".into()
        }
    }

    #[tokio::test]
    async fn caches_until_early_expiry_and_refreshes_on_demand() {
        let c = Cached::new(Counter {
            n: AtomicU32::new(0),
            lifetime: 3600,
        });
        assert_eq!(c.token().await.unwrap().secret(), "t0");
        assert_eq!(c.token().await.unwrap().secret(), "t0");
        assert_eq!(c.refresh().await.unwrap().secret(), "t1");
        assert_eq!(c.token().await.unwrap().secret(), "t1");
        // A token within five minutes of its expiry is replaced before use.
        let c = Cached::new(Counter {
            n: AtomicU32::new(0),
            lifetime: 200,
        });
        assert_eq!(c.token().await.unwrap().secret(), "t0");
        assert_eq!(c.token().await.unwrap().secret(), "t1");
        assert_eq!(format!("{c:?}"), "Cached(counter)");
    }
}
