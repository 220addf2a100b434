//! Where a key's slot lives: the master of a hash slot in a `CLUSTER SLOTS` reply.

use redis::Value;

/// The master's `(host, port)` for `slot` in a CLUSTER SLOTS reply:
/// `[[start, end, [host, port, id], replicas...], ...]`.
pub fn master_of(slots: &[Value], slot: i64) -> Option<(String, u16)> {
    slots.iter().find_map(|range| {
        let (start, end, master) = slot_range(range)?;
        (start..=end).contains(&slot).then_some(master)
    })
}

/// Every master of a CLUSTER SLOTS reply, once each, in the order of their first range.
pub fn masters(slots: &[Value]) -> Vec<(String, u16)> {
    let mut found: Vec<(String, u16)> = Vec::new();
    for (_, _, master) in slots.iter().filter_map(slot_range) {
        if !found.contains(&master) {
            found.push(master);
        }
    }
    found
}

/// One range of a CLUSTER SLOTS reply: its first and last slot and its master.
fn slot_range(range: &Value) -> Option<(i64, i64, (String, u16))> {
    let Value::Array(items) = range else {
        return None;
    };
    let (Some(Value::Int(start)), Some(Value::Int(end)), Some(Value::Array(master))) =
        (items.first(), items.get(1), items.get(2))
    else {
        return None;
    };
    let host = match master.first()? {
        Value::BulkString(b) => String::from_utf8_lossy(b).into_owned(),
        Value::SimpleString(s) => s.clone(),
        _ => return None,
    };
    let Value::Int(port) = master.get(1)? else {
        return None;
    };
    Some((*start, *end, (host, u16::try_from(*port).ok()?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_of_a_slot() {
        let node = |h: &str, p: i64| {
            Value::Array(vec![
                Value::BulkString(h.into()),
                Value::Int(p),
                Value::BulkString(b"id".to_vec()),
            ])
        };
        let slots = vec![
            Value::Array(vec![
                Value::Int(0),
                Value::Int(5460),
                node("127.0.0.1", 7000),
                node("127.0.0.1", 7004),
            ]),
            Value::Array(vec![
                Value::Int(5461),
                Value::Int(16383),
                node("127.0.0.1", 7001),
            ]),
        ];
        assert_eq!(master_of(&slots, 0), Some(("127.0.0.1".into(), 7000)));
        assert_eq!(master_of(&slots, 5461), Some(("127.0.0.1".into(), 7001)));
        assert_eq!(master_of(&slots, 16384), None);
        let three = [slots.clone(), slots.clone()].concat();
        assert_eq!(
            masters(&three),
            [("127.0.0.1".into(), 7000), ("127.0.0.1".into(), 7001)]
        );
    }
}
