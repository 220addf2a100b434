//! Redis from Rust: set/get, a connection pool, every data-type operation, pub/sub (notes §2).
//!
//! The binary `redis-ops` is a thin shell over this library:
//!
//! - [`cli`]: the command line: the flags, one file per command (its argh structure, its checks
//!   into typed options, its run);
//! - [`url`]: a Redis URL, parsed, that never shows its password;
//! - [`connect`]: the one place where a URL becomes connections (shared multiplexed, dedicated
//!   for blocking commands, another database, subscriber, pool), with the connect timeout and
//!   the `cannot connect to ...` errors;
//! - [`link`]: the one raw RESP connection (plain or TLS, AUTH, SELECT, every exchange under a
//!   deadline) of `bench` and `ping`, with its strict parser ([`link::resp`]);
//! - [`kv`]: `set` / `get` / `incr`;
//! - [`pool`]: many tasks on a bounded deadpool pool, checked with `CLIENT LIST`;
//! - [`lesson`]: every operation of the lesson, printed redis-cli style and checked;
//! - [`channels`]: `publish` / `subscribe`;
//! - [`ping`]: is Redis (or a cluster) ready? A real round trip, several targets at once;
//! - [`iter`]: a long list read in batches, as a stream;
//! - [`reply`]: redis-cli style printing and the expectations lessons check against;
//! - [`bench`](mod@bench): `redis-benchmark`'s tests on raw links, or on a cluster.
//!
//! What a lesson prints and checks, without a server: a command as redis-cli shows it, a reply
//! in redis-cli's format, and the expectation the lesson compares the reply with. (The commands
//! themselves need a running Redis: `redis-ops lesson all`, docs/redis.md.)
//!
//! ```
//! use redis::Value;
//! use redis_ops::reply::{self, b};
//!
//! let mut cmd = redis::cmd("HMGET");
//! cmd.arg("lesson:42:h").arg("k1").arg("a key");
//! assert_eq!(reply::show_command(&cmd), r#"HMGET lesson:42:h k1 "a key""#);
//!
//! let answer = Value::Array(vec![b("v1"), Value::Nil]);
//! assert_eq!(reply::show_reply(&answer), "1) \"v1\"\n2) (nil)");
//! assert!(reply::array(vec![b("v1"), Value::Nil]).accepts(&Ok(answer)));
//! assert!(!reply::int(1).accepts(&Ok(Value::Int(0))));
//! ```

pub mod bench;
pub mod channels;
pub mod cli;
pub mod connect;
pub mod error;
pub mod iter;
pub mod kv;
pub mod lesson;
pub mod link;
pub mod ping;
pub mod pool;
pub mod redis_error;
pub mod reply;
pub mod url;

pub use connect::Redis;
pub use error::Error;
pub use url::RedisUrl;
