//! What a check reports.

/// One broken rule: where, and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The file, relative to the folder that was checked.
    pub file: String,
    /// The line the finding starts at (1-based; 0 for the whole file).
    pub line: usize,
    /// What is wrong, in a sentence.
    pub message: String,
    /// For size findings: the function's name, or empty for a whole file.
    pub name: String,
    /// For size findings: the lines counted; 0 otherwise.
    pub size: usize,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// Why a check could not run (a file that cannot be read or parsed).
#[derive(Debug)]
pub struct CheckError(pub String);

impl std::fmt::Display for CheckError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CheckError {}
