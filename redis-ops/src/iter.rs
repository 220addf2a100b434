//! Reading a long list a batch at a time: the lesson's "incremental iteration over a list".
//!
//! `LRANGE key 0 -1` on a list of a million elements builds one huge reply: the server spends
//! its (single-threaded) time on it and the client holds it all in memory. [`list_batches`]
//! asks for `batch` elements per round trip instead (`LRANGE key 0 99`, `LRANGE key 100 199`,
//! ...) and [`list_items`] flattens that into one element at a time.
//!
//! LRANGE works by index, so elements pushed or popped at the head while iterating shift what
//! the next batch sees; iterate a list nobody changes meanwhile (or take a snapshot with
//! RENAME / LMOVE first).

use futures_util::{Stream, TryStreamExt, stream};
use redis::RedisResult;
use redis::aio::ConnectionLike;

/// The list at `key`, `batch` elements per LRANGE, as a stream of batches. Ends after the
/// first batch shorter than `batch` (or an empty one). A `batch` of 0 counts as 1.
pub fn list_batches<C>(
    conn: C,
    key: String,
    batch: usize,
) -> impl Stream<Item = RedisResult<Vec<Vec<u8>>>>
where
    C: ConnectionLike + Send,
{
    let batch = batch.max(1);
    let start = Some(0isize);
    stream::try_unfold(
        (conn, key, start),
        move |(mut conn, key, start)| async move {
            let Some(first) = start else {
                return Ok(None);
            };
            let last = first + batch as isize - 1;
            let items: Vec<Vec<u8>> = redis::Cmd::lrange(&key, first, last)
                .query_async(&mut conn)
                .await?;
            if items.is_empty() {
                return Ok(None);
            }
            let next = (items.len() == batch).then_some(last + 1);
            Ok(Some((items, (conn, key, next))))
        },
    )
}

/// The list at `key`, one element at a time, fetched `batch` at a time.
pub fn list_items<C>(conn: C, key: String, batch: usize) -> impl Stream<Item = RedisResult<Vec<u8>>>
where
    C: ConnectionLike + Send,
{
    list_batches(conn, key, batch)
        .map_ok(|items| stream::iter(items.into_iter().map(Ok)))
        .try_flatten()
}
