//! The database's errors: each says what failed and where (file, and byte offset when the
//! bytes themselves are at fault).

use std::fmt;
use std::io;
use std::path::PathBuf;

/// What went wrong in a database operation.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file operation failed.
    Io {
        /// What was being done, for example `"create directory"`.
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The error from the OS.
        source: io::Error,
    },
    /// Another process (or another `Db` in this one) has the directory open.
    Locked {
        /// The lock file.
        path: PathBuf,
    },
    /// The write-ahead log failed; after a failed sync the log refuses further writes.
    Wal(cairn_wal::Error),
    /// A head chunk file failed or is damaged.
    HeadChunks(crate::head_chunks::Error),
    /// A block failed or is damaged.
    Block(crate::block::Error),
    /// Building a block's index failed.
    Index(cairn_index::Error),
    /// A chunk's bytes do not decode.
    Chunk {
        /// Where the chunk lives (a block's segment file, or a head chunk file).
        path: PathBuf,
        /// Its chunk reference there.
        chunk_ref: u64,
        /// The decoder's account.
        what: String,
    },
    /// A small metadata file (`head.meta`) is damaged.
    Meta {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        what: String,
    },
    /// The head ran out of series refs (4 294 967 295 series created in one head's life).
    TooManySeries,
    /// A series with no labels, or with a label whose name is empty.
    InvalidLabels {
        /// Why.
        what: &'static str,
    },
    /// The database was closed.
    Closed,
}

impl Error {
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { op, path, source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Io { op, path, source } => write!(f, "{}: {op}: {source}", path.display()),
            Error::Locked { path } => write!(
                f,
                "{}: the database is in use by another process (lock held)",
                path.display()
            ),
            Error::Wal(e) => write!(f, "write-ahead log: {e}"),
            Error::HeadChunks(e) => write!(f, "head chunks: {e}"),
            Error::Block(e) => write!(f, "block: {e}"),
            Error::Index(e) => write!(f, "index: {e}"),
            Error::Chunk {
                path,
                chunk_ref,
                what,
            } => write!(
                f,
                "{}: chunk {chunk_ref:#x} (segment {}, byte {}): {what}",
                path.display(),
                chunk_ref >> 32,
                chunk_ref & 0xffff_ffff
            ),
            Error::Meta { path, what } => write!(f, "{}: {what}", path.display()),
            Error::TooManySeries => f.write_str("too many series: series refs are exhausted"),
            Error::InvalidLabels { what } => write!(f, "invalid labels: {what}"),
            Error::Closed => f.write_str("the database is closed"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            Error::Wal(e) => Some(e),
            Error::HeadChunks(e) => Some(e),
            Error::Block(e) => Some(e),
            Error::Index(e) => Some(e),
            _ => None,
        }
    }
}

impl From<cairn_wal::Error> for Error {
    fn from(e: cairn_wal::Error) -> Error {
        Error::Wal(e)
    }
}

impl From<crate::head_chunks::Error> for Error {
    fn from(e: crate::head_chunks::Error) -> Error {
        Error::HeadChunks(e)
    }
}

impl From<crate::block::Error> for Error {
    fn from(e: crate::block::Error) -> Error {
        Error::Block(e)
    }
}

impl From<cairn_index::Error> for Error {
    fn from(e: cairn_index::Error) -> Error {
        Error::Index(e)
    }
}
