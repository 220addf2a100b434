//! The server's first replies, read through our own bounded [`Link`] before a connection is
//! handed to the redis crate (issue 22.4, 22.5). The crate buffers a reply line until it ends,
//! without a bound: a peer sending `+` and then bytes without end took `get` to 855 MB. Our
//! link reads a line of at most 64 KiB and a reply of at most [`crate::link::MAX_REPLY`], so
//! such a peer, and a server behind the wrong scheme (`redis://` to TLS, `rediss://` to
//! plain), are refused here, in one line, before the crate reads a byte. Every other failure
//! (a byte that is not RESP among them: the crate stops at it too) is left to the crate's own
//! attempt, which words it as it always did.

use redis::{ErrorKind, RedisError};
use tokio::time::Instant;

use crate::link::{Broke, Hello, Link, LinkError};

use super::Redis;

/// Why the first replies refuse a server.
pub(super) enum Refused {
    /// The wrong scheme: [`crate::link::scheme::SPEAKS_TLS`] or
    /// [`crate::link::scheme::NOT_TLS`].
    Scheme(&'static str),
    /// A reply beyond our link's bounds: what was wrong, in short words.
    NotRedis(String),
}

impl Refused {
    /// Its words, and a redis error that makes it permanent
    /// ([`crate::error::Error::is_permanent`]).
    pub(super) fn words(self) -> (String, RedisError) {
        let why = match self {
            Self::Scheme(why) => why.to_owned(),
            Self::NotRedis(why) => why,
        };
        let error = RedisError::from((
            ErrorKind::Parse,
            "refused before the connection",
            why.clone(),
        ));
        (why, error)
    }
}

/// Says the hello (AUTH, PING, SELECT) to `redis` (the first seed of a cluster) before
/// `deadline`: a refusal when the server is not a sane Redis behind the right scheme.
pub(super) async fn check(redis: &Redis, deadline: Instant) -> Result<(), Refused> {
    let Ok(to) = redis.endpoint() else {
        return Ok(()); // a Unix socket: no peer to doubt
    };
    match Link::open(&to, Hello::AuthPing, deadline).await {
        Err(LinkError::WrongScheme(why)) => Err(Refused::Scheme(why)),
        Err(LinkError::Hello(f)) => match f.broke {
            Broke::WrongScheme(why) => Err(Refused::Scheme(why)),
            Broke::NotResp(e) if e.is_beyond_a_bound() => Err(Refused::NotRedis(format!(
                "the reply is not RESP (is this a Redis server?): {e}"
            ))),
            Broke::TooLong(_) | Broke::TooMany | Broke::Overrun(_) => {
                Err(Refused::NotRedis(format!("{}: {}", f.command, f.broke)))
            }
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}
