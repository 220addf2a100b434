//! Redis from Rust: set/get, a connection pool, every data-type operation, pub/sub (notes §2).
//!
//! The binary `redis-ops` is a thin shell over this library:
//!
//! - [`connect`]: the one place where a URL becomes connections (shared multiplexed, dedicated
//!   for blocking commands, another database, subscriber, pool), with the connect timeout and
//!   the `cannot connect to ...` errors;
//! - [`kv`]: `set` / `get` / `incr`;
//! - [`pool`]: many tasks on a bounded deadpool-redis pool, checked with `CLIENT LIST`;
//! - [`lesson`]: every operation of the lesson, printed redis-cli style and checked;
//! - [`pubsub`]: `publish` / `subscribe`;
//! - [`iter`]: a long list read in batches, as a stream;
//! - [`reply`]: redis-cli style printing and the expectations lessons check against;
//! - [`bench`]: `redis-benchmark`'s tests on raw sockets ([`resp`]), or on a cluster.

pub mod bench;
pub mod connect;
pub mod error;
pub mod iter;
pub mod kv;
pub mod lesson;
pub mod pool;
pub mod pubsub;
pub mod reply;
pub mod resp;

pub use connect::Redis;
pub use error::Error;
