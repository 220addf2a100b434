//! The catalogue of `redis-benchmark`'s tests: their names, the commands they send and the
//! replies each accepts.

use redis::Value;

use crate::error::Error;
use crate::link::Kind;

/// One of `redis-benchmark`'s tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Test {
    /// `SET key value`.
    Set,
    /// `GET key`.
    Get,
    /// `INCR counter`.
    Incr,
    /// `LPUSH mylist value`.
    Lpush,
    /// `RPOP mylist`.
    Rpop,
    /// `SADD myset element`.
    Sadd,
    /// `HSET myhash element value`.
    Hset,
    /// `ZADD myzset 0 element`.
    Zadd,
}

impl Test {
    /// Every test, in the order `redis-benchmark` runs them.
    pub const ALL: [Self; 8] = [
        Self::Set,
        Self::Get,
        Self::Incr,
        Self::Lpush,
        Self::Rpop,
        Self::Sadd,
        Self::Hset,
        Self::Zadd,
    ];

    /// The name on the command line (`-t`) and in `--json`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Set => "set",
            Self::Get => "get",
            Self::Incr => "incr",
            Self::Lpush => "lpush",
            Self::Rpop => "rpop",
            Self::Sadd => "sadd",
            Self::Hset => "hset",
            Self::Zadd => "zadd",
        }
    }

    /// `-t set,get`: the tests named, run in `redis-benchmark`'s order whatever the order given.
    pub fn parse_list(list: &str) -> Result<Vec<Self>, Error> {
        let mut tests = Vec::new();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            let lower = name.to_ascii_lowercase();
            let test = Self::ALL
                .into_iter()
                .find(|t| t.name() == lower)
                .ok_or_else(|| {
                    Error::Usage(format!(
                        "bench: unknown test '{name}' (choose from set,get,incr,lpush,rpop,sadd,hset,zadd)"
                    ))
                })?;
            tests.push(test);
        }
        if tests.is_empty() {
            return Err(Error::Usage("bench: -t names no test".into()));
        }
        tests.sort();
        tests.dedup();
        Ok(tests)
    }

    /// The key this test writes (`key`, `counter`, `mylist`... as `redis-benchmark` names them).
    pub(super) fn key_name(self) -> &'static str {
        match self {
            Self::Set | Self::Get => "key",
            Self::Incr => "counter",
            Self::Lpush | Self::Rpop => "mylist",
            Self::Sadd => "myset",
            Self::Hset => "myhash",
            Self::Zadd => "myzset",
        }
    }

    /// The command's arguments, for `key` and a value of the `-d` size.
    pub fn args(self, key: &str, value: &[u8]) -> Vec<Vec<u8>> {
        let k = key.as_bytes().to_vec();
        let element = b"element:__rand_int__".to_vec();
        match self {
            Self::Set => vec![b"SET".to_vec(), k, value.to_vec()],
            Self::Get => vec![b"GET".to_vec(), k],
            Self::Incr => vec![b"INCR".to_vec(), k],
            Self::Lpush => vec![b"LPUSH".to_vec(), k, value.to_vec()],
            Self::Rpop => vec![b"RPOP".to_vec(), k],
            Self::Sadd => vec![b"SADD".to_vec(), k, element],
            Self::Hset => vec![b"HSET".to_vec(), k, element, value.to_vec()],
            Self::Zadd => vec![b"ZADD".to_vec(), k, b"0".to_vec(), element],
        }
    }

    /// Whether `reply` (a whole RESP reply) is what this command answers when it works.
    pub fn accepts(self, kind: Kind, reply: &[u8]) -> bool {
        match self {
            Self::Set => reply == b"+OK\r\n",
            Self::Get | Self::Rpop => matches!(kind, Kind::Bulk | Kind::Nil),
            Self::Incr | Self::Lpush | Self::Sadd | Self::Hset | Self::Zadd => {
                kind == Kind::Integer
            }
        }
    }

    /// The same check on a reply the redis crate parsed (`--cluster`).
    pub(super) fn accepts_value(self, v: &Value) -> bool {
        match self {
            Self::Set => {
                matches!(v, Value::Okay) || matches!(v, Value::SimpleString(s) if s == "OK")
            }
            Self::Get | Self::Rpop => matches!(v, Value::BulkString(_) | Value::Nil),
            _ => matches!(v, Value::Int(_)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_lists_run_in_redis_benchmark_order() {
        assert_eq!(
            Test::parse_list("get,SET").unwrap(),
            vec![Test::Set, Test::Get]
        );
        assert_eq!(Test::parse_list("set,set").unwrap(), vec![Test::Set]);
        assert!(Test::parse_list("ping").is_err());
        assert!(Test::parse_list(",").is_err());
    }

    #[test]
    fn replies_are_checked_by_command() {
        assert!(Test::Set.accepts(Kind::Status, b"+OK\r\n"));
        assert!(!Test::Set.accepts(Kind::Status, b"+QUEUED\r\n"));
        assert!(Test::Get.accepts(Kind::Nil, b"$-1\r\n"));
        assert!(!Test::Get.accepts(Kind::Integer, b":1\r\n"));
        assert!(Test::Incr.accepts(Kind::Integer, b":1\r\n"));
        assert!(!Test::Incr.accepts(Kind::Error, b"-ERR x\r\n"));
    }

    #[test]
    fn commands_match_redis_benchmark() {
        assert_eq!(
            Test::Zadd.args("z", b"xxx"),
            vec![
                b"ZADD".to_vec(),
                b"z".to_vec(),
                b"0".to_vec(),
                b"element:__rand_int__".to_vec()
            ]
        );
    }
}
