//! The Get Poetry Now! client: downloads poems from many servers at once.
//!
//! The protocol has no framing: the poem is every byte up to the server's close. So only a
//! clean close (FIN) completes a poem; a reset, a timeout or a close before any byte is a failed
//! download (the tutorial's clients accept a reset mid-poem as a whole poem).
//!
//! - `fetch.rs`: one download ([`get_poem`]) and why it failed ([`FetchError`]);
//! - [`check`]: one download as a readiness check (`--wait`, `--json`: [`check::Checks`]), for
//!   `common::probe::check_all`;
//! - [`download`]: every address at once, bounded, the poems handed on in the addresses' order.
//!
//! Each imports the ones before it, never this file: it only gathers what they export.

pub mod check;
pub mod download;
mod fetch;

pub use download::{
    Observer, Options, Settled, Summary, TaskReport, TransformOutcome, download_all,
};
pub use fetch::{FetchError, get_poem};
