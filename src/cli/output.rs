//! `-o table|json|yaml`: one way to print any result.

use std::io::Write;

use clap::ValueEnum;
use serde::Serialize;

use super::CliError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Yaml,
}

/// A plain text table: columns padded to their widest cell, two spaces apart.
pub struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    pub fn new(header: &[&str]) -> Self {
        Self {
            header: header.iter().map(|h| h.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    pub fn row<'a>(&mut self, cells: impl IntoIterator<Item = &'a str>) {
        // Names from kubeconfigs and clusters may hold control characters.
        self.rows.push(
            cells
                .into_iter()
                .map(|c| kdeck_model::printable(&c.replace('\n', " "), false).into_owned())
                .collect(),
        );
    }

    pub fn render(&self) -> String {
        let cols = self.header.len();
        let mut widths: Vec<usize> = self.header.iter().map(|h| h.chars().count()).collect();
        for r in &self.rows {
            for (i, c) in r.iter().enumerate().take(cols) {
                widths[i] = widths[i].max(c.chars().count());
            }
        }
        let mut out = String::new();
        for r in std::iter::once(&self.header).chain(&self.rows) {
            let mut line = String::new();
            for (i, c) in r.iter().enumerate().take(cols) {
                line.push_str(c);
                if i + 1 < cols {
                    line.extend(std::iter::repeat_n(' ', widths[i] - c.chars().count() + 2));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

/// Prints `data` as JSON or YAML, or the table `table` builds.
pub fn print_data<T: Serialize>(format: Format, data: &T, table: impl FnOnce() -> Table) -> Result<(), CliError> {
    let text = match format {
        Format::Table => table().render(),
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(data).map_err(|e| CliError::failed(format!("cannot print JSON: {e}")))?;
            s.push('\n');
            s
        }
        Format::Yaml => {
            serde_saphyr::to_string(data).map_err(|e| CliError::failed(format!("cannot print YAML: {e}")))?
        }
    };
    out(&text)
}

/// Writes text to stdout. A closed pipe (`| head`) ends kdeck quietly, as
/// it ends Unix tools: an error with no message that exits 0.
pub fn out(text: &str) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(CliError::quiet()),
        Err(e) => Err(CliError::failed(format!("cannot write to stdout: {e}"))),
    }
}

/// Age as kubectl prints it: 45s, 12m, 5h, 3d, from an RFC 3339 time.
pub use kdeck_model::clock::age;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_like_kubectl() {
        let now = time::macros::datetime!(2026-11-22 10:00:00 UTC);
        assert_eq!(age("2026-11-22T09:59:15Z", now), "45s");
        assert_eq!(age("2026-11-22T09:48:00Z", now), "12m");
        assert_eq!(age("2026-11-22T05:00:00Z", now), "5h");
        assert_eq!(age("2026-11-19T10:00:00Z", now), "3d");
        assert_eq!(age("garbage", now), "-");
    }

    #[test]
    fn table_pads_columns_and_trims_line_ends() {
        let mut t = Table::new(&["NAME", "X"]);
        t.row(["a", "1"]);
        t.row(["longer", ""]);
        assert_eq!(t.render(), "NAME    X\na       1\nlonger\n");
    }
}
