//! Reading a file the user named: [`read_regular`] takes a regular file of bounded size, and
//! nothing else. A device never ends (`/dev/zero` would fill the memory), a FIFO blocks until a
//! writer comes: both are refused before they are opened, and no more than the bound is ever
//! read, even from a file that grows meanwhile.

use std::fmt;
use std::fs::{self, File, Metadata};
use std::io::{self, Read};
use std::path::Path;

/// Why [`read_regular`] did not read a file.
#[derive(Debug)]
pub enum FileError {
    /// Not a regular file: a device, a FIFO, a folder, a socket.
    NotRegular,
    /// More than `max` bytes.
    TooLarge {
        /// The bound.
        max: usize,
    },
    /// The system refused (not found, permission denied...).
    Io(io::Error),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotRegular => f.write_str("not a regular file"),
            Self::TooLarge { max } => write!(f, "larger than {max} bytes"),
            Self::Io(e) => f.write_str(&crate::net::describe_io(e)),
        }
    }
}

impl std::error::Error for FileError {}

/// The bytes of the regular file at `path`, at most `max` of them. The file is checked before it
/// is opened (a FIFO must not block the open), and again once open (it is the file checked, not
/// another put in its place since); it is read up to `max + 1` bytes, the one past the bound
/// proving it too large.
pub fn read_regular(path: &Path, max: usize) -> Result<Vec<u8>, FileError> {
    let regular = |meta: &Metadata| {
        if !meta.is_file() {
            return Err(FileError::NotRegular);
        }
        if meta.len() > max as u64 {
            return Err(FileError::TooLarge { max });
        }
        Ok(meta.len() as usize)
    };
    regular(&fs::metadata(path).map_err(FileError::Io)?)?;
    let file = File::open(path).map_err(FileError::Io)?;
    let size = regular(&file.metadata().map_err(FileError::Io)?)?;
    let mut bytes = Vec::with_capacity(size.saturating_add(1));
    file.take((max as u64).saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(FileError::Io)?;
    if bytes.len() > max {
        return Err(FileError::TooLarge { max });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_small_regular_file_is_read_and_nothing_else() {
        let (dir, path) = test_support::temp_file("five.txt", b"hello");
        assert_eq!(read_regular(&path, 5).unwrap(), b"hello");
        assert!(matches!(
            read_regular(&path, 4),
            Err(FileError::TooLarge { max: 4 })
        ));
        assert!(matches!(
            read_regular(dir.path(), 5),
            Err(FileError::NotRegular)
        ));
        assert!(matches!(
            read_regular(Path::new("/dev/zero"), 5),
            Err(FileError::NotRegular)
        ));
        let missing = read_regular(&dir.path().join("missing"), 5).unwrap_err();
        assert_eq!(missing.to_string(), "not found");
        assert_eq!(
            FileError::TooLarge { max: 4 }.to_string(),
            "larger than 4 bytes"
        );
    }
}
