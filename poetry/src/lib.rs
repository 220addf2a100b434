//! Poetry: the Twisted tutorial's poetry servers, client, transformer and proxy (notes §1.6).
//!
//! - [`server`]: serves one poem file to every client, then closes (fast, or slow in pieces);
//! - [`client`]: downloads poems from many servers at once, telling a whole poem (the server's
//!   clean close) from a broken one (a reset, a timeout, nothing at all);
//! - [`transform`]: the netstring transformation service (`cummingsify` lowercases a poem);
//! - [`proxy`]: fetches the upstream poem once, caches it and serves it;
//! - [`netstring`]: the framing the transformation service speaks.
//!
//! Each server is `run(listener, config, shutdown) -> Result<Stats, Error>` on
//! `common::net::serve`, the workspace's accept loop: tests hand it a listener on `127.0.0.1:0`
//! and their own shutdown trigger. [`cli`] holds the four command lines (checked into typed
//! options, then run); the binaries in `src/bin` only parse and call it.
//!
//! ```
//! use poetry::netstring::{decode, encode, Frame};
//! use poetry::transform::{parse_request, Transform};
//!
//! let request = encode(&[b"cummingsify.HERE IS MY POEM"]);
//! assert_eq!(request, b"27:cummingsify.HERE IS MY POEM,");
//! let Ok(Frame::Complete { payload, .. }) = decode(&request, 99_999) else { panic!() };
//! let (transform, poem) = parse_request(payload).unwrap();
//! assert_eq!(transform, Transform::Cummingsify);
//! assert_eq!(encode(&[transform.apply(poem).as_bytes()]), b"15:here is my poem,");
//! ```

pub mod cli;
pub mod client;
mod error;
pub mod limits;
pub mod netstring;
pub mod proxy;
mod reply;
pub mod server;
pub mod transform;

pub use error::Error;
