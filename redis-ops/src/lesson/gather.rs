//! Results the lesson gathers over several round trips: a SCAN-family iterator drained, pairs
//! flattened the way redis-cli shows them.

use redis::Value;

use crate::error::{Error, describe};

/// Drains one of the crate's SCAN-family iterators (`hscan_match`, `sscan_match`,
/// `zscan_match`...): `redis::AsyncIter` sends the SCAN command again with each cursor the
/// server answers, until the cursor is 0.
pub async fn drain<T>(
    label: &str,
    iter: redis::RedisResult<redis::AsyncIter<'_, T>>,
) -> Result<Vec<T>, Error>
where
    T: redis::FromRedisValue + Unpin + Send,
{
    let fail = |e: redis::RedisError| Error::Command {
        command: label.to_owned(),
        reason: describe(&e),
    };
    let mut iter = iter.map_err(fail)?;
    let mut items = Vec::new();
    while let Some(item) = iter.next_item().await {
        items.push(item.map_err(fail)?);
    }
    Ok(items)
}

/// Flattens pairs into the array redis-cli shows: `[k1, v1, k2, v2]`.
pub fn flatten_pairs(pairs: &[(String, String)]) -> Vec<Value> {
    pairs
        .iter()
        .flat_map(|(k, v)| [crate::reply::b(k), crate::reply::b(v)])
        .collect()
}
