//! Error types. Library errors are typed; `main` maps them to exit codes.
//!
//! An [`Error::Input`] is the user's to fix (exit code 2): it names the file, the line or
//! feature when there is one, and the problem. Row-level problems are not errors: they are
//! [`Reject`]s, collected beside the result and written to `rejects.csv`.

use std::fmt;

/// Where in an input a problem sits: a line of a text file, a feature of a GeoJSON file.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// The whole file.
    File,
    /// A 1-based line number.
    Line(u64),
    /// A 1-based feature number in a FeatureCollection, with the feature's id when known.
    Feature(usize, Option<String>),
    /// A 1-based record number in a dBase table (a Shapefile's attributes).
    Record(usize),
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::File => f.write_str("file"),
            Location::Line(n) => write!(f, "line {n}"),
            Location::Feature(n, None) => write!(f, "feature {n}"),
            Location::Feature(n, Some(id)) => write!(f, "feature {n} ({id})"),
            Location::Record(n) => write!(f, "record {n}"),
        }
    }
}

/// A row or feature that was skipped, and why. Collected, counted and written to
/// `rejects.csv`; never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Reject {
    pub file: String,
    pub location: Location,
    pub reason: String,
}

impl Reject {
    pub fn new(file: &str, location: Location, reason: impl Into<String>) -> Self {
        Reject {
            file: file.to_string(),
            location,
            reason: reason.into(),
        }
    }
}

/// Everything that can stop a run.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A problem with an input file: exit code 2.
    #[error("{file}: {}{problem}", location_prefix(.location))]
    Input {
        file: String,
        location: Location,
        problem: String,
    },
    /// A problem with the command line or with how inputs fit together: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// Reading or writing failed for a reason outside the input's content: exit code 1.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// Anything else: exit code 1.
    #[error("{0}")]
    Internal(String),
}

fn location_prefix(location: &Location) -> String {
    match location {
        Location::File => String::new(),
        other => format!("{other}: "),
    }
}

impl Error {
    pub fn input(file: &str, location: Location, problem: impl Into<String>) -> Self {
        Error::Input {
            file: file.to_string(),
            location,
            problem: problem.into(),
        }
    }

    /// A file none of whose rows could be used: names the first problem.
    pub fn no_usable_row(file: &str, what: &str, rows_read: usize, rejects: &[Reject]) -> Self {
        let first = rejects
            .first()
            .map(|r| format!("{}: {}", r.location, r.reason))
            .unwrap_or_else(|| "the file has no rows".into());
        Error::input(
            file,
            Location::File,
            format!("no usable {what} among {rows_read} rows (first problem: {first})"),
        )
    }

    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// The process exit code this error maps to: 2 for the user's input, 1 otherwise.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input { .. } | Error::Usage(_) => 2,
            Error::Io { .. } | Error::Internal(_) => 1,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
